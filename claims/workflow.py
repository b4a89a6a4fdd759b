"""The claim's workflow after filing: documents complete, return and resubmit, withdraw, reopen, the decision with
its second approval, and call-backs. One use case = one function = one commit, with its audit record under the
ClaimAction and a claim_event row from -> to.

Concurrency: the client sends the version it read; a different loaded version is refused before anything changes
(409 `stale_version`), and an update that loses a race to another transaction (SQLAlchemy's version counter
finds no row) is rolled back and answers the same 409.
"""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from claims import queries, review
from claims.clocks import DECISION_DAYS, PAYMENT_DAYS, REFUSAL_NOTICE_DAYS
from claims.errors import ClaimCode, ClaimConflictError, ClaimInvalidError
from claims.models import Claim, ClaimCallback, ClaimEvent, ClaimReview, ReviewKind, ReviewOutcome
from claims.reasons import ReasonCode
from claims.risk import raising as risk_raising
from claims.rules.review import SamplePolicy
from claims.schemas import CallbackCreate, DecisionCreate, ReopenCreate, ReturnCreate, SecondApprovalCreate
from claims.status import (
    CLAIM_STATUS_LABELS,
    ClaimAction,
    ClaimStatus,
    Decision,
    TransitionNotAllowed,
    confirming_action,
    decision_action,
    needs_second_approval,
    next_status,
    second_approver_allowed,
)
from core import audit
from core.audit import Actor
from core.db import utcnow
from core.models import User

AUDITED = (
    *("status", "version", "payable_fen", "household_pays_fen", "decision_reason", "decided_by", "second_approver"),
    *("pending_decision", "pending_amount_fen", "pending_reason"),
)


# The pending-decision columns once a second supervisor has answered (or the claim is reopened).
NO_PENDING_DECISION: dict[str, Any] = {
    "pending_decision": None,
    "pending_amount_fen": None,
    "pending_reason": None,
    "pending_by": None,
    "pending_at": None,
}


def check_version(claim: Claim, version: int) -> None:
    """The client's version against the loaded one: a change made since the client read the claim wins."""
    if claim.version != version:
        raise ClaimConflictError(
            f"理赔案件已被他人修改（当前版本 {claim.version}，您提交的版本 {version}），请刷新后重试",
            code=ClaimCode.stale_version,
            field="version",
        )


def snapshot(claim: Claim) -> dict[str, Any]:
    return {key: getattr(claim, key) for key in AUDITED}


def transition(
    session: Session,
    user: User | Actor,
    claim: Claim,
    action: ClaimAction,
    *,
    reasons: list[str] | None = None,
    note: str | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Moves the claim by the status table, applies `changes`, and adds the event and the audit record (not
    committed). The event's version is the one the claim will have after this update."""
    actor = user if isinstance(user, Actor) else Actor.of(user)
    try:
        to_status = next_status(claim.status, action)
    except TransitionNotAllowed as exc:
        raise ClaimConflictError(exc.message, code=ClaimCode.transition_not_allowed, field="status") from None
    before = snapshot(claim)
    from_status = claim.status
    for key, value in (changes or {}).items():
        setattr(claim, key, value)
    claim.status = to_status
    claim.updated_at = utcnow()
    session.add(claim)
    record_event(session, claim.id or 0, from_status, to_status, action.value, claim.version + 1, actor, reasons, note)
    after = {**snapshot(claim), "version": claim.version + 1}
    if reasons:
        after["reasons"] = list(reasons)
    audit.record(session, actor, action.value, "claim", claim.claim_no, before=before, after=after)


_EVENT_INSERT = ClaimEvent.__table__.insert()  # type: ignore[attr-defined]


def record_event(
    session: Session,
    claim_id: int,
    from_status: ClaimStatus | None,
    to_status: ClaimStatus,
    action: str,
    version: int,
    actor: Actor,
    reasons: list[str] | None = None,
    note: str | None = None,
) -> None:
    """The claim's history row, in the use case's transaction: a plain INSERT on the session's connection (as
    core.audit.record), since nothing reads it back before the commit and it must not autoflush the claim's update
    ahead of its guarded flush (`_race_is_conflict`)."""
    values = {
        "claim_id": claim_id,
        "from_status": from_status,
        "to_status": to_status,
        "action": action,
        "reasons": list(reasons or []),
        "note": note,
        "version": version,
        "actor": actor.name,
        "actor_user_id": actor.user_id,
        "at": utcnow(),
    }
    session.connection().execute(_EVENT_INSERT, values)


@contextmanager
def _race_is_conflict(session: Session) -> Iterator[None]:
    """A lost race on the claim's version (the UPDATE ... WHERE version = the one read matched no row) is a 409
    with nothing changed, wherever the claim's UPDATE is flushed."""
    try:
        yield
    except StaleDataError:
        session.rollback()
        raise ClaimConflictError(
            "理赔案件已被他人同时修改，请刷新后重试", code=ClaimCode.stale_version, field="version"
        ) from None


def commit(session: Session) -> None:
    """The use case's one commit."""
    with _race_is_conflict(session):
        session.commit()


def raise_risk_flags(session: Session, user: User, claim: Claim) -> None:
    """The household's risk flags, in the use case's transaction. The claim's UPDATE is flushed first: the flags'
    queries would flush it anyway, and a lost version race must answer 409 there as at the commit."""
    with _race_is_conflict(session):
        session.flush()
    risk_raising.raise_for_claim(session, claim, actor=Actor.of(user))


def _handler_claim(session: Session, user: User, claim_no: str, version: int) -> Claim:
    claim = queries.get_claim(session, user, claim_no)
    queries.require_handler(user)
    check_version(claim, version)
    return claim


def _supervisor_claim(session: Session, user: User, claim_no: str, version: int) -> Claim:
    claim = queries.get_claim(session, user, claim_no)
    queries.require_supervisor(user)
    check_version(claim, version)
    return claim


def complete_documents(session: Session, user: User, claim_no: str, data: Any, *, today: date) -> Claim:
    """Only when nothing needed is missing, and no filing check blocks: the 30-day decision clock starts today."""
    claim = _handler_claim(session, user, claim_no, data.version)
    missing = queries.missing_documents(session, claim)
    if missing:
        names = "、".join(spec.label for spec in missing)
        raise ClaimInvalidError(f"理赔材料不全，尚缺：{names}", code=ClaimCode.documents_missing, field="documents")
    blocking = [c for c in queries.list_checks(session, claim) if c.severity == "block" and c.overridden_at is None]
    if blocking:
        raise ClaimConflictError(
            f"报案筛查未通过：{blocking[0].message}；须由主管填写原因放行", code=ClaimCode.check_blocked, field="checks"
        )
    transition(
        session,
        user,
        claim,
        ClaimAction.complete_documents,
        note=data.note,
        changes={"documents_complete_on": today, "decision_due_on": today + timedelta(days=DECISION_DAYS)},
    )
    commit(session)
    return claim


def return_to_filer(session: Session, user: User, claim_no: str, data: ReturnCreate) -> Claim:
    """Back to the filer with coded reasons; the note lists every missing document at once (Art. 22)."""
    claim = _handler_claim(session, user, claim_no, data.version)
    missing = queries.missing_documents(session, claim)
    listed = "、".join(spec.label for spec in missing)
    note = "；".join(part for part in (data.note, f"请一次补齐以下材料：{listed}" if listed else None) if part)
    transition(
        session,
        user,
        claim,
        ClaimAction.return_to_filer,
        reasons=[r.value for r in data.reasons],
        note=note or None,
        changes={"documents_complete_on": None, "decision_due_on": None},
    )
    commit(session)
    return claim


def resubmit(session: Session, user: User, claim_no: str, data: Any) -> Claim:
    claim = _handler_claim(session, user, claim_no, data.version)
    transition(session, user, claim, ClaimAction.resubmit, note=data.note)
    commit(session)
    return claim


def withdraw(session: Session, user: User, claim_no: str, data: Any) -> Claim:
    claim = _handler_claim(session, user, claim_no, data.version)
    transition(session, user, claim, ClaimAction.withdraw, note=data.note)
    raise_risk_flags(session, user, claim)
    commit(session)
    return claim


def reopen(session: Session, user: User, claim_no: str, data: ReopenCreate, *, today: date) -> Claim:
    """With a reason (required by the schema); re-assessed from documents complete, the clock starting again."""
    claim = _supervisor_claim(session, user, claim_no, data.version)
    to_complete = next_status(claim.status, ClaimAction.reopen) if claim.status in _REOPENABLE else None
    changes: dict[str, Any] = {
        "decided_at": None,
        "decided_by": None,
        "decided_by_user_id": None,
        "second_approver": None,
        "second_approver_user_id": None,
        "second_approved_at": None,
        "refusal_notice_due_on": None,
        "payment_due_on": None,
        "decision_reason": None,
        "decision_text": None,
        **NO_PENDING_DECISION,
    }
    if to_complete == ClaimStatus.documents_complete:
        changes.update(documents_complete_on=today, decision_due_on=today + timedelta(days=DECISION_DAYS))
    transition(session, user, claim, ClaimAction.reopen, note=data.note, changes=changes)
    raise_risk_flags(session, user, claim)
    commit(session)
    return claim


_REOPENABLE = frozenset(
    {ClaimStatus.approved, ClaimStatus.partly_approved, ClaimStatus.rejected, ClaimStatus.closed, ClaimStatus.withdrawn}
)


def _household_pays(claim: Claim, agreed_fen: int) -> dict[str, Any]:
    """A hospital stay's `household_pays_fen` once the amount is agreed: the assessment's figure assumed this cover
    paid what it assessed; what is rejected or cut stays with the household (the risk flags sum it)."""
    assessed = claim.assessment or {}
    if assessed.get("household_pays_fen") is None:
        return {}
    return {"household_pays_fen": assessed["household_pays_fen"] + max(0, assessed["payable_fen"] - agreed_fen)}


def _decided(claim: Claim, decision: Decision, amount_fen: int, reason: str | None, today: date) -> dict[str, Any]:
    """The claim's columns once a decision lands: the amount agreed (or 0), what a stay leaves to the household,
    and the Art. 23/24 due dates."""
    if decision == Decision.reject:
        return {
            "payable_fen": 0,
            **_household_pays(claim, 0),
            "decision_reason": reason,
            "refusal_notice_due_on": today + timedelta(days=REFUSAL_NOTICE_DAYS),
            "payment_due_on": None,
        }
    return {
        "payable_fen": amount_fen,
        **_household_pays(claim, amount_fen),
        "decision_reason": ReasonCode.payable.value,
        "refusal_notice_due_on": None,
        "payment_due_on": today + timedelta(days=PAYMENT_DAYS),
    }


def decide(
    session: Session,
    user: User,
    claim_no: str,
    data: DecisionCreate,
    *,
    threshold_fen: int,
    today: date,
    sampling: SamplePolicy | None = None,
    rng: random.Random | None = None,
) -> Claim:
    """A supervisor's decision on an assessed claim. Approve pays the payable amount; approve partly an amount at
    most that; reject needs a reason code. Above the threshold (or a death claim's rejection) the decision waits
    for a second supervisor: kept in the claim's `pending_*` columns until confirmed or sent back. A decision that
    lands at once is drawn for the review sample by `sampling` (none when None), in the same commit."""
    claim = _supervisor_claim(session, user, claim_no, data.version)
    if claim.status != ClaimStatus.assessed or claim.payable_fen is None:
        raise ClaimConflictError(
            f"理赔案件当前状态为“{CLAIM_STATUS_LABELS[claim.status]}”，须理算后才能作出决定",
            code=ClaimCode.transition_not_allowed,
            field="status",
        )
    payable = claim.payable_fen
    amount = payable
    if data.decision == Decision.approve_partly:
        if data.amount_fen is None or not 0 < data.amount_fen <= payable:
            raise ClaimInvalidError(
                f"部分赔付金额须大于 0 且不超过核定赔付金额 {payable} 分",
                code=ClaimCode.amount_invalid,
                field="amount_fen",
            )
        amount = data.amount_fen
    if data.decision == Decision.reject:
        if data.reason is None or data.reason == ReasonCode.payable:
            raise ClaimInvalidError("拒赔须选择拒赔原因", code=ClaimCode.reason_required, field="reason")
        amount = 0
    if data.decision == Decision.approve and payable == 0:
        raise ClaimInvalidError("核定赔付金额为 0，不能同意赔付", code=ClaimCode.amount_invalid, field="decision")
    reason = data.reason.value if data.reason else None
    second = needs_second_approval(amount, threshold_fen, decision=data.decision, claim_type=claim.claim_type)
    action = decision_action(data.decision, second_approval=second)
    common = {"decided_by": user.username, "decided_by_user_id": user.id, "decided_at": utcnow()}
    if second:
        changes = {
            **common,
            "pending_decision": data.decision,
            "pending_amount_fen": amount,
            "pending_reason": reason,
            "pending_by": user.username,
            "pending_at": common["decided_at"],
            "decision_text": data.note,
        }
        review_reason = "death_rejection" if data.decision == Decision.reject else "above_approval_amount"
        session.add(ClaimReview(claim_id=claim.id or 0, kind=ReviewKind.second_approval, reason=review_reason))
    else:
        changes = {**common, **_decided(claim, data.decision, amount, reason, today), "decision_text": data.note}
    transition(
        session,
        user,
        claim,
        action,
        reasons=[reason] if reason else [data.decision.value],
        note=data.note,
        changes=changes,
    )
    if sampling is not None and not second:
        review.sample_decision(session, claim, sampling, today=today, rng=rng)
    raise_risk_flags(session, user, claim)
    commit(session)
    return claim


def second_approval(session: Session, user: User, claim_no: str, data: SecondApprovalCreate, *, today: date) -> Claim:
    """A second supervisor confirms the first decision (the claim lands where it meant) or sends it back to be
    decided again. Never the filer, the assessor or the first decider (409 `same_person`)."""
    claim = _supervisor_claim(session, user, claim_no, data.version)
    if claim.status != ClaimStatus.awaiting_second_approval:
        raise ClaimConflictError(
            f"理赔案件当前状态为“{CLAIM_STATUS_LABELS[claim.status]}”，没有待复核的决定",
            code=ClaimCode.transition_not_allowed,
            field="status",
        )
    if not second_approver_allowed(
        claim.filed_by_user_id, claim.assessed_by_user_id, claim.decided_by_user_id, user.id
    ):
        raise ClaimConflictError(
            "复核审批人不能是报案、理算或首次决定该案件的同一人", code=ClaimCode.same_person, field="user"
        )
    decision = claim.pending_decision or Decision.approve
    amount, reason = claim.pending_amount_fen or 0, claim.pending_reason
    review = queries.pending_review(session, claim)
    if review is not None:
        review.outcome = ReviewOutcome.agreed if data.agree else ReviewOutcome.disagreed
        review.reviewer, review.reviewer_user_id, review.reviewed_at = user.username, user.id, utcnow()
        review.note = data.note
        session.add(review)
    common = {
        **NO_PENDING_DECISION,
        "second_approver": user.username,
        "second_approver_user_id": user.id,
        "second_approved_at": utcnow(),
    }
    if data.agree:
        changes = {**common, **_decided(claim, decision, amount, reason, today)}
        transition(session, user, claim, confirming_action(decision), note=data.note, changes=changes)
    else:
        changes = {**common, "decided_by": None, "decided_by_user_id": None, "decided_at": None}
        transition(session, user, claim, ClaimAction.send_back, note=data.note, changes=changes)
    raise_risk_flags(session, user, claim)
    commit(session)
    return claim


def record_callback(session: Session, user: User, claim_no: str, data: CallbackCreate) -> ClaimCallback:
    """A call to the household: reached or not, what it said. Audited; the claim itself does not change."""
    claim = queries.get_claim(session, user, claim_no)
    queries.require_handler(user)
    callback = ClaimCallback(
        claim_id=claim.id or 0,
        reached=data.reached,
        household_said=data.household_said,
        called_by=user.username,
        called_by_user_id=user.id,
    )
    session.add(callback)
    after = {"reached": data.reached, "household_said": data.household_said}
    audit.record(session, Actor.of(user), "record_callback", "claim", claim.claim_no, after=after)
    session.commit()
    return callback
