"""The office's coverage-gap figures at province scale: reports summed from the cohorts against the naive query.

    python bench/gap_report.py [--members N] [--repeat R]

Uses the PostgreSQL at DATABASE_URL when given (an empty database), else a throwaway one (bench/common.py).

Set-up (as bench/enrol.py builds it, not timed, reported): the divisions, catalogue, insurer and users; the
register of N members over the province's 122 counties bulk-loaded with COPY in the import's form; the transition
th_family version (cover_after_exit_years 20) and one 2027 group policy per county, each county enrolled through
the real service (whose transaction now recounts the county's cohorts: reported as the enrolment time). The COPY
bypasses the import, so the cohorts of the register are counted once by `recount_all` (timed: the recount after
import). Every other county's policy is then issued (status and issue time set in SQL, then `recount_all`: the
service would post a notice in each of 16,000 villages first; timed: the recount after issue), so half the province
is covered and half is a gap with a reason. From the enrolment to that recount autovacuum is off for the cover and
the policies, so the recounts run on the statistics of an empty cover unless they refresh them themselves.

Timed, R times each, medians (p50): the province's report, one county's report (the largest county of those left
uncovered), the first page (50) of that county's uncovered list with its count, its 21st page, the first page of a
county all covered; and, in the same run, the naive join-and-group query of the same figures (members left-joined
to their in-force cover, grouped by county). The report's figures are checked equal to the naive ones. Last line:
one JSON object.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Engine

import insurance.wiring  # noqa: F401 - the cohorts follow enrolment
from bench.common import database_url, libpq_conninfo
from bench.enrol import (
    PASSWORD,
    PROVINCE,
    _create_policies,
    _load_register,
    _say,
    _set_up_programme,
    _transition_version,
    run_real,
)
from core.audit import Actor
from core.db import PROGRAMME_TZ, make_engine, new_session
from core.migrate import upgrade
from core.models import Role
from core.schemas import UserCreate
from core.users import create_user
from insurance.cover import counts
from insurance.gaps import figures, lists

YEAR = 2027
ON = date(YEAR, 6, 1)

NAIVE = """
SELECT h.county_code, COUNT(*) AS members,
  SUM(CASE WHEN h.exit_year IS NULL OR h.exit_year >= :bound OR h.monitor_category IS NOT NULL THEN 1 ELSE 0 END),
  SUM(CASE WHEN (h.exit_year IS NULL OR h.exit_year >= :bound OR h.monitor_category IS NOT NULL)
       AND c.member_id IS NOT NULL THEN 1 ELSE 0 END)
FROM member m JOIN household h ON h.id = m.household_id
LEFT JOIN (SELECT DISTINCT c.member_id FROM coverage c JOIN policy p ON p.id = c.policy_id
           WHERE p.kind = 'family' AND p.issued_at IS NOT NULL AND c.status IN ('active', 'ended')
           AND c.cover_start <= :on AND c.cover_end >= :on) c ON c.member_id = m.id
WHERE m.created_at < :end AND (m.status = 'active' OR m.status_date > :on)
  AND (h.removed_on IS NULL OR h.removed_on > :on)
GROUP BY h.county_code
"""


def _p50(run: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def _autovacuum(conninfo: str, *, enabled: bool) -> None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        for table in ("coverage", "policy"):
            connection.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = {str(enabled).lower()})")
        if enabled:
            connection.execute("VACUUM ANALYZE")  # as autovacuum would, before the reports are timed


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=PROVINCE)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument(
        "--risk-flags",
        action="store_true",
        help="register claims' step after each recount too (as the app does): the households left uncovered by an "
        "issued policy are flagged in the recounts timed",
    )
    args = parser.parse_args()
    if args.risk_flags:
        import claims.wiring  # noqa: F401 - the recount's risk-flag step, as main.py, the worker and the CLI load it
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
            f"register: {register.members:,} members, {len(cast.counties)} counties, {register.villages:,} villages "
            f"(COPY, {time.perf_counter() - started:.1f} s)"
        )
        started = time.perf_counter()
        with engine.begin() as connection:
            counts.recount_all(connection)
        recount_register = time.perf_counter() - started
        _say(f"recount after the import: the register's cohorts counted from the rows: {recount_register:.1f} s")
        # From here to the recount after the issue, autovacuum is kept off the cover and the policies: the recounts
        # must not depend on its timing (their statistics say "empty" until then; counts.refresh_statistics).
        _autovacuum(conninfo, enabled=False)
        version = _transition_version(engine, cast.admin, YEAR)
        policy_list = _create_policies(engine, cast.handler, cast.counties, YEAR, version)
        real = run_real(engine, cast.handler, policy_list, date(YEAR - 1, 12, 1))
        _say(
            f"enrolment through the service (each county's cohorts recounted in it): {real.seconds:.1f} s, "
            f"{real.added:,} added, slowest county {max(real.per_county):.2f} s"
        )
        issued = [p.id for i, p in enumerate(policy_list) if i % 2 == 0]
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE policy SET status = 'issued', issued_at = now() WHERE id = ANY(:ids)"), {"ids": issued}
            )
            counts.recount_all(connection)
        recount_all_seconds = time.perf_counter() - started
        _say(f"recount after the issue: half the policies issued, every cohort recounted: {recount_all_seconds:.1f} s")
        started = time.perf_counter()
        with engine.begin() as connection:
            counts.recount(connection, counties=[policy_list[0].county_code])
        recount_county_seconds = time.perf_counter() - started
        _autovacuum(conninfo, enabled=True)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
            sizes = connection.execute(
                "SELECT (SELECT COUNT(*) FROM coverage_cohort), (SELECT COUNT(*) FROM coverage_cohort_county)"
            ).fetchone()
        _say(f"cohort rows: {sizes[0]:,} per village, {sizes[1]:,} per county")
        uncovered_counties = [p.county_code for i, p in enumerate(policy_list) if i % 2 == 1]
        with engine.connect() as connection:
            county = connection.execute(
                text(
                    "SELECT county_code FROM household WHERE county_code = ANY(:c) GROUP BY county_code "
                    "ORDER BY COUNT(*) DESC LIMIT 1"
                ),
                {"c": uncovered_counties},
            ).scalar_one()
        with new_session(engine) as session:
            province = create_user(
                session,
                Actor.system("bench"),
                UserCreate(
                    username="bench-province", display_name="基准省扶贫办", password=PASSWORD, role=Role.province_office
                ),
            )
        with new_session(engine) as session:
            province_ms, report = _p50(
                lambda: figures.coverage_report(session, province, "430000000000", ON), args.repeat
            )
            county_ms, county_report = _p50(lambda: figures.coverage_report(session, province, county, ON), args.repeat)
            list_ms, (page, count) = _p50(
                lambda: lists.list_members(session, province, county, ON, "uncovered", limit=50), args.repeat
            )
            deep = min(count - 1, 20 * 50) if count else 0
            list_deep_ms, _ = _p50(
                lambda: lists.list_members(session, province, county, ON, "uncovered", limit=50, offset=deep),
                args.repeat,
            )
            covered_county = policy_list[0].county_code  # issued: the walk finds no gap there
            list_covered_ms, (_, covered_count) = _p50(
                lambda: lists.list_members(session, province, covered_county, ON, "uncovered", limit=50), args.repeat
            )
        end = datetime.combine(ON + timedelta(days=1), clock(0), PROGRAMME_TZ)
        naive_runs = max(3, args.repeat // 7)
        with engine.connect() as connection:
            naive_ms, rows = _p50(
                lambda: connection.execute(text(NAIVE), {"on": ON, "end": end, "bound": YEAR - 20}).all(), naive_runs
            )
        naive = [sum(int(r[i] or 0) for r in rows) for i in (1, 2, 3)]
        ours = [report.members, report.eligible, report.covered]
        _say(
            f"province report p50 {province_ms:.1f} ms: members {report.members:,}, eligible {report.eligible:,}, "
            f"covered {report.covered:,}, uncovered {report.uncovered:,}; naive query {naive_ms:.0f} ms: {naive}"
        )
        _say(
            f"county {county} report p50 {county_ms:.1f} ms (uncovered {county_report.uncovered:,}); "
            f"first page of its uncovered list p50 {list_ms:.1f} ms ({len(page)} of {count:,}), "
            f"the page at {deep:,} p50 {list_deep_ms:.1f} ms; county {covered_county} (covered, {covered_count} "
            f"uncovered) p50 {list_covered_ms:.1f} ms"
        )
        if ours != naive or count != county_report.uncovered:
            raise SystemExit(f"figures differ: report {ours}, naive {naive}; list {count} vs {county_report.uncovered}")
        result = {
            "members": register.members,
            "counties": len(cast.counties),
            "province_p50_ms": round(province_ms, 2),
            "county_p50_ms": round(county_ms, 2),
            "list_p50_ms": round(list_ms, 2),
            "naive_ms": round(naive_ms, 1),
            "repeat": args.repeat,
            "naive_repeat": naive_runs,
            "cohort_rows": sizes[0],
            "county_cohort_rows": sizes[1],
            "list_deep_p50_ms": round(list_deep_ms, 2),
            "list_covered_county_p50_ms": round(list_covered_ms, 2),
            "recount_after_import_s": round(recount_register, 2),
            "recount_after_issue_s": round(recount_all_seconds, 2),
            "recount_county_s": round(recount_county_seconds, 2),
            "enrolment_s": round(real.seconds, 2),
            "enrolment_county_max_s": round(max(real.per_county), 2),
            "uncovered": report.uncovered,
            "exact": True,
            "risk_flags": _count(engine, "SELECT COUNT(*) FROM risk_flag") if args.risk_flags else None,
            "goal_met": province_ms < 50 and county_ms < 20,
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()
