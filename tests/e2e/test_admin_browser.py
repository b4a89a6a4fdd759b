"""The administrator in headless Chromium: the audit page with long Chinese values fits the window at the common
laptop widths, and a user is disabled through the users' pages."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from core import audit
from core.audit import Actor
from core.models import Role
from tests.builders import PASSWORD, make_user

pytestmark = pytest.mark.e2e

LONG_REASON = "村民反映该户已于去年迁出本村户籍所在地由村委会核实后报乡镇" * 8 + "附件名称" + "X" * 120


def _log_in(page: Page, live_server: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_test_id("who")).to_be_visible()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_audit_page_with_long_chinese_values_fits_the_window_at_1280_and_1366_pixels(
    page: Page, live_server: str, session: Session, tmp_path: Path
) -> None:
    admin = make_user(session, Role.admin, username="admin")
    audit.record(
        session,
        Actor.of(admin),
        "record_objection",
        "notice_objection",
        "12",
        before={"resolution": LONG_REASON},
        after={"raised_by": "龙老四", "reason": LONG_REASON, "upheld": False, "file": "花名册" * 30 + ".xlsx"},
        at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
    )
    session.commit()

    _log_in(page, live_server, "admin")
    for width in (1280, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/admin/audit")
        expect(page.locator("main table").first).to_be_visible()
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=tmp_path / f"audit-{width}.png", full_page=True)
        assert scroll_width <= width, f"the audit page is {scroll_width}px wide in a {width}px window"
        expect(page.locator("table.audit")).to_contain_text("登记异议")
        expect(page.locator("table.audit")).to_contain_text("村民反映该户")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_admin_disables_a_user_through_the_page_and_that_user_can_no_longer_log_in(
    page: Page, live_server: str, session: Session, tmp_path: Path
) -> None:
    make_user(session, Role.admin, username="admin")
    make_user(session, Role.county_office, username="huayuan", county="433124")

    _log_in(page, live_server, "admin")
    page.get_by_role("link", name="用户", exact=True).click()
    page.locator("tr[data-username='huayuan']").get_by_role("link", name="管理").click()
    page.get_by_role("button", name="停用该用户").click()
    expect(page.get_by_role("status")).to_contain_text("已停用该用户")
    expect(page.locator("h1")).to_contain_text("已停用")
    page.screenshot(path=tmp_path / "user-disabled.png", full_page=True)
    page.get_by_role("link", name="用户", exact=True).first.click()
    expect(page.locator("tr[data-username='huayuan']")).to_contain_text("已停用")

    page.get_by_role("button", name="退出登录").click()
    page.get_by_label("用户名", exact=True).fill("huayuan")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
