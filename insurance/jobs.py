"""RQ jobs of the coverage domain; only the worker imports this module. Jobs take ids, never objects."""

from pathlib import Path

from sqlalchemy import text

from core import pdf, queue
from core.audit import Actor
from core.db import get_engine, local_today
from core.errors import DomainError
from core.settings import get_settings
from insurance.certificates import pipeline
from insurance.cover import enrolment as cover_enrolment
from insurance.cover.models import Enrolment
from insurance.register.models import RosterImport
from insurance.register.roster import RosterUnreadable
from insurance.register.roster_import import (
    IMPORT_JOB,
    IMPORT_TIMEOUT,
    PROGRESS_KEY,
    ImportOptions,
    import_job_id,
    run_import,
)


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
        pipeline.dispatch(engine, settings)
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
        "导入进程中断，花名册未作任何修改，请重新上传 (the worker stopped; nothing written; upload again)",
    )
    for import_id in ids:
        queue.enqueue(settings, IMPORT_JOB, import_id, job_id=import_job_id(import_id), timeout=IMPORT_TIMEOUT)
    return len(ids)


def run_enrolment(enrolment_id: int) -> dict[str, object]:
    """Enrols a county once: a second delivery finds the enrolment claimed (or done) and does nothing. Progress
    is published per batch of townships; the enrolment is one transaction, so a dead worker leaves nothing half-done.
    A refusal (the policy was cancelled meanwhile) is recorded on the enrolment and not retried: it would be refused
    again; any other failure propagates, so RQ records it."""
    settings = get_settings()
    publish = queue.progress_publisher(settings.redis_url, cover_enrolment.PROGRESS_KEY.format(enrolment_id))
    try:
        enrolment = cover_enrolment.run_enrolment(
            get_engine(settings.effective_database_url),
            enrolment_id,
            progress=lambda done, total, added: publish({"done": done, "total": total, "added": added}),
        )
    except DomainError as exc:
        return {"enrolment_id": enrolment_id, "failed": exc.message}
    if enrolment is None:
        return {"enrolment_id": enrolment_id, "skipped": True}
    # certificates of members added to a policy in force: sent now; the sweeper is the safety net
    pipeline.dispatch(get_engine(settings.effective_database_url), settings, policy_id=enrolment.policy_id)
    return {"enrolment_id": enrolment_id, "added": enrolment.added}


def enqueue_queued_enrolments() -> int:
    """The sweeper's part for enrolments: queued ones that never reached Redis are sent again; one whose worker
    died (running past the timeout) is marked failed: its transaction never committed."""
    settings = get_settings()
    ids = queue.sweep(
        get_engine(settings.effective_database_url),
        Enrolment.__table__,
        cover_enrolment.ENROL_TIMEOUT,
        "参保进程中断，未写入任何数据，请重新参保 (worker stopped; nothing written; enrol again)",
    )
    for enrolment_id in ids:
        queue.enqueue(
            settings,
            cover_enrolment.ENROL_JOB,
            enrolment_id,
            job_id=cover_enrolment.enrolment_job_id(enrolment_id),
            timeout=cover_enrolment.ENROL_TIMEOUT,
        )
    return len(ids)


def render_document(request_id: int) -> dict[str, object]:
    """Renders one requested document (a certificate, a village booklet or a notice) and stores it; see
    pipeline.produce for why a second delivery or a killed worker still gives one document."""
    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    return pipeline.produce(engine, settings, request_id, pdf.render_pdf_pages, queue.worker_name())
