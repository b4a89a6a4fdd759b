"""The province office opens its dashboard in headless Chromium, drills down from the province through the
prefecture and the county to a village's coverage gap, and downloads the village's uncovered list as XLSX: the one
member registered after the enrolment is in it, masked. Screenshots: var/test-artefacts/screenshots/dashboard-*.png.
The story is dated (2026-06-01), so the test does not depend on the clock."""

import io
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, expect
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from insurance.cover import counts
from tests.cover_builders import fetch
from tests.document_builders import issued_policy
from tests.e2e.test_claim_browser import ARTEFACTS, fits, log_in

pytestmark = pytest.mark.e2e

ON = date(2026, 6, 1)
NEWCOMER = "433124201603150025"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_province_drills_down_from_its_dashboard_to_a_village_and_downloads_its_uncovered_list(
    browser: Browser, live_server: str, session: Session, engine: Engine, tmp_path: Path
) -> None:
    issued_policy(session, engine, tmp_path, members=20)
    [head] = fetch(
        engine,
        "SELECT m.household_id, h.village_code, v.name AS village, t.name AS township FROM member m "
        "JOIN household h ON h.id = m.household_id JOIN division v ON v.code = h.village_code "
        "JOIN division t ON t.code = v.parent_code ORDER BY m.id LIMIT 1",
    )
    registered = datetime(2026, 3, 1, 2, tzinfo=timezone(timedelta(hours=0)))  # after the December enrolment
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO member (id_number, household_id, name, sex, birth_date, relation, relation_code, "
                "ethnicity, status, created_at, updated_at) VALUES (:id, :household, '龙𬌗', 'female', "
                "'2016-03-15', '之女', '30', '苗族', 'active', :at, :at)"
            ),
            {"id": NEWCOMER, "household": head.household_id, "at": registered},
        )
        counts.recount(connection, villages=[head.village_code], today=ON)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)

    page = log_in(browser, live_server, "province")
    page.get_by_role("link", name="看板", exact=True).click()
    expect(page.locator("h1")).to_have_text("湖南省扶贫保险看板")
    page.goto(f"{live_server}/dashboard/430000000000?on={ON}")
    fits(page)
    page.screenshot(path=str(ARTEFACTS / "dashboard-province.png"), full_page=True)
    page.get_by_role("link", name="湘西土家族苗族自治州").first.click()
    page.get_by_role("link", name="花垣县").first.click()
    expect(page.locator("h1")).to_have_text("花垣县扶贫保险看板")
    expect(page.locator("[data-testid=uncovered]")).to_have_text("1")
    fits(page)
    page.screenshot(path=str(ARTEFACTS / "dashboard-county.png"), full_page=True)

    page.get_by_role("link", name="查看覆盖缺口明细与应保未保名单").click()
    page.locator("[data-testid=children]").get_by_role("link", name=head.township, exact=True).click()
    page.locator("[data-testid=children]").get_by_role("link", name=head.village, exact=True).click()
    masked = f"{NEWCOMER[:6]}*********{NEWCOMER[-3:]}"
    row = page.locator("[data-testid=members] tr", has_text=masked)
    expect(row).to_contain_text("龙𬌗")
    expect(row).to_contain_text("参保后新纳入")
    fits(page)
    page.screenshot(path=str(ARTEFACTS / "dashboard-village-gap.png"), full_page=True)
    with page.expect_download() as info:
        page.locator("[data-testid=export]").click()
    sheet = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("证件号码", "姓名")
    assert any(r[0] == masked and r[1] == "龙𬌗" for r in rows[1:])
