"""A handler files a supplementary-medical claim in headless Chromium against the real app, uploads one real file
per required document (PDFs made with pypdf, PNGs with PIL), completes and assesses it and sees the explanation;
a supervisor approves it. Screenshots of the queue, the filing form and the claim page before and after the
decision are kept as test artefacts (var/test-artefacts/screenshots/claims-*.png)."""

import io
import os
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfWriter
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.settings import PROJECT_ROOT
from tests.builders import PASSWORD
from tests.cover_builders import coverage_rows, fetch
from tests.document_builders import issued_policy
from tests.web.test_claims_api import INCIDENT

pytestmark = pytest.mark.e2e

ARTEFACTS = Path(os.environ.get("TEST_ARTEFACTS", PROJECT_ROOT / "var" / "test-artefacts")) / "screenshots"
WIDTH = 1366


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def log_in(browser: Browser, live_server: str, username: str) -> Page:
    page = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": 900}).new_page()
    page.context.set_default_timeout(15_000)
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("[data-testid=who]")).to_be_visible()
    return page


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH + 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_handler_files_a_medical_claim_with_documents_and_a_supervisor_approves_it(
    browser: Browser, live_server: str, session: Session, engine: Engine, tmp_path: Path
) -> None:
    issued = issued_policy(session, engine, tmp_path, members=20)
    id_number = sorted(r.id_number for r in coverage_rows(engine, issued.policy.policy_no) if r.status == "active")[0]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)

    page = log_in(browser, live_server, "handler")
    page.get_by_role("link", name="理赔", exact=True).click()
    expect(page.locator("h1")).to_have_text("理赔案件")
    page.get_by_role("link", name="新建报案").click()

    page.get_by_label("户编号、户主或家庭成员姓名、证件号码（可只填后几位）").fill(id_number[-8:])
    page.get_by_role("button", name="查找").click()
    page.locator("#household-results").get_by_role("link", name="选择").first.click()
    form = page.locator("#claim-form")
    form.get_by_label("理赔类型").select_option(label="补充医疗")
    expect(form.locator("fieldset[data-type=house_collapse]")).to_be_hidden()
    expect(form.get_by_label("保险标的（养殖业、种植业）")).to_be_hidden()
    masked = f"{id_number[:6]}*********{id_number[-3:]}"
    member = form.get_by_label("被保险人", exact=True).locator("option", has_text=masked)
    form.get_by_label("被保险人", exact=True).select_option(value=member.get_attribute("value"))
    form.get_by_label("申请人姓名").fill("张家属")
    form.get_by_label("申请人与被保险人关系").fill("配偶")
    form.get_by_label("出险日期").fill(INCIDENT.isoformat())
    form.get_by_label("出险地点").fill("花垣县人民医院")
    form.get_by_label("结算单号").fill("JS2026009001")
    form.get_by_label("主要诊断").fill("肺炎 J18.9")
    form.get_by_label("医疗总费用（元）").fill("12000")
    form.get_by_label("政策范围内费用（元）").fill("10000")
    form.get_by_label("基本医保支付（元）").first.fill("6000")
    form.get_by_label("大病保险支付（元）").fill("0")
    fits(page)
    page.screenshot(path=str(ARTEFACTS / "claims-new.png"), full_page=True)
    form.get_by_role("button", name="提交报案").click()

    expect(page.locator("[data-testid=claim-status]")).to_have_text("已报案（材料待补）")
    claim_no = page.url.rsplit("/", 1)[1]
    needed = page.locator("#checklist tbody tr", has=page.locator("td.missing"))
    codes = [row.get_attribute("data-code") for row in needed.all()]
    assert codes, "the checklist names what is missing"
    for index, code in enumerate(codes):
        upload = page.locator("#upload-form")
        upload.get_by_label("材料类别").select_option(code)
        if index % 2:
            file = {"name": f"{code}.png", "mimeType": "image/png", "buffer": png_bytes()}
        else:
            file = {"name": f"{code}.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}
        upload.get_by_label("文件（PDF、JPEG 或 PNG）").set_input_files(file)
        upload.get_by_role("button", name="上传").click()
        expect(page.locator(f"#checklist tr[data-code={code}] td.present")).to_have_text("已上传")
    expect(page.locator("#missing")).to_have_count(0)
    kinds = {r.content_type for r in fetch(engine, "SELECT content_type FROM claim_document")}
    assert kinds == {"application/pdf", "image/png"}

    page.locator("#complete-form").get_by_role("button", name="确认材料齐全").click()
    expect(page.locator("[data-testid=claim-status]")).to_have_text("材料齐全")
    page.locator("#assess-form").get_by_role("button", name="理算").click()
    expect(page.locator("[data-testid=claim-status]")).to_have_text("已理算")
    expect(page.locator("#explanation tbody tr")).to_have_count(4)
    expect(page.locator("[data-testid=payable]")).to_have_text("¥3,400.00")
    expect(page.locator("#decision-form")).to_have_count(0)  # a handler does not decide
    fits(page)
    page.screenshot(path=str(ARTEFACTS / "claims-before-decision.png"), full_page=True)
    page.context.close()

    page = log_in(browser, live_server, "supervisor")
    page.goto(f"{live_server}/claims/{claim_no}")
    decision = page.locator("#decision-form")
    decision.get_by_label("同意赔付").check()
    decision.get_by_label("说明").fill("材料齐全，同意赔付")
    decision.get_by_role("button", name="提交决定").click()
    expect(page.locator("[data-testid=claim-status]")).to_have_text("同意赔付")
    expect(page.locator("#history")).to_contain_text("已理算 → 同意赔付")
    expect(page.locator("[data-testid=waiting-on]")).to_have_text("等待保险机构处理")
    fits(page)
    page.screenshot(path=str(ARTEFACTS / "claims-after-decision.png"), full_page=True)
    page.locator("header nav").get_by_role("link", name="理赔", exact=True).click()
    expect(page.locator("table[data-queue=all] tr[data-claim]")).to_contain_text("同意赔付")
    fits(page)
    page.screenshot(path=str(ARTEFACTS / "claims-queue.png"), full_page=True)
    page.context.close()
    assert fetch(engine, "SELECT status FROM claim")[0].status == "approved"
