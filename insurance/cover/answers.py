"""What a member, an insured object or a household is covered for on a day: the cover answer claims will ask."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from core.db import keep, one_of
from core.models import User
from insurance.cover import eligibility
from insurance.cover.catalogue import benefits_by_version
from insurance.cover.errors import CoverCode, CoverNotFoundError
from insurance.cover.models import (
    Coverage,
    CoverStatus,
    InsuredObject,
    Policy,
    Product,
)
from insurance.cover.policies import find_visible_policy, scope_policies
from insurance.register import service as register_service
from insurance.register.models import Household, Insurer, Member
from insurance.register.roster import HEAD_RELATION


def member_cover_lines(session: Session, member_id: int, user: User | None = None) -> list[eligibility.CoverLine]:
    """The member's cover lines; with a user, only those of the policies the user may see (an insurer answers from
    its own policies alone). Without one, all of them: for callers that act for the programme as a whole."""
    query = (
        select(Coverage, Policy)
        .join(Policy, col(Policy.id) == Coverage.policy_id)
        .where(Coverage.member_id == member_id)
    )
    rows = session.exec(scope_policies(query, user) if user is not None else query).all()
    keep(session, *(cover for cover, _ in rows))  # a claim's assessment then gets its line by key, not by a query
    benefits = benefits_by_version(session, [p.product_version_id for _, p in rows])
    return [_cover_line(policy, cover, benefits[policy.product_version_id]) for cover, policy in rows]


@dataclass(frozen=True)
class MemberLine:
    """A member's place on a policy, with the cover line the answer is computed from (its period and whether it
    was cancelled are the line's)."""

    policy: Policy
    line: eligibility.CoverLine


def cover_lines_of_members(
    session: Session, member_ids: Iterable[int], policies: Mapping[int, Policy]
) -> dict[int, list[MemberLine]]:
    """The cover lines of many members on the given policies (by id), in one query (a bulk import asks for thousands
    of members at once): member id -> lines, latest period first; a member with no line is absent. Members on the
    same policy with the same period share one CoverLine."""
    members = sorted(set(member_ids))
    if not members or not policies:
        return {}
    rows = session.exec(
        select(
            Coverage.member_id,
            Coverage.policy_id,
            Coverage.cover_start,
            Coverage.cover_end,
            Coverage.status,
            Coverage.waiting_waived,
        )
        .join(Policy, col(Policy.id) == Coverage.policy_id)
        .where(one_of(session, Coverage.member_id, members), col(Coverage.policy_id).in_(sorted(policies)))
        .order_by(col(Coverage.member_id), col(Policy.period_start).desc(), col(Policy.id).desc())
    ).all()
    benefits = benefits_by_version(session, [p.product_version_id for p in policies.values()])
    shared: dict[tuple[Any, ...], MemberLine] = {}
    found: dict[int, list[MemberLine]] = {}
    for member_id, policy_id, start, end, status, waived in rows:
        key = (policy_id, start, end, status, waived)
        if key not in shared:
            policy = policies[policy_id]
            line = _line(policy, start, end, status, waived, benefits[policy.product_version_id], Decimal(1))
            shared[key] = MemberLine(policy, line)
        found.setdefault(member_id, []).append(shared[key])
    return found


def _cover_line(
    policy: Policy,
    line: Coverage | InsuredObject,
    benefits: tuple[eligibility.BenefitTerms, ...],
    units: Decimal = Decimal(1),
) -> eligibility.CoverLine:
    return _line(policy, line.cover_start, line.cover_end, line.status, line.waiting_waived, benefits, units)


def _line(
    policy: Policy,
    cover_start: date,
    cover_end: date,
    status: CoverStatus,
    waiting_waived: bool,
    benefits: tuple[eligibility.BenefitTerms, ...],
    units: Decimal,
) -> eligibility.CoverLine:
    return eligibility.CoverLine(
        policy_no=policy.policy_no,
        # Issued once is in force for the days it covered: a cancellation ends the lines, it does not void them.
        policy_in_force=policy.issued_at is not None,
        cover_start=cover_start,
        cover_end=cover_end,
        cancelled=status == CoverStatus.cancelled,
        waiting_waived=waiting_waived,
        benefits=benefits,
        units=units,
    )


def member_cover(session: Session, user: User, member_id: int, peril: str, on: date) -> eligibility.CoverAnswer:
    """The one answer claims rely on: covered or not for the peril on the date, by which policy and benefit, and
    what is left of the annual limit (nothing is paid yet: claims will pass what they paid). A member outside the
    user's register answers not-found; an insurer's answer considers its own policies only."""
    register_service.get_member(session, user, member_id)
    return eligibility.cover_for(member_cover_lines(session, member_id, user), peril, on, {})


def object_cover(session: Session, user: User, object_id: int, peril: str, on: date) -> eligibility.CoverAnswer:
    line = session.get(InsuredObject, object_id)
    policy = find_visible_policy(session, user, line.policy_id if line else None)
    if line is None or policy is None:
        raise CoverNotFoundError("保险标的不存在", code=CoverCode.object_not_found, field="object_id")
    benefits = benefits_by_version(session, [policy.product_version_id])[policy.product_version_id]
    return eligibility.cover_for([_cover_line(policy, line, benefits, Decimal(line.quantity))], peril, on, {})


@dataclass(frozen=True)
class MemberCoverRow:
    member: Member
    coverage: Coverage
    policy: Policy
    insurer_name: str
    product_name: str


def household_cover(
    session: Session, user: User, household: Household
) -> tuple[list[MemberCoverRow], list[tuple[InsuredObject, Policy]]]:
    """Every cover of a household's members and insured objects that the user may see (an insurer: its own
    policies' only), newest policy first. The household comes from register_service.get_household (the user's)."""
    rows = session.exec(
        scope_policies(
            select(Member, Coverage, Policy, Insurer.short_name, Product.name)
            .join(Coverage, col(Coverage.member_id) == Member.id)
            .join(Policy, col(Policy.id) == Coverage.policy_id)
            .join(Insurer, col(Insurer.id) == Policy.insurer_id)
            .join(Product, col(Product.code) == Policy.product_code)
            .where(Member.household_id == household.id),
            user,
        ).order_by(col(Policy.period_start).desc(), Member.relation != HEAD_RELATION, col(Member.birth_date))
    ).all()
    objects = session.exec(
        scope_policies(
            select(InsuredObject, Policy)
            .join(Policy, col(Policy.id) == InsuredObject.policy_id)
            .where(InsuredObject.household_id == household.id),
            user,
        ).order_by(col(Policy.period_start).desc())
    ).all()
    return (
        [MemberCoverRow(m, c, p, insurer, product) for m, c, p, insurer, product in rows],
        [(o, p) for o, p in objects],
    )


@dataclass(frozen=True)
class Standing:
    """Where a member stands on a day across the cover lines the user sees: covered, or why not (a CoverReason,
    labelled `cover_reason`), with the first day of a line that has not started yet."""

    reason: eligibility.CoverReason
    policy_no: str | None = None
    cover_start: date | None = None

    @property
    def covered(self) -> bool:
        return self.reason == eligibility.CoverReason.covered


# For a page read today, a line yet to start says more than one that ended; otherwise the cover answer's order.
_STANDING_RANK = [
    eligibility.CoverReason.not_started,
    eligibility.CoverReason.ended,
    eligibility.CoverReason.cancelled,
    eligibility.CoverReason.policy_not_in_force,
]


def _line_standing(line: eligibility.CoverLine, on: date) -> Standing:
    """The cover answer's checks before the peril (eligibility._answer_line): the household page asks about no
    peril, only whether the member has cover at all on the day."""
    if line.cancelled:
        return Standing(eligibility.CoverReason.cancelled, line.policy_no)
    if not line.policy_in_force:
        return Standing(eligibility.CoverReason.policy_not_in_force, line.policy_no, line.cover_start)
    if on < line.cover_start:
        return Standing(eligibility.CoverReason.not_started, line.policy_no, line.cover_start)
    if on > line.cover_end:
        return Standing(eligibility.CoverReason.ended, line.policy_no)
    return Standing(eligibility.CoverReason.covered, line.policy_no)


def household_standing(rows: list[MemberCoverRow], members: list[Member], on: date) -> dict[int, Standing]:
    """Each member's standing on `on`, from the rows household_cover found (the user's policies only), so a clerk sees
    why a member has no cover: none at all, not issued yet, not started (from when), ended or cancelled."""
    lines: dict[int, list[eligibility.CoverLine]] = {}
    for row in rows:
        lines.setdefault(row.member.id or 0, []).append(_cover_line(row.policy, row.coverage, ()))
    standing = {}
    for member in members:
        answers = [_line_standing(line, on) for line in lines.get(member.id or 0, [])]
        covering = [a for a in answers if a.covered]
        if covering:
            standing[member.id or 0] = covering[0]
        elif answers:
            standing[member.id or 0] = min(answers, key=lambda a: _STANDING_RANK.index(a.reason))
        else:
            standing[member.id or 0] = Standing(eligibility.CoverReason.no_cover)
    return standing
