"""Uploading a defective roster through the real import pages in headless Chromium; a real worker imports it."""

import csv
import io
import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from core.models import Role
from insurance.demo.roster import write_csv
from tests.builders import PASSWORD, make_user
from tests.roster_defects import defective_totals, generate_defective_rows

pytestmark = pytest.mark.e2e

IMPORT_TIMEOUT_MS = 60_000
UTF8_BOM = b"\xef\xbb\xbf"
REJECTED = "拒绝 rejected"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _log_in(page: Page, live_server: str, username: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(f"{live_server}/")


# The browser test runs once, on SQLite: this overrides the session fixture's ["sqlite", "postgresql"] params.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_province_office_uploads_a_defective_roster_and_sees_and_downloads_its_rejected_rows(
    page: Page,
    live_server: str,
    worker: subprocess.Popen[bytes],
    session: Session,
    tmp_path: Path,
) -> None:
    make_user(session, Role.province_office, username="province")
    rows, expectations = generate_defective_rows(seed=0)
    rejected = defective_totals(expectations, rows).rejected_rows
    assert rejected > 0
    roster = tmp_path / "bad.csv"
    write_csv(roster, rows)

    _log_in(page, live_server, "province")
    page.goto(f"{live_server}/roster-imports")
    page.set_input_files("#file", roster)
    page.get_by_role("button", name="上传并导入", exact=True).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/roster-imports/\d+$"))

    # The page polls the API and reloads itself once the worker has finished.
    expect(page.locator("#status"), f"import unfinished; see {tmp_path / 'worker.log'}").to_have_attribute(
        "data-status", "done", timeout=IMPORT_TIMEOUT_MS
    )
    expect(page.get_by_test_id("rejected")).to_have_text(str(rejected))
    messages = page.locator("#issues tbody tr td:nth-child(3)")
    expect(messages.first).to_be_visible()
    assert any(CHINESE.search(message) for message in messages.all_inner_texts())

    with page.expect_download() as info:
        page.click("#report-csv")
    report = Path(info.value.path()).read_bytes()
    assert report.startswith(UTF8_BOM)
    header, *records = csv.reader(io.StringIO(report.decode("utf-8-sig"), newline=""))
    assert any("行号" in column for column in header)
    severity = header.index("类别 severity")
    assert sum(1 for record in records if record[severity] == REJECTED) == rejected
