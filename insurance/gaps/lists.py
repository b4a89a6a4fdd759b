"""The members behind the figures: the uncovered eligible members with their reason, and the members who are not a
gap (not eligible, dead, moved out), paged, ordered by village and household, ID numbers masked; and their XLSX.

The conditions mirror the cohorts' (insurance.cover.counts) exactly; the uncovered list's count (no reason asked)
is the report's `uncovered`, summed from the cohorts. The reason is one SQL CASE in the order of
reasons.GAP_PRECEDENCE, computed for the page's rows only: over a county's rows its subqueries would each hash a
province's cover (measured: a page of a county took 0.8-1.5 s at 500,000 members, the page itself 10 ms).
A page walks the division's households in order through the village-code index (a range of codes, so that the scan
starts at the division's first village) and stops once it has the page.
"""

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from core.db import PROGRAMME_TZ
from core.masking import mask_id_number
from core.models import User
from insurance.cover.models import (
    Coverage,
    CoverConflict,
    CoverStatus,
    Enrolment,
    EnrolmentStatus,
    Policy,
    PolicyStatus,
    ProductKind,
)
from insurance.gaps import service
from insurance.gaps.figures import division_counties, eligible_condition, end_of_day, uncovered_count
from insurance.gaps.reasons import (
    GAP_PRECEDENCE,
    GAP_REASON_LABELS,
    NOT_ELIGIBLE_REASON_LABELS,
    GapReason,
    NotEligibleReason,
)
from insurance.gaps.schemas import GapMember
from insurance.register.models import Division, DivisionLevel, Household, Member, MemberStatus

EXPORT_HEADERS = ("证件号码", "姓名", "户编号", "村代码", "原因")

member, household = Member.__table__, Household.__table__
coverage, policy, conflict, enrolment = (
    Coverage.__table__,
    Policy.__table__,
    CoverConflict.__table__,
    Enrolment.__table__,
)


def _in_division(division: Division) -> Any:
    """The division's households as a range of village codes (the index's order), not a LIKE or the county code:
    the page's scan then starts at the division's first village instead of filtering the province's."""
    if division.level == DivisionLevel.village:
        return household.c.village_code == division.code
    code = service.prefix(division)
    following = str(int(code) + 1).zfill(len(code))  # codes are digits: the first code after the division's
    return sa.and_(household.c.village_code >= code, household.c.village_code < following)


def _registered(on: date) -> Any:
    """On the register on `on`: registered by then, not dead, moved or removed by then, household not removed."""
    return sa.and_(
        member.c.created_at < end_of_day(on),
        sa.or_(member.c.status == MemberStatus.active.value, member.c.status_date > on),
        sa.or_(household.c.removed_on.is_(None), household.c.removed_on > on),
    )


def _eligible(division: Division, on: date, kept: tuple[int, dict[str, int]]) -> Any:
    monitored = sa.case((household.c.monitor_category.is_(None), sa.false()), else_=sa.true())
    return eligible_condition(household.c.exit_year, monitored, household.c.county_code, on, kept)


def _family_line(*conditions: Any) -> Any:
    """Some family cover line of the member (the outer query's) meets the conditions."""
    return sa.exists(
        sa.select(1)
        .select_from(coverage.join(policy, policy.c.id == coverage.c.policy_id))
        .where(coverage.c.member_id == member.c.id, policy.c.kind == ProductKind.family.value, *conditions)
    )


def _covered(on: date) -> Any:
    """A line of an issued family policy in force on `on` (the cohorts' cover rows)."""
    return _family_line(
        policy.c.issued_at.is_not(None),
        coverage.c.status.in_([CoverStatus.active.value, CoverStatus.ended.value]),
        coverage.c.cover_start <= on,
        coverage.c.cover_end >= on,
    )


def _registered_after_enrolment(session: Session, division: Division, on: date) -> Any:
    """Registered after the last enrolment run of the county's family policy for the year (the division's counties
    only): on a later day than the run's date, or that same day after the run began (the run reads the register as
    it stands when it starts)."""
    rows = session.connection().execute(
        sa.select(
            policy.c.county_code,
            enrolment.c.enrolled_on,
            sa.func.coalesce(enrolment.c.started_at, enrolment.c.created_at),
        )
        .select_from(enrolment.join(policy, policy.c.id == enrolment.c.policy_id))
        .where(
            policy.c.kind == ProductKind.family.value,
            policy.c.year == on.year,
            policy.c.status != PolicyStatus.cancelled.value,
            enrolment.c.status == EnrolmentStatus.done.value,
            policy.c.county_code.startswith(service.prefix(division)[:6], autoescape=True),
        )
    )
    last: dict[str, tuple[date, Any]] = {}
    for county, day, began in rows:
        if county not in last or (day, began) > last[county]:
            last[county] = (day, began)
    if not last:
        return sa.false()
    return sa.or_(
        *(
            sa.and_(
                household.c.county_code == county,
                sa.or_(
                    # the next Beijing midnight in UTC: SQLite keeps the UTC wall clock without its offset
                    member.c.created_at
                    >= datetime.combine(day + timedelta(days=1), time(0), PROGRAMME_TZ).astimezone(UTC),
                    member.c.created_at > began,
                ),
            )
            for county, (day, began) in last.items()
        )
    )


def _reason_facts(session: Session, division: Division, on: date) -> dict[GapReason, Any]:
    """Each gap reason's fact as a condition on the member and household rows (reasons.GapFacts' flags)."""
    year = policy.c.year == on.year
    return {
        GapReason.double_cover_conflict: sa.exists(
            sa.select(1)
            .select_from(conflict.join(policy, policy.c.id == conflict.c.policy_id))
            .where(conflict.c.member_id == member.c.id, conflict.c.status == "open", year)
        ),
        GapReason.policy_not_issued: _family_line(
            year,
            coverage.c.status != CoverStatus.cancelled.value,
            sa.or_(
                policy.c.status == PolicyStatus.draft.value,
                sa.and_(policy.c.status == PolicyStatus.issued.value, coverage.c.cover_start > on),
            ),
        ),
        GapReason.cancelled: _family_line(
            year,
            sa.or_(coverage.c.status == CoverStatus.cancelled.value, coverage.c.end_reason == "policy_cancelled"),
        ),
        GapReason.lapsed: _family_line(
            policy.c.issued_at.is_not(None),
            coverage.c.status.in_([CoverStatus.active.value, CoverStatus.ended.value]),
            coverage.c.cover_end < on,
        ),
        GapReason.household_incomplete: household.c.is_incomplete == sa.true(),
        GapReason.registered_after_enrolment: _registered_after_enrolment(session, division, on),
    }


def _reason_expression(session: Session, division: Division, on: date) -> Any:
    facts = _reason_facts(session, division, on)
    whens = [(facts[r], r.value) for r in GAP_PRECEDENCE if r in facts]
    return sa.case(*whens, else_=GapReason.never_enrolled.value)


def _not_eligible_reason(on: date) -> Any:
    gone = sa.or_(member.c.status_date.is_(None), member.c.status_date <= on)
    return sa.case(
        (sa.and_(member.c.status == MemberStatus.deceased.value, gone), NotEligibleReason.deceased.value),
        (sa.and_(member.c.status == MemberStatus.moved_out.value, gone), NotEligibleReason.moved_out.value),
        else_=NotEligibleReason.not_eligible.value,
    )


def _query(
    session: Session, division: Division, on: date, which: str, kept: tuple[int, dict[str, int]]
) -> tuple[Any, Any]:
    """(the SELECT of the list's rows with a `reason` column, the reason expression); `kept`: exit_years_kept."""
    source = member.join(household, household.c.id == member.c.household_id)
    eligible = _eligible(division, on, kept)
    if which == "uncovered":
        reason = _reason_expression(session, division, on)
        where = sa.and_(_in_division(division), _registered(on), eligible, ~_covered(on))
    else:
        reason = _not_eligible_reason(on)
        gone = sa.and_(
            member.c.status.in_([MemberStatus.deceased.value, MemberStatus.moved_out.value]),
            sa.or_(member.c.status_date.is_(None), member.c.status_date <= on),
            sa.or_(household.c.removed_on.is_(None), household.c.removed_on > on),
        )
        where = sa.and_(
            _in_division(division),
            member.c.created_at < end_of_day(on),
            sa.or_(sa.and_(_registered(on), ~eligible), gone),
        )
    query = sa.select(
        member.c.id_number,
        member.c.name,
        household.c.household_no,
        household.c.village_code,
        reason.label("reason"),
    ).select_from(source)
    return query.where(where), reason


def list_members(
    session: Session,
    user: User,
    code: str,
    on: date,
    which: str,
    *,
    reason: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[GapMember], int]:
    """A page of the uncovered (`which` "uncovered") or the not-eligible members of the division, and their count."""
    division = service.get_division(session, user, code)
    kept = service.exit_years_kept(session, division_counties(division), on.year)
    query, expression = _query(session, division, on, which, kept)
    connection = session.connection()
    if reason:
        query = query.where(expression == reason)
        count = connection.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    elif which == "uncovered":
        count = uncovered_count(session, division, on, kept)
    else:
        counted = query.with_only_columns(member.c.id)
        count = connection.execute(sa.select(sa.func.count()).select_from(counted.subquery())).scalar_one()
    if offset >= count:  # the count is exact: past it there is no row (a county all covered is not walked)
        return [], int(count)
    # The page's members first, in order, without their reason (unless asked for by it); then their reasons.
    page = (
        query.with_only_columns(member.c.id.label("member_id"), household.c.village_code, household.c.household_no)
        .order_by(household.c.village_code, household.c.household_no, member.c.id)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    rows = connection.execute(
        sa.select(
            member.c.id_number,
            member.c.name,
            household.c.household_no,
            household.c.village_code,
            expression.label("reason"),
        )
        .select_from(
            page.join(member, member.c.id == page.c.member_id).join(household, household.c.id == member.c.household_id)
        )
        .order_by(page.c.village_code, page.c.household_no, page.c.member_id)
    ).all()
    return [_entry(row) for row in rows], int(count)


def _entry(row: Any) -> GapMember:
    return GapMember(
        id_number_masked=mask_id_number(row.id_number),
        name=row.name,
        household_no=row.household_no,
        village_code=row.village_code,
        reason=row.reason,
    )


def iter_members(session: Session, user: User, code: str, on: date, which: str, reason: str | None) -> Iterator[Any]:
    """Every row of the list, in order, for an export."""
    division = service.get_division(session, user, code)
    kept = service.exit_years_kept(session, division_counties(division), on.year)
    query, expression = _query(session, division, on, which, kept)
    if reason:
        query = query.where(expression == reason)
    ordered = query.order_by(household.c.village_code, household.c.household_no, member.c.id)
    yield from session.connection().execution_options(yield_per=2000).execute(ordered)


def write_xlsx(target: Path, rows: Iterable[Any], which: str) -> None:
    """The list as XLSX with Chinese headers and reasons; ID numbers masked as on the page."""
    from openpyxl import Workbook

    labels = GAP_REASON_LABELS if which == "uncovered" else NOT_ELIGIBLE_REASON_LABELS
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("未参保人员" if which == "uncovered" else "非缺口人员")
    sheet.append(list(EXPORT_HEADERS))
    for row in rows:
        sheet.append([mask_id_number(row.id_number), row.name, row.household_no, row.village_code, labels[row.reason]])
    workbook.save(target)
