"""The document pipeline every domain shares: the outbox row written in the change's transaction, the enqueue after
the commit, the sweeper, back-off and retries, the render in the worker, and the store.

Why a registry: certificates, booklets and notices (insurance) and settlement notices (claims) differ only in what
they print and what they record once printed. Each domain registers its kinds (`register_kind`) with a `prepare`
(what to print: HTML and the store key, worked out in one read) and a `finish` (what to record in the outcome's
transaction); this module never imports a domain, so a new kind needs no change here. A request names what it is
about by the kind's own address columns: the coverage kinds use household, policy and village; any other kind
uses `subject_id` (a claim's id, say), which has no foreign key.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Index, event
from sqlmodel import Field, Session, SQLModel

from core import labels, queue, signing
from core.db import SETTINGS_KEY, enum_type, for_writing, get_engine, local_today, session_scope, utcnow
from core.errors import NotFound
from core.settings import Settings
from core.storage import get_store

log = logging.getLogger(__name__)

DOCUMENT_JOB = "core.jobs.render_document"  # the one job of every kind
STALE_GRACE = timedelta(minutes=2)
BATCH = 500  # ids per UPDATE when rows are marked queued


class DocumentStatus(StrEnum):
    pending = "pending"
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


DOCUMENT_STATUS_LABELS = {
    DocumentStatus.pending: "待处理",
    DocumentStatus.queued: "排队中",
    DocumentStatus.running: "生成中",
    DocumentStatus.done: "已完成",
    DocumentStatus.failed: "失败",
}
labels.register(labels.DOCUMENT_STATUS, DOCUMENT_STATUS_LABELS)


class DocumentRequest(SQLModel, table=True):
    """Outbox: a document that must be (re)produced, written in the transaction of the change that calls for it.
    The row is the job's record: the worker claims it, and stores where the finished PDF lies; RQ only carries
    its id. A request printed inside another (a household's certificate in its village's booklet) points to it by
    parent_id and is not sent on its own."""

    __tablename__ = "document_request"
    __table_args__ = (
        Index("ix_document_request_pending", "status", "kind", "household_id"),
        Index("ix_document_request_village", "policy_id", "village_code"),
        Index("ix_document_request_subject", "kind", "subject_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, description="a registered kind (register_kind)")
    household_id: int | None = Field(default=None, foreign_key="household.id")
    policy_id: int | None = Field(default=None, foreign_key="policy.id")
    village_code: str | None = Field(default=None, max_length=12)
    subject_id: int | None = Field(default=None, description="what a kind without household or policy is about")
    parent_id: int | None = Field(default=None, foreign_key="document_request.id", index=True)
    reason: str = Field(max_length=64)
    status: DocumentStatus = Field(sa_type=enum_type(DocumentStatus), default=DocumentStatus.pending)
    attempts: int = 0
    worker: str | None = Field(default=None, max_length=120, description="the worker running it, for the sweeper")
    error: str | None = Field(default=None, max_length=1000)
    next_attempt_at: datetime | None = Field(default=None, description="a failed one is retried from then")
    document_key: str | None = Field(default=None, max_length=300, description="where the PDF lies in the store")
    pages: int | None = None
    size_bytes: int | None = None
    certificate_id: int | None = Field(default=None, description="certificate.id of the version it produced")
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    processed_at: datetime | None = None


# --- the registry of kinds ------------------------------------------------------------------------------------------


@dataclass
class Printable:
    """What a job prints for one request, worked out before the PDF is rendered (a read-only transaction)."""

    request: DocumentRequest
    html: str | None = None  # None: nothing to print (revoked, or nothing changed)
    key: str | None = None  # where the PDF goes in the store
    note: str = ""  # why nothing was printed, kept as the request's error text
    outcome: Any = None  # what the kind's finish records (certificate versions, say)


Prepare = Callable[[Session, Settings, Ed25519PrivateKey, DocumentRequest, date], Printable]
Finish = Callable[[Session, Printable], None]


@dataclass(frozen=True)
class DocumentKindSpec:
    kind: str
    label: str  # the Chinese name users see
    prepare: Prepare
    finish: Finish | None = None  # runs in the outcome's transaction, after the request is marked done


_KINDS: dict[str, DocumentKindSpec] = {}


def register_kind(spec: DocumentKindSpec) -> None:
    """Called once per kind when its domain module is imported; registering the same kind twice is a bug."""
    known = _KINDS.get(spec.kind)
    if known is not None and known != spec:
        raise ValueError(f"document kind {spec.kind!r} is already registered")
    _KINDS[spec.kind] = spec


def unregister_kind(kind: str) -> None:
    """For tests that register kinds of their own."""
    _KINDS.pop(kind, None)


def kind_spec(kind: str) -> DocumentKindSpec:
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown document kind {kind!r} (no domain registered it)") from None


def kind_label(kind: str) -> str:
    spec = _KINDS.get(kind)
    return spec.label if spec else kind


def request(connection: sa.Connection, kind: str, reason: str, **address: Any) -> int:
    """One outbox row in the caller's transaction; `address` is the kind's own columns (subject_id, or household_id,
    policy_id, village_code, parent_id). The kind is checked when the worker produces it: the domain that asks
    for a document need not import the one that prints it."""
    requests = DocumentRequest.__table__
    return connection.execute(
        requests.insert()
        .values(
            kind=kind, reason=reason, status=DocumentStatus.pending.value, attempts=0, created_at=utcnow(), **address
        )
        .returning(requests.c.id)
    ).scalar_one()


# --- dispatch and the sweeper ---------------------------------------------------------------------------------------


def _due(settings: Settings) -> sa.ColumnElement[bool]:
    """Rows a sweep sends to the queue: pending ones, and failed ones whose back-off has passed (up to the limit of
    attempts). A request printed inside its parent is the parent's business."""
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


def document_job_id(request_id: int) -> str:
    return f"document-{request_id}"


def dispatch(engine: sa.Engine, settings: Settings, *, redis: Any = None, **match: Any) -> int:
    """Enqueues the documents that are due, optionally only those whose columns equal `match` (policy_id=...);
    a row is marked queued only once Redis took its job, so with Redis away it stays pending and nothing is lost."""
    requests = DocumentRequest.__table__
    query = sa.select(requests.c.id).where(_due(settings)).order_by(requests.c.id)
    for column, value in match.items():
        if value is not None:
            query = query.where(requests.c[column] == value)
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
        for start in range(0, sent, BATCH):
            connection.execute(
                requests.update()
                .where(
                    requests.c.id.in_(ids[start : min(start + BATCH, sent)]),
                    requests.c.status.in_([DocumentStatus.pending.value, DocumentStatus.failed.value]),
                )
                .values(status=DocumentStatus.queued.value)
            )
    return sent


def send_after_commit(session: Session, **match: Any) -> None:
    """For a use case that wrote outbox rows: once its commit succeeds, the due rows matching `match` are sent to the
    queue. The session must carry the Settings (the web's sessions do: core.auth.get_session); without them, or if
    sending fails, the rows stay pending and the sweeper sends them. Dispatch runs right at the commit, on its own
    connections, before anything else can begin a transaction on this session (on SQLite a later IMMEDIATE read
    would hold the write lock dispatch needs)."""
    settings = session.info.get(SETTINGS_KEY)
    if settings is None:
        return
    engine = session.get_bind()

    def _send(_session: Session) -> None:
        try:
            dispatch(engine, settings, **match)  # type: ignore[arg-type]
        except Exception:  # the database rows are the record; the sweeper sends them later
            log.exception("documents: dispatch failed; the sweeper will send them")

    event.listen(session, "after_commit", _send, once=True)


def recover(
    engine: sa.Engine, settings: Settings, live_workers: set[str], jobs_exist: Callable[[list[str]], list[bool]]
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


def claim(engine: sa.Engine, request_id: int, worker: str) -> bool:
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


def mark_failed(engine: sa.Engine, request_id: int, error: str) -> None:
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


def prepare(session: Session, settings: Settings, key: Ed25519PrivateKey, request_id: int, today: date) -> Printable:
    """What the request's kind prints, worked out in one read."""
    request = session.get(DocumentRequest, request_id)
    if request is None:
        raise NotFound(f"没有文档请求 {request_id}", code="document_not_found")
    return kind_spec(request.kind).prepare(session, settings, key, request, today)


RenderFn = Callable[[str], tuple[bytes, int]]


def produce(engine: sa.Engine, settings: Settings, request_id: int, render: RenderFn, worker: str) -> dict[str, Any]:
    """One document job. The row decides, not RQ: a second delivery finds it done or running and does nothing; a
    worker killed midway leaves it running, and the sweeper puts it back to pending once that worker's heartbeat is
    gone. What to print is worked out in one read, the PDF rendered and stored (an atomic write under a key fixed by
    the content), then the outcome committed in one short transaction; so a re-run writes the same file and records
    the same outcome. A failure is recorded for the retry with back-off, and propagates so RQ records it."""
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
    """Records the outcome in one transaction: the request done, then what its kind keeps of it."""
    request = printable.request
    request.status = DocumentStatus.done
    request.processed_at = utcnow()
    request.document_key = printable.key if printable.html is not None else None
    request.pages, request.size_bytes = pages, size
    request.error = printable.note or None
    request.worker = None
    session.add(request)
    spec = kind_spec(request.kind)
    if spec.finish is not None:
        spec.finish(session, printable)
    session.commit()
