"""County enrolment at province scale: the real service against a plain INSERT ... SELECT of the same rows.

    python bench/enrol.py [--members N] [--repeat R] [--year Y]

Uses the PostgreSQL at DATABASE_URL when given (it must be an empty database), else a throwaway database on the
server the tests would use (a private one it starts, fsync off; the local one with TEST_POSTGRES=local). Prints
figures; the last line is one JSON object.

Set-up (not timed): a migrated database with the divisions, the product catalogue, an insurer offering th_family,
an administrator and an insurer handler. The register (N members over all the province's current counties, from
the project's own generator) is bulk-loaded with COPY straight into household, member and the township and
village divisions, in the form the roster import writes (same columns, statuses, created_at, one roster_import
record they point at): the real import of the province takes minutes and is measured by bench/import_roster.py.
The generated households mostly exited poverty in 2014-2020 and the seeded terms stop cover at the exit year, so,
as an administrator would for the transition period, a new th_family version (the seeded one's terms and
benefits, `cover_after_exit_years` 20) is added through the admin service; then one group policy per county.

Timed: every county enrolled through the real service, one transaction per county (create_enrolment +
enrol_county), in this process; and, side by side, the floor: one plain `INSERT ... SELECT` per county of the
same coverage rows into a table made `(LIKE coverage INCLUDING ALL)` (same columns, key and index, no foreign
keys, no checks). With --repeat R each side runs R times, in alternating order, emptied in between; medians.
"""

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bench.common import database_url, libpq_conninfo
from core.audit import Actor
from core.db import make_engine, new_session, utcnow
from core.migrate import upgrade
from core.models import Role, User
from core.schemas import UserCreate
from core.users import create_user
from insurance.cover import catalogue, insurers, policies
from insurance.cover import enrolment as cover_enrolment
from insurance.cover.eligibility import latest_eligible_exit_year
from insurance.cover.models import Policy
from insurance.cover.schemas import BenefitIn, GroupPolicyCreate, ProductVersionCreate
from insurance.demo.roster import generate_rows
from insurance.register import service as register_service
from insurance.register.identifiers import uscc_check_char
from insurance.register.models import Division, DivisionLevel, ImportStatus, RosterImport
from insurance.register.roster import HEAD_RELATION, HOUSEHOLD_TYPES, POVERTY_CAUSES, RELATIONS
from insurance.register.roster_checks import SEX_LABELS

PROVINCE = 4_450_000
PRODUCT = "th_family"
COVER_AFTER_EXIT_YEARS = 20  # the transition period: exited households keep cover (see the module docstring)
SEED = 2026
FLOOR_TABLE = "bench_floor_coverage"
PASSWORD = "bench-password-42"  # noqa: S105 - throwaway users of a throwaway database


def _say(text: str) -> None:
    print(text, flush=True)


# --- set-up: catalogue, insurer, users ----------------------------------------------------------------------------


@dataclass
class Cast:
    admin: User
    handler: User
    counties: list[str]  # 6-digit codes of the province's current counties


def _set_up_programme(engine: Engine) -> Cast:
    actor = Actor.system("bench")
    with new_session(engine) as session:
        register_service.seed_divisions(session, actor)
        catalogue.seed_products(session, actor)
        first17 = "91430000MA4BENCH1"
        insurer = register_service.ensure_insurer(
            session,
            actor,
            uscc=first17 + uscc_check_char(first17),
            name="基准测试保险股份有限公司湖南省分公司",
            short_name="基准保险",
            hotline="95500",
        )
        insurers.ensure_offers(session, actor, insurer, [PRODUCT])
        admin = create_user(
            session,
            actor,
            UserCreate(username="bench-admin", display_name="基准管理员", password=PASSWORD, role=Role.admin),
        )
        handler = create_user(
            session,
            actor,
            UserCreate(
                username="bench-handler",
                display_name="基准经办人",
                password=PASSWORD,
                role=Role.insurer_handler,
                insurer_id=insurer.id,
            ),
        )
        counties = session.exec(
            select(Division.code)
            .where(Division.level == DivisionLevel.county, col(Division.valid_to).is_(None))
            .order_by(col(Division.code))
        ).all()
    return Cast(admin, handler, [c[:6] for c in counties])


# --- set-up: the register, bulk-loaded in the import's form --------------------------------------------------------


def _field(value: object) -> str:
    """One COPY text-format field; the generator's values hold no tab, newline or backslash."""
    return "\\N" if value is None else str(value)


def _line(values: Iterable[object]) -> str:
    return "\t".join(_field(v) for v in values) + "\n"


@dataclass
class Register:
    households: int = 0
    members: int = 0
    townships: int = 0
    villages: int = 0


_HOUSEHOLD_COLUMNS = (
    "id, household_no, village_code, county_code, poverty_attribute, main_cause, phone, exit_year, "
    "monitor_category, is_incomplete, removed_on, last_import_id, created_at, updated_at"
)
_MEMBER_COLUMNS = (
    "id_number, id_number_legacy, household_id, name, sex, birth_date, relation, relation_code, ethnicity, "
    "status, status_date, created_at, updated_at"
)


def _write_register(
    rows: Iterator[tuple[str, ...]], households: IO[str], members: IO[str], import_id: int, now: str
) -> tuple[Register, dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """Household and member lines as the import's merge writes them (its choice of the household's source row:
    the head's), plus the townships and villages (code -> (name, parent)) it would create."""
    counts = Register()
    townships: dict[str, tuple[str, str]] = {}
    villages: dict[str, tuple[str, str]] = {}
    for household_no, group in groupby(rows, key=lambda r: r[0]):
        people = list(group)
        head = next((r for r in people if r[3] == HEAD_RELATION), people[0])
        village_code = head[7]
        township_code = village_code[:9] + "000"
        if village_code not in villages:
            villages[village_code] = (head[10], township_code)
            townships.setdefault(township_code, (head[9], village_code[:6] + "000000"))
        counts.households += 1
        household_id = counts.households
        households.write(
            _line(
                (
                    household_id,
                    household_no,
                    village_code,
                    village_code[:6],
                    HOUSEHOLD_TYPES[head[11]],
                    POVERTY_CAUSES[head[12]],
                    head[13] or None,
                    head[14] or None,
                    None,
                    "f",
                    None,
                    import_id,
                    now,
                    now,
                )
            )
        )
        for row in people:
            members.write(
                _line(
                    (
                        row[2],
                        None,
                        household_id,
                        row[1],
                        SEX_LABELS[row[4]],
                        row[5],
                        row[3],
                        RELATIONS[row[3]],
                        row[6],
                        "active",
                        None,
                        now,
                        now,
                    )
                )
            )
        counts.members += len(people)
    counts.townships, counts.villages = len(townships), len(villages)
    return counts, townships, villages


def _copy_file(connection: psycopg.Connection, statement: str, handle: IO[str]) -> None:
    handle.seek(0)
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        while chunk := handle.read(1 << 20):
            copy.write(chunk)


def _load_register(conninfo: str, engine: Engine, members: int, counties: list[str], workdir: Path) -> Register:
    now = utcnow()
    with new_session(engine) as session:
        record = RosterImport(
            filename="bench-register.csv",
            sha256="0" * 64,
            actor="system:bench",
            status=ImportStatus.running,
            started_at=now,
        )
        session.add(record)
        session.commit()
        import_id = int(record.id or 0)
    stamp = now.isoformat()
    with (
        (workdir / "household.tsv").open("w+", encoding="utf-8") as households,
        (workdir / "member.tsv").open("w+", encoding="utf-8") as people,
    ):
        rows = generate_rows(members, seed=SEED, counties=counties)
        counts, townships, villages = _write_register(rows, households, people, import_id, stamp)
        with psycopg.connect(conninfo) as connection:
            divisions = "COPY division (code, name, level, parent_code) FROM STDIN"
            with connection.cursor() as cursor, cursor.copy(divisions) as copy:
                for code, (name, parent) in sorted(townships.items()):
                    copy.write_row((code, name, DivisionLevel.township.value, parent))
                for code, (name, parent) in sorted(villages.items()):
                    copy.write_row((code, name, DivisionLevel.village.value, parent))
            _copy_file(connection, f"COPY household ({_HOUSEHOLD_COLUMNS}) FROM STDIN", households)
            _copy_file(connection, f"COPY member ({_MEMBER_COLUMNS}) FROM STDIN", people)
            connection.execute("SELECT setval('household_id_seq', (SELECT MAX(id) FROM household))")
            connection.execute(
                "UPDATE roster_import SET status = 'done', applied = TRUE, rows = %(n)s, accepted = %(n)s, "
                "created = %(n)s, households = %(h)s, villages_created = %(v)s, finished_at = now() WHERE id = %(id)s",
                {"n": counts.members, "h": counts.households, "v": counts.villages, "id": import_id},
            )
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return counts


# --- set-up: the transition-period terms and one policy per county -------------------------------------------------


def _transition_version(engine: Engine, admin: User, year: int) -> int:
    """A new th_family version, as an administrator adds one: the seeded terms and benefits, exited households
    covered for COVER_AFTER_EXIT_YEARS more years."""
    with new_session(engine) as session:
        product = catalogue.get_product(session, PRODUCT)
        seeded = catalogue.version_for(session, product, year, None)
        benefits = [
            BenefitIn(
                code=b.code,
                name=b.name,
                unit=b.unit,
                perils=b.perils,
                sum_insured_fen=b.sum_insured_fen,
                deductible_fen=b.deductible_fen,
                reimbursement_bp=b.reimbursement_bp,
                per_event_limit_fen=b.per_event_limit_fen,
                annual_limit_fen=b.annual_limit_fen,
                waiting_days=b.waiting_days,
                waiting_perils=b.waiting_perils,
                premium_fen=b.premium_fen,
                extra=b.extra,
            )
            for b in catalogue.list_benefits(session, seeded.id or 0)
        ]
        data = ProductVersionCreate(
            year_from=year,
            premium_per_unit_fen=seeded.premium_per_unit_fen,
            premium_per_household_fen=seeded.premium_per_household_fen,
            sum_insured_fen=seeded.sum_insured_fen,
            rate_bp=seeded.rate_bp,
            subsidy_central_bp=seeded.subsidy_central_bp,
            subsidy_provincial_bp=seeded.subsidy_provincial_bp,
            subsidy_county_bp=seeded.subsidy_county_bp,
            farmer_share_bp=seeded.farmer_share_bp,
            terms={**seeded.terms, "cover_after_exit_years": COVER_AFTER_EXIT_YEARS},
            note=f"过渡期：脱贫户脱贫后 {COVER_AFTER_EXIT_YEARS} 年内继续参保 (bench: transition-period terms)",
            benefits=benefits,
        )
        version = catalogue.create_product_version(session, admin, PRODUCT, data)
        return version.version


def _create_policies(engine: Engine, handler: User, counties: list[str], year: int, version: int) -> list[Policy]:
    created = []
    with new_session(engine) as session:
        for county in counties:
            created.append(
                policies.create_group_policy(
                    session,
                    handler,
                    GroupPolicyCreate(county_code=county, year=year, product_code=PRODUCT, product_version=version),
                )
            )
    return created


# --- the timed runs -----------------------------------------------------------------------------------------------


@dataclass
class RealRun:
    seconds: float
    per_county: list[float]
    added: int
    households_added: int
    double_cover: int
    too_late: int


def run_real(engine: Engine, handler: User, policy_list: list[Policy], enrolled_on: date) -> RealRun:
    """Each county as the command line does it: enrol_now (the enrolment recorded, then one transaction)."""
    actor = Actor.of(handler)
    per_county: list[float] = []
    added = households = double = late = 0
    started = time.perf_counter()
    for policy in policy_list:
        county_started = time.perf_counter()
        enrolment = cover_enrolment.enrol_now(engine, actor, policy.policy_no, enrolled_on)
        per_county.append(time.perf_counter() - county_started)
        added += enrolment.added
        households += enrolment.households_added
        double += enrolment.double_cover
        late += enrolment.too_late
    return RealRun(time.perf_counter() - started, per_county, added, households, double, late)


def _floor_statement() -> str:
    """The same rows enrol_county writes (eligible active members of the county, cover from the period start),
    by one plain INSERT ... SELECT, no checks of any kind."""
    return (
        f"INSERT INTO {FLOOR_TABLE} "  # noqa: S608 - a constant of this module
        "(policy_id, member_id, cover_start, cover_end, waiting_waived, status, end_reason, enrolment_id) "
        "SELECT %(policy)s, m.id, %(start)s, %(end)s, FALSE, 'active', NULL, %(policy)s "
        "FROM member m JOIN household h ON h.id = m.household_id "
        "WHERE h.county_code = %(county)s AND h.removed_on IS NULL AND m.status = 'active' "
        "AND (h.exit_year IS NULL OR h.exit_year >= %(bound)s OR h.monitor_category IS NOT NULL)"
    )


def run_floor(conninfo: str, policy_list: list[Policy], bound: int) -> tuple[float, int]:
    statement = _floor_statement()
    rows = 0
    with psycopg.connect(conninfo, autocommit=True) as connection:
        started = time.perf_counter()
        for policy in policy_list:
            with connection.transaction():
                cursor = connection.execute(
                    statement,
                    {
                        "policy": policy.id,
                        "start": policy.period_start,
                        "end": policy.period_end,
                        "county": policy.county_code,
                        "bound": bound,
                    },
                )
                rows += cursor.rowcount
        elapsed = time.perf_counter() - started
    return elapsed, rows


def _count(conninfo: str, sql: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        row = connection.execute(sql).fetchone()
        assert row is not None
        return int(row[0])


def _empty_real(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("TRUNCATE coverage, cover_conflict, document_request, enrolment")
        connection.execute(
            "UPDATE policy SET members_count = 0, households_count = 0, premium_fen = 0, subsidy_central_fen = 0, "
            "subsidy_provincial_fen = 0, subsidy_county_fen = 0, farmer_share_fen = 0"
        )


def _empty_floor(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"TRUNCATE {FLOOR_TABLE}")


def _settle(conninfo: str) -> None:
    """Before each timed side: dirty pages written out, so neither side pays for the other's writes."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("CHECKPOINT")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=PROVINCE)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side, alternating; medians reported")
    parser.add_argument("--year", type=int, default=2027, help="the insurance year of the policies")
    args = parser.parse_args()
    year = args.year
    enrolled_on = date(year, 1, 1) - timedelta(days=31)  # enrolled in December, before the period starts
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tehuibao-bench-")))
        url = database_url(stack)
        conninfo = libpq_conninfo(url)
        started = time.perf_counter()
        upgrade(url)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        cast = _set_up_programme(engine)
        register = _load_register(conninfo, engine, args.members, cast.counties, workdir)
        _say(
            f"register: {register.members:,} members in {register.households:,} households, "
            f"{len(cast.counties)} counties, {register.townships:,} townships, {register.villages:,} villages "
            f"(generated and bulk-loaded with COPY in {time.perf_counter() - started:.1f} s)"
        )
        version = _transition_version(engine, cast.admin, year)
        _say(
            f"product: {PRODUCT} version {version} added by the administrator for {year}: the seeded terms and "
            f"benefits with cover_after_exit_years = {COVER_AFTER_EXIT_YEARS} (transition period)"
        )
        policy_list = _create_policies(engine, cast.handler, cast.counties, year, version)
        _say(f"policies: {len(policy_list)} group policies for {year}, one per county; enrolled on {enrolled_on}")
        bound = latest_eligible_exit_year(year, COVER_AFTER_EXIT_YEARS)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f"CREATE TABLE {FLOOR_TABLE} (LIKE coverage INCLUDING ALL)")
        reals: list[RealRun] = []
        floors: list[float] = []
        floor_rows = real_rows = 0
        for run in range(args.repeat):
            if run:
                _empty_real(conninfo)
                _empty_floor(conninfo)
            order = ("floor", "real") if run % 2 == 0 else ("real", "floor")
            for side in order:
                _settle(conninfo)
                if side == "floor":
                    seconds, floor_rows = run_floor(conninfo, policy_list, bound)
                    floors.append(seconds)
                else:
                    reals.append(run_real(engine, cast.handler, policy_list, enrolled_on))
            real = reals[-1]
            real_rows = _count(conninfo, "SELECT COUNT(*) FROM coverage")
            stored_floor = _count(conninfo, f"SELECT COUNT(*) FROM {FLOOR_TABLE}")  # noqa: S608 - a constant
            _say(
                f"run {run + 1} ({' then '.join(order)}): enrol {real.seconds:.2f} s "
                f"({real.added:,} added, slowest county {max(real.per_county):.2f} s), "
                f"INSERT ... SELECT {floors[-1]:.2f} s ({floor_rows:,} rows); ratio {real.seconds / floors[-1]:.2f}"
            )
            if not (real.added == real_rows == floor_rows == stored_floor):
                raise SystemExit(
                    f"row counts differ: enrolment added {real.added}, coverage holds {real_rows}, "
                    f"the floor inserted {floor_rows} and holds {stored_floor}"
                )
        seconds = statistics.median(r.seconds for r in reals)
        floor_seconds = statistics.median(floors)
        ratio = seconds / floor_seconds
        per_county = [max(county) for county in zip(*(r.per_county for r in reals), strict=True)]
        figures: dict[str, Any] = {
            "members": register.members,
            "households": register.households,
            "counties": len(policy_list),
            "coverage_rows": real_rows,
            "seconds": round(seconds, 2),
            "floor_seconds": round(floor_seconds, 2),
            "ratio": round(ratio, 2),
            "members_per_s": round(real_rows / seconds),
            "floor_rows_per_s": round(real_rows / floor_seconds),
            "county_max_seconds": round(max(per_county), 2),
            "county_median_seconds": round(statistics.median(per_county), 3),
            "double_cover": reals[-1].double_cover,
            "too_late": reals[-1].too_late,
            "runs": args.repeat,
            "all_seconds": [round(r.seconds, 2) for r in reals],
            "all_floor_seconds": [round(f, 2) for f in floors],
            "peak_rss_mb": round(_peak_rss_mb()),
            "cover_after_exit_years": COVER_AFTER_EXIT_YEARS,
            "year": year,
            "goal_seconds_met": seconds < 60,
            "goal_ratio_met": ratio <= 2.0,
        }
        _say(
            f"enrolment: {figures['members_per_s']:,} members/s ({seconds:.2f} s for {real_rows:,} members, "
            f"median of {args.repeat}); floor INSERT ... SELECT {floor_seconds:.2f} s; ratio {ratio:.2f}; "
            f"slowest county {figures['county_max_seconds']} s; peak RSS {figures['peak_rss_mb']} MB"
        )
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
