"""A household's certificates through the HTTP API and pages: its own PDF (its pages of the village booklet, never
the whole booklet), the documents page naming each household and its head, the public verification of a certificate
whose cover has not started, and the login page's link to the verification page."""

import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import local_today
from core.queue import redis_from_url
from core.settings import Settings
from tests.builders import bearer, login_page
from tests.cover_builders import fetch, make_other_insurer
from tests.document_builders import issued_policy, produce_all


@pytest.fixture(autouse=True)
def fresh_rate_limit_windows(settings: Settings) -> None:
    """The verification limit counts per client and minute in Redis; the test client is always the same client."""
    redis = redis_from_url(settings.redis_url)
    for key in redis.scan_iter(match="tehuibao:ratelimit:*"):
        redis.delete(key)


def pdf_pages_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def printed_households(engine: Engine) -> list:
    """Each household certificate printed in a booklet: its request, certificate, household number, head, village."""
    return fetch(
        engine,
        "SELECT r.id AS request_id, r.certificate_id, r.village_code, h.household_no, m.name AS head, "
        "b.pages AS booklet_pages "
        "FROM document_request r JOIN household h ON h.id = r.household_id "
        "JOIN member m ON m.household_id = h.id AND m.relation = '户主' "
        "JOIN document_request b ON b.id = r.parent_id "
        "WHERE r.kind = 'household_certificate' AND r.certificate_id IS NOT NULL ORDER BY h.household_no",
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_households_certificate_downloads_as_its_own_pages_not_the_whole_village_booklet(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path, client: TestClient
) -> None:
    issued_policy(session, engine, tmp_path, members=40)
    make_other_insurer(session)
    produce_all(engine, settings)
    rows = printed_households(engine)
    mine = rows[0]
    neighbours = [r.household_no for r in rows if r.village_code == mine.village_code and r is not mine]
    assert neighbours, "the village needs a second household"
    headers = bearer(client, "handler")

    by_request = client.get(f"/api/documents/{mine.request_id}/pdf", headers=headers)
    by_certificate = client.get(f"/api/certificates/{mine.certificate_id}/pdf", headers=headers)

    for response in (by_request, by_certificate):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        pages, content = pdf_pages_text(response.content)
        assert pages < mine.booklet_pages
        assert mine.household_no in content and mine.head in content
        assert not any(other in content for other in neighbours)
        assert "签收表" not in content and "参保户数" not in content  # neither the sign-off sheet nor the cover
    outside = client.get(f"/api/certificates/{mine.certificate_id}/pdf", headers=bearer(client, "handler-b"))
    assert outside.status_code == 404 and outside.json()["field"] == "certificate_id"


def test_the_documents_page_names_each_certificates_household_its_head_and_its_village(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path, client: TestClient
) -> None:
    issued = issued_policy(session, engine, tmp_path, members=40)
    produce_all(engine, settings)
    rows = printed_households(engine)
    villages = {r.code: r.name for r in fetch(engine, "SELECT code, name FROM division WHERE level = 'village'")}
    login_page(client, "handler")

    page = client.get(f"/policies/{issued.policy.policy_no}/documents")

    assert page.status_code == 200, page.text
    for row in rows:
        found = re.search(rf'<tr data-request="{row.request_id}">(.*?)</tr>', page.text, re.S)
        assert found, f"request {row.request_id} is listed"
        cells = found.group(1)
        assert row.household_no in cells and row.head in cells and villages[row.village_code] in cells
        assert row.village_code not in cells.replace(row.household_no, "")
        assert "保单出单" in cells and "policy_issued" not in cells
    assert "household_certificate" not in page.text and "village_booklet" not in page.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_verification_page_says_a_certificate_whose_cover_starts_next_year_is_not_yet_in_force_and_from_when(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path, client: TestClient
) -> None:
    year = local_today().year + 1
    issued_policy(session, engine, tmp_path, members=20, year=year)
    produce_all(engine, settings)
    code = fetch(engine, "SELECT code FROM certificate ORDER BY id LIMIT 1")[0].code

    answer = client.get("/api/verify", params={"code": code}).json()
    page = client.get(f"/v/{code}")

    assert answer["state"] == "not_started" and answer["cover_from"] == f"{year}-01-01"
    assert answer["state_label"] == "真实有效，尚未生效"
    assert page.status_code == 200 and 'data-state="not_started"' in page.text
    assert f"尚未生效，自 {year}-01-01 起保障" in page.text and "保障中" not in page.text


def test_the_login_page_links_the_public_verification_page(client: TestClient) -> None:
    page = client.get("/login")

    assert page.status_code == 200
    assert re.search(r'<a href="/verify"[^>]*>保险凭证真伪核验</a>', page.text)
    assert client.get("/verify").status_code == 200
