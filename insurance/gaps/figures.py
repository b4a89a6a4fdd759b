"""A division's coverage figures on a date, summed from the cohorts (insurance.cover.counts keeps them exact).

Province and prefecture sum the county table (122 counties' cohorts); a county, township or village sums its
villages' cohorts. Nothing here reads a member row.
"""

from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from core.db import PROGRAMME_TZ
from core.models import User
from insurance.cover.models import CohortKind, CountyCoverageCohort, CoverageCohort
from insurance.gaps import service
from insurance.gaps.schemas import CoverageFigures, CoverageReport
from insurance.register import service as register_service
from insurance.register.models import Division, DivisionLevel

LAPSING_DAYS = 30


def end_of_day(on: date) -> datetime:
    """The first moment after `on` in Beijing: registered before it means registered by `on`."""
    return datetime.combine(on + timedelta(days=1), time(0), PROGRAMME_TZ)


def eligible_condition(exit_year: Any, monitored: Any, county: Any, on: date, kept: tuple[int, dict[str, int]]) -> Any:
    """insurance.cover.eligibility.household_eligible for the year of `on`, per county's terms, as SQL."""
    default, by_county = kept
    bound: Any = on.year - default
    if by_county:
        bound = sa.case({c: on.year - k for c, k in by_county.items()}, value=county, else_=on.year - default)
    return sa.or_(monitored == sa.true(), exit_year.is_(None), exit_year >= bound)


def _sums(table: Any, on: date, lapsing_days: int, kept: tuple[int, dict[str, int]]) -> list[Any]:
    c = table.c
    registered = sa.and_(c.registered_at < end_of_day(on), sa.or_(c.left_on.is_(None), c.left_on > on))
    eligible = eligible_condition(c.exit_year, c.monitored, c.county_code, on, kept)
    member = sa.and_(c.kind == CohortKind.member.value, registered)
    covered = sa.and_(c.kind == CohortKind.cover.value, registered, eligible, c.cover_start <= on, c.cover_end >= on)
    lapsing = sa.and_(covered, c.cover_end <= on + timedelta(days=lapsing_days), c.continued == sa.false())

    def total(condition: Any, label: str) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, c.members), else_=0)), 0).label(label)

    return [
        total(member, "members"),
        total(sa.and_(member, eligible), "eligible"),
        total(covered, "covered"),
        total(lapsing, "lapsing"),
    ]


def _grouped(
    session: Session, division: Division, on: date, lapsing_days: int, kept: tuple[int, dict[str, int]] | None = None
) -> tuple[dict[str, list[int]], int]:
    """{child code: [members, eligible, covered, lapsing]} and the child codes' length (`kept`: the division's
    exit_years_kept, when the caller has it)."""
    level = division.level
    code = service.prefix(division)
    county_level = level in (DivisionLevel.province, DivisionLevel.prefecture)
    table = (CountyCoverageCohort if county_level else CoverageCohort).__table__
    c = table.c
    place = c.county_code if county_level else c.village_code
    if level == DivisionLevel.village:
        child_length = 12
        where = c.village_code == division.code
    else:
        child_length = {
            DivisionLevel.province: 4,
            DivisionLevel.prefecture: 6,
            DivisionLevel.county: 9,
            DivisionLevel.township: 12,
        }[level]
        where = c.county_code == code if level == DivisionLevel.county else place.startswith(code, autoescape=True)
    if kept is None:
        kept = service.exit_years_kept(session, division_counties(division), on.year)
    child = sa.func.substr(place, 1, child_length).label("child")
    query = sa.select(child, *_sums(table, on, lapsing_days, kept)).where(where).group_by(child)
    rows = session.connection().execute(query).all()
    return {row.child: [int(v) for v in row[1:]] for row in rows}, child_length


def division_counties(division: Division) -> list[str] | None:
    """The county whose terms apply in the division (a county or below), or None: every county's."""
    code = service.prefix(division)
    return [code[:6]] if len(code) >= 6 else None


def uncovered_count(session: Session, division: Division, on: date, kept: tuple[int, dict[str, int]]) -> int:
    """The division's gap on `on` as its report gives it (eligible less covered), summed from the cohorts: the count
    of its uncovered list, without reading a member row."""
    grouped, _ = _grouped(session, division, on, LAPSING_DAYS, kept)
    return sum(values[1] - values[2] for values in grouped.values())


def _figures(division: Division, values: list[int]) -> CoverageFigures:
    members, eligible, covered, lapsing = values
    return CoverageFigures(
        code=division.code,
        name=division.name,
        level=division.level.value,
        members=members,
        eligible=eligible,
        covered=covered,
        uncovered=eligible - covered,
        lapsing=lapsing,
    )


def coverage_report(
    session: Session, user: User, code: str, on: date, *, lapsing_days: int = LAPSING_DAYS
) -> CoverageReport:
    """The division's figures on `on`, with the same figures for each child division (none for a village)."""
    division = service.get_division(session, user, code)
    grouped, child_length = _grouped(session, division, on, lapsing_days)
    totals = [sum(values[i] for values in grouped.values()) for i in range(4)]
    children = []
    if division.level != DivisionLevel.village:
        for child in register_service.list_children(session, division):
            values = grouped.get(child.code[:child_length], [0, 0, 0, 0])
            if child.valid_to is not None and child.valid_to <= on and not any(values):
                continue  # a division abolished by then (怀化地区 before 1998) with nobody left under its code
            children.append(_figures(child, values))
    figures = _figures(division, totals)
    return CoverageReport(**figures.model_dump(), on=on, children=children)
