"""RQ jobs of cover: a queued enrolment; only the worker imports this module. Jobs take ids."""

from core import documents, queue
from core.db import get_engine
from core.errors import DomainError
from core.settings import get_settings
from insurance.cover import enrolment as cover_enrolment
from insurance.cover.models import Enrolment


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
    documents.dispatch(get_engine(settings.effective_database_url), settings, policy_id=enrolment.policy_id)
    return {"enrolment_id": enrolment_id, "added": enrolment.added}


def enqueue_queued_enrolments() -> int:
    """The sweeper's part for enrolments: queued ones that never reached Redis are sent again; one whose worker
    died (running past the timeout) is marked failed: its transaction never committed."""
    settings = get_settings()
    ids = queue.sweep(
        get_engine(settings.effective_database_url),
        Enrolment.__table__,
        cover_enrolment.ENROL_TIMEOUT,
        "参保进程中断，未写入任何数据，请重新参保",
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
