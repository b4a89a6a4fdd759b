"""The coverage-gap story of shared/data/claims (copied in tests/data/coverage_story), built through the real
services with the story's dates: the register imported on 2025-11-20, the 2026 family policy of 溆浦县 (431224)
enrolled that day, noticed and issued on 2025-12-01, six deaths on 2026-02-20, new households of 431224 registered
on 2026-04-01, and a 2026 policy of 433123 enrolled but never issued."""

import gzip
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.models import Role, User
from insurance.cover import counts, lifecycle
from insurance.cover.models import Policy
from insurance.register.models import Member
from tests.builders import make_user
from tests.cover_builders import (
    Cast,
    enrol,
    fetch,
    make_cast,
    make_group_policy,
    post_all_notices,
    settle,
)
from tests.imports.builders import import_file

DATA = Path(__file__).resolve().parent / "data" / "coverage_story"
ANSWERS: dict[str, Any] = json.loads((DATA / "gaps.answers.json").read_text(encoding="utf-8"))
ON = date.fromisoformat(ANSWERS["on"])
XUPU, OTHER, DRAFT_COUNTY = "431224", "433130", "433123"
IMPORTED = date(2025, 11, 20)
ISSUED = date(2025, 12, 1)
DIED = date(2026, 2, 20)
JOINED = date(2026, 4, 1)


def beijing_morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 1, tzinfo=UTC)  # 09:00 in Beijing


@dataclass
class Story:
    cast: Cast
    xupu: User  # 溆浦县's county office
    other: User  # 433130's county office
    policy: Policy  # 431224's 2026 family policy, issued
    draft: Policy  # 433123's 2026 family policy, enrolled, never issued


def date_registration(engine: Engine, id_numbers: list[str] | None, day: date) -> None:
    """Dates the members' registration (the importer stamps the wall clock) and recounts the cohorts, as an import on
    that day would have left them: setting created_at by hand is a test device, not a writer of the register."""
    member = Member.__table__
    query = sa.update(member).values(created_at=beijing_morning(day))
    if id_numbers is not None:
        query = query.where(member.c.id_number.in_(id_numbers))
    with engine.begin() as connection:
        connection.execute(query)
        counts.recount_all(connection)


def roster_ids(name: str) -> list[str]:
    import csv

    with (DATA / name).open(encoding="utf-8-sig", newline="") as handle:
        return [row["证件号码"] for row in csv.DictReader(handle)]


def import_roster(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    with gzip.open(DATA / "roster.csv.gz", "rb") as source, path.open("wb") as target:
        shutil.copyfileobj(source, target)
    outcome = import_file(engine, path)
    assert outcome.applied and outcome.counts.rejected == 0, outcome
    date_registration(engine, None, IMPORTED)


def enrolled_policy(session: Session, cast: Cast, county: str) -> Policy:
    policy = make_group_policy(session, cast.handler, county=county)
    enrol(session, policy, on=IMPORTED)
    settle(session)
    fresh = session.get(Policy, policy.id)
    assert fresh is not None
    return fresh


def issue_xupu(session: Session, cast: Cast, policy: Policy) -> Policy:
    post_all_notices(session, cast.supervisor, policy, posted_on=IMPORTED)
    return lifecycle.issue_policy(session, cast.supervisor, policy.policy_no, ISSUED)


def import_deaths(engine: Engine) -> None:
    outcome = import_file(engine, DATA / "deaths.csv")
    assert outcome.applied and outcome.counts.rejected == 0 and outcome.counts.deceased == 6, outcome


def import_new_members(engine: Engine) -> None:
    outcome = import_file(engine, DATA / "new_members.csv")
    assert outcome.applied and outcome.counts.rejected == 0, outcome
    date_registration(engine, roster_ids("new_members.csv"), JOINED)


def build_story(session: Session, engine: Engine, tmp_path: Path) -> Story:
    cast = make_cast(session, county=XUPU)
    xupu = make_user(session, Role.county_office, username="xupu", county=XUPU)
    other = make_user(session, Role.county_office, username="other-county", county=OTHER)
    import_roster(engine, tmp_path)
    policy = issue_xupu(session, cast, enrolled_policy(session, cast, XUPU))
    draft = enrolled_policy(session, cast, DRAFT_COUNTY)
    import_deaths(engine)
    import_new_members(engine)
    settle(session)
    return Story(cast, xupu, other, policy, draft)


def naive_figures(engine: Engine, county: str | None, on: date) -> dict[str, int]:
    """The figures straight from the rows, for the exit-year rule of the story (cover_after_exit_years 0)."""
    end = datetime.combine(on + timedelta(days=1), time(0), timezone(timedelta(hours=8)))  # midnight in Beijing
    if engine.dialect.name == "sqlite":  # stored as naive UTC text
        end = end.astimezone(UTC).replace(tzinfo=None)
    where = "h.county_code = :county" if county else "1 = 1"
    registered = (
        "m.created_at < :end AND (m.status = 'active' OR m.status_date > :on) "
        "AND (h.removed_on IS NULL OR h.removed_on > :on)"
    )
    eligible = "(h.exit_year IS NULL OR h.exit_year >= :year OR h.monitor_category IS NOT NULL)"
    covered = (
        "EXISTS (SELECT 1 FROM coverage c JOIN policy p ON p.id = c.policy_id WHERE c.member_id = m.id "
        "AND p.kind = 'family' AND p.issued_at IS NOT NULL AND c.status IN ('active', 'ended') "
        "AND c.cover_start <= :on AND c.cover_end >= :on)"
    )
    sql = (
        f"SELECT COUNT(*), SUM(CASE WHEN {eligible} THEN 1 ELSE 0 END), "  # noqa: S608 - fragments above
        f"SUM(CASE WHEN {eligible} AND {covered} THEN 1 ELSE 0 END) "
        f"FROM member m JOIN household h ON h.id = m.household_id WHERE {where} AND {registered}"
    )
    members, eligible_count, covered_count = fetch(engine, sql, county=county, on=on, end=end, year=on.year)[0]
    return {"members": members, "eligible": int(eligible_count or 0), "covered": int(covered_count or 0)}
