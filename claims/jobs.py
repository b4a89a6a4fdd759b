"""RQ jobs of claims: a queued settlement-sheet import; only the worker imports this module. Jobs take ids."""

from pathlib import Path

from sqlalchemy import text

from claims.models import SettlementImport
from claims.settlement_import import PROGRESS_KEY, SettlementOptions, run_settlement_import
from claims.settlement_sheet import SettlementSheetUnreadable
from claims.settlement_uploads import IMPORT_JOB, IMPORT_TIMEOUT, import_job_id
from core import queue
from core.audit import Actor
from core.db import get_engine, local_today
from core.settings import get_settings


def run_settlement_import_job(import_id: int) -> dict[str, object]:
    """Runs a queued web import once: a second delivery of the same job finds it claimed and does nothing."""
    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    if not queue.claim(engine, SettlementImport.__table__, import_id):
        return {"import_id": import_id, "skipped": True}
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT filename, stored_path, insurer_id, actor, actor_user_id FROM settlement_import WHERE id = :id"
            ),
            {"id": import_id},
        ).one()
    publish = queue.progress_publisher(settings.redis_url, PROGRESS_KEY.format(import_id))

    def progress(rows: int, done: int, total: int) -> None:
        publish({"rows": rows, "done": done, "total": total})

    options = SettlementOptions(
        insurer_id=row.insurer_id,
        actor=Actor(name=row.actor, user_id=row.actor_user_id),
        today=local_today(),
        filename=row.filename,
        progress=progress,
    )
    try:
        outcome = run_settlement_import(engine, Path(row.stored_path), options, import_id=import_id)
    except SettlementSheetUnreadable:
        return {"import_id": import_id, "unusable": True}  # recorded as failed, with the reason, by the use case
    return {"import_id": import_id, "rows": outcome.rows, "claims_created": outcome.claims_created}


def enqueue_queued_settlement_imports() -> int:
    """The sweeper's part for settlement imports: uploads that never reached Redis are queued again, and an import
    whose worker died (still "running" past the job timeout) is marked failed; its transaction never committed."""
    settings = get_settings()
    ids = queue.sweep(
        get_engine(settings.effective_database_url),
        SettlementImport.__table__,
        IMPORT_TIMEOUT,
        "导入进程中断，未建立任何理赔案件，请重新上传",
    )
    for import_id in ids:
        queue.enqueue(settings, IMPORT_JOB, import_id, job_id=import_job_id(import_id), timeout=IMPORT_TIMEOUT)
    return len(ids)
