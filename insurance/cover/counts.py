"""The coverage cohorts (CoverageCohort) kept exact: recounted from the rows, in the transaction of every change.

Why here, in cover: the writers of members, households and cover lines are the roster import (through the
register's after-merge hook, below), enrolment, issue, cancellation and an upheld objection, all in the register
or in cover; insurance.gaps reads the cohorts and sits above both. `recount` deletes the cohorts of some villages
(or counties) and inserts them again with one INSERT ... SELECT ... GROUP BY each, then rebuilds those counties'
rows of the county table from the village rows (a few thousand rows, not the members).

Another package that must act on a recount (claims' risk flags: "an eligible household left uncovered") registers a
step with `listen_after_recount`; each step is called at the end of every recount, in its transaction, with
(connection, village_codes, today).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from core.audit import Actor
from core.db import local_today
from insurance.cover import register_sync as _register_sync  # noqa: F401 - its step (the dead's cover ends) first
from insurance.register import events
from insurance.register.roster_merge import touched_villages

AfterRecount = Callable[[Connection, list[str], date], None]

_after_recount: list[AfterRecount] = []

# Above this many villages a recount goes by county: one IN list of thousands of codes costs more than the
# counties' few extra villages.
VILLAGES_BY_COUNTY = 400
# PostgreSQL: the cover's statistics are refreshed once the rows changed since they were taken pass this share of the
# rows they counted (autovacuum waits for 10 % and its next round; the recount cannot; a province enrolled county
# by county at 500,000 members took 38 ANALYZEs of the cover at 10 %).
STALE_SHARE = 0.2
STALE_MIN_ROWS = 1000
# PostgreSQL, for the recount's statements only: the grouping of a province's rows hashes in memory rather than
# sorting on disk, and no JIT (it compiled for 4.3 s of an 8.8 s recount of 500,000 members, to save less).
RECOUNT_SETTINGS = {"jit": "off", "work_mem": "128MB"}

COHORT_KEYS = (
    "kind",
    "registered_at",
    "left_on",
    "exit_year",
    "monitored",
    "cover_start",
    "cover_end",
    "continued",
)
_KEYS = ", ".join(COHORT_KEYS)


def listen_after_recount(step: AfterRecount) -> AfterRecount:
    """Registers a step run at the end of every recount, in its transaction; registering twice is harmless."""
    if step not in _after_recount:
        _after_recount.append(step)
    return step


def _left_on() -> str:
    """The member's first day off the register: the status date once dead, moved or removed (a status without a
    date counts from the beginning of time), or the household's removal, whichever is first."""
    member_left = "CASE WHEN m.status = 'active' THEN NULL ELSE COALESCE(m.status_date, :epoch) END"
    return (
        f"CASE WHEN h.removed_on IS NULL THEN {member_left} "
        f"WHEN ({member_left}) IS NULL OR h.removed_on < ({member_left}) THEN h.removed_on "
        f"ELSE {member_left} END"
    )


def _next_day(connection: Connection, column: str) -> str:
    return f"{column} + 1" if connection.dialect.name == "postgresql" else f"date({column}, '+1 day')"


def _in_force(alias: str) -> str:
    """A family cover line of a policy that was issued (cancelled since or not), not voided."""
    policy = "p" if alias == "c" else "p2"
    return f"{policy}.kind = 'family' AND {policy}.issued_at IS NOT NULL AND {alias}.status IN ('active', 'ended')"


def cohort_source(connection: Connection, scope: str) -> str:
    """The SELECT of the village cohorts (village_code, county_code, then COHORT_KEYS, members) of the households
    that `scope` (a condition on `h`) names, member rows and cover rows, straight from the rows."""
    member_facts = (
        f"h.village_code, h.county_code, m.created_at AS registered_at, {_left_on()} AS left_on, h.exit_year, "
        "CASE WHEN h.monitor_category IS NULL THEN FALSE ELSE TRUE END AS monitored"
    )
    continued = (
        "CASE WHEN EXISTS (SELECT 1 FROM coverage c2 JOIN policy p2 ON p2.id = c2.policy_id "
        f"WHERE c2.member_id = c.member_id AND {_in_force('c2')} "
        f"AND c2.cover_start = {_next_day(connection, 'c.cover_end')}) THEN TRUE ELSE FALSE END"
    )
    # Each kind grouped on its own (their keys never meet): two smaller groupings that PostgreSQL hashes in memory,
    # where one over both sorted a province's 6.7 million rows on disk (27 s of a 70 s recount).
    member_keys = "village_code, county_code, registered_at, left_on, exit_year, monitored"
    return (
        f"SELECT village_code, county_code, 'member' AS kind, registered_at, left_on, exit_year, monitored, "
        "NULL AS cover_start, NULL AS cover_end, FALSE AS continued, COUNT(*) AS members FROM ("
        f"SELECT {member_facts} FROM member m JOIN household h ON h.id = m.household_id WHERE {scope}"
        f") x GROUP BY {member_keys} "
        "UNION ALL "
        f"SELECT village_code, county_code, 'cover' AS kind, registered_at, left_on, exit_year, monitored, "
        "cover_start, cover_end, continued, COUNT(*) AS members FROM ("
        f"SELECT {member_facts}, c.cover_start, c.cover_end, {continued} AS continued "
        "FROM coverage c JOIN policy p ON p.id = c.policy_id JOIN member m ON m.id = c.member_id "
        f"JOIN household h ON h.id = m.household_id WHERE {scope} AND {_in_force('c')}"
        f") y GROUP BY {member_keys}, cover_start, cover_end, continued"
    )


def _scope(villages: Sequence[str] | None, counties: Sequence[str] | None) -> tuple[str, str, dict[str, object]]:
    """(condition on h, condition on the cohort table, parameters)."""
    if counties is not None:
        return "h.county_code IN :counties", "county_code IN :counties", {"counties": list(counties)}
    return "h.village_code IN :villages", "village_code IN :villages", {"villages": list(villages or [])}


def _bound(statement: str, params: dict[str, object]) -> sa.TextClause:
    clause = sa.text(statement)
    for name in ("villages", "counties"):
        if name in params:
            clause = clause.bindparams(sa.bindparam(name, expanding=True))
    return clause


def refresh_statistics(connection: Connection, *, cover_rows_changed: int = 0) -> None:
    """PostgreSQL: the planner's statistics of the policies (always: a few hundred rows) and of the cover (when the
    rows changed since they were taken, the caller's `cover_rows_changed` included, pass STALE_SHARE of them),
    taken inside the caller's transaction, whose own rows ANALYZE sees.

    Why: the recount's plan depends on them. Taken before a province's enrolment, they say the cover is empty and no
    policy issued; the planner then starts from the policies and reads every issued policy's cover for each county
    (measured at 500,000 members: a full recount 94 s instead of 8.8 s, one county 0.9 s instead of 0.09 s), until
    autovacuum comes round. The cost: ANALYZE holds a lock that a concurrent ANALYZE of the same table waits for,
    until the caller commits."""
    if connection.dialect.name != "postgresql":
        return
    connection.exec_driver_sql("ANALYZE policy")
    counted, changed, pages, pages_now = connection.execute(
        sa.text(
            "SELECT c.reltuples, COALESCE(s.n_mod_since_analyze, 0), c.relpages, "
            "pg_relation_size(c.oid) / current_setting('block_size')::int FROM pg_class c "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = 'coverage'::regclass"
        )
    ).one()
    rows_changed = changed + cover_rows_changed > max(counted, 0) * STALE_SHARE + STALE_MIN_ROWS
    grown = pages_now > pages * (1 + STALE_SHARE) + STALE_MIN_ROWS / 100  # e.g. rows the counters do not know yet
    if rows_changed or grown:
        connection.exec_driver_sql("ANALYZE coverage")


def _set_local(connection: Connection, settings: dict[str, str]) -> dict[str, str]:
    """Sets PostgreSQL settings for the rest of the transaction; returns the values they had."""
    before = {}
    for name, value in settings.items():
        before[name] = connection.execute(sa.text("SELECT current_setting(:n)"), {"n": name}).scalar_one()
        connection.execute(sa.text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    return before


def recount(
    connection: Connection,
    *,
    villages: Sequence[str] | None = None,
    counties: Sequence[str] | None = None,
    today: date | None = None,
    cover_rows_changed: int = 0,
) -> None:
    """Counts the cohorts of the villages (or whole counties) named again, in the caller's transaction; then the
    county rows of their counties, then the steps registered with listen_after_recount. `cover_rows_changed`: the
    cover rows the caller's transaction wrote (see refresh_statistics)."""
    if counties is None:
        villages = sorted(set(villages or ()))
        if not villages:
            return
        if len(villages) > VILLAGES_BY_COUNTY:
            villages, counties = None, sorted({v[:6] for v in villages})
    county_codes = sorted(set(counties)) if counties is not None else sorted({v[:6] for v in villages or ()})
    if counties is not None:
        counties = county_codes
        if not counties:
            return
    scope_h, scope_cohort, params = _scope(villages, counties)
    params = {**params, "epoch": date(1, 1, 1)}
    postgres = connection.dialect.name == "postgresql"
    refresh_statistics(connection, cover_rows_changed=cover_rows_changed)
    before = _set_local(connection, RECOUNT_SETTINGS) if postgres else {}
    connection.execute(_bound(f"DELETE FROM coverage_cohort WHERE {scope_cohort}", params), params)
    connection.execute(
        _bound(
            f"INSERT INTO coverage_cohort (village_code, county_code, {_KEYS}, members) "
            + cohort_source(connection, scope_h),
            params,
        ),
        params,
    )
    if before:
        _set_local(connection, before)
    rollup = {"counties": county_codes}
    connection.execute(_bound("DELETE FROM coverage_cohort_county WHERE county_code IN :counties", rollup), rollup)
    connection.execute(
        _bound(
            f"INSERT INTO coverage_cohort_county (county_code, {_KEYS}, members) "
            f"SELECT county_code, {_KEYS}, SUM(members) FROM coverage_cohort WHERE county_code IN :counties "
            f"GROUP BY county_code, {_KEYS}",
            rollup,
        ),
        rollup,
    )
    if _after_recount:
        if villages is None:
            villages = list(
                connection.execute(
                    _bound("SELECT DISTINCT village_code FROM household WHERE county_code IN :counties", rollup),
                    rollup,
                ).scalars()
            )
        for step in _after_recount:
            step(connection, list(villages), today or local_today())


def recount_all(connection: Connection, *, today: date | None = None) -> None:
    """Every county's cohorts from the rows (the migration's and the check's repair, and a province's first load)."""
    counties = list(connection.execute(sa.text("SELECT DISTINCT county_code FROM household")).scalars())
    connection.execute(sa.text("DELETE FROM coverage_cohort"))
    connection.execute(sa.text("DELETE FROM coverage_cohort_county"))
    if counties:
        recount(connection, counties=counties, today=today)


@events.listen_after_merge
def recount_after_import(session: Session, actor: Actor, *, changed_since: object = None) -> int:
    """The roster import's step: the villages it touched (those its rows name, those its movers left), after cover
    ended the cover of its dead and moved (register_sync registers its step first). Changes no row of its own."""
    del actor, changed_since
    connection = session.connection()
    recount(connection, villages=touched_villages(connection))
    return 0


# --- the consistency check ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """Members counted differently in one village (or county, `village_code` None) and kind of cohort."""

    county_code: str
    village_code: str | None
    kind: str
    stored: int  # members in stored cohorts that the rows do not give
    expected: int  # members in cohorts the rows give that are not stored

    def as_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


def _normal(row: Sequence[object]) -> tuple[object, ...]:
    """A cohort key comparable across the stored rows and the recomputed ones (SQLite gives text or numbers)."""
    return tuple(None if value is None else str(int(value)) if isinstance(value, bool) else str(value) for value in row)


def check(connection: Connection) -> list[Difference]:
    """Recounts every cohort from the rows, compares it with the stored village and county rows, and returns the
    differences (none when the stored counts are exact). Writes nothing."""
    params = {"epoch": date(1, 1, 1)}
    expected: dict[tuple[object, ...], int] = {}
    for row in connection.execute(sa.text(cohort_source(connection, "1 = 1")), params):
        key = _normal(row[: 2 + len(COHORT_KEYS)])
        expected[key] = expected.get(key, 0) + int(row[-1])
    stored: dict[tuple[object, ...], int] = {}
    for row in connection.execute(sa.text(f"SELECT village_code, county_code, {_KEYS}, members FROM coverage_cohort")):
        key = _normal(row[: 2 + len(COHORT_KEYS)])
        stored[key] = stored.get(key, 0) + int(row[-1])
    differences = _compare(expected, stored, village=True)
    county_expected: dict[tuple[object, ...], int] = {}
    for key, count in stored.items():
        county_key = key[1:]
        county_expected[county_key] = county_expected.get(county_key, 0) + count
    county_stored: dict[tuple[object, ...], int] = {}
    for row in connection.execute(sa.text(f"SELECT county_code, {_KEYS}, members FROM coverage_cohort_county")):
        key = _normal(row[: 1 + len(COHORT_KEYS)])
        county_stored[key] = county_stored.get(key, 0) + int(row[-1])
    return differences + _compare(county_expected, county_stored, village=False)


def _compare(
    expected: dict[tuple[object, ...], int], stored: dict[tuple[object, ...], int], *, village: bool
) -> list[Difference]:
    totals: dict[tuple[str, str | None, str], list[int]] = {}
    for key in set(expected) | set(stored):
        e, s = expected.get(key, 0), stored.get(key, 0)
        if e == s:
            continue
        where = (str(key[1]), str(key[0]), str(key[2])) if village else (str(key[0]), None, str(key[1]))
        pair = totals.setdefault(where, [0, 0])
        pair[0] += max(s - e, 0)
        pair[1] += max(e - s, 0)
    return [
        Difference(county, village_code, kind, stored=s, expected=e)
        for (county, village_code, kind), (s, e) in sorted(totals.items(), key=lambda item: str(item[0]))
    ]
