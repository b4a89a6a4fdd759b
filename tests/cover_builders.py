"""Typed builders for the cover tests, through the real services: the product catalogue, insurers offering it,
the users of each role, a generated register for Huayuan (433124) imported by the real importer, and a county
enrolment run synchronously through the same use case the worker's job calls."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.engine import Engine, Row
from sqlmodel import Session

from core.audit import Actor
from core.models import Role, User
from insurance.cover import catalogue, enrolment_sql, insurers, lifecycle, notices, policies
from insurance.cover import enrolment as cover_enrolment
from insurance.cover.models import Coverage, Enrolment, EnrolmentNotice, Policy
from insurance.cover.schemas import GroupPolicyCreate
from insurance.demo.roster import generate_rows, write_csv
from insurance.register.models import Insurer, Member
from insurance.register.roster import COLUMNS
from insurance.register.roster_options import ImportOutcome
from tests.builders import make_insurer, make_user
from tests.imports.builders import import_file, write_rows

HUAYUAN = "433124"
LUXI = "433122"
YEAR = 2026
PERIOD_START = date(YEAR, 1, 1)
PERIOD_END = date(YEAR, 12, 31)
ENROL_DAY = date(YEAR - 1, 12, 15)  # before the period: every first enrolment starts cover on 1 January
POSTED_ON = date(YEAR - 1, 12, 16)  # notices posted the next day; the window closes 7 days later
AFTER_WINDOW = POSTED_ON + timedelta(days=8)
NOTICE_LATE_DAYS = 3  # Settings.notice_late_days by default
PER_PERSON_FEN = 11_500  # th_family version 1 (domain.md §2.1)
PER_HOUSEHOLD_FEN = 1_500
COOPERATIVE_USCC = "93433124MA4L123452"  # domain.md §1.4, a synthetic Huayuan farmer cooperative
REGISTERED = datetime(YEAR - 1, 11, 1, 2, tzinfo=UTC)  # the register was imported before the policy year
SYSTEM = Actor.system("test")
STATUS_HEADER = [*(c.header for c in COLUMNS), "人员状态", "状态变动日期"]

# Positions in a generated roster row (COLUMNS order).
HOUSEHOLD_NO, ID_NUMBER, RELATION, BIRTH_DATE, VILLAGE_CODE, EXIT_YEAR = 0, 2, 3, 5, 7, 14


# --- catalogue, insurers, users -------------------------------------------------------------------------------


def seed_catalogue(session: Session) -> catalogue.CatalogueReport:
    return catalogue.seed_products(session, SYSTEM)


def all_product_codes(session: Session) -> list[str]:
    return [p.code for p in catalogue.list_products(session)]


def make_offering_insurer(
    session: Session, *, short_name: str = "人保财险", seq: str = "000001", products: Sequence[str] | None = None
) -> Insurer:
    """An insurer offering every product of the (seeded) catalogue, or the products named."""
    insurer = make_insurer(session, short_name=short_name, seq=seq)
    insurers.ensure_offers(session, SYSTEM, insurer, all_product_codes(session) if products is None else products)
    return insurer


@dataclass(frozen=True)
class Cast:
    """The seeded catalogue, insurer A offering all of it, and one user of each role (county office: Huayuan)."""

    insurer: Insurer
    handler: User
    supervisor: User
    county: User
    province: User
    admin: User


def make_cast(session: Session, *, county: str = HUAYUAN) -> Cast:
    seed_catalogue(session)
    insurer = make_offering_insurer(session)
    return Cast(
        insurer=insurer,
        handler=make_user(session, Role.insurer_handler, username="handler", insurer=insurer),
        supervisor=make_user(session, Role.insurer_supervisor, username="supervisor", insurer=insurer),
        county=make_user(session, Role.county_office, username="huayuan", county=county),
        province=make_user(session, Role.province_office, username="province"),
        admin=make_user(session, Role.admin, username="admin"),
    )


@dataclass(frozen=True)
class OtherInsurer:
    insurer: Insurer
    handler: User
    supervisor: User


def make_other_insurer(session: Session) -> OtherInsurer:
    """Insurer B, offering every product too, with its own handler and supervisor."""
    insurer = make_offering_insurer(session, short_name="平安产险", seq="000002")
    return OtherInsurer(
        insurer=insurer,
        handler=make_user(session, Role.insurer_handler, username="handler-b", insurer=insurer),
        supervisor=make_user(session, Role.insurer_supervisor, username="supervisor-b", insurer=insurer),
    )


# --- the register -----------------------------------------------------------------------------------------------

RosterRow = tuple[str, ...]


@dataclass
class Register:
    """A generated roster for one county. Every other household (and the ones named) has not exited poverty, so it
    is eligible for a policy of YEAR; the rest exited in 2014-2020 and, with cover_after_exit_years 0, are not."""

    rows: list[RosterRow]
    path: Path
    outcome: ImportOutcome | None = None
    deceased: dict[str, date] = field(default_factory=dict)  # id number -> date of death, as the roster says

    @property
    def households(self) -> dict[str, list[RosterRow]]:
        found: dict[str, list[RosterRow]] = {}
        for row in self.rows:
            found.setdefault(row[HOUSEHOLD_NO], []).append(row)
        return found

    @property
    def eligible_rows(self) -> list[RosterRow]:
        """Active members of households that have not exited poverty."""
        return [r for r in self.rows if r[EXIT_YEAR] == "" and r[ID_NUMBER] not in self.deceased]

    @property
    def eligible_households(self) -> set[str]:
        return {r[HOUSEHOLD_NO] for r in self.eligible_rows}

    @property
    def ineligible_rows(self) -> list[RosterRow]:
        return [r for r in self.rows if r[EXIT_YEAR] != "" and r[ID_NUMBER] not in self.deceased]

    def household_of_size(self, minimum: int, *, eligible: bool = True) -> list[RosterRow]:
        """The first household with at least `minimum` members, eligible or not."""
        for rows in self.households.values():
            if len(rows) >= minimum and (rows[0][EXIT_YEAR] == "") == eligible:
                return rows
        raise AssertionError(f"no {'eligible' if eligible else 'exited'} household of {minimum} members")


def generate_register(
    members: int = 400, *, seed: int = 11, county: str = HUAYUAN, reopen: Sequence[str] = ()
) -> list[RosterRow]:
    """Generated roster rows; every other household, and the households named, have no exit year."""
    rows = list(generate_rows(members, seed=seed, counties=[county]))
    order = {no: index for index, no in enumerate(dict.fromkeys(r[HOUSEHOLD_NO] for r in rows))}
    reopened = set(reopen)
    return [reopen_row(r) if order[r[HOUSEHOLD_NO]] % 2 == 0 or r[HOUSEHOLD_NO] in reopened else r for r in rows]


def reopen_row(row: RosterRow) -> RosterRow:
    """The row with its household back in poverty (no exit year)."""
    return (*row[:EXIT_YEAR], "", *row[EXIT_YEAR + 1 :])


def import_register(
    engine: Engine,
    tmp_path: Path,
    rows: Sequence[RosterRow],
    *,
    name: str = "roster.csv",
    registered: datetime | None = None,
) -> Register:
    """Writes the rows as the generator writes rosters and imports them with the real importer; `registered`
    dates the registration of the members it created (the importer stamps the wall clock)."""
    path = tmp_path / name
    write_csv(path, rows)
    known = {r[0] for r in fetch(engine, "SELECT id_number FROM member")}
    outcome = import_file(engine, path)
    assert outcome.applied and outcome.counts.rejected == 0, outcome
    if registered is not None:
        set_registered_at(engine, [r[ID_NUMBER] for r in rows if r[ID_NUMBER] not in known], registered)
    return Register(rows=list(rows), path=path, outcome=outcome)


@dataclass(frozen=True)
class EnrollableCounty:
    """A county ready to enrol: the catalogue, an insurer offering th_family, its handler and the county's register."""

    insurer: Insurer
    handler: User
    register: Register


def make_enrollable_county(
    session: Session, engine: Engine, tmp_path: Path, *, members: int, seed: int, all_eligible: bool = False
) -> EnrollableCounty:
    """`all_eligible`: every household back in poverty (no exit year), so every active member may be enrolled."""
    seed_catalogue(session)
    insurer = make_offering_insurer(session, products=["th_family"])
    handler = make_user(session, Role.insurer_handler, username="handler", insurer=insurer)
    rows = list(generate_rows(members, seed=seed, counties=[HUAYUAN]))
    if all_eligible:
        rows = [reopen_row(r) for r in rows]
    return EnrollableCounty(insurer, handler, import_register(engine, tmp_path, rows))


def make_register(
    engine: Engine,
    tmp_path: Path,
    members: int = 400,
    *,
    seed: int = 11,
    county: str = HUAYUAN,
    registered: datetime | None = REGISTERED,
) -> Register:
    """A register imported before the policy year (by default), as a county's register normally is."""
    return import_register(
        engine, tmp_path, generate_register(members, seed=seed, county=county), registered=registered
    )


def import_with_status(
    engine: Engine, tmp_path: Path, rows: Sequence[RosterRow], deceased: dict[str, date], *, name: str
) -> ImportOutcome:
    """A roster with the optional 人员状态 / 状态变动日期 columns: the members named died on the dates given."""
    lines = [
        [*row, "已故", deceased[row[ID_NUMBER]].isoformat()] if row[ID_NUMBER] in deceased else [*row, "正常", ""]
        for row in rows
    ]
    outcome = import_file(engine, write_rows(tmp_path / name, lines, header=STATUS_HEADER))
    assert outcome.applied and outcome.counts.rejected == 0, outcome
    return outcome


def set_registered_at(engine: Engine, id_numbers: Sequence[str], moment: datetime) -> None:
    """Dates the members' registration (the importer stamps the wall clock): a test of who joined before or during
    the period must not depend on the day it runs."""
    member = Member.__table__
    with engine.begin() as connection:
        connection.execute(sa.update(member).where(member.c.id_number.in_(list(id_numbers))).values(created_at=moment))


def beijing(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


# --- policies and enrolment ------------------------------------------------------------------------------------


def make_group_policy(session: Session, user: User, *, county: str = HUAYUAN, year: int = YEAR, **data: Any) -> Policy:
    return policies.create_group_policy(session, user, GroupPolicyCreate(county_code=county, year=year, **data))


def settle(session: Session) -> None:
    """Ends the session's transaction and forgets what it loaded, so it sees what other sessions committed."""
    session.commit()
    session.expire_all()


def run_enrolment(session: Session, enrolment_id: int) -> Enrolment:
    """What the worker's job does with a queued enrolment: the same use case, as the user who asked for it."""
    settle(session)
    return enrolment_sql.enrol_county(session, enrolment_id)


def enrol(session: Session, policy: Policy, *, on: date = ENROL_DAY, actor: Actor = SYSTEM) -> Enrolment:
    """A county enrolment, queued and run at once (synchronously, through the real service)."""
    settle(session)
    fresh = session.get(Policy, policy.id)
    assert fresh is not None
    enrolment = cover_enrolment.create_enrolment(session, actor, fresh, on)
    return run_enrolment(session, enrolment.id or 0)


def post_all_notices(
    session: Session, user: User, policy: Policy, posted_on: date = POSTED_ON
) -> list[EnrolmentNotice]:
    """The enrolment notice posted in every village the policy covers, recorded on the day it was posted."""
    settle(session)
    villages = [v["village_code"] for v in notices.policy_village_summary(session, policy)]
    return [
        notices.post_notice(session, user, policy.policy_no, v, posted_on, today=posted_on, late_days=NOTICE_LATE_DAYS)
        for v in villages
    ]


def issue(session: Session, cast: Cast, policy: Policy) -> Policy:
    """Notices posted in every village on POSTED_ON, then issued once their windows have closed."""
    post_all_notices(session, cast.supervisor, policy)
    return lifecycle.issue_policy(session, cast.supervisor, policy.policy_no, AFTER_WINDOW)


# --- reading what was written, through a connection of its own -------------------------------------------------------


def fetch(engine: Engine, sql: str, **params: Any) -> list[Row[Any]]:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params))


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


def member_id(engine: Engine, id_number: str) -> int:
    return scalar(engine, "SELECT id FROM member WHERE id_number = :n", n=id_number)


class CoverRow(NamedTuple):
    id_number: str
    policy_no: str
    cover_start: date
    cover_end: date
    waiting_waived: bool
    status: str
    end_reason: str | None
    enrolment_id: int | None


def coverage_rows(
    engine: Engine, policy_no: str | None = None, *, id_number: str | None = None, enrolment_id: int | None = None
) -> list[CoverRow]:
    """Coverage rows (typed on either backend), by policy, member or enrolment."""
    coverage, member, policy = Coverage.__table__, Member.__table__, Policy.__table__
    query = sa.select(
        member.c.id_number,
        policy.c.policy_no,
        coverage.c.cover_start,
        coverage.c.cover_end,
        coverage.c.waiting_waived,
        coverage.c.status,
        coverage.c.end_reason,
        coverage.c.enrolment_id,
    ).select_from(
        coverage.join(member, member.c.id == coverage.c.member_id).join(policy, policy.c.id == coverage.c.policy_id)
    )
    if policy_no is not None:
        query = query.where(policy.c.policy_no == policy_no)
    if id_number is not None:
        query = query.where(member.c.id_number == id_number)
    if enrolment_id is not None:
        query = query.where(coverage.c.enrolment_id == enrolment_id)
    with engine.connect() as connection:
        return [CoverRow(*row) for row in connection.execute(query.order_by(member.c.id, policy.c.id))]


def covered_id_numbers(engine: Engine, policy_no: str, *, status: str | None = "active") -> list[str]:
    """ID numbers on the policy (with the cover status given, or any), one entry per coverage row."""
    return [r.id_number for r in coverage_rows(engine, policy_no) if status is None or r.status == status]


def audit_rows(engine: Engine, action: str, entity_type: str, entity_id: str | None = None) -> list[dict[str, Any]]:
    """The audit records of an action, oldest first, their `after` decoded on either backend."""
    sql = "SELECT actor, entity_id, after FROM audit_log WHERE action = :action AND entity_type = :entity_type"
    params: dict[str, Any] = {"action": action, "entity_type": entity_type}
    if entity_id is not None:
        sql += " AND entity_id = :entity_id"
        params["entity_id"] = entity_id
    return [
        {"actor": actor, "entity_id": entity, "after": json.loads(after) if isinstance(after, str) else after}
        for actor, entity, after in fetch(engine, sql + " ORDER BY id", **params)
    ]
