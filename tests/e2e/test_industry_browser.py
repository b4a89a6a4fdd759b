"""An insurer's handler writes an industry policy in the browser: two sows named by their ear tags, one a line, in
the form's textarea; the policy's page shows them in Chinese and the policies list has it."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.builders import PASSWORD
from tests.cover_builders import HOUSEHOLD_NO, YEAR, make_cast, make_register

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_handler_creates_an_industry_policy_with_two_ear_tags_and_sees_it_listed(
    page: Page, live_server: str, session: Session, engine: Engine, tmp_path: Path
) -> None:
    make_cast(session)
    household_no = make_register(engine, tmp_path, members=20).rows[0][HOUSEHOLD_NO]

    page.goto(f"{live_server}/login")
    page.get_by_label("用户名", exact=True).fill("handler")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("link", name="保单", exact=True).click()
    page.get_by_role("link", name="新建产业保险保单").click()
    page.get_by_label("产品").select_option("agri_sow")
    page.get_by_label("保险年度").fill(str(YEAR))
    page.get_by_label("第 1 行户编号").fill(household_no)
    page.get_by_label("第 1 行耳标号").fill("433124000100001\n433124000100002")
    page.screenshot(path=str(tmp_path / "industry-form.png"), full_page=True)
    page.get_by_role("button", name="创建保单").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/policies/NY{YEAR}433124\d+$"))
    policy_no = page.url.rsplit("/", 1)[-1]
    objects = page.locator("#objects tbody tr")
    expect(objects).to_have_count(1)
    expect(objects.first).to_contain_text("能繁母猪")
    expect(objects.first).to_contain_text("2 头")
    expect(objects.first).to_contain_text("433124000100001、433124000100002")
    expect(page.get_by_test_id("policy-premium")).to_have_text("¥120.00")
    page.screenshot(path=str(tmp_path / "industry-policy.png"), full_page=True)

    page.get_by_role("navigation").get_by_role("link", name="保单", exact=True).click()
    row = page.locator("#policies tbody tr", has_text=policy_no)
    expect(row).to_contain_text("产业保险")
    expect(row).to_contain_text("待出单（公示中）")
