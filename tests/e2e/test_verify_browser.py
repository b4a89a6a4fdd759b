"""The public verification page in headless Chromium: a household types the short code printed on its certificate,
without logging in, and sees it is genuine; a tampered QR code is reported as forged."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core import signing
from core.settings import Settings
from tests.cover_builders import fetch
from tests.document_builders import RARE_NAME, issued_policy, produce_all

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_anyone_checks_a_certificate_by_its_short_code_and_a_tampered_qr_code_is_reported_forged(
    page: Page, live_server: str, session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    issued_policy(session, engine, tmp_path, members=40)
    produce_all(engine, settings)
    row = fetch(
        engine,
        "SELECT c.code, c.short_code FROM certificate c JOIN member m ON m.household_id = c.household_id "
        "WHERE m.name = :n",
        n=RARE_NAME,
    )[0]

    page.goto(f"{live_server}/verify")
    page.get_by_label("验证码", exact=False).fill(signing.format_short_code(row.short_code).lower())
    page.get_by_role("button", name="核验").click()

    expect(page.locator("#state")).to_have_text("真实有效")
    expect(page.locator("#holder")).to_have_text(RARE_NAME[0] + "*" + RARE_NAME[-1])
    expect(page.locator("#result")).not_to_contain_text(RARE_NAME)
    page.screenshot(path=str(tmp_path / "verify.png"))

    page.goto(f"{live_server}/v/{row.code[:-6]}AAAAAA")
    expect(page.locator("#state")).to_have_text("验证失败：伪造或被篡改")
