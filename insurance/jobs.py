"""RQ jobs of the coverage domain; only the worker imports this module. Jobs take ids, never objects."""

import json
import logging
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from core.audit import Actor
from core.db import get_engine, new_session, utcnow
from core.errors import DomainError
from core.queue import redis_from_url
from core.settings import get_settings
from insurance import policies
from insurance.policies import ENROL_TIMEOUT
from insurance.policies import PROGRESS_KEY as ENROL_PROGRESS_KEY
from insurance.roster import RosterUnreadable
from insurance.roster_import import IMPORT_TIMEOUT, PROGRESS_KEY, ImportOptions, run_import

log = logging.getLogger(__name__)


def run_roster_import(import_id: int) -> dict[str, object]:
    """Runs a queued web import once: a second delivery of the same job finds it claimed and does nothing."""
    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    with engine.begin() as connection:
        claimed = connection.execute(
            text("UPDATE roster_import SET status = 'running', started_at = :now WHERE id = :id AND status = 'queued'"),
            {"id": import_id, "now": utcnow()},
        ).rowcount
        row = connection.execute(
            text(
                "SELECT filename, stored_path, county_code, actor, actor_user_id, dry_run, strict FROM roster_import "
                "WHERE id = :id"
            ),
            {"id": import_id},
        ).one_or_none()
    if not claimed or row is None:
        return {"import_id": import_id, "skipped": True}
    redis = redis_from_url(settings.redis_url)
    key = PROGRESS_KEY.format(import_id)

    def progress(phase: str, rows: int, done: int, total: int) -> None:
        try:
            redis.set(key, json.dumps({"phase": phase, "rows": rows, "done": done, "total": total}), ex=86400)
        except Exception:  # noqa: BLE001 - progress is a courtesy; the import must not fail for it
            log.warning("import %s: could not publish progress", import_id)

    options = ImportOptions(
        actor=Actor(name=row.actor, user_id=row.actor_user_id),
        today=date.today(),
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
    return {"import_id": import_id, "rows": outcome.counts.rows, "applied": outcome.applied}


def enqueue_queued_imports() -> int:
    """The sweeper's part for imports: web uploads that never reached Redis (it was down) are queued again, and
    an import whose worker died (still "running" past the job timeout) is marked failed; its transaction never
    committed, so the register is as it was."""
    from core.queue import get_queue

    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE roster_import SET status = 'failed', finished_at = :now, message = :message "
                "WHERE status = 'running' AND started_at < :cutoff"
            ),
            {
                "now": utcnow(),
                "cutoff": utcnow() - IMPORT_TIMEOUT - timedelta(minutes=10),
                "message": "导入进程中断，花名册未作任何修改，请重新上传 "
                "(the worker stopped; nothing written; upload again)",
            },
        )
        ids = [i for (i,) in connection.execute(text("SELECT id FROM roster_import WHERE status = 'queued'"))]
    queue = get_queue(redis_from_url(settings.redis_url), settings.queue_name)
    for import_id in ids:
        queue.enqueue(
            run_roster_import,
            import_id,
            job_id=f"roster-import-{import_id}",
            job_timeout=int(IMPORT_TIMEOUT.total_seconds()),
        )
    return len(ids)


def run_enrolment(enrolment_id: int) -> dict[str, object]:
    """Enrols a county once: a second delivery finds the enrolment claimed (or done) and does nothing. Progress
    is published per township; the enrolment itself is one transaction, so a dead worker leaves nothing half-done."""
    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    with engine.begin() as connection:
        claimed = connection.execute(
            text("UPDATE enrolment SET status = 'running', started_at = :now WHERE id = :id AND status = 'queued'"),
            {"id": enrolment_id, "now": utcnow()},
        ).rowcount
        row = connection.execute(
            text("SELECT actor, actor_user_id FROM enrolment WHERE id = :id"), {"id": enrolment_id}
        ).one_or_none()
    if not claimed or row is None:
        return {"enrolment_id": enrolment_id, "skipped": True}
    redis = redis_from_url(settings.redis_url)
    key = ENROL_PROGRESS_KEY.format(id=enrolment_id)

    def progress(done: int, total: int, added: int) -> None:
        try:
            redis.set(key, json.dumps({"done": done, "total": total, "added": added}), ex=86400)
        except Exception:  # noqa: BLE001 - progress is a courtesy; the enrolment must not fail for it
            log.warning("enrolment %s: could not publish progress", enrolment_id)

    try:
        with new_session(engine) as session:
            enrolment = policies.enrol_county(
                session, Actor(name=row.actor, user_id=row.actor_user_id), enrolment_id, progress=progress
            )
    except DomainError as exc:
        with new_session(engine) as session:
            policies.mark_enrolment_failed(session, enrolment_id, exc.message)
        return {"enrolment_id": enrolment_id, "failed": exc.message}
    except Exception as exc:
        with new_session(engine) as session:
            policies.mark_enrolment_failed(
                session,
                enrolment_id,
                f"参保失败，未写入任何数据 (enrolment failed, nothing written): {type(exc).__name__}",
            )
        raise
    return {"enrolment_id": enrolment_id, "added": enrolment.added}


def enqueue_queued_enrolments() -> int:
    """The sweeper's part for enrolments: queued ones that never reached Redis are sent again; one whose worker
    died (running past the timeout) is marked failed: its transaction never committed."""
    from core.queue import get_queue

    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE enrolment SET status = 'failed', finished_at = :now, message = :message "
                "WHERE status = 'running' AND started_at < :cutoff"
            ),
            {
                "now": utcnow(),
                "cutoff": utcnow() - timedelta(seconds=ENROL_TIMEOUT + 600),
                "message": "参保进程中断，未写入任何数据，请重新参保 (worker stopped; nothing written; enrol again)",
            },
        )
        ids = [i for (i,) in connection.execute(text("SELECT id FROM enrolment WHERE status = 'queued'"))]
    queue = get_queue(redis_from_url(settings.redis_url), settings.queue_name)
    for enrolment_id in ids:
        queue.enqueue(run_enrolment, enrolment_id, job_id=f"enrolment-{enrolment_id}", job_timeout=ENROL_TIMEOUT)
    return len(ids)
