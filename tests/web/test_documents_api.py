"""Documents through the HTTP API and pages: per-village status, retry, download within one's remit, and the public
verification (no login, rate limited), on SQLite and PostgreSQL."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core import signing
from core.queue import redis_from_url
from core.settings import Settings
from main import create_app
from tests.builders import bearer, login_page
from tests.cover_builders import fetch, make_other_insurer, scalar
from tests.document_builders import issued_policy, produce_all


@pytest.fixture(autouse=True)
def fresh_rate_limit_windows(settings: Settings) -> None:
    """The verification limit counts per client and minute in Redis; the test client is always the same client."""
    redis = redis_from_url(settings.redis_url)
    for key in redis.scan_iter(match="tehuibao:ratelimit:*"):
        redis.delete(key)


def test_the_documents_api_counts_per_village_and_serves_the_booklet_only_within_the_callers_remit(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path, client: TestClient
) -> None:
    issued = issued_policy(session, engine, tmp_path, members=60)
    make_other_insurer(session)
    produce_all(engine, settings)
    policy_no = issued.policy.policy_no

    response = client.get(f"/api/policies/{policy_no}/documents", headers=bearer(client, "handler"))

    assert response.status_code == 200, response.text
    villages = response.json()
    households = scalar(engine, "SELECT COUNT(*) FROM document_request WHERE kind = 'household_certificate'")
    assert sum(v["counts"]["done"] for v in villages) == scalar(engine, "SELECT COUNT(*) FROM document_request")
    assert households > 0 and all(v["booklet_id"] for v in villages)
    booklet = client.get(f"/api/documents/{villages[0]['booklet_id']}/pdf", headers=bearer(client, "handler"))
    assert booklet.status_code == 200 and booklet.headers["content-type"] == "application/pdf"
    assert booklet.content.startswith(b"%PDF")
    other = client.get(f"/api/documents/{villages[0]['booklet_id']}/pdf", headers=bearer(client, "handler-b"))
    assert other.status_code == 404 and other.json()["field"] == "document_id"
    assert client.get(f"/api/documents/{villages[0]['booklet_id']}/pdf").status_code == 401
    county = client.get(f"/api/policies/{policy_no}/documents", headers=bearer(client, "huayuan"))
    assert county.status_code == 200 and county.json() == villages


def test_failed_documents_are_listed_and_sent_again_on_retry(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path, client: TestClient
) -> None:
    issued = issued_policy(session, engine, tmp_path, members=40)
    booklet_id = scalar(engine, "SELECT MIN(id) FROM document_request WHERE kind = 'village_booklet'")
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE document_request SET status = 'failed', attempts = 5, error = 'OSError: disk full' "
                "WHERE id = :i"
            ),
            {"i": booklet_id},
        )
    headers = bearer(client, "handler")
    failed = client.get(
        f"/api/policies/{issued.policy.policy_no}/documents/requests", params={"status": "failed"}, headers=headers
    ).json()
    assert [(r["id"], r["error"]) for r in failed] == [(booklet_id, "OSError: disk full")]
    bad = client.post(
        f"/api/policies/{issued.policy.policy_no}/documents/retry", json={"village_code": "12"}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["field"] == "village_code"

    response = client.post(f"/api/policies/{issued.policy.policy_no}/documents/retry", json={}, headers=headers)

    assert response.status_code == 200 and response.json() == {"retried": 1}
    row = fetch(engine, "SELECT status, attempts FROM document_request WHERE id = :i", i=booklet_id)[0]
    assert (row.status, row.attempts) == ("queued", 0)  # Redis answered: the job is on the queue


def test_anyone_can_verify_a_certificate_without_logging_in_and_sees_only_masked_details(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path, client: TestClient
) -> None:
    issued_policy(session, engine, tmp_path, members=40)
    produce_all(engine, settings)
    row = fetch(engine, "SELECT code, short_code, statement FROM certificate ORDER BY id LIMIT 1")[0]

    by_qr = client.get("/api/verify", params={"code": f"http://example/v/{row.code}"})
    typed = client.get("/api/verify", params={"code": signing.format_short_code(row.short_code).lower()})
    forged = client.get("/api/verify", params={"code": row.code[:-6] + "AAAAAA"})
    missing = client.get("/api/verify", params={"code": "00000-00000"})
    empty = client.get("/api/verify", params={"code": ""})

    assert by_qr.status_code == 200 and by_qr.json()["state"] == "genuine", by_qr.text
    assert typed.json()["state"] == "genuine" and typed.json()["state_label"] == "真实有效"
    assert forged.json()["state"] == "forged" and missing.json()["state"] == "not_found"
    assert empty.status_code == 422 and empty.json()["field"] == "code"
    body = by_qr.text
    ids = [r.id_number for r in fetch(engine, "SELECT id_number FROM member")]
    assert not any(i in body for i in ids)
    page = client.get(f"/v/{row.code}")
    assert page.status_code == 200 and 'data-state="genuine"' in page.text
    key = client.get("/api/verify/public-key")
    assert key.status_code == 200 and key.text.startswith("-----BEGIN PUBLIC KEY-----")


def test_the_public_verification_is_rate_limited_per_client(
    engine: Engine, settings: Settings, session: Session, tmp_path: Path
) -> None:
    limited = settings.model_copy(update={"verify_per_minute": 3})
    with TestClient(create_app(limited, engine)) as client:
        answers = [client.get("/api/verify", params={"code": "00000-00000"}) for _ in range(5)]
        page = client.get("/verify", params={"code": "00000-00000"})
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert answers[3].status_code == 429 and answers[3].json()["code"] == "rate_limited"
    assert int(answers[3].headers["retry-after"]) >= 1
    assert page.status_code == 429 and "查询过于频繁" in page.text


def test_the_documents_page_shows_each_village_with_its_booklet_and_a_retry_for_failed_documents(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path, client: TestClient
) -> None:
    issued = issued_policy(session, engine, tmp_path, members=40)
    produce_all(engine, settings)
    notice_id = scalar(engine, "SELECT MIN(id) FROM document_request WHERE kind = 'enrolment_notice'")
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE document_request SET status = 'failed', error = 'OSError: disk full' WHERE id = :i"),
            {"i": notice_id},
        )
    login_page(client, "handler")

    page = client.get(f"/policies/{issued.policy.policy_no}/documents")

    assert page.status_code == 200, page.text
    villages = fetch(engine, "SELECT DISTINCT village_code FROM document_request WHERE kind = 'village_booklet'")
    for village in villages:
        assert f'data-village="{village.village_code}"' in page.text
    assert "下载（" in page.text and "重试失败" in page.text and "生成失败" in page.text
    assert "OSError" not in page.text  # the technical error is for the API and the logs, not the page
    retried = client.post(f"/policies/{issued.policy.policy_no}/documents/retry", follow_redirects=False)
    assert retried.status_code == 303 and retried.headers["location"].endswith("retried=1")
