"""Documents through a real Redis and real `worker.py` processes: issue a policy and the village booklets appear;
documents asked for while Redis was down appear once it is back; a worker killed mid-job still leaves exactly one
document. PDFs are read back with pypdf."""

import io
import os
import signal
from pathlib import Path

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core import documents
from core.settings import Settings
from core.storage import get_store
from main import create_app
from tests import infra
from tests.builders import bearer
from tests.conftest import run_cli
from tests.cover_builders import (
    enrol,
    fetch,
    import_register,
    issue,
    make_cast,
    make_group_policy,
    make_register,
    post_all_notices,
    reopen_row,
    scalar,
    settle,
)

FAST_SWEEP = {"SWEEP_SECONDS": "1", "WORKER_HEARTBEAT_SECONDS": "1", "WORKER_STALE_SECONDS": "3"}


def all_done(engine: Engine, kind: str = "%") -> bool:
    """Every document (of the kind) done, and at least one; a failure stops the wait with its error."""
    failed = fetch(engine, "SELECT id, error FROM document_request WHERE status = 'failed'")
    assert not failed, failed
    rows = fetch(engine, "SELECT status FROM document_request WHERE kind LIKE :k", k=kind)
    return bool(rows) and all(r.status == "done" for r in rows)


def test_issuing_a_policy_makes_the_worker_print_every_village_booklet(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    cast = make_cast(session)
    register = make_register(engine, tmp_path, 120)
    policy = make_group_policy(session, cast.handler)
    enrol(session, policy)
    post_all_notices(session, cast.supervisor, policy)
    settle(session)

    with infra.running_worker(settings, tmp_path / "worker.log"), TestClient(create_app(settings, engine)) as client:
        infra.wait_until(lambda: all_done(engine, "enrolment_notice"), 60, "the notices printed")
        response = client.post(f"/api/policies/{policy.policy_no}/issue", headers=bearer(client, "supervisor"))
        assert response.status_code == 200, response.text
        infra.wait_until(lambda: all_done(engine), 120, "the worker to print the booklets")

    booklets = fetch(
        engine, "SELECT village_code, document_key, pages FROM document_request WHERE kind = 'village_booklet'"
    )
    villages = {r[7] for r in register.eligible_rows}
    assert {b.village_code for b in booklets} == villages
    store = get_store(settings)
    for booklet in booklets:
        reader = PdfReader(io.BytesIO(store.get(booklet.document_key)))
        text = "\n".join(page.extract_text() for page in reader.pages)
        assert len(reader.pages) == booklet.pages
        heads = [r for r in register.eligible_rows if r[7] == booklet.village_code and r[3] == "户主"]
        for head in heads:
            assert head[0] in text and head[1] in text  # household number and head's name
            assert head[2][:6] + "*********" + head[2][-3:] in text and head[2] not in text
    assert scalar(engine, "SELECT COUNT(*) FROM certificate") == len({r[0] for r in register.eligible_rows})


def test_documents_of_an_enrolment_made_while_redis_was_down_appear_once_it_is_back(
    session: Session, engine: Engine, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    cast = make_cast(session)
    register = make_register(engine, tmp_path, 80)
    policy = make_group_policy(session, cast.handler)
    enrol(session, policy)
    issue(session, cast, policy)
    settle(session)
    before = scalar(engine, "SELECT COUNT(*) FROM document_request")
    import_register(engine, tmp_path, [reopen_row(r) for r in register.rows], name="reopened.csv")

    dead = f"redis://127.0.0.1:{infra.free_port()}/0"
    env = {"DATABASE_URL": database_url, "REDIS_URL": dead, "VAR_DIR": str(settings.var_dir)}
    result = run_cli("enrol", policy.policy_no, "--on", "2026-03-02", "--json", env=env)

    assert result.returncode == 0, result.stderr
    new = fetch(
        engine,
        "SELECT id, status FROM document_request WHERE id > :b AND kind = 'household_certificate' "
        "AND reason = 'enrolled'",
        b=before,
    )
    assert new and all(r.status == "pending" for r in new)  # committed with the enrolment, not lost
    with infra.running_worker(settings, tmp_path / "worker.log", **FAST_SWEEP):
        infra.wait_until(lambda: all_done(engine, "household_certificate"), 120, "the sweeper and the worker")
    singles = fetch(engine, "SELECT document_key FROM document_request WHERE id > :b AND reason = 'enrolled'", b=before)
    assert all(s.document_key and get_store(settings).exists(s.document_key) for s in singles)


def test_a_worker_killed_in_the_middle_of_a_job_still_produces_the_document_once(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    cast = make_cast(session)
    make_register(engine, tmp_path, 400)
    policy = make_group_policy(session, cast.handler)
    enrol(session, policy)
    issue(session, cast, policy)
    settle(session)
    biggest = fetch(
        engine,
        "SELECT parent_id, COUNT(*) AS n FROM document_request WHERE parent_id IS NOT NULL "
        "GROUP BY parent_id ORDER BY n DESC LIMIT 1",
    )[0].parent_id
    with engine.begin() as connection:  # only the biggest booklet is due: the one the worker is killed on
        connection.execute(
            text("UPDATE document_request SET status = 'done' WHERE parent_id IS NULL AND id <> :i"), {"i": biggest}
        )
    with infra.running_worker(settings, tmp_path / "first.log", **FAST_SWEEP) as first:
        documents.dispatch(engine, settings)
        infra.wait_until(
            lambda: scalar(engine, "SELECT status FROM document_request WHERE id = :i", i=biggest) == "running",
            60,
            "the first worker to start rendering",
            interval=0.02,
        )
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    assert scalar(engine, "SELECT status FROM document_request WHERE id = :i", i=biggest) == "running"
    assert scalar(engine, "SELECT COUNT(*) FROM certificate") == 0  # nothing half-written

    with infra.running_worker(settings, tmp_path / "second.log", empty_queue=False, **FAST_SWEEP):
        infra.wait_until(
            lambda: scalar(engine, "SELECT status FROM document_request WHERE id = :i", i=biggest) == "done",
            120,
            "the sweeper to notice the dead worker and the second worker to print",
        )

    row = fetch(engine, "SELECT attempts, document_key FROM document_request WHERE id = :i", i=biggest)[0]
    assert row.attempts == 2
    households = scalar(engine, "SELECT COUNT(*) FROM document_request WHERE parent_id = :i", i=biggest)
    versions = fetch(engine, "SELECT certificate_no, COUNT(*) AS n FROM certificate GROUP BY certificate_no")
    assert len(versions) == households and all(v.n == 1 for v in versions)
    folder = Path(settings.effective_documents_dir) / Path(row.document_key).parent
    assert [p.name for p in folder.iterdir()] == [Path(row.document_key).name]  # one file, no temporary left
