"""Enrolment of a county as set-based SQL (INSERT ... SELECT per range of townships).

Why: a county of 100,000 members enrols in seconds; the dates it writes come from the pure rules in
eligibility.py, and members already covered by another policy are recorded as conflicts, not covered twice.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select

from core import audit
from core.audit import Actor
from core.db import PROGRAMME_TZ, local_date, utcnow
from insurance.cover import counts as cohort_counts
from insurance.cover import eligibility, outbox, premiums
from insurance.cover.catalogue import cover_terms, subsidy_shares
from insurance.cover.errors import CoverCode, CoverNotFoundError
from insurance.cover.models import (
    Coverage,
    CoverConflict,
    CoverStatus,
    Enrolment,
    EnrolmentStatus,
    Policy,
    PolicyStatus,
    ProductVersion,
)
from insurance.cover.policies import check_enrollable, clashing_policy_ids
from insurance.register.models import Division, DivisionLevel, Household, Member, MemberStatus

# SQLAlchemy keeps the driver's row count only for UPDATE and DELETE unless asked; INSERT ... SELECT needs it too.
ROWCOUNT = {"preserve_rowcount": True}

ProgressFn = Callable[[int, int, int], None]  # (townships done, townships in all, members added so far)


def _beijing_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), PROGRAMME_TZ)


def enrol_county(session: Session, enrolment_id: int, *, progress: ProgressFn | None = None) -> Enrolment:
    """Puts every eligible active member of the policy's county on it, in one transaction.

    Idempotent: a member already on the policy is skipped, so a rerun adds only members new to the register.
    A member another live policy already covers for the same risk is left off and recorded as a conflict for
    review, naming that policy. Cover dates follow eligibility.enrolment_start, computed once per registration
    day (members imported together share it) rather than per row.

    How, a few neighbouring townships per statement (bench/enrol.py measures it on a province of 4.45 million
    members against a bare INSERT ... SELECT of the same rows): a first pass adds everyone registered before the
    period and counts the eligible members, their households and those registered during the period, with one
    index probe per member of its existing cover (on this policy, or on a clashing one); on PostgreSQL adding and
    counting are one statement. A second pass, only if someone registered during the period, adds them per
    registration day. Only when someone eligible was left out does it search for conflicts (another probe per
    member) and recount the policy's members and households; otherwise the first pass's counts are the totals.
    """
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise CoverNotFoundError("参保记录不存在", code=CoverCode.enrolment_not_found, field="id")
    policy = session.get(Policy, enrolment.policy_id)
    assert policy is not None  # a foreign key
    check_enrollable(policy)
    actor = Actor(name=enrolment.actor, user_id=enrolment.actor_user_id)  # who asked for it, recorded with it
    enrolment.status = EnrolmentStatus.running
    enrolment.started_at = enrolment.started_at or utcnow()
    version = session.get(ProductVersion, policy.product_version_id)
    assert version is not None
    terms = cover_terms(version)
    clashing_ids = clashing_policy_ids(session, policy)
    previous_ids = _previous_year_policy_ids(session, policy)
    county_code = policy.county_code.ljust(12, "0")
    townships = list(
        session.exec(
            select(Division.code)
            .where(Division.parent_code == county_code, Division.level == DivisionLevel.township)
            .order_by(col(Division.code))
        ).all()
    )
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Each statement runs for milliseconds; compiling it (JIT, tens of milliseconds) would cost far more, and
        # PostgreSQL does so whenever its estimates for a large township cross jit_above_cost.
        connection.exec_driver_sql("SET LOCAL jit = off")
    member, household, coverage = Member.__table__, Household.__table__, Coverage.__table__
    exit_bound = eligibility.latest_eligible_exit_year(policy.year, terms.cover_after_exit_years)
    eligible_household = sa.and_(
        household.c.removed_on.is_(None),
        sa.or_(
            household.c.exit_year.is_(None),
            household.c.exit_year >= exit_bound,
            household.c.monitor_category.is_not(None),
        ),
    )
    active = sa.and_(household.c.county_code == policy.county_code, member.c.status == MemberStatus.active.value)
    eligible = sa.and_(active, eligible_household)
    in_township = household.c.village_code.between(sa.bindparam("low"), sa.bindparam("high"))
    source = member.join(household, household.c.id == member.c.household_id)
    mine = coverage.c.policy_id == policy.id
    live = coverage.c.status != CoverStatus.cancelled.value
    clashing = _among(connection, coverage.c.policy_id, clashing_ids)
    previous = _among(connection, coverage.c.policy_id, previous_ids)

    def taken(member_id: Any) -> sa.ColumnElement[bool]:
        """One probe of the member's cover: already on this policy, or covered elsewhere for the same risk."""
        return _probe(member_id, sa.or_(mine, sa.and_(clashing, live)))

    def cover_rows(start: eligibility.EnrolmentStart, member_id: Any) -> sa.Select[Any]:
        renewed = (
            _probe(member_id, sa.and_(previous, live, coverage.c.cover_end >= policy.period_start - timedelta(days=1)))
            if previous_ids
            else sa.false()
        )
        return sa.select(
            member_id,
            sa.literal(policy.id),
            sa.literal(start.cover_start),
            sa.literal(policy.period_end),
            sa.true() if start.waiting_waived else renewed,  # a member covered last year has no waiting period
            sa.literal(CoverStatus.active.value),
            sa.literal(enrolment.id),
        )

    def group_statement(start: eligibility.EnrolmentStart | None, registered: Any) -> sa.Executable:
        """Adds the township's eligible members registered as `registered` says, unless taken (or counts them)."""
        who = sa.and_(eligible, in_township, registered, ~taken(member.c.id))
        if start is None:  # the period is over before their cover could start
            return sa.select(sa.func.count()).select_from(source).where(who)
        return coverage.insert().from_select(
            _COVER_COLUMNS, cover_rows(start, member.c.id).select_from(source).where(who)
        )

    # Whether the policy covered anyone before this run: if not, and everyone eligible is added, the first pass's
    # counts are the policy's totals.
    covered_before = connection.execute(sa.select(sa.exists().where(mine, live))).scalar_one()
    boundary = _beijing_midnight(policy.period_start)
    registered_before = member.c.created_at < boundary
    before = eligibility.enrolment_start(
        period_start=policy.period_start,
        period_end=policy.period_end,
        registered_on=policy.period_start - timedelta(days=1),
        enrolled_on=enrolment.enrolled_on,
        terms=terms,
    )
    later = sa.case((registered_before, 0), else_=1)  # registered during the period: for the second pass
    if connection.dialect.name == "postgresql":
        # One statement per township: the eligible members with their flags, those free added, all counted.
        candidates = (
            sa.select(
                member.c.id.label("member_id"),
                member.c.household_id.label("household_id"),
                later.label("later"),
                sa.case((sa.and_(registered_before, ~taken(member.c.id)), 1), else_=0).label("free"),
            )
            .select_from(source)
            .where(eligible, in_township)
            .cte("candidates")
        )
        # The free ones are added (a data-modifying CTE runs once, to completion, read or not) or too late.
        counting = sa.select(
            sa.func.sum(candidates.c.free), *_township_counts(candidates.c.household_id, candidates.c.later)
        ).select_from(candidates)
        if before is not None:
            rows = cover_rows(before, candidates.c.member_id).where(candidates.c.free == 1)
            counting = counting.add_cte(coverage.insert().from_select(_COVER_COLUMNS, rows).cte("added"))
        first_pass: list[sa.Executable] = [counting]
    else:
        counting = sa.select(*_township_counts(member.c.household_id, later)).select_from(source)
        first_pass = [counting.where(eligible, in_township), group_statement(before, registered_before)]
    ranges = _township_ranges(county_code, townships)
    counts = _Counts()
    added = too_late = conflicts = done = 0
    for low, high, number in ranges:
        township = {"low": low, "high": high}
        if len(first_pass) == 1:
            settled_here, *township_counts = connection.execute(first_pass[0], township).one()
        else:
            township_counts = list(connection.execute(first_pass[0], township).one())
            settled_here = _settle(connection, first_pass[1], township, counting=before is None)
        counts.add(*township_counts)
        if before is None:
            too_late += int(settled_here or 0)
        else:
            added += int(settled_here or 0)
        done += number
        if progress:
            progress(done, len(townships) or 1, added)
    if counts.later:
        # The second pass: members registered during the period, whose start depends on their registration day.
        later_days = connection.execute(
            sa.select(member.c.created_at).distinct().select_from(source).where(eligible, ~registered_before)
        ).scalars()
        groups: dict[eligibility.EnrolmentStart | None, list[Any]] = {}
        for registered_at in later_days:
            start = eligibility.enrolment_start(
                period_start=policy.period_start,
                period_end=policy.period_end,
                registered_on=local_date(registered_at),
                enrolled_on=enrolment.enrolled_on,
                terms=terms,
            )
            groups.setdefault(start, []).append(member.c.created_at == registered_at)
        second_pass = [(start, group_statement(start, sa.or_(*days))) for start, days in groups.items()]
        for low, high, _ in ranges:
            for start, statement in second_pass:
                count = _settle(connection, statement, {"low": low, "high": high}, counting=start is None)
                if start is None:
                    too_late += count
                else:
                    added += count
        if progress:
            progress(done, done, added)
    # Everyone eligible added or found too late: no one was on the policy already or covered elsewhere, so there is
    # no conflict to look for (the search costs another probe per member) and nothing to recount.
    everyone = added + too_late == counts.eligible
    if clashing_ids and not everyone:
        for low, high, _ in ranges:
            conflicts += _record_conflicts(
                connection,
                sa.and_(eligible, in_township),
                {"low": low, "high": high},
                sa.exists().where(coverage.c.member_id == member.c.id, mine),
                clashing_ids,
                policy,
                enrolment,
            )
    if everyone and not too_late and not covered_before:
        totals = _Totals(added, counts.households)
    else:
        totals = policy_totals(connection, policy)
    ineligible = connection.execute(
        sa.select(sa.func.count()).select_from(source).where(active, sa.not_(eligible_household))
    ).scalar_one()
    households_before = policy.households_count
    apply_totals(policy, version, totals)
    enrolment.added = added
    enrolment.households_added = policy.households_count - households_before
    enrolment.already_enrolled = policy.members_count - added
    enrolment.too_late = too_late
    enrolment.double_cover = conflicts
    enrolment.ineligible = ineligible
    enrolment.status = EnrolmentStatus.done
    enrolment.finished_at = utcnow()
    if added and policy.status == PolicyStatus.issued:
        _request_certificates_for_enrolment(connection, enrolment.id or 0, policy, reason="enrolled")
    # The coverage figures change with the cover (the statistics too, when it added many rows: see the recount).
    cohort_counts.recount(connection, counties=[policy.county_code], cover_rows_changed=added)
    session.add(enrolment)
    session.add(policy)
    audit.record(
        session,
        actor,
        enrolment.kind,
        "policy",
        policy.policy_no,
        after={
            "enrolment_id": enrolment.id,
            "enrolled_on": enrolment.enrolled_on,
            "added": added,
            "households_added": enrolment.households_added,
            "double_cover": conflicts,
            "ineligible": ineligible,
            "too_late": too_late,
            "members": policy.members_count,
            "premium_fen": policy.premium_fen,
        },
    )
    session.commit()
    return enrolment


TOWNSHIPS_PER_STATEMENT = 8  # fewer statements (each costs about a millisecond to plan and start), none huge


def _township_ranges(county_code: str, townships: list[str]) -> list[tuple[str, str, int]]:
    """Village-code ranges (low, high, how many townships) to enrol a county by: up to TOWNSHIPS_PER_STATEMENT
    townships with consecutive codes each (so a range holds no village of a township not on record), or the whole
    county when it has no township on record."""
    ranges: list[tuple[str, str, int]] = []
    for code in (t[:9] for t in townships):
        if ranges and ranges[-1][2] < TOWNSHIPS_PER_STATEMENT and int(code) == int(ranges[-1][1][:9]) + 1:
            low, _, number = ranges[-1]
            ranges[-1] = (low, code + "999", number + 1)
        else:
            ranges.append((code + "000", code + "999", 1))
    return ranges or [(county_code, county_code[:6] + "999999", 1)]


_COVER_COLUMNS = ["member_id", "policy_id", "cover_start", "cover_end", "waiting_waived", "status", "enrolment_id"]


@dataclass
class _Counts:
    """A county's eligible active members in its townships, as the first pass of enrol_county counts them."""

    eligible: int = 0
    households: int = 0  # households with an eligible member (a household lies in one village, so in one township)
    later: int = 0  # eligible members registered on or after the period start: the second pass enrols them

    def add(self, eligible: int | None, households: int | None, later: int | None) -> None:
        self.eligible += int(eligible or 0)
        self.households += int(households or 0)
        self.later += int(later or 0)


def _township_counts(household_id: Any, later: Any) -> list[Any]:
    """The columns _Counts.add takes, over a township's eligible members (`later` is 1 for those registered during
    the period)."""
    return [sa.func.count(), sa.func.count(sa.distinct(household_id)), sa.func.sum(later)]


def _probe(member_id: Any, condition: sa.ColumnElement[bool]) -> sa.Exists:
    """Whether the member has a coverage row meeting `condition`: one probe of the member's index, whatever the
    planner's statistics say. PostgreSQL would otherwise plan some of these, when it believes coverage small (stale
    statistics, or a generic plan of the driver's prepared statement), as one hash of every matching coverage row
    built afresh by each township's statement, or as one index descent per policy of the condition; either way the
    province's enrolment then grows with every county already enrolled (measured: 270 s instead of 3 s for 200,000
    members). So the condition is hidden from index matching inside a CASE, and `OFFSET 0` keeps the EXISTS from
    being hashed. (`<> 0`, not `= 1`: the planner guesses that few rows pass an `=`, which makes each probe look a
    hundred times dearer than it is.)"""
    coverage = Coverage.__table__
    return (
        sa.select(sa.literal(1))
        .select_from(coverage)
        .where(coverage.c.member_id == member_id, sa.case((condition, 1), else_=0) != 0)
        .offset(0)
        .exists()
    )


def _settle(connection: sa.Connection, statement: sa.Executable, params: dict[str, str], *, counting: bool) -> int:
    """Runs one group's statement: the members it added, or (a count of those too late) the members it counted."""
    if counting:
        return int(connection.execute(statement, params).scalar_one())
    return connection.execute(statement, params, execution_options=ROWCOUNT).rowcount


def _among(connection: sa.Connection, column: sa.ColumnElement[Any], ids: list[int]) -> sa.ColumnElement[bool]:
    """`column IN ids`. On PostgreSQL as one parameter, the array's text: a province has 121 other policies, and 121
    parameters made each township's statement too long for the driver's query cache (parsed anew every time), while
    a list parameter is adapted element by element on every execution."""
    if not ids:
        return sa.false()
    if connection.dialect.name == "postgresql":
        literal = "{" + ",".join(str(i) for i in ids) + "}"
        return column == sa.any_(sa.cast(sa.bindparam(None, literal, type_=sa.String), postgresql.ARRAY(sa.Integer)))
    return column.in_(ids)


def _previous_year_policy_ids(session: Session, policy: Policy) -> list[int]:
    """Live policies of the same product that ran up to the day before this one starts (renewal: no waiting)."""
    day_before = policy.period_start - timedelta(days=1)
    rows = session.exec(
        select(Policy.id).where(
            Policy.product_code == policy.product_code,
            Policy.status != PolicyStatus.cancelled,
            Policy.period_end >= day_before,
            Policy.period_start < policy.period_start,
        )
    ).all()
    return [r for r in rows if r is not None]


def _record_conflicts(
    connection: sa.Connection,
    in_township: sa.ColumnElement[bool],
    township: dict[str, str],
    on_this_policy: sa.ColumnElement[bool],
    clashing_ids: list[int],
    policy: Policy,
    enrolment: Enrolment,
) -> int:
    """Records, once, each eligible member of the townships given left off because a clashing policy covers them;
    returns how many this run recorded."""
    member, household, coverage = Member.__table__, Household.__table__, Coverage.__table__
    conflict = CoverConflict.__table__
    already = sa.exists().where(conflict.c.member_id == member.c.id, conflict.c.policy_id == policy.id)
    # The clashing policy with the lowest id, looked up through the member's index (see _probe): never a join that
    # the planner could turn into a hash of every clashing policy's rows. `+ 0`: PostgreSQL answers a bare MIN of
    # policy_id by walking the (policy_id, member_id) key in order, which for one member is the whole index.
    clashing = sa.and_(
        _among(connection, coverage.c.policy_id, clashing_ids), coverage.c.status != CoverStatus.cancelled.value
    )
    other = (
        sa.select(sa.func.min(coverage.c.policy_id + 0))
        .where(coverage.c.member_id == member.c.id, sa.case((clashing, 1), else_=0) != 0)
        .scalar_subquery()
    )
    rows = (
        sa.select(
            member.c.id,
            sa.literal(policy.id),
            other,
            sa.literal(enrolment.id),
            sa.literal("open"),
            sa.literal(utcnow(), sa.DateTime(timezone=True)),
        )
        .select_from(member.join(household, household.c.id == member.c.household_id))
        .where(in_township, ~on_this_policy, ~already, other.is_not(None))
    )
    result = connection.execute(
        conflict.insert().from_select(
            ["member_id", "policy_id", "other_policy_id", "enrolment_id", "status", "created_at"], rows
        ),
        township,
        execution_options=ROWCOUNT,
    )
    return result.rowcount


@dataclass(frozen=True)
class _Totals:
    members: int
    households: int


def policy_totals(connection: sa.Connection, policy: Policy) -> _Totals:
    member, coverage = Member.__table__, Coverage.__table__
    row = connection.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(member.c.household_id)))
        .select_from(coverage.join(member, member.c.id == coverage.c.member_id))
        .where(coverage.c.policy_id == policy.id, coverage.c.status != CoverStatus.cancelled.value)
    ).one()
    return _Totals(int(row[0]), int(row[1]))


def apply_totals(policy: Policy, version: ProductVersion, totals: _Totals) -> None:
    """A group premium: per person and per household, no pro-rating; who pays which part, to the fen."""
    policy.members_count = totals.members
    policy.households_count = totals.households
    policy.premium_fen = premiums.group_premium(
        totals.members,
        totals.households,
        per_person_fen=policy.premium_per_person_fen,
        per_household_fen=policy.premium_per_household_fen,
    )
    split = premiums.split_premium(policy.premium_fen, subsidy_shares(version))
    policy.subsidy_central_fen = split.central_fen
    policy.subsidy_provincial_fen = split.provincial_fen
    policy.subsidy_county_fen = split.county_fen
    policy.farmer_share_fen = split.farmer_fen


def _request_certificates_for_enrolment(
    connection: sa.Connection, enrolment_id: int, policy: Policy, reason: str
) -> None:
    member, coverage = Member.__table__, Coverage.__table__
    outbox.request_certificates(
        connection,
        sa.select(member.c.household_id)
        .distinct()
        .select_from(coverage.join(member, member.c.id == coverage.c.member_id))
        .where(coverage.c.policy_id == policy.id, coverage.c.enrolment_id == enrolment_id),
        policy.id or 0,
        reason,
    )
