"""Settlement sheets uploaded through the HTTP API (issue 14), imported by a real RQ worker on real Redis: the
import's counts, refused rows and claims, its report; the same file again 409; other insurers and offices 404."""

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import local_today
from core.settings import Settings, get_settings
from tests.builders import bearer
from tests.cli.test_import_settlements_cli import line, unknown_id, write
from tests.cover_builders import coverage_rows, fetch, make_cast, make_other_insurer
from tests.document_builders import issued_policy
from tests.infra import run_worker_until_idle


@pytest.fixture
def job_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Jobs read their settings from the environment, as in the worker process."""
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def post(client: TestClient, headers: dict[str, str], path: Path):  # noqa: ANN201 - a test client response
    with path.open("rb") as handle:
        return client.post("/api/settlement-imports", headers=headers, files={"file": (path.name, handle)})


def test_an_uploaded_sheet_is_imported_by_the_worker_and_only_its_insurer_reads_it(
    client: TestClient, session: Session, engine: Engine, job_env: Settings, tmp_path: Path
) -> None:
    issued = issued_policy(session, engine, tmp_path, members=12)
    other = make_other_insurer(session)
    covered = [r for r in coverage_rows(engine, issued.policy.policy_no) if r.status == "active"]
    names = {r.id_number: r.name for r in fetch(engine, "SELECT id_number, name FROM member")}
    (a, start), (b, _) = sorted((r.id_number, r.cover_start) for r in covered)[:2]
    admitted = min(start + timedelta(days=120), local_today() - timedelta(days=10))
    sheet = write(
        tmp_path / "sheet.csv",
        [
            line("W01", names[a], a, admitted),  # a claim
            line("W02", names[b], b, admitted),  # a claim
            line("W03", "无此人", unknown_id(), admitted),  # member_unknown
            line("W04", "别人", a, admitted),  # name_mismatch
        ],
    )
    handler = bearer(client, "handler")

    created = post(client, handler, sheet)
    assert created.status_code == 202, created.text
    import_id = created.json()["id"]
    assert created.json()["status"] == "queued"
    run_worker_until_idle(job_env)

    done = client.get(f"/api/settlement-imports/{import_id}", headers=handler).json()
    assert done["status"] == "done", done
    assert (done["rows"], done["accepted"], done["refused"], done["claims_created"]) == (4, 2, 2, 2)
    listed = client.get("/api/settlement-imports", headers=bearer(client, "supervisor")).json()
    assert [i["id"] for i in listed["data"]] == [import_id]
    issues = client.get(f"/api/settlement-imports/{import_id}/issues", headers=handler).json()
    assert {(i["row"], i["code"]) for i in issues["data"]} == {(4, "member_unknown"), (5, "name_mismatch")}
    assert all(a not in (i["value"] or "") for i in issues["data"])  # ID numbers masked
    claims = fetch(engine, "SELECT settlement_no FROM claim WHERE settlement_import_id = :id", id=import_id)
    assert sorted(c.settlement_no for c in claims) == ["W01", "W02"]

    report = client.get(f"/api/settlement-imports/{import_id}/report.csv", headers=handler)
    assert report.status_code == 200 and report.content.startswith(b"\xef\xbb\xbf")
    assert report.text.count("claim_created") == 2 and "member_unknown" in report.text
    xlsx = client.get(f"/api/settlement-imports/{import_id}/report.xlsx", headers=handler)
    rows = list(load_workbook(io.BytesIO(xlsx.content), read_only=True).active.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 4

    again = post(client, handler, sheet)
    assert again.status_code == 409 and again.json()["code"] == "already_imported"
    assert str(import_id) in again.json()["message"]

    for user in (other.handler.username, "huayuan", "province", "admin"):
        headers = bearer(client, user)
        assert client.get(f"/api/settlement-imports/{import_id}", headers=headers).status_code == 404, user
        assert client.get(f"/api/settlement-imports/{import_id}/report.csv", headers=headers).status_code == 404
        assert client.get("/api/settlement-imports", headers=headers).json()["count"] == 0
    assert post(client, bearer(client, "huayuan"), sheet).status_code == 403


def test_an_upload_while_redis_is_down_stays_queued_and_the_sweeper_sends_it_later(
    client: TestClient, session: Session, job_env: Settings, tmp_path: Path
) -> None:
    from claims.jobs import enqueue_queued_settlement_imports

    make_cast(session)
    headers = bearer(client, "handler")
    sheet = write(tmp_path / "s.csv", [line("X01", "无此人", unknown_id(), local_today() - timedelta(days=9))])
    live_redis = client.app.state.settings.redis_url
    client.app.state.settings = client.app.state.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    created = post(client, headers, sheet)
    client.app.state.settings = client.app.state.settings.model_copy(update={"redis_url": live_redis})
    assert created.status_code == 202, created.text
    url = f"/api/settlement-imports/{created.json()['id']}"
    assert client.get(url, headers=headers).json()["status"] == "queued"
    assert enqueue_queued_settlement_imports() == 1
    run_worker_until_idle(job_env)
    done = client.get(url, headers=headers).json()
    assert (done["status"], done["rows"], done["refused"], done["claims_created"]) == ("done", 1, 1, 0)


def test_a_file_that_is_not_a_settlement_sheet_is_refused_at_once(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    make_cast(session)
    headers = bearer(client, "handler")
    path = tmp_path / "other.csv"
    path.write_text("甲,乙\n1,2\n", encoding="utf-8")
    response = post(client, headers, path)
    assert response.status_code == 422 and response.json()["field"] == "file"
    assert client.get("/api/settlement-imports", headers=headers).json()["count"] == 0
