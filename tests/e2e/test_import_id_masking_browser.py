"""The county office's import page in headless Chromium: every ID number masked, in the message as in the value
beside it; the report it downloads from there keeps them whole, to fix its source."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.masking import mask_id_number
from core.models import Role
from tests.builders import PASSWORD, make_user
from tests.imports.builders import import_file, leaky_roster

pytestmark = pytest.mark.e2e
HUAYUAN = "433124"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_importing_office_sees_masked_ids_on_the_page_and_whole_ones_in_its_report(
    page: Page, live_server: str, session: Session, engine: Engine, tmp_path: Path
) -> None:
    roster = leaky_roster(tmp_path / "r.csv")
    import_id = import_file(engine, roster.path, county_code=HUAYUAN).import_id
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名", exact=True).fill("huayuan")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(f"{live_server}/")

    page.goto(f"{live_server}/roster-imports/{import_id}")
    bad_row = page.locator("#issues tbody tr", has_text=mask_id_number(roster.bad_checksum)).first
    expect(bad_row.locator("td").nth(1)).to_have_text("证件号码")
    expect(bad_row.locator("td").nth(2)).to_have_text(f"证件号码“{mask_id_number(roster.bad_checksum)}”的校验位错误")
    expect(bad_row.locator("td").nth(3)).to_have_text(mask_id_number(roster.bad_checksum))
    shown = page.locator("body").inner_text() + page.content()
    assert [n for n in roster.full_numbers if n in shown] == []
    assert not re.search(r"\d{17}[\dX]", shown)
    if os.environ.get("SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['SCREENSHOTS']}/import-masked.png", full_page=True)

    with page.expect_download() as info:
        page.click("#report-csv")
    report = Path(info.value.path()).read_text(encoding="utf-8-sig")
    assert roster.bad_checksum in report and roster.shifted in report
