"""Logging in through the real login page in headless Chromium, against the app served by uvicorn."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from core.models import Role
from tests.builders import PASSWORD, make_user

pytestmark = pytest.mark.e2e

HUAYUAN = "433124"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _submit_login(page: Page, username: str, password: str) -> None:
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


# The browser test runs once, on SQLite: this overrides the session fixture's ["sqlite", "postgresql"] params.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_county_office_is_refused_a_wrong_password_then_logs_in_and_sees_its_county_home(
    page: Page, live_server: str, session: Session, tmp_path: Path
) -> None:
    user = make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)

    page.goto(f"{live_server}/login")
    _submit_login(page, "huayuan", "wrong-password")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_label("用户名", exact=True)).to_have_value("huayuan")

    _submit_login(page, "huayuan", PASSWORD)
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("h1")).to_contain_text("花垣县")
    expect(page.get_by_test_id("who")).to_contain_text(user.display_name)

    screenshot = tmp_path / "county-home.png"
    page.screenshot(path=screenshot, full_page=True)
    data = screenshot.read_bytes()
    assert len(data) > len(PNG_SIGNATURE) and data.startswith(PNG_SIGNATURE)
