"""The documents' pipeline: outbox rows dispatched after commit, swept when Redis was away, claimed, produced
by the worker with back-off and retries, and stored.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core import queue, signing
from core.db import for_writing, get_engine, local_today, session_scope, utcnow
from core.errors import NotFound
from core.settings import Settings
from core.storage import get_store
from insurance.certificates.models import DocumentKind, DocumentRequest, DocumentStatus
from insurance.certificates.printing import booklet_html, certificate_html, notice_html, notice_statement, sign_notice
from insurance.certificates.statements import statements
from insurance.certificates.versions import CertificatePlan, plan_versions, save_plans
from insurance.cover import notices
from insurance.cover.models import (
    EnrolmentNotice,
    Policy,
    PolicyStatus,
)

log = logging.getLogger(__name__)

DOCUMENT_JOB = "insurance.certificates.jobs.render_document"
STALE_GRACE = timedelta(minutes=2)


def document_job_id(request_id: int) -> str:
    return f"document-{request_id}"


# --- the outbox -----------------------------------------------------------------------------------------------------


def _due(settings: Settings) -> sa.ColumnElement[bool]:
    """Rows a sweep sends to the queue: pending ones, and failed ones whose back-off has passed (up to the limit of
    attempts). A household's request printed in a booklet is its booklet's business."""
    requests = DocumentRequest.__table__
    return sa.and_(
        requests.c.parent_id.is_(None),
        sa.or_(
            requests.c.status == DocumentStatus.pending.value,
            sa.and_(
                requests.c.status == DocumentStatus.failed.value,
                requests.c.attempts < settings.document_max_attempts,
                requests.c.next_attempt_at <= utcnow(),
            ),
        ),
    )


def job_timeout(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.document_job_minutes)


def dispatch(engine: Engine, settings: Settings, *, policy_id: int | None = None, redis: Any = None) -> int:
    """Enqueues the documents that are due (after the commit that asked for them, and from the sweeper); a row is
    marked queued only once Redis took its job, so with Redis away it stays pending and nothing is lost."""
    requests = DocumentRequest.__table__
    query = sa.select(requests.c.id).where(_due(settings)).order_by(requests.c.id)
    if policy_id is not None:
        query = query.where(requests.c.policy_id == policy_id)
    with engine.connect() as connection:
        ids = list(connection.execute(query).scalars())
    if not ids:
        return 0
    sent = queue.enqueue_each(  # with Redis away, what was not sent stays pending for the sweeper
        redis or queue.redis_from_url(settings.redis_url),
        settings.queue_name,
        DOCUMENT_JOB,
        ids,
        job_id=document_job_id,
        timeout=job_timeout(settings),
    )
    with engine.begin() as connection:
        for start in range(0, sent, 500):
            connection.execute(
                requests.update()
                .where(
                    requests.c.id.in_(ids[start : min(start + 500, sent)]),
                    requests.c.status.in_([DocumentStatus.pending.value, DocumentStatus.failed.value]),
                )
                .values(status=DocumentStatus.queued.value)
            )
    return sent


def dispatch_after_commit(session: Session, settings: Settings, policy_id: int | None = None) -> int:
    """For routes and jobs, after their commit: never fails the request (the sweeper is the safety net). A read since
    that commit may have begun another transaction, IMMEDIATE on SQLite for a web POST (its session is for_writing,
    and dispatch inherits that through get_bind()): it is ended first, or its write lock keeps dispatch's own
    connections waiting out the busy timeout."""
    if session.in_transaction():
        session.commit()  # nothing is pending after the use case's commit, and expire_on_commit is off
    try:
        return dispatch(session.get_bind(), settings, policy_id=policy_id)  # type: ignore[arg-type]
    except Exception:  # the database rows are the record; the sweeper sends them later
        log.exception("documents: dispatch failed; the sweeper will send them")
        return 0


def recover(
    engine: Engine, settings: Settings, live_workers: set[str], jobs_exist: Callable[[list[str]], list[bool]]
) -> int:
    """The sweeper's repair of rows whose job is lost: running on a worker that is gone (killed, or its machine
    down) or past the job timeout; queued but no longer in Redis (Redis restarted without its data). They go back
    to pending; rendering is idempotent, so a document is still produced once."""
    requests = DocumentRequest.__table__
    overdue = requests.c.started_at < utcnow() - job_timeout(settings) - STALE_GRACE
    with engine.begin() as connection:
        rows = connection.execute(
            sa.select(requests.c.id, requests.c.status, requests.c.worker, overdue.label("overdue")).where(
                requests.c.parent_id.is_(None),
                requests.c.status.in_([DocumentStatus.running.value, DocumentStatus.queued.value]),
            )
        ).all()
        running = [r for r in rows if r.status == DocumentStatus.running.value]
        queued = [r.id for r in rows if r.status == DocumentStatus.queued.value]
        lost = [r.id for r in running if r.worker not in live_workers or r.overdue]
        lost += [
            i for i, found in zip(queued, jobs_exist([document_job_id(i) for i in queued]), strict=True) if not found
        ]
        if lost:
            connection.execute(
                requests.update()
                .where(
                    requests.c.id.in_(lost),
                    requests.c.status.in_([DocumentStatus.running.value, DocumentStatus.queued.value]),
                )
                .values(status=DocumentStatus.pending.value, worker=None)
            )
    return len(lost)


def sweep(settings: Settings) -> dict[str, int]:
    """The sweeper's part for documents (the worker runs it every minute; `tehuibao sweep` once): rows whose job was
    lost go back to pending, then everything due is enqueued: pending rows (Redis was down when they were asked
    for) and failed ones whose back-off has passed."""
    engine = get_engine(settings.effective_database_url)
    redis = queue.redis_from_url(settings.redis_url)
    live = {beat["name"] for beat in queue.read_heartbeats(redis)}
    recovered = recover(engine, settings, live, lambda job_ids: queue.jobs_exist(redis, job_ids))
    return {"recovered": recovered, "enqueued": dispatch(engine, settings, redis=redis)}


def claim(engine: Engine, request_id: int, worker: str) -> bool:
    """Pending, queued or failed → running on this worker; a failed one is claimed again by its retry."""
    requests = DocumentRequest.__table__
    return queue.claim(
        engine,
        requests,
        request_id,
        ready=(DocumentStatus.pending.value, DocumentStatus.queued.value, DocumentStatus.failed.value),
        worker=worker,
        attempts=requests.c.attempts + 1,
        error=None,
    )


def backoff(attempts: int) -> timedelta:
    """30 s, 2 min, 8 min, 32 min, then hourly."""
    return timedelta(seconds=min(30 * 4 ** max(attempts - 1, 0), 3600))


def mark_failed(engine: Engine, request_id: int, error: str) -> None:
    requests = DocumentRequest.__table__
    with engine.begin() as connection:
        attempts = connection.execute(sa.select(requests.c.attempts).where(requests.c.id == request_id)).scalar_one()
        connection.execute(
            requests.update()
            .where(requests.c.id == request_id, requests.c.status == DocumentStatus.running.value)
            .values(
                status=DocumentStatus.failed.value,
                error=error[:1000],
                next_attempt_at=utcnow() + backoff(attempts),
                worker=None,
            )
        )


# --- one job's work -------------------------------------------------------------------------------------------------


@dataclass
class Printable:
    """What a job prints for one request, worked out before the PDF is rendered (a read-only transaction)."""

    request: DocumentRequest
    html: str | None = None  # None: nothing to print (revoked, or the statement did not change)
    key: str | None = None
    plans: list[CertificatePlan] = field(default_factory=list)
    note: str = ""


def prepare(session: Session, settings: Settings, key: Ed25519PrivateKey, request_id: int, today: date) -> Printable:
    request = session.get(DocumentRequest, request_id)
    if request is None:
        raise NotFound(f"没有文档请求 {request_id}", code="document_not_found")
    policy = session.get(Policy, request.policy_id) if request.policy_id else None
    if policy is None:
        raise NotFound(f"文档请求 {request_id} 没有保单", code="policy_not_found")
    if request.kind == DocumentKind.household_certificate:
        return _prepare_certificate(session, settings, key, request, policy, today)
    if request.kind == DocumentKind.village_booklet:
        return _prepare_booklet(session, settings, key, request, policy, today)
    if request.kind == DocumentKind.enrolment_notice:
        return _prepare_notice(session, settings, key, request, policy)
    raise ValueError(f"unknown document kind {request.kind!r}")


def _in_force(policy: Policy) -> bool:
    return policy.status in (PolicyStatus.issued, PolicyStatus.cancelled) and policy.issued_at is not None


def _prepare_certificate(
    session: Session, settings: Settings, key: Ed25519PrivateKey, request: DocumentRequest, policy: Policy, today: date
) -> Printable:
    household_id = request.household_id or 0
    found = statements(session, policy, household_ids=[household_id]) if _in_force(policy) else {}
    plans = plan_versions(session, policy, found, [household_id], key=key, today=today)
    plan = plans[0]
    printable = Printable(request=request, plans=plans)
    if plan.certificate is None:
        printable.note = "revoked" if plan.superseded else "no cover"
        return printable
    certificate = plan.certificate
    folder = f"certificates/{policy.policy_no}/{certificate.village_code}"
    printable.key = f"{folder}/{certificate.certificate_no}-v{certificate.version}.pdf"
    if plan.new or certificate.document_key is None:
        printable.html = certificate_html(settings, certificate)
    else:
        printable.note = "unchanged"
    return printable


def _prepare_booklet(
    session: Session, settings: Settings, key: Ed25519PrivateKey, request: DocumentRequest, policy: Policy, today: date
) -> Printable:
    village_code = request.village_code or ""
    found = statements(session, policy, village_code=village_code) if _in_force(policy) else {}
    household_ids = sorted(found, key=lambda h: found[h]["household_no"])
    plans = plan_versions(session, policy, found, household_ids, key=key, today=today)
    printable = Printable(request=request, plans=plans)
    certificates = [p.certificate for p in plans if p.certificate is not None]
    if not certificates:
        printable.note = "no cover"
        return printable
    village = {
        "code": village_code,
        "address": next(iter(found.values()))["address"],
        "households": len(certificates),
        "members": sum(len(c.statement.get("members", [])) for c in certificates),
        "printed_on": today.isoformat(),
        "request_id": request.id,
    }
    printable.key = f"booklets/{policy.policy_no}/{village_code}-{request.id}.pdf"
    printable.html = booklet_html(settings, village, certificates)
    return printable


def _prepare_notice(
    session: Session, settings: Settings, key: Ed25519PrivateKey, request: DocumentRequest, policy: Policy
) -> Printable:
    notice = session.exec(
        select(EnrolmentNotice).where(
            EnrolmentNotice.policy_id == policy.id, EnrolmentNotice.village_code == request.village_code
        )
    ).first()
    if notice is None:
        raise NotFound("公示不存在 (no such notice)", code="notice_not_found")
    statement = notice_statement(session, policy, notice, notices.notice_lines(session, policy, notice.village_code))
    code = sign_notice(key, statement)
    printable = Printable(request=request)
    printable.key = f"notices/{policy.policy_no}/{notice.village_code}-{notice.posted_on.isoformat()}.pdf"
    printable.html = notice_html(settings, statement, code)
    return printable


RenderFn = Callable[[str], tuple[bytes, int]]


def produce(engine: Engine, settings: Settings, request_id: int, render: RenderFn, worker: str) -> dict[str, Any]:
    """One document job. The row decides, not RQ: a second delivery finds it done or running and does nothing; a
    worker killed midway leaves it running, and the sweeper puts it back to pending once that worker's heartbeat is
    gone. What to print is worked out in one read, the PDF rendered and stored (an atomic write under a key fixed by
    the content), then the outcome committed in one short transaction; so a re-run writes the same file and one set
    of certificate versions. A failure is recorded for the retry with back-off, and propagates so RQ records it."""
    if not claim(engine, request_id, worker):
        return {"request_id": request_id, "skipped": True}
    key = signing.key_at(settings.effective_signing_key_file)
    try:
        with session_scope(for_writing(engine)) as session:
            printable = prepare(session, settings, key, request_id, local_today())
            # End the read before rendering: no transaction stays open for the seconds a booklet takes, and the
            # outcome is written in a fresh one (SQLite cannot turn an old read snapshot into a write).
            session.commit()
            pages = size = None
            if printable.html is not None and printable.key is not None:
                document, pages = render(printable.html)
                size = len(document)
                get_store(settings).put(printable.key, document)
            finish(session, printable, pages=pages, size=size)
    except Exception as exc:
        mark_failed(engine, request_id, f"{type(exc).__name__}: {exc}")
        raise
    return {"request_id": request_id, "key": printable.key, "pages": pages, "note": printable.note}


def finish(session: Session, printable: Printable, *, pages: int | None, size: int | None) -> None:
    """Records the outcome in one transaction: new certificate versions, what they replace, and the request (with
    the booklet's households) done."""
    save_plans(session, printable.plans)
    request = printable.request
    now = utcnow()
    single = request.kind == DocumentKind.household_certificate
    for plan in printable.plans:
        if single and plan.certificate is not None and printable.html is not None:
            plan.certificate.document_key = printable.key
            session.add(plan.certificate)
    request.status = DocumentStatus.done
    request.processed_at = now
    request.document_key = printable.key if printable.html is not None else None
    request.pages, request.size_bytes = pages, size
    request.error = printable.note or None
    request.worker = None
    if single and printable.plans and printable.plans[0].certificate is not None:
        request.certificate_id = printable.plans[0].certificate.id
    session.add(request)
    if request.kind == DocumentKind.village_booklet:
        by_household = {p.household_id: p.certificate for p in printable.plans if p.certificate is not None}
        children = session.exec(select(DocumentRequest).where(DocumentRequest.parent_id == request.id)).all()
        for child in children:
            certificate = by_household.get(child.household_id or 0)
            child.status = DocumentStatus.done
            child.processed_at = now
            child.document_key = request.document_key
            child.certificate_id = certificate.id if certificate else None
            child.error = None if certificate else "no cover"
            session.add(child)
    session.commit()
