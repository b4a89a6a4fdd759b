"""An insurer creates a county's group policy, enrols the county through a real worker, and a household's page
shows its cover: all in headless Chromium against the real app."""

import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.builders import PASSWORD
from tests.cover_builders import make_enrollable_county

pytestmark = pytest.mark.e2e

ENROL_TIMEOUT_MS = 60_000


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_insurer_enrols_a_county_in_the_browser_and_a_household_page_shows_its_cover(
    page: Page,
    live_server: str,
    worker: subprocess.Popen[bytes],
    session: Session,
    engine: Engine,
    tmp_path: Path,
) -> None:
    # Households still poor (no exit year): all eligible for the year.
    make_enrollable_county(session, engine, tmp_path, members=400, seed=7, all_eligible=True)
    with engine.begin() as connection:
        active = connection.execute(text("SELECT COUNT(*) FROM member WHERE status = 'active'")).scalar_one()
        household_no = connection.execute(text("SELECT MIN(household_no) FROM household")).scalar_one()

    page.goto(f"{live_server}/login")
    page.get_by_label("用户名", exact=True).fill("handler")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("link", name="保单", exact=True).click()
    page.get_by_role("link", name="新建县级团体保单").click()
    page.get_by_label("投保县").select_option("433124")
    page.get_by_label("保险年度").fill("2027")
    page.get_by_role("button", name="创建保单").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/policies/TH2027433124\d+$"))
    policy_no = page.url.rsplit("/", 1)[-1]
    expect(page.get_by_test_id("policy-members")).to_have_text("0 人，0 户")

    page.get_by_role("button", name="按花名册参保全县符合条件的人员").click()
    # The page polls the enrolment and reloads itself when the worker is done.
    expect(page.locator("#enrolments tr[data-status='done']"), f"see {tmp_path / 'worker.log'}").to_have_count(
        1, timeout=ENROL_TIMEOUT_MS
    )
    expect(page.get_by_test_id("policy-members")).to_contain_text(f"{active} 人")
    expect(page.locator("#village-table tbody tr").first).to_contain_text("未公示")

    page.goto(f"{live_server}/households/{household_no}")
    cover = page.locator("#cover")
    expect(cover).to_contain_text(policy_no)
    expect(cover).to_contain_text("2027-01-01 至 2027-12-31")
    expect(cover).to_contain_text("人保财险")
    masked = cover.locator("code").first.inner_text()
    assert re.fullmatch(r"\d{6}\*{9}[\dX]{3}", masked), masked
    page.screenshot(path=str(tmp_path / "household-cover.png"), full_page=True)
