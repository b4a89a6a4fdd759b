"""Every role's main pages in headless Chromium, on a small issued policy with its documents printed: each page
answers 200, fits a 1366 px window, and shows no English sentence or raw code (`policy_issued`, `household_no`).
The screenshots are kept as test artefacts (TEST_ARTEFACTS, default var/test-artefacts/screenshots) so a person
can look at them after a run."""

import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.settings import PROJECT_ROOT, Settings
from tests.builders import PASSWORD
from tests.cover_builders import coverage_rows, fetch
from tests.document_builders import Issued, issued_policy, produce_all

pytestmark = pytest.mark.e2e

ARTEFACTS = Path(os.environ.get("TEST_ARTEFACTS", PROJECT_ROOT / "var" / "test-artefacts")) / "screenshots"
WIDTH = 1366
# A lower-case Latin word of three letters or more is English or a raw code; codes people do read are upper-case
# (policy numbers, verification codes) or digits.
DEVELOPER_TEXT = re.compile(r"\b[a-z]{3,}\b|\b[a-z]+_[a-z_]+\b")
# What people do read in Latin letters: usernames, an uploaded file's name, the test's system actor, and the
# catalogue's product codes, which the admin's audit log names as the records' keys.
NAMES_PEOPLE_READ = re.compile(
    r"\b(admin|handler|supervisor|huayuan|province)\b|[\w.-]*\.(csv|xlsx)\b|系统（test）|\b(th|agri)_[a-z_]+\b"
)


def _pages(world: dict[str, str]) -> dict[str, list[str]]:
    policy, household, village = world["policy"], world["household"], world["village"]
    return {
        "province": [
            "/",
            "/divisions/430000000000",
            "/households",
            "/roster-imports",
            f"/roster-imports/{world['import']}",
            "/policies",
            "/products",
            "/risk-flags",
            "/dashboard/430000000000",
            "/coverage/430000000000",
        ],
        "huayuan": [
            "/",
            f"/divisions/{village}",
            f"/households/{household}",
            f"/policies/{policy}",
            f"/policies/{policy}/notices/{village}",
            "/risk-flags",
            "/dashboard/433124000000",
            f"/coverage/{village}",
            f"/coverage/{village}?list=not-eligible",
        ],
        "handler": [
            "/",
            "/policies",
            f"/policies/{policy}",
            f"/policies/{policy}/documents",
            "/policies/new",
            "/policies/industry/new",
            f"/households/{household}",
            "/claims",
            "/claims/new",
            "/settlement-imports",
            f"/settlement-imports/{world['settlement']}",
        ],
        "supervisor": [f"/policies/{policy}", "/me/password", "/claims", "/settlement-imports"],
        "admin": ["/", "/admin/users", f"/admin/users/{world['user']}", "/admin/audit", "/products"],
    }


def _settlement_import(engine: Engine, issued: Issued, tmp_path: Path) -> int:
    """A settlement sheet imported (as the command line does) for the handler's pages: claims and refused rows."""
    from claims.settlement_import import SettlementOptions, run_settlement_import
    from core.audit import Actor
    from core.db import local_today
    from tests.cli.test_import_settlements_cli import line, unknown_id, write

    covered = sorted(r.id_number for r in coverage_rows(engine, issued.policy.policy_no) if r.status == "active")
    names = {r.id_number: r.name for r in fetch(engine, "SELECT id_number, name FROM member")}
    admitted = date(2026, 6, 1) if local_today() > date(2026, 6, 20) else local_today() - timedelta(days=10)
    path = write(
        tmp_path / "结算单.csv",
        [
            line("E01", names[covered[0]], covered[0], admitted),
            line("E02", names[covered[1]], covered[1], admitted, total="500.00"),
            line("E03", "无此人", unknown_id(), admitted),
            line("E04", "别人", covered[0], admitted),
        ],
    )
    options = SettlementOptions(
        insurer_id=issued.cast.insurer.id or 0, actor=Actor.system("test"), today=local_today(), filename=path.name
    )
    return run_settlement_import(engine, path, options).import_id or 0


def _look(page: Page, url: str, name: str) -> list[str]:
    """Opens the page, keeps its screenshot, and says what is wrong with it."""
    response = page.goto(url)
    problems = []
    if response is None or response.status != 200:
        problems.append(f"{url}: HTTP {response.status if response else '-'}")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > WIDTH + 1:
        problems.append(f"{url}: {width}px wide in a {WIDTH}px window")
    text = page.locator("main").inner_text()
    words = sorted(set(DEVELOPER_TEXT.findall(NAMES_PEOPLE_READ.sub(" ", text))))
    if words:
        problems.append(f"{url}: shows {words}")
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
    return problems


def _log_in(browser: Browser, live_server: str, username: str) -> Page:
    context = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("[data-testid=who]")).to_be_visible()
    return page


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_roles_main_pages_fit_the_window_and_speak_chinese_only(
    browser: Browser, live_server: str, session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    issued = issued_policy(session, engine, tmp_path, members=20)
    produce_all(engine, settings)
    first = fetch(
        engine,
        "SELECT h.household_no, h.village_code FROM certificate c JOIN household h ON h.id = c.household_id "
        "ORDER BY h.household_no",
    )[0]
    world = {
        "policy": issued.policy.policy_no,
        "household": first.household_no,
        "village": first.village_code,
        "import": str(fetch(engine, "SELECT MAX(id) AS id FROM roster_import")[0].id),
        "user": str(issued.cast.handler.id),
        "settlement": str(_settlement_import(engine, issued, tmp_path)),
    }
    short_code = fetch(engine, "SELECT short_code FROM certificate ORDER BY id")[0].short_code
    ARTEFACTS.mkdir(parents=True, exist_ok=True)

    public = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": 900}).new_page()
    problems = _look(public, f"{live_server}/login", "public-login")
    problems += _look(public, f"{live_server}/verify", "public-verify")
    problems += _look(public, f"{live_server}/v/{short_code}", "public-verified")
    public.context.close()
    for username, paths in _pages(world).items():
        page = _log_in(browser, live_server, username)
        for index, path in enumerate(paths):
            problems += _look(page, f"{live_server}{path}", f"{username}-{index:02d}")
        page.context.close()

    assert not problems, "\n".join(problems)
