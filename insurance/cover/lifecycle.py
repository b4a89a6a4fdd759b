"""A policy's life after creation: renewal for the next year, issue after the notices' windows, cancellation."""

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import audit, documents
from core.audit import Actor
from core.db import local_date, utcnow
from core.models import User
from insurance.cover import counts, outbox
from insurance.cover.catalogue import get_product, version_for
from insurance.cover.enrolment import queue_enrolment
from insurance.cover.errors import CoverCode, CoverConflictError, CoverInvalidError
from insurance.cover.models import (
    Coverage,
    CoverStatus,
    Enrolment,
    EnrolmentStatus,
    InsuredObject,
    Policy,
    PolicyStatus,
    ProductKind,
)
from insurance.cover.notices import open_objection_counts, policy_village_summary
from insurance.cover.policies import check_enrollable, new_group_policy, own_policy
from insurance.cover.schemas import (
    GroupPolicyCreate,
    RenewalCreate,
)
from insurance.register.models import Member

CANCEL_REASON_MIN = 2  # as the API's CancelRequest asks

# --- renewal, issue, cancellation ---------------------------------------------------------------------------------


def renew_policy(
    session: Session, user: User, policy_no: str, data: RenewalCreate, today: date
) -> tuple[Policy, Enrolment]:
    """Next year's policy for the same county and insurer, and a queued enrolment that carries forward everyone
    still eligible (members covered this year keep no waiting period)."""
    old = own_policy(session, user, policy_no)
    check_enrollable(old)
    year = data.year or old.year + 1
    if year <= old.year:
        raise CoverInvalidError("续保年度须晚于原保单年度", field="year")
    version = version_for(session, get_product(session, old.product_code), year, data.product_version)
    created = new_group_policy(
        session,
        user,
        GroupPolicyCreate(
            county_code=old.county_code,
            year=year,
            product_code=old.product_code,
            product_version=version.version,
            premium_per_person_fen=data.premium_per_person_fen,
            policy_no=data.policy_no,
            policyholder=old.policyholder,
        ),
        renewed_from=old,
    )
    audit.record(session, Actor.of(user), "renew", "policy", old.policy_no, after={"renewed_as": created.policy_no})
    enrolment = queue_enrolment(session, Actor.of(user), created, today, kind="renew", status=EnrolmentStatus.queued)
    session.commit()
    return created, enrolment


def issue_policy(session: Session, user: User, policy_no: str, today: date) -> Policy:
    """Puts a policy in force once every village has seen its notice, the objection windows have closed and no
    objection is left open; every covered household's certificate is then requested."""
    policy = own_policy(session, user, policy_no, supervisor=True)
    if policy.status != PolicyStatus.draft:
        raise CoverConflictError(f"保单状态为{policy.status}，不能出单", code=CoverCode.not_draft)
    if policy.members_count == 0 and policy.kind == ProductKind.family:
        raise CoverInvalidError("保单还没有参保人员", code=CoverCode.nobody_enrolled, field="policy_no")
    villages = policy_village_summary(session, policy)
    missing = [v["village_code"] for v in villages if v["notice"] is None]
    if missing:
        raise CoverConflictError(
            f"还有 {len(missing)} 个村未张贴承保公示，如 {missing[0]}",
            code=CoverCode.notice_missing,
        )
    open_window = [v["notice"] for v in villages if v["notice"].objection_until >= today]
    if open_window:
        first = min(open_window, key=lambda n: n.objection_until)
        raise CoverConflictError(
            f"村 {first.village_code} 的公示异议期至 {first.objection_until} 才结束",
            code=CoverCode.objection_window_open,
        )
    open_objections = sum(open_objection_counts(session, policy).values())
    if open_objections:
        raise CoverConflictError(f"还有 {open_objections} 条异议未处理", code=CoverCode.objections_open)
    policy.status = PolicyStatus.issued
    policy.issued_at = utcnow()
    session.add(policy)
    connection = session.connection()
    requested = outbox.request_certificates(connection, _covered_households(policy), policy.id or 0, "policy_issued")
    outbox.request_booklets(connection, policy.id or 0, "policy_issued")
    if policy.kind == ProductKind.family:  # its lines are in force now: the county's coverage figures change
        session.flush()  # the recount reads the policy's issue from the database
        counts.recount(connection, counties=[policy.county_code], today=today)
    audit.record(
        session,
        Actor.of(user),
        "issue",
        "policy",
        policy.policy_no,
        after={"members": policy.members_count, "certificates_requested": requested},
    )
    documents.send_after_commit(session, policy_id=policy.id)
    session.commit()
    return policy


def _covered_households(policy: Policy, *, include_cancelled: bool = False) -> sa.Select[Any]:
    if policy.kind == ProductKind.industry:
        objects = InsuredObject.__table__
        query = sa.select(objects.c.household_id).distinct().where(objects.c.policy_id == policy.id)
        return query if include_cancelled else query.where(objects.c.status != CoverStatus.cancelled.value)
    member, coverage = Member.__table__, Coverage.__table__
    query = (
        sa.select(member.c.household_id)
        .distinct()
        .select_from(coverage.join(member, member.c.id == coverage.c.member_id))
        .where(coverage.c.policy_id == policy.id)
    )
    return query if include_cancelled else query.where(coverage.c.status != CoverStatus.cancelled.value)


def cancel_policy(session: Session, user: User, policy_no: str, reason: str, today: date) -> Policy:
    """A draft policy is void from the start; an issued one ends today. Households it covered get new
    certificates when it was in force."""
    policy = own_policy(session, user, policy_no, supervisor=True)
    if policy.status == PolicyStatus.cancelled:
        raise CoverConflictError("保单已撤销", code=CoverCode.policy_cancelled)
    reason = reason.strip()
    if len(reason) < CANCEL_REASON_MIN:
        raise CoverInvalidError(f"请填写撤销原因（至少 {CANCEL_REASON_MIN} 个字）", field="reason")
    was_issued = policy.status == PolicyStatus.issued
    connection = session.connection()
    table = InsuredObject.__table__ if policy.kind == ProductKind.industry else Coverage.__table__
    live = sa.and_(table.c.policy_id == policy.id, table.c.status == CoverStatus.active.value)
    if was_issued:
        connection.execute(
            table.update()
            .where(live, table.c.cover_end > today)
            .values(status=CoverStatus.ended.value, end_reason="policy_cancelled", cover_end=today)
        )
        outbox.request_certificates(
            connection, _covered_households(policy, include_cancelled=True), policy.id or 0, "policy_cancelled"
        )
    else:
        connection.execute(
            table.update().where(live).values(status=CoverStatus.cancelled.value, end_reason="policy_cancelled")
        )
    policy.status = PolicyStatus.cancelled
    policy.cancelled_at = utcnow()
    policy.cancel_reason = reason
    session.add(policy)
    if policy.kind == ProductKind.family:
        counts.recount(connection, counties=[policy.county_code], today=today)
    audit.record(
        session,
        Actor.of(user),
        "cancel",
        "policy",
        policy.policy_no,
        before={"status": "issued" if was_issued else "draft"},
        after={"status": "cancelled", "reason": reason, "on": today},
    )
    documents.send_after_commit(session, policy_id=policy.id)
    session.commit()
    return policy


@dataclass(frozen=True)
class Cancellation:
    """What a cancellation did, read back for the policy's page: the cover lines voided from the start (a draft)
    or ended on the day (an issued policy), and the households whose certificates are printed again (every
    household of a policy that was in force; one already waiting to be printed is printed once, as cancelled)."""

    on: date  # the programme's date (Beijing) of the cancellation
    lines_cancelled: int
    lines_ended: int
    certificates_requested: int


def cancellation(session: Session, policy: Policy) -> Cancellation | None:
    """None for a policy that is not cancelled."""
    if policy.status != PolicyStatus.cancelled:
        return None
    table = InsuredObject.__table__ if policy.kind == ProductKind.industry else Coverage.__table__
    rows = session.connection().execute(
        sa.select(table.c.status, sa.func.count())
        .where(table.c.policy_id == policy.id, table.c.end_reason == "policy_cancelled")
        .group_by(table.c.status)
    )
    counts: dict[str, int] = {status: count for status, count in rows}
    certificates = 0
    if policy.issued_at is not None:  # it was in force: cancel_policy asked for every household's certificate
        households = _covered_households(policy, include_cancelled=True).subquery()
        certificates = session.connection().execute(sa.select(sa.func.count()).select_from(households)).scalar_one()
    return Cancellation(
        on=local_date(policy.cancelled_at or utcnow()),
        lines_cancelled=counts.get(CoverStatus.cancelled.value, 0),
        lines_ended=counts.get(CoverStatus.ended.value, 0),
        certificates_requested=certificates,
    )


def find_renewal(session: Session, policy: Policy) -> Policy | None:
    """The live policy that renewed this one, if any (its page links to it instead of offering renewal again)."""
    return session.exec(
        select(Policy)
        .where(Policy.renewed_from_id == policy.id, Policy.status != PolicyStatus.cancelled)
        .order_by(col(Policy.id).desc())
    ).first()
