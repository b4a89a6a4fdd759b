"""A county clerk posts a village's enrolment notice and records and resolves an objection on the notice page, in
headless Chromium against the real app: a posting date in the future is refused in Chinese inside the form."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import local_today
from tests.builders import PASSWORD
from tests.cover_builders import HOUSEHOLD_NO, VILLAGE_CODE, enrol, fetch, make_cast, make_group_policy, make_register

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_notice_form_refuses_a_future_date_in_chinese_and_the_notice_page_takes_an_objection(
    page: Page, live_server: str, session: Session, engine: Engine, tmp_path: Path
) -> None:
    cast = make_cast(session)
    register = make_register(engine, tmp_path, members=80)
    policy = make_group_policy(session, cast.handler)
    enrol(session, policy)
    household = register.household_of_size(3)
    village = household[0][VILLAGE_CODE]
    today = local_today()

    page.goto(f"{live_server}/login")
    page.get_by_label("用户名", exact=True).fill("huayuan")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.goto(f"{live_server}/policies/{policy.policy_no}")

    form = page.locator("#notice-form")
    form.get_by_label("登记张贴公示的村").select_option(village)
    form.get_by_label("张贴日期").fill(str(today + timedelta(days=1)))
    form.get_by_role("button", name="登记公示").click()
    expect(page.locator("#notice-form-error")).to_have_text(f"张贴日期不能晚于今天（{today}）")
    expect(form.get_by_label("张贴日期")).to_have_value(str(today + timedelta(days=1)))
    expect(page).to_have_url(re.compile(r"#notice-form$"))
    page.screenshot(path=str(tmp_path / "notice-form-future.png"), full_page=True)
    assert fetch(engine, "SELECT id FROM enrolment_notice") == []
    expect(page.locator("#village-table tbody tr").first).to_contain_text("未公示")

    form.get_by_label("张贴日期").fill(str(today))
    form.get_by_role("button", name="登记公示").click()
    expect(page.locator("#notice-form-error")).to_have_count(0)
    page.goto(f"{live_server}/policies/{policy.policy_no}/notices/{village}")
    objection = page.locator("#objection-form")
    objection.get_by_label("异议涉及的农户").select_option(household[0][HOUSEHOLD_NO])
    members = objection.locator("#member_id optgroup:not([hidden]) option")
    expect(members).to_have_count(len(household))  # only the chosen household's members are offered
    objection.get_by_label("异议涉及的成员").select_option(label=members.nth(1).inner_text())
    objection.get_by_label("提出人").fill("村民代表")
    objection.get_by_label("异议理由").fill("该成员已在务工地参加同类保险")
    objection.get_by_role("button", name="登记异议").click()
    row = page.locator("#objection-table tr[data-status='open']")
    expect(row).to_contain_text("待处理")
    page.screenshot(path=str(tmp_path / "notice-objection-open.png"), full_page=True)

    row.get_by_label("不成立").check()
    row.get_by_label("处理意见").fill("经核实，该成员未在外地参保")
    row.get_by_role("button", name="提交处理意见").click()
    expect(page.locator("#objection-table tr[data-status='dismissed']")).to_contain_text("不成立")
    page.screenshot(path=str(tmp_path / "notice-objection-resolved.png"), full_page=True)
