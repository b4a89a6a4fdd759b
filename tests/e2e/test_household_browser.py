"""The household page in headless Chromium: a policy of next year says its cover has not started and from when
(never 保障中), lists the household's certificate with its verification code, and the certificate links on the
household page and the documents page download that household's own PDF, not the village's booklet."""

import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core import signing
from core.db import local_today
from core.settings import Settings
from tests.builders import PASSWORD
from tests.cover_builders import fetch
from tests.document_builders import issued_policy, produce_all

pytestmark = pytest.mark.e2e


def log_in(page: Page, live_server: str, username: str = "handler") -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("link", name="保单", exact=True)).to_be_visible()


def two_households_of_a_village(engine: Engine) -> tuple[str, list[str]]:
    """A household with a printed certificate, and the other households of its village."""
    rows = fetch(
        engine,
        "SELECT h.household_no, h.village_code FROM certificate c JOIN household h ON h.id = c.household_id "
        "ORDER BY h.household_no",
    )
    mine = rows[0]
    others = [r.household_no for r in rows if r.village_code == mine.village_code and r is not mine]
    assert others, "the village needs a second household"
    return mine.household_no, others


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_household_page_before_the_period_says_not_yet_in_force_from_the_start_date(
    page: Page, live_server: str, session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    year = local_today().year + 1  # a policy of next year, viewed this year
    issued_policy(session, engine, tmp_path, members=20, year=year)
    produce_all(engine, settings)
    household_no, _ = two_households_of_a_village(engine)
    short_code = fetch(
        engine,
        "SELECT c.short_code FROM certificate c JOIN household h ON h.id = c.household_id WHERE h.household_no = :h",
        h=household_no,
    )[0].short_code
    page.goto(f"{live_server}/login")
    expect(page.get_by_role("link", name="保险凭证真伪核验")).to_have_attribute("href", "/verify")
    page.screenshot(path=str(tmp_path / "login.png"))
    log_in(page, live_server)

    page.goto(f"{live_server}/households/{household_no}")

    starts = f"尚未生效，自 {year}-01-01 起保障"
    expect(page.locator("#cover .cover-status").first).to_have_text(starts)
    expect(page.locator("#members .standing").first).to_contain_text(starts)
    expect(page.locator("#cover")).not_to_contain_text("保障中")
    expect(page.locator("#members")).not_to_contain_text("保障中")
    certificates = page.locator("#certificates")
    expect(certificates).to_contain_text(signing.format_short_code(short_code))
    expect(certificates).to_contain_text("有效")
    page.screenshot(path=str(tmp_path / "household-before-period.png"), full_page=True)

    page.locator("#certificates a.verify-code").first.click()
    expect(page.locator("#state")).to_have_text("真实有效，尚未生效")
    expect(page.locator("#in-force")).to_contain_text(starts)
    page.screenshot(path=str(tmp_path / "verify-before-period.png"), full_page=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_certificate_links_download_the_households_own_pdf_not_the_village_booklet(
    page: Page, live_server: str, session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    issued = issued_policy(session, engine, tmp_path, members=40)
    produce_all(engine, settings)
    household_no, neighbours = two_households_of_a_village(engine)
    log_in(page, live_server)

    page.goto(f"{live_server}/households/{household_no}")
    from_household = page.locator("#certificates a.certificate-pdf").first.get_attribute("href")
    page.goto(f"{live_server}/policies/{issued.policy.policy_no}/documents")
    row = page.locator("#requests tr").filter(has=page.locator("td.household-no", has_text=household_no))
    expect(row).to_have_count(1)
    page.screenshot(path=str(tmp_path / "documents.png"), full_page=True)
    from_documents = row.get_by_role("link", name="PDF").get_attribute("href")

    for href in (from_household, from_documents):
        assert href
        response = page.request.get(f"{live_server}{href}")
        assert response.ok and response.headers["content-type"] == "application/pdf"
        content = pdf_text(response.body())
        assert household_no in content
        assert not any(other in content for other in neighbours)
