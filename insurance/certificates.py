"""Certificates, village booklets and notices as documents: what each states, its versions, its signed code, the
outbox rows that ask for them and the verification anyone can do.

Rendering to PDF happens in `insurance.jobs` (the only place with WeasyPrint); everything here is database and
HTML. A certificate's content is a *statement*: a JSON object built from the register and the policy, whose SHA-256
is signed into the QR code. A new version is made only when the statement changes; the PDF is rendered from the
stored statement alone, so rendering a version twice gives the same document.
"""

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import segno
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core import queue, signing
from core.db import for_writing, get_engine, local_today, session_scope, utcnow
from core.errors import Conflict, NotFound
from core.masking import mask_id_number, mask_name
from core.models import User
from core.settings import Settings
from core.storage import get_store
from core.templating import render_print
from insurance import policies
from insurance.certificates.models import Certificate, CertificateStatus, DocumentKind, DocumentRequest, DocumentStatus
from insurance.cover.models import (
    UNIT_LABELS,
    Coverage,
    CoverStatus,
    EnrolmentNotice,
    InsuredObject,
    Policy,
    PolicyStatus,
    Product,
    ProductBenefit,
    ProductKind,
    ProductVersion,
)
from insurance.register.models import Division, Household, Insurer, Member
from insurance.register.roster import HEAD_RELATION

log = logging.getLogger(__name__)

DOCUMENT_JOB = "insurance.jobs.render_document"
CERTIFICATE_CODE = "C"
NOTICE_CODE = "N"
DIGEST_CHARS = 32  # 128 bits of SHA-256 in the signed code: enough against a second preimage, and a smaller QR
STALE_GRACE = timedelta(minutes=2)
PER_UNIT = {k: f"每{v}" for k, v in UNIT_LABELS.items()}  # 每人, 每户, 每头, ...


def document_job_id(request_id: int) -> str:
    return f"document-{request_id}"


def canonical(statement: dict[str, Any]) -> bytes:
    return json.dumps(statement, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def certificate_no(policy_no: str, household_no: str) -> str:
    return f"{policy_no}-{household_no}"


# --- what a certificate states ------------------------------------------------------------------------------------


def _place_names(session: Session, village_codes: Iterable[str]) -> dict[str, str]:
    """'county township village' for each village, from the division tree, in two queries."""
    codes = set(village_codes)
    if not codes:
        return {}
    villages = session.exec(select(Division).where(col(Division.code).in_(codes))).all()
    parents: set[str] = set()
    for village in villages:
        if village.parent_code:
            parents.add(village.parent_code)
            parents.add(village.code[:6] + "000000")
    names = {d.code: d.name for d in session.exec(select(Division).where(col(Division.code).in_(parents))).all()}
    return {
        v.code: " ".join(n for n in (names.get(v.code[:6] + "000000"), names.get(v.parent_code or ""), v.name) if n)
        for v in villages
    }


def _policy_header(session: Session, policy: Policy) -> dict[str, Any]:
    insurer = session.get(Insurer, policy.insurer_id)
    product = session.get(Product, policy.product_code)
    assert insurer is not None and product is not None
    return {
        "policy_no": policy.policy_no,
        "product": product.name,
        "insurer": insurer.name,
        "hotline": insurer.hotline or "",
        "period_start": policy.period_start.isoformat(),
        "period_end": policy.period_end.isoformat(),
        "policyholder": policy.policyholder,
    }


def statements(
    session: Session, policy: Policy, *, village_code: str | None = None, household_ids: Iterable[int] | None = None
) -> dict[int, dict[str, Any]]:
    """The statement of every household on the policy in one village, or of the given households (a household
    without live cover on the policy is absent: its certificate is revoked). A handful of queries for a village."""
    if (village_code is None) == (household_ids is None):
        raise ValueError("give a village or households")
    header = _policy_header(session, policy)
    households_where = (
        Household.village_code == village_code
        if village_code is not None
        else col(Household.id).in_(list(household_ids or []))
    )
    if policy.kind == ProductKind.family:
        lines = _family_lines(session, policy, households_where)
    else:
        lines = _industry_lines(session, policy, households_where)
    if not lines:
        return {}
    households = {h.id: h for h in session.exec(select(Household).where(col(Household.id).in_(list(lines)))).all()}
    heads = dict(
        session.exec(
            select(Member.household_id, Member.name).where(
                col(Member.household_id).in_(list(lines)), Member.relation == HEAD_RELATION
            )
        ).all()
    )
    places = _place_names(session, {h.village_code for h in households.values()})
    result: dict[int, dict[str, Any]] = {}
    for household_id, body in lines.items():
        household = households[household_id]
        result[household_id] = {
            **header,
            **body,
            "certificate_no": certificate_no(policy.policy_no, household.household_no),
            "household_no": household.household_no,
            "village_code": household.village_code,
            "address": places.get(household.village_code, household.village_code),
            "head": heads.get(household_id, ""),
        }
    return result


def _family_lines(session: Session, policy: Policy, households_where: Any) -> dict[int, dict[str, Any]]:
    version = session.get(ProductVersion, policy.product_version_id)
    assert version is not None
    benefits = session.exec(
        select(ProductBenefit).where(ProductBenefit.version_id == version.id).order_by(col(ProductBenefit.id))
    ).all()
    covers = [
        {
            "benefit": b.name,
            "unit": PER_UNIT.get(b.unit, b.unit),
            "sum_insured_fen": b.sum_insured_fen,
            "note": _benefit_note(b),
        }
        for b in benefits
    ]
    shares = policies.subsidy_shares(version)
    rows = session.exec(
        select(Member, Coverage)
        .join(Coverage, col(Coverage.member_id) == Member.id)
        .join(Household, col(Household.id) == Member.household_id)
        .where(Coverage.policy_id == policy.id, Coverage.status != CoverStatus.cancelled, households_where)
        .order_by(col(Member.household_id), col(Member.relation) != HEAD_RELATION, col(Member.id))
    ).all()
    members: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for member, cover in rows:
        members[member.household_id].append(
            {
                "name": member.name,
                "id_masked": mask_id_number(member.id_number),
                "relation": member.relation,
                "cover_start": cover.cover_start.isoformat(),
                "cover_end": cover.cover_end.isoformat(),
                "ended": cover.status == CoverStatus.ended,
                "end_reason": cover.end_reason or "",
            }
        )
    lines = {}
    for household_id, people in members.items():
        premium, share = policies.household_premium(policy, shares, len(people))
        lines[household_id] = {
            "kind": "family",
            "members": people,
            "covers": covers,
            "premium_fen": premium,
            "household_share_fen": share,
        }
    return lines


def _benefit_note(benefit: ProductBenefit) -> str:
    parts = []
    if benefit.deductible_fen:
        parts.append(f"免赔 {benefit.deductible_fen // 100} 元")
    if benefit.reimbursement_bp != 10_000:
        parts.append(f"赔付 {benefit.reimbursement_bp / 100:g}%")
    per_room = benefit.extra.get("per_room_fen") if isinstance(benefit.extra, dict) else None
    if per_room:
        parts.append(f"每间 {int(per_room) // 100} 元")
    if benefit.waiting_days:
        parts.append(f"等待期 {benefit.waiting_days} 天")
    return "，".join(parts)


def _industry_lines(session: Session, policy: Policy, households_where: Any) -> dict[int, dict[str, Any]]:
    product = session.get(Product, policy.product_code)
    assert product is not None
    rows = session.exec(
        select(InsuredObject)
        .join(Household, col(Household.id) == InsuredObject.household_id)
        .where(InsuredObject.policy_id == policy.id, InsuredObject.status != CoverStatus.cancelled, households_where)
        .order_by(col(InsuredObject.household_id), col(InsuredObject.id))
    ).all()
    objects: dict[int, list[InsuredObject]] = defaultdict(list)
    for row in rows:
        objects[row.household_id].append(row)
    return {
        household_id: {
            "kind": "industry",
            "objects": [
                {
                    "subject": product.name,
                    "quantity": f"{line.quantity.normalize():f}",
                    "unit": UNIT_LABELS.get(line.unit, line.unit),
                    "season": line.season,
                    "sum_insured_fen": line.sum_insured_fen,
                    "cover_start": line.cover_start.isoformat(),
                    "cover_end": line.cover_end.isoformat(),
                    "ended": line.status == CoverStatus.ended,
                    "ear_tags": list(line.ear_tags or []),
                }
                for line in lines
            ],
            "premium_fen": sum(line.premium_fen for line in lines),
            "household_share_fen": sum(line.farmer_share_fen for line in lines),
        }
        for household_id, lines in objects.items()
    }


# --- versions -------------------------------------------------------------------------------------------------------


@dataclass
class CertificatePlan:
    """What a job will write for one household: the version to print (new or unchanged) or a revocation."""

    household_id: int
    certificate: Certificate | None  # the version the document shows; None when revoked
    new: bool
    superseded: Certificate | None = None


def _current_versions(session: Session, policy: Policy, household_ids: list[int]) -> dict[int, Certificate]:
    if not household_ids:
        return {}
    return {
        c.household_id: c
        for c in session.exec(
            select(Certificate).where(
                Certificate.policy_id == policy.id,
                col(Certificate.household_id).in_(household_ids),
                Certificate.status == CertificateStatus.current,
            )
        ).all()
    }


def sign_certificate(key: Ed25519PrivateKey, statement: dict[str, Any], version: int, digest: str) -> str:
    return signing.sign(
        key,
        CERTIFICATE_CODE,
        statement["certificate_no"],
        str(version),
        statement["period_start"],
        statement["period_end"],
        digest[:DIGEST_CHARS],
    )


def plan_versions(
    session: Session,
    policy: Policy,
    found: dict[int, dict[str, Any]],
    household_ids: list[int],
    *,
    key: Ed25519PrivateKey,
    today: date,
) -> list[CertificatePlan]:
    """Compares each household's statement with its current certificate: the same statement keeps its version, a
    different one makes the next version (not yet added to the session), none revokes the current one."""
    current = _current_versions(session, policy, household_ids)
    plans = []
    for household_id in household_ids:
        statement = found.get(household_id)
        existing = current.get(household_id)
        if statement is None:
            plans.append(CertificatePlan(household_id, None, new=False, superseded=existing))
            continue
        digest = signing.digest(canonical(statement))
        if existing is not None and existing.digest == digest:
            plans.append(CertificatePlan(household_id, existing, new=False))
            continue
        version = _last_version(session, statement["certificate_no"]) + 1
        code = sign_certificate(key, statement, version, digest)
        certificate = Certificate(
            certificate_no=statement["certificate_no"],
            version=version,
            policy_id=policy.id or 0,
            household_id=household_id,
            village_code=statement["village_code"],
            statement=statement,
            digest=digest,
            code=code,
            short_code=signing.short_code(code),
            issued_on=today,
        )
        plans.append(CertificatePlan(household_id, certificate, new=True, superseded=existing))
    return plans


def _last_version(session: Session, number: str) -> int:
    return session.exec(
        select(sa.func.coalesce(sa.func.max(Certificate.version), 0)).where(Certificate.certificate_no == number)
    ).one()


def save_plans(session: Session, plans: list[CertificatePlan]) -> None:
    """Writes the new versions and marks what they replace; a concurrent job that made the same version first
    makes this flush fail on the unique (number, version), and the job is retried."""
    now = utcnow()
    for plan in plans:
        if plan.superseded is not None and (plan.new or plan.certificate is None):
            plan.superseded.status = (
                CertificateStatus.revoked if plan.certificate is None else CertificateStatus.superseded
            )
            plan.superseded.superseded_at = now
            session.add(plan.superseded)
        if plan.new and plan.certificate is not None:
            session.add(plan.certificate)
    session.flush()


# --- HTML for print ------------------------------------------------------------------------------------------------


def verification_url(settings: Settings, code: str) -> str:
    return f"{settings.effective_public_base_url}/v/{code}"


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data URI (error correction M: survives a crease or a stain on a village notice board)."""
    return segno.make(text, error="m", micro=False).svg_data_uri(scale=4, border=2)


def certificate_view(settings: Settings, certificate: Certificate) -> dict[str, Any]:
    """Everything the print template shows for one version, from its stored statement and code only."""
    return {
        **certificate.statement,
        "version": certificate.version,
        "issued_on": certificate.issued_on.isoformat(),
        "short_code": signing.format_short_code(certificate.short_code),
        "qr": qr_data_uri(verification_url(settings, certificate.code)),
        "verify_base": f"{settings.effective_public_base_url}/verify",
    }


def certificate_html(settings: Settings, certificate: Certificate) -> str:
    return render_print("print/certificate.html", certificates=[certificate_view(settings, certificate)])


def booklet_html(settings: Settings, village: dict[str, Any], certificates: list[Certificate]) -> str:
    """The booklet's cover shows the policy as its certificates state it (every one states the same policy)."""
    views = [certificate_view(settings, c) for c in certificates]
    return render_print("print/booklet.html", policy=views[0], village=village, certificates=views)


# --- notices --------------------------------------------------------------------------------------------------------


def notice_statement(session: Session, policy: Policy, notice: EnrolmentNotice, lines: list[Any]) -> dict[str, Any]:
    header = _policy_header(session, policy)
    return {
        **header,
        "village_code": notice.village_code,
        "address": _place_names(session, [notice.village_code]).get(notice.village_code, notice.village_code),
        "posted_on": notice.posted_on.isoformat(),
        "objection_until": notice.objection_until.isoformat(),
        "lines": [
            {
                "household_no": line.household_no,
                "head": line.head_name or "",
                "head_id_masked": line.head_id_masked or "",
                "insured": line.insured,
                "premium_fen": line.premium_fen,
                "household_share_fen": line.household_share_fen,
            }
            for line in lines
        ],
    }


def sign_notice(key: Ed25519PrivateKey, statement: dict[str, Any]) -> str:
    return signing.sign(
        key,
        NOTICE_CODE,
        statement["policy_no"],
        statement["village_code"],
        statement["posted_on"],
        statement["objection_until"],
        signing.digest(canonical(statement))[:DIGEST_CHARS],
    )


def notice_html(settings: Settings, statement: dict[str, Any], code: str) -> str:
    return render_print(
        "print/notice.html",
        notice=statement,
        qr=qr_data_uri(verification_url(settings, code)),
        verify_base=f"{settings.effective_public_base_url}/verify",
    )


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
    statement = notice_statement(session, policy, notice, policies.notice_lines(session, policy, notice.village_code))
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


# --- verification ---------------------------------------------------------------------------------------------------


@dataclass
class Verification:
    """What the public page says about a code: genuine, superseded, revoked, forged or not found."""

    state: str  # genuine | superseded | revoked | forged | not_found
    kind: str = ""  # certificate | notice
    certificate_no: str = ""
    version: int | None = None
    latest_version: int | None = None
    issued_on: str = ""
    holder: str = ""
    household_no: str = ""
    address: str = ""
    insurer: str = ""
    hotline: str = ""
    product: str = ""
    period: str = ""
    members: list[dict[str, str]] = field(default_factory=list)
    covers: list[dict[str, Any]] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)
    posted_on: str = ""
    objection_until: str = ""
    households: int | None = None


STATE_LABELS = {
    "genuine": "真实有效",
    "superseded": "已被新版本取代",
    "revoked": "已作废",
    "forged": "验证失败：伪造或被篡改",
    "not_found": "查无此凭证",
}


def public_key_pem(settings: Settings) -> str:
    return signing.public_key_pem(signing.key_at(settings.effective_signing_key_file))


def verify(session: Session, settings: Settings, text: str) -> Verification:
    """A QR code (its URL or the code itself) or a typed short code, checked against the signature and the record."""
    text = text.strip()
    if "/v/" in text:
        text = text.rsplit("/v/", 1)[1]
    if text.startswith(signing.PREFIX + "."):
        key = signing.key_at(settings.effective_signing_key_file)
        try:
            signed = signing.verify(key.public_key(), text)
        except signing.BadCode:
            return Verification(state="forged")
        if signed is None:
            return Verification(state="forged")
        if signed.kind == NOTICE_CODE and len(signed.fields) == 5:
            return _verify_notice(session, signed.fields)
        if signed.kind != CERTIFICATE_CODE or len(signed.fields) != 5:
            return Verification(state="not_found")
        number, version = signed.fields[0], signed.fields[1]
        certificate = session.exec(
            select(Certificate).where(Certificate.certificate_no == number, Certificate.version == int(version))
        ).first()
        if certificate is None or certificate.digest[:DIGEST_CHARS] != signed.fields[4]:
            return Verification(state="not_found", kind="certificate", certificate_no=number)
        return _describe(session, certificate)
    short = signing.normalise_short_code(text)
    if short is None:
        return Verification(state="not_found")
    certificate = session.exec(select(Certificate).where(Certificate.short_code == short)).first()
    if certificate is None:
        return Verification(state="not_found")
    return _describe(session, certificate)


def _describe(session: Session, certificate: Certificate) -> Verification:
    statement = certificate.statement
    latest = _last_version(session, certificate.certificate_no)
    state = {
        CertificateStatus.current: "genuine",
        CertificateStatus.superseded: "superseded",
        CertificateStatus.revoked: "revoked",
    }[certificate.status]
    return Verification(
        state=state,
        kind="certificate",
        certificate_no=certificate.certificate_no,
        version=certificate.version,
        latest_version=latest,
        issued_on=certificate.issued_on.isoformat(),
        holder=mask_name(statement.get("head", "")),
        household_no=statement.get("household_no", "")[:6] + "…",
        address=statement.get("address", ""),
        insurer=statement.get("insurer", ""),
        hotline=statement.get("hotline", ""),
        product=statement.get("product", ""),
        period=f"{statement.get('period_start', '')} 至 {statement.get('period_end', '')}",
        members=[
            {
                "name": mask_name(m["name"]),
                "id_masked": m["id_masked"],
                "cover": f"{m['cover_start']} 至 {m['cover_end']}",
            }
            for m in statement.get("members", [])
        ],
        covers=list(statement.get("covers", [])),
        objects=list(statement.get("objects", [])),
    )


def _verify_notice(session: Session, fields: tuple[str, ...]) -> Verification:
    policy_no, village_code, posted_on, objection_until, _ = fields
    row = session.exec(
        select(EnrolmentNotice, Policy)
        .join(Policy, col(Policy.id) == EnrolmentNotice.policy_id)
        .where(Policy.policy_no == policy_no, EnrolmentNotice.village_code == village_code)
    ).first()
    if row is None:
        return Verification(state="not_found", kind="notice", certificate_no=policy_no)
    notice, policy = row
    same = notice.posted_on.isoformat() == posted_on and notice.objection_until.isoformat() == objection_until
    header = _policy_header(session, policy)
    return Verification(
        state="genuine" if same else "superseded",
        kind="notice",
        certificate_no=policy_no,
        address=_place_names(session, [village_code]).get(village_code, village_code),
        insurer=header["insurer"],
        hotline=header["hotline"],
        product=header["product"],
        period=f"{header['period_start']} 至 {header['period_end']}",
        posted_on=posted_on,
        objection_until=objection_until,
        households=notice.households,
    )


# --- status, retry and download for the office ----------------------------------------------------------------------


@dataclass
class VillageDocuments:
    village_code: str
    village_name: str = ""
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys([s.value for s in DocumentStatus], 0))
    booklet: DocumentRequest | None = None  # the latest
    notice: DocumentRequest | None = None  # the latest


def village_status(session: Session, policy: Policy) -> list[VillageDocuments]:
    """Per village: how many of its documents are pending, queued, running, failed and done, and its latest
    booklet and notice, for the documents page and its API."""
    requests = DocumentRequest.__table__
    rows = session.connection().execute(
        sa.select(requests.c.village_code, requests.c.status, sa.func.count())
        .where(requests.c.policy_id == policy.id)
        .group_by(requests.c.village_code, requests.c.status)
    )
    villages: dict[str, VillageDocuments] = {}
    for village_code, status, number in rows:
        code = village_code or ""
        villages.setdefault(code, VillageDocuments(code)).counts[status] += number
    printed = session.exec(
        select(DocumentRequest)
        .where(
            DocumentRequest.policy_id == policy.id,
            col(DocumentRequest.kind).in_([DocumentKind.village_booklet, DocumentKind.enrolment_notice]),
        )
        .order_by(col(DocumentRequest.id))
    ).all()
    for request in printed:  # in id order: the latest of each kind stays
        entry = villages[request.village_code or ""]
        if request.kind == DocumentKind.village_booklet:
            entry.booklet = request
        else:
            entry.notice = request
    names = policies.village_names(session, villages)
    for code, entry in villages.items():
        entry.village_name = names.get(code, "")
    return [villages[code] for code in sorted(villages)]


def list_requests(
    session: Session, policy: Policy, *, village_code: str | None = None, status: str | None = None, limit: int = 200
) -> list[DocumentRequest]:
    query = select(DocumentRequest).where(DocumentRequest.policy_id == policy.id)
    if village_code:
        query = query.where(DocumentRequest.village_code == village_code)
    if status:
        query = query.where(DocumentRequest.status == status)
    return list(session.exec(query.order_by(col(DocumentRequest.id).desc()).limit(limit)).all())


def retry_failed(session: Session, policy: Policy, *, village_code: str | None = None) -> int:
    """Failed documents of the policy (or one village) go back to pending with a fresh count of attempts."""
    requests = DocumentRequest.__table__
    condition = sa.and_(requests.c.policy_id == policy.id, requests.c.status == DocumentStatus.failed.value)
    if village_code:
        condition = sa.and_(condition, requests.c.village_code == village_code)
    result = session.connection().execute(
        requests.update()
        .where(condition)
        .values(status=DocumentStatus.pending.value, attempts=0, next_attempt_at=None),
        execution_options={"preserve_rowcount": True},
    )
    session.commit()
    return result.rowcount


def get_document(session: Session, user: User, request_id: int) -> tuple[DocumentRequest, Policy]:
    """A document within the caller's remit (its policy's insurer, county office, the province); 404 otherwise."""
    request = session.get(DocumentRequest, request_id)
    policy = session.get(Policy, request.policy_id) if request and request.policy_id else None
    if request is None or policy is None or not policies.may_see_policy(user, policy):
        raise NotFound("文档不存在 (no such document)", code="document_not_found", field="document_id")
    return request, policy


def require_done(request: DocumentRequest) -> str:
    if request.status != DocumentStatus.done or not request.document_key:
        raise Conflict("文档尚未生成 (the document is not ready)", code="document_not_ready")
    return request.document_key
