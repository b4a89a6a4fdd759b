"""Who sees which claims, and the reads of the work queues and the claim page.

The remit lives in one condition (`claim_condition`), so every lookup and list applies the same rule: an insurer's
staff their own company's claims, a county office its county's, the province office all, the admin none. Outside
it a claim answers 404 like a missing one, and lists leave it out.
"""

from collections.abc import Collection
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select

from claims import checklist
from claims.clocks import DUE_SOON_DAYS, WAITING_ON_LABELS, ClaimDates, claim_clocks
from claims.errors import ClaimCode, ClaimForbiddenError, ClaimNotFoundError
from claims.labels import REVIEW_REASON
from claims.models import (
    REVIEW_KIND_LABELS,
    REVIEW_OUTCOME_LABELS,
    Claim,
    ClaimCallback,
    ClaimCheck,
    ClaimDocument,
    ClaimEvent,
    ClaimReview,
    ReviewKind,
    ReviewOutcome,
)
from claims.schemas import (
    ChecklistItem,
    CheckPublic,
    ClaimPublic,
    ClaimSummary,
    ClocksPublic,
    DocumentPublic,
    LinePublic,
    PendingDecisionPublic,
    ReviewPublic,
)
from claims.status import CLAIM_STATUS_LABELS, CLAIM_TYPE_LABELS, ClaimStatus, ClaimType, allowed_actions
from core import labels
from core.auth import county_prefix, is_insurer
from core.db import keep, local_date
from core.models import Role, User
from insurance.cover.models import Policy

UNDECIDED = (ClaimStatus.documents_complete, ClaimStatus.assessed, ClaimStatus.awaiting_second_approval)
AGREED = (ClaimStatus.approved, ClaimStatus.partly_approved)


def claim_condition(user: User) -> ColumnElement[bool] | None:
    """The claims the user may see, or None for all: the same shape as cover's policy_condition."""
    if is_insurer(user):
        return Claim.insurer_id == (user.insurer_id or -1)
    if user.role == Role.county_office:
        return Claim.county_code == (county_prefix(user) or "-")
    if user.role == Role.province_office:
        return None
    return false()


def scope_claims(query: Any, user: User) -> Any:
    condition = claim_condition(user)
    return query if condition is None else query.where(condition)


def find_claim(session: Session, user: User, claim_no: str) -> Claim | None:
    """The claim, with its policy in the same query: the policy lands in the session's identity map, so the claim
    page (its number) and assessment (its product) get it from there instead of asking the database again."""
    query = (
        select(Claim, Policy).join(Policy, col(Policy.id) == Claim.policy_id).where(Claim.claim_no == claim_no.strip())
    )
    row = session.exec(scope_claims(query, user)).first()
    if row is None:
        return None
    keep(session, row[1])
    return row[0]


def _not_found() -> ClaimNotFoundError:
    return ClaimNotFoundError("理赔案件不存在或不在您的权限内", code=ClaimCode.claim_not_found, field="claim_no")


def get_claim(session: Session, user: User, claim_no: str) -> Claim:
    claim = find_claim(session, user, claim_no)
    if claim is None:
        raise _not_found()
    return claim


class ClaimHeader(NamedTuple):
    """What a step that only adds to a claim (a document) needs of it: no full row, no policy."""

    id: int
    claim_no: str
    claim_type: ClaimType
    status: ClaimStatus


def get_claim_header(session: Session, user: User, claim_no: str) -> ClaimHeader:
    """get_claim's lookup, under the same remit, for four columns: a document upload (most of a claim's requests)
    reads no more than it uses."""
    query = select(Claim.id, Claim.claim_no, Claim.claim_type, Claim.status).where(Claim.claim_no == claim_no.strip())
    row = session.exec(scope_claims(query, user)).first()
    if row is None:
        raise _not_found()
    return ClaimHeader(*row)


def require_handler(user: User) -> int:
    """Filing and the handler's steps: an insurer's handler or supervisor (a county office reads only)."""
    if user.role not in (Role.insurer_handler, Role.insurer_supervisor) or user.insurer_id is None:
        raise ClaimForbiddenError("只有保险公司经办人或主管可以办理理赔案件", code=ClaimCode.forbidden)
    return user.insurer_id


def require_supervisor(user: User) -> int:
    """Decisions, second approvals, reopening and overrides: an insurer's supervisor."""
    if user.role != Role.insurer_supervisor or user.insurer_id is None:
        raise ClaimForbiddenError("只有保险公司主管可以执行此操作", code=ClaimCode.forbidden)
    return user.insurer_id


def due_condition(due: str, today: date) -> ColumnElement[bool]:
    """The claims whose pending statutory step is overdue (`overdue`) or due within 3 days (`soon`), from the due
    dates stored on the claim (each index-backed per insurer)."""

    def window(column: Any) -> ColumnElement[bool]:
        if due == "overdue":
            return column < today
        return and_(column >= today, column <= today + timedelta(days=DUE_SOON_DAYS))

    return or_(
        and_(col(Claim.status).in_(UNDECIDED), window(col(Claim.decision_due_on))),
        and_(Claim.status == ClaimStatus.rejected, window(col(Claim.refusal_notice_due_on))),
        and_(col(Claim.status).in_(AGREED), window(col(Claim.payment_due_on))),
    )


def list_claims(
    session: Session,
    user: User,
    *,
    today: date,
    status: ClaimStatus | None = None,
    mine: bool = False,
    due: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Claim], int]:
    """A work queue: the user's claims narrowed by status, the user's own filings, or what is due."""
    conditions: list[Any] = []
    if status is not None:
        conditions.append(Claim.status == status)
    if mine:
        conditions.append(Claim.filed_by_user_id == user.id)
    if due:
        conditions.append(due_condition(due, today))
    query = scope_claims(select(Claim), user)
    count = scope_claims(select(func.count()).select_from(Claim), user)
    for condition in conditions:
        query, count = query.where(condition), count.where(condition)
    order = (col(Claim.decision_due_on).asc(), col(Claim.id).desc()) if due else (col(Claim.id).desc(),)
    rows = session.exec(query.order_by(*order).offset(offset).limit(limit)).all()
    return list(rows), session.exec(count).one()


def live_documents(session: Session, claim_id: int) -> list[ClaimDocument]:
    query = select(ClaimDocument).where(ClaimDocument.claim_id == claim_id, col(ClaimDocument.removed_at).is_(None))
    return list(session.exec(query.order_by(col(ClaimDocument.id))).all())


def conditions_of(claim: Claim) -> set[str]:
    """The facts that make optional documents required (claims.checklist.Condition)."""
    facts = claim.facts or {}
    found = set()
    if facts.get("bmi_paid_fen"):
        found.add(checklist.Condition.bmi_paid.value)
    if facts.get("hospital_stay"):
        found.add(checklist.Condition.hospital_stay.value)
    if facts.get("culled_tags"):
        found.add(checklist.Condition.culled.value)
    return found


_READ = "claim_reads"  # session.info: claim id -> {"codes": [...], "checks": [...]} as this session read or wrote them


def _reads(session: Session, claim_id: int) -> dict[str, Any]:
    """What this session has read (or written) of a claim's documents and checks.

    Why: a step's answer (claim_public) lists both, after its use case has committed; the use case has often read
    them already (completing the documents checks both), and filing has just written the checks. Kept per session,
    that is per request, so the answer costs no second transaction of reads. A use case that changes them in the
    session says so (`forget_reads`, `remember_checks`)."""
    return session.info.setdefault(_READ, {}).setdefault(claim_id, {})


def forget_reads(session: Session, claim_id: int) -> None:
    session.info.get(_READ, {}).pop(claim_id, None)


def remember_checks(session: Session, claim_id: int, checks: list[ClaimCheck]) -> None:
    """The checks a use case has just written are all the claim has (filing: the claim is new)."""
    _reads(session, claim_id)["checks"] = sorted(checks, key=lambda c: c.id or 0)


def document_codes(session: Session, claim_id: int) -> list[str]:
    """The codes of the claim's live documents: all a checklist needs, without loading the rows."""
    reads = _reads(session, claim_id)
    if "codes" not in reads:
        query = select(ClaimDocument.code).where(
            ClaimDocument.claim_id == claim_id, col(ClaimDocument.removed_at).is_(None)
        )
        reads["codes"] = list(session.exec(query).all())
    return list(reads["codes"])


def missing_documents(session: Session, claim: Claim) -> list[checklist.DocumentSpec]:
    return checklist.missing(claim.claim_type, document_codes(session, claim.id or 0), conditions_of(claim))


def list_events(session: Session, claim: Claim) -> list[ClaimEvent]:
    query = select(ClaimEvent).where(ClaimEvent.claim_id == claim.id)
    return list(session.exec(query.order_by(col(ClaimEvent.id))).all())


def list_checks(session: Session, claim: Claim) -> list[ClaimCheck]:
    reads = _reads(session, claim.id or 0)
    if "checks" not in reads:
        query = select(ClaimCheck).where(ClaimCheck.claim_id == claim.id).order_by(col(ClaimCheck.id))
        reads["checks"] = list(session.exec(query))
    return list(reads["checks"])


def list_callbacks(session: Session, claim: Claim) -> list[ClaimCallback]:
    query = select(ClaimCallback).where(ClaimCallback.claim_id == claim.id)
    return list(session.exec(query.order_by(col(ClaimCallback.id))).all())


def claim_summary(claim: Claim) -> ClaimSummary:
    return ClaimSummary(
        claim_no=claim.claim_no,
        claim_type=claim.claim_type,
        claim_type_label=CLAIM_TYPE_LABELS[claim.claim_type],
        status=claim.status,
        status_label=CLAIM_STATUS_LABELS[claim.status],
        version=claim.version,
        claimant_name=claim.claimant_name,
        incident_date=claim.incident_date,
        reported_on=claim.reported_on,
        claimed_fen=claim.claimed_fen,
        payable_fen=claim.payable_fen,
        filed_by=claim.filed_by,
        decision_due_on=claim.decision_due_on,
        refusal_notice_due_on=claim.refusal_notice_due_on,
        payment_due_on=claim.payment_due_on,
    )


def document_public(document: ClaimDocument) -> DocumentPublic:
    public = DocumentPublic.model_validate(document)
    public.label = checklist.DOCUMENT_LABELS.get(document.code, document.code)
    return public


def pending_decision_public(claim: Claim) -> PendingDecisionPublic | None:
    if claim.pending_decision is None:
        return None
    return PendingDecisionPublic(
        decision=claim.pending_decision,
        amount_fen=claim.pending_amount_fen or 0,
        reason=claim.pending_reason,
        by=claim.pending_by,
        at=claim.pending_at,
    )


def claim_public(session: Session, claim: Claim, today: date, *, present: Collection[str] | None = None) -> ClaimPublic:
    """Everything the claim page shows, on `today`, from the claim as the caller holds it (a use case's claim after
    its commit is current: the session keeps it, version included). `present` is the codes of its live documents
    when the caller knows them (a claim just filed has none); else they are read."""
    present = set(document_codes(session, claim.id or 0) if present is None else present)
    conditions = conditions_of(claim)
    items = [
        ChecklistItem(code=s.code, label=s.label, needed=s.needed(conditions), present=s.code in present)
        for s in checklist.checklist(claim.claim_type)
    ]
    assessment = claim.assessment or {}
    decided_on = local_date(claim.decided_at) if claim.decided_at else None
    clocks = claim_clocks(claim.status, ClaimDates(claim.documents_complete_on, decided_on), today)
    policy = session.get(Policy, claim.policy_id)
    total = assessment.get("total_line")
    return ClaimPublic(
        **claim_summary(claim).model_dump(),
        policy_no=policy.policy_no if policy else "",
        benefit_code=claim.benefit_code,
        member_id=claim.member_id,
        household_id=claim.household_id,
        insured_object_id=claim.insured_object_id,
        claimant_relation=claim.claimant_relation,
        claimant_phone=claim.claimant_phone,
        incident_place=claim.incident_place,
        peril=claim.peril,
        facts=claim.facts or {},
        settlement_no=claim.settlement_no,
        main_diagnosis=claim.main_diagnosis,
        household_pays_fen=claim.household_pays_fen,
        documents_complete_on=claim.documents_complete_on,
        explanation=[LinePublic(**line) for line in assessment.get("lines", [])],
        total_line=LinePublic(**total) if total else None,
        reasons=list(assessment.get("reasons", [])),
        pending_decision=pending_decision_public(claim),
        decision_reason=claim.decision_reason,
        decision_text=claim.decision_text,
        decided_by=claim.decided_by,
        second_approver=claim.second_approver,
        assessed_by=claim.assessed_by,
        clocks=ClocksPublic(
            **{k: v for k, v in clocks.__dict__.items() if k != "waiting_on"},
            waiting_on=clocks.waiting_on.value,
            waiting_on_label=WAITING_ON_LABELS[clocks.waiting_on],
        ),
        checklist=items,
        missing_documents=[i for i in items if i.needed and not i.present],
        checks=[CheckPublic.model_validate(c) for c in list_checks(session, claim)],
        allowed_actions=[a.value for a in allowed_actions(claim.status)],
    )


def pending_review(session: Session, claim: Claim) -> ClaimReview | None:
    """The claim's second-approval review still waiting for its reviewer, if any."""
    query = select(ClaimReview).where(
        ClaimReview.claim_id == claim.id,
        ClaimReview.kind == ReviewKind.second_approval,
        ClaimReview.outcome == ReviewOutcome.pending,
    )
    return session.exec(query.order_by(col(ClaimReview.id).desc())).first()


def review_public(review: ClaimReview, claim_no: str) -> ReviewPublic:
    """A review with its Chinese labels (kind, why it was picked, outcome)."""
    public = ReviewPublic.model_validate(review)
    public.claim_no = claim_no
    public.kind_label = REVIEW_KIND_LABELS[review.kind]
    public.reason_label = labels.label(REVIEW_REASON, review.reason) if review.reason else ""
    public.outcome_label = REVIEW_OUTCOME_LABELS[review.outcome]
    return public
