"""The county office's risk-flag pages: the work list with its filters and every code as its Chinese label, a flag's
page with its figures and history, a dismissal without a reason refused inside its form, then done; the province
office reads without forms; an insurer is refused."""

import re
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from claims.status import ClaimType
from tests.builders import login_page
from tests.web.test_claims_api import INCIDENT, World, file, make_world
from tests.web.test_risk_flags_api import working_age_member

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
RAW_CODES = re.compile(r"\b(death_or_severe_disability|medical_out_of_pocket|new|following_up|dismissed)\b")


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S)))


def test_the_county_works_a_flag_from_its_list_and_the_province_only_reads(
    session: Session, engine: Engine, tmp_path: Path, client: TestClient
) -> None:
    world: World = make_world(session, engine, tmp_path, client)
    person = working_age_member(engine, INCIDENT)
    death = file(world, ClaimType.illness_death, {"died_on": INCIDENT.isoformat()}, id_number=person)

    login_page(client, "huayuan")
    listing = client.get("/risk-flags?reason=death_or_severe_disability")
    assert listing.status_code == 200
    shown = text_of(listing.text)
    assert "劳动力身故或重度伤残" in shown and "新预警" in shown and "身故1人" in shown
    assert not RAW_CODES.search(shown) and person not in listing.text
    flag_id = re.search(r'data-flag="(\d+)"', listing.text).group(1)
    assert 'href="/api/risk-flags/export.xlsx?reason=death_or_severe_disability"' in listing.text
    assert 'data-flag="' not in client.get("/risk-flags?reason=disaster_loss").text

    page = client.get(f"/risk-flags/{flag_id}")
    assert page.status_code == 200 and death["claim_no"] in page.text
    assert (
        'id="follow-up-form"' in page.text and 'id="dismiss-form"' in page.text and 'id="resolve-form"' not in page.text
    )
    refused = client.post(f"/risk-flags/{flag_id}/dismiss", data={"reason": ""})
    assert refused.status_code == 422 and 'id="dismiss-form-error"' in refused.text and "原因" in refused.text
    done = client.post(f"/risk-flags/{flag_id}/follow-up", data={"note": "已电话联系家属"}, follow_redirects=True)
    assert done.status_code == 200 and "跟进中" in done.text and "已电话联系家属" in done.text
    assert 'id="resolve-form"' in done.text and "突发严重困难户" in done.text

    login_page(client, "province")
    read = client.get(f"/risk-flags/{flag_id}")
    assert read.status_code == 200 and '<form method="post"' not in read.text.split("处理记录")[0].split("</h1>")[1]
    login_page(client, "handler")
    assert client.get("/risk-flags").status_code == 403
    assert client.get(f"/risk-flags/{flag_id}").status_code == 403
