"""The review sample (domain.md §3.5): decisions that did not need a second approval are drawn for a supervisor's
review at random and by risk, and the supervisor records the outcome.

The draw happens when the decision lands (`sample_decision`, called by `workflow.decide` before its one commit, so
the decision and its review rows commit together). Each decision is drawn independently with probability
`claim_review_sample_percent` / 100 from `random.SystemRandom` (a seeded `random.Random` in tests): the rows of a
period are a true random sample of its decisions, never the oldest ones.
"""

import random
from datetime import date, datetime, time

from sqlmodel import Session, col, func, select

from claims import queries
from claims.errors import ClaimCode, ClaimConflictError, ClaimInvalidError, ClaimNotFoundError
from claims.models import Claim, ClaimReview, ReviewKind, ReviewOutcome
from claims.rules.review import SamplePolicy, peer_window_start, select_reviews
from claims.schemas import ReviewOutcomeCreate
from claims.status import ClaimType
from core import audit
from core.audit import Actor
from core.db import PROGRAMME_TZ, utcnow
from core.models import User
from core.settings import Settings

SAMPLE_KINDS = (ReviewKind.random_sample, ReviewKind.risk_sample)
MEDICAL_TYPES = frozenset({ClaimType.supplementary_medical, ClaimType.accidental_medical})
_system_rng = random.SystemRandom()


def policy_from(settings: Settings) -> SamplePolicy:
    return SamplePolicy(percent=settings.claim_review_sample_percent, risk_fen=settings.claim_review_risk_yuan * 100)


def peer_amounts(session: Session, claim: Claim, today: date) -> list[int]:
    """The agreed amounts of the claim's peers in the last 12 months, within the same insurer: the same main
    diagnosis for a medical claim (none without a diagnosis), the same peril and county for the others."""
    since = datetime.combine(peer_window_start(today), time.min, tzinfo=PROGRAMME_TZ)
    query = select(Claim.payable_fen).where(
        Claim.insurer_id == claim.insurer_id,
        Claim.id != claim.id,
        col(Claim.status).in_(queries.AGREED),
        col(Claim.decided_at) >= since,
    )
    if claim.claim_type in MEDICAL_TYPES:
        if not claim.main_diagnosis:
            return []
        query = query.where(col(Claim.claim_type).in_(MEDICAL_TYPES), Claim.main_diagnosis == claim.main_diagnosis)
    else:
        query = query.where(
            col(Claim.claim_type).not_in(MEDICAL_TYPES),
            Claim.peril == claim.peril,
            Claim.county_code == claim.county_code,
        )
    return [amount or 0 for amount in session.exec(query).all()]


def sample_decision(
    session: Session, claim: Claim, policy: SamplePolicy, *, today: date, rng: random.Random | None = None
) -> list[ClaimReview]:
    """Adds the review rows a decision without second approval gets (not committed: the caller's transaction)."""
    amount = claim.payable_fen or 0
    peers = peer_amounts(session, claim, today) if amount > 0 else []
    picks = select_reviews(amount, policy=policy, peer_amounts=peers, rng=rng or _system_rng)
    reviews = [ClaimReview(claim_id=claim.id or 0, kind=ReviewKind(p.kind), reason=p.reason) for p in picks]
    for review in reviews:
        session.add(review)
    return reviews


def list_sample(
    session: Session,
    user: User,
    *,
    outcome: ReviewOutcome | None = ReviewOutcome.pending,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[tuple[ClaimReview, Claim]], int]:
    """The review sample of the supervisor's insurer (random and risk rows), newest first."""
    queries.require_supervisor(user)
    query = select(ClaimReview, Claim).join(Claim, col(Claim.id) == ClaimReview.claim_id)
    count = select(func.count()).select_from(ClaimReview).join(Claim, col(Claim.id) == ClaimReview.claim_id)
    conditions = [col(ClaimReview.kind).in_(SAMPLE_KINDS), Claim.insurer_id == user.insurer_id]
    if outcome is not None:
        conditions.append(ClaimReview.outcome == outcome)
    for condition in conditions:
        query, count = query.where(condition), count.where(condition)
    rows = session.exec(query.order_by(col(ClaimReview.id).desc()).offset(offset).limit(limit)).all()
    return [(review, claim) for review, claim in rows], session.exec(count).one()


def list_claim_reviews(session: Session, claim: Claim) -> list[ClaimReview]:
    """All reviews of a claim (second approvals too), oldest first: the claim page's section."""
    query = select(ClaimReview).where(ClaimReview.claim_id == claim.id).order_by(col(ClaimReview.id))
    return list(session.exec(query).all())


def record_outcome(
    session: Session, user: User, claim_no: str, review_id: int, data: ReviewOutcomeCreate
) -> ClaimReview:
    """A supervisor's verdict on a sampled review: agreed or disagreed (a note required then). Not the supervisor
    who made the decision (409 `same_person`); once recorded it stays (409 `review_done`). Audited."""
    claim = queries.get_claim(session, user, claim_no)
    queries.require_supervisor(user)
    review = session.get(ClaimReview, review_id)
    if review is None or review.claim_id != claim.id or review.kind not in SAMPLE_KINDS:
        raise ClaimNotFoundError("复核记录不存在", code=ClaimCode.review_not_found, field="review_id")
    if review.outcome != ReviewOutcome.pending:
        raise ClaimConflictError("该复核已登记结果", code=ClaimCode.review_done, field="outcome")
    if claim.decided_by_user_id is not None and claim.decided_by_user_id == user.id:
        raise ClaimConflictError("复核人不能是作出该决定的同一人", code=ClaimCode.same_person, field="user")
    note = (data.note or "").strip() or None
    if data.outcome == ReviewOutcome.disagreed and note is None:
        raise ClaimInvalidError("不同意时须填写复核意见", code=ClaimCode.reason_required, field="note")
    before = {"review_id": review.id, "review_outcome": review.outcome.value}
    review.outcome = data.outcome
    review.note = note
    review.reviewer, review.reviewer_user_id, review.reviewed_at = user.username, user.id, utcnow()
    session.add(review)
    after = {
        "review_id": review.id,
        "review_kind": review.kind.value,
        "review_reason": review.reason,
        "review_outcome": data.outcome.value,
        "note": note,
    }
    audit.record(session, Actor.of(user), "record_review", "claim", claim.claim_no, before=before, after=after)
    session.commit()
    session.refresh(review)
    return review
