"""The settlement-import page of an insurer's handler (issue 14): the upload, the real RQ worker importing it, then
the counts, the refused rows in Chinese, the claims created linking to their pages and the report; another insurer
and the offices get 404. And an import whose job fails leaves nothing half-written and is retried to success."""

import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import local_today
from core.settings import Settings
from tests.builders import login_page
from tests.cli.test_import_settlements_cli import line, unknown_id, write
from tests.cover_builders import coverage_rows, fetch, make_other_insurer, scalar
from tests.document_builders import issued_policy
from tests.infra import run_worker_until_idle
from tests.web import test_settlement_import_api as api_tests

job_env = api_tests.job_env  # the fixture: jobs read their settings from the environment
RAW_CODES = ("member_unknown", "name_mismatch", "payable", "assessed", "supplementary_medical", "queued", "done")


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", html, flags=re.S)))


def _sheet(session: Session, engine: Engine, tmp_path: Path) -> tuple[Path, list[str]]:
    """An issued 2026 policy and a sheet of four rows: two claims, an unknown ID number and a wrong name."""
    issued = issued_policy(session, engine, tmp_path, members=12)
    covered = [r for r in coverage_rows(engine, issued.policy.policy_no) if r.status == "active"]
    names = {r.id_number: r.name for r in fetch(engine, "SELECT id_number, name FROM member")}
    (a, start), (b, _) = sorted((r.id_number, r.cover_start) for r in covered)[:2]
    admitted = min(start + timedelta(days=120), local_today() - timedelta(days=10))
    rows = [
        line("P01", names[a], a, admitted),
        line("P02", names[b], b, admitted),
        line("P03", "无此人", unknown_id(), admitted),
        line("P04", "别人", a, admitted),
    ]
    return write(tmp_path / "结算单.csv", rows), [a, b]


def _upload(client: TestClient, path: Path):  # noqa: ANN202 - a test client response
    with path.open("rb") as handle:
        return client.post(
            "/settlement-imports", files={"file": (path.name, handle, "text/csv")}, follow_redirects=False
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_handler_uploads_a_sheet_and_the_page_shows_what_the_worker_made_of_it(
    client: TestClient,
    session: Session,
    engine: Engine,
    job_env: Settings,
    tmp_path: Path,
) -> None:
    path, ids = _sheet(session, engine, tmp_path)
    other = make_other_insurer(session)
    login_page(client, "handler")
    listing = client.get("/settlement-imports")
    assert listing.status_code == 200 and 'href="/settlement-imports"' in listing.text  # the navigation link
    created = _upload(client, path)
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    waiting = client.get(url)
    assert "排队中" in waiting.text and "/api/settlement-imports/" in waiting.text  # polls the API until done

    run_worker_until_idle(job_env)
    page = client.get(url)
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "已完成" in shown
    counts = {k: re.search(rf'data-testid="{k}">(\d+)<', page.text).group(1) for k in ("rows", "refused")}
    assert counts == {"rows": "4", "refused": "2"}
    assert "不在建档立卡花名册上" in shown and "与花名册登记的姓名" in shown and "证件号码" in shown
    claim_nos = [r.claim_no for r in fetch(engine, "SELECT claim_no FROM claim ORDER BY id")]
    assert len(claim_nos) == 2
    for claim_no in claim_nos:
        assert f'href="/claims/{claim_no}"' in page.text
    assert "可赔付" in shown or "补充医疗" in shown or "已理算" in shown
    assert all(code not in shown for code in RAW_CODES), [c for c in RAW_CODES if c in shown]
    assert all(i not in page.text for i in ids)  # ID numbers masked
    assert 'href="/api/settlement-imports/' in page.text and "report.xlsx" in page.text
    report = client.get(re.search(r'href="(/api/settlement-imports/\d+/report\.csv)"', page.text).group(1))
    assert report.status_code == 200 and report.text.count("claim_created") == 2
    assert client.get(f"/claims/{claim_nos[0]}").status_code == 200

    login_page(client, "supervisor")
    assert client.get(url).status_code == 200
    for user in (other.handler.username, "huayuan", "province"):
        login_page(client, user)
        assert client.get(url).status_code == 404, user
    assert client.get("/settlement-imports").status_code == 404
    assert 'href="/settlement-imports"' not in client.get("/").text


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_import_whose_job_fails_leaves_nothing_and_the_same_file_again_succeeds(
    client: TestClient,
    session: Session,
    engine: Engine,
    job_env: Settings,
    tmp_path: Path,
) -> None:
    path, _ = _sheet(session, engine, tmp_path)
    login_page(client, "handler")
    url = _upload(client, path).headers["location"]
    import_id = int(url.rsplit("/", 1)[1])
    stored = Path(scalar(engine, "SELECT stored_path FROM settlement_import WHERE id = :id", id=import_id))
    stored.unlink()  # the stored upload is gone before the worker gets to it: the job fails

    run_worker_until_idle(job_env)
    failed = fetch(
        engine, "SELECT status, message, rows, claims_created FROM settlement_import WHERE id = :id", id=import_id
    )
    assert (failed[0].status, failed[0].rows, failed[0].claims_created) == ("failed", 0, 0)
    assert scalar(engine, "SELECT COUNT(*) FROM claim") == 0
    assert scalar(engine, "SELECT COUNT(*) FROM claim_event") == 0
    assert scalar(engine, "SELECT COUNT(*) FROM settlement_import_issue") == 0
    assert scalar(engine, "SELECT COALESCE(MAX(last), 0) FROM claim_counter") == 0
    page = text_of(client.get(url).text)
    assert "失败" in page and failed[0].message in page and "重新上传" in page

    again = _upload(client, path)
    assert again.status_code == 303 and again.headers["location"] == url  # the same import, queued again
    run_worker_until_idle(job_env)
    done = fetch(
        engine, "SELECT status, rows, refused, claims_created FROM settlement_import WHERE id = :id", id=import_id
    )
    assert tuple(done[0]) == ("done", 4, 2, 2)
    assert scalar(engine, "SELECT COUNT(*) FROM claim") == 2
    assert scalar(engine, "SELECT COUNT(*) FROM settlement_import") == 1
    assert "已完成" in text_of(client.get(url).text)
