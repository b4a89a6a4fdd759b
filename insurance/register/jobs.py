"""RQ jobs of the register: a queued roster import; only the worker imports this module. Jobs take ids."""

from pathlib import Path

from sqlalchemy import text

from core import documents, queue
from core.audit import Actor
from core.db import get_engine, local_today
from core.settings import get_settings
from insurance.register.models import RosterImport
from insurance.register.roster import RosterUnreadable
from insurance.register.roster_import import IMPORT_JOB, IMPORT_TIMEOUT, PROGRESS_KEY, import_job_id, run_import
from insurance.register.roster_options import ImportOptions


def run_roster_import(import_id: int) -> dict[str, object]:
    """Runs a queued web import once: a second delivery of the same job finds it claimed and does nothing."""
    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    if not queue.claim(engine, RosterImport.__table__, import_id):
        return {"import_id": import_id, "skipped": True}
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT filename, stored_path, county_code, actor, actor_user_id, dry_run, strict FROM roster_import "
                "WHERE id = :id"
            ),
            {"id": import_id},
        ).one()
    publish = queue.progress_publisher(settings.redis_url, PROGRESS_KEY.format(import_id))

    def progress(phase: str, rows: int, done: int, total: int) -> None:
        publish({"phase": phase, "rows": rows, "done": done, "total": total})

    options = ImportOptions(
        actor=Actor(name=row.actor, user_id=row.actor_user_id),
        today=local_today(),
        filename=row.filename,
        dry_run=bool(row.dry_run),
        strict=bool(row.strict),
        county_code=row.county_code,
        progress=progress,
    )
    try:
        outcome = run_import(engine, Path(row.stored_path), options, import_id=import_id)
    except RosterUnreadable:
        return {"import_id": import_id, "unusable": True}  # recorded as failed, with the reason, by run_import
    if outcome.applied:  # deaths and moves reissue certificates
        documents.dispatch(engine, settings)
    return {"import_id": import_id, "rows": outcome.counts.rows, "applied": outcome.applied}


def enqueue_queued_imports() -> int:
    """The sweeper's part for imports: web uploads that never reached Redis (it was down) are queued again, and
    an import whose worker died (still "running" past the job timeout) is marked failed; its transaction never
    committed, so the register is as it was."""
    settings = get_settings()
    ids = queue.sweep(
        get_engine(settings.effective_database_url),
        RosterImport.__table__,
        IMPORT_TIMEOUT,
        "导入进程中断，花名册未作任何修改，请重新上传",
    )
    for import_id in ids:
        queue.enqueue(settings, IMPORT_JOB, import_id, job_id=import_job_id(import_id), timeout=IMPORT_TIMEOUT)
    return len(ids)
