"""The roster import use case: stream a file into a staging table, check it as a whole in SQL, merge it.

Why this shape: a province is 4.45 million rows, so nothing is held in memory beyond one batch. Row checks are
pure Python (insurance.register.roster); checks that need the whole file (an ID used twice, a household without exactly
one head) and the merge into the register are set-based SQL over a temporary staging table. Everything happens
in one transaction: a crash or a killed process leaves the register as it was. The register changes inside a
savepoint, so --strict and --dry-run can undo them and still keep the record of the attempt and its report.

On PostgreSQL, a big roster for an empty register (the province's first) is a first load instead: the members go
straight into the register while the file is read, and households are decided as their rows end (_first_load and
insurance.register.roster_bulk), with the same result as the staged import, which tests hold side by side.
"""

import csv
import hashlib
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core import audit, queue
from core.audit import Actor
from core.db import for_writing, utcnow
from insurance.register import events
from insurance.register.models import ImportStatus, RosterImport
from insurance.register.roster import (
    DUPLICATE_ID_PARTS,
    HEAD_PROBLEMS,
    HEAD_RELATION,
    HOUSEHOLD_TYPES,
    POVERTY_CAUSES,
    SEX_LABELS,
    STAGE_FIELDS,
    Checked,
    HeaderMap,
    Problem,
    RosterFile,
    RosterUnreadable,
    canonical_line_check,
    canonical_values,
    check_record,
    open_roster,
)
from insurance.register.roster_bulk import (
    HOUSEHOLD_COPY_COLUMNS,
    MEMBER_COPY_COLUMNS,
    NULL,
    RELATION_CODES,
    BulkLoad,
    FirstLoad,
    NotTogether,
    Records,
    VillageTally,
    copy_text,
    refuse_twins,
)

BATCH = 5000
WORK_MEM, MAINTENANCE_WORK_MEM = "128MB", "512MB"  # PostgreSQL's, for the import's own transaction
COPY_CHUNK_ROWS = 500  # rows per COPY write: about 100 kB
PROGRESS_KEY = "tehuibao:import:{}:progress"  # Redis: where a running web import reports how far it got
IMPORT_TIMEOUT = timedelta(hours=4)  # the worker's job timeout; an import still "running" past it has died
IMPORT_JOB = "insurance.register.jobs.run_roster_import"


def import_job_id(import_id: int) -> str:
    """One job id per web import, whoever enqueues it (the upload after the commit, or the sweeper)."""
    return f"roster-import-{import_id}"


Progress = Callable[[str, int, int, int], None]  # phase, rows read, bytes done, bytes total

_STAGE_TYPES = {
    "row_no": "INTEGER PRIMARY KEY",
    "ok": "BOOLEAN NOT NULL",
    "household_no": "VARCHAR(32)",
    "relation": "VARCHAR(10)",
    "id_number": "VARCHAR(18)",
    "id_number_legacy": "VARCHAR(15)",
    "name": "VARCHAR(50)",
    "sex": "VARCHAR(8)",
    "birth_date": "DATE",
    "relation_code": "VARCHAR(2)",
    "ethnicity": "VARCHAR(20)",
    "village_code": "VARCHAR(12)",
    "county_name": "VARCHAR(100)",
    "township_name": "VARCHAR(100)",
    "village_name": "VARCHAR(100)",
    "poverty_attribute": "VARCHAR(32)",
    "main_cause": "VARCHAR(2)",
    "phone": "VARCHAR(20)",
    "exit_year": "INTEGER",
    "member_status": "VARCHAR(16)",
    "status_date": "DATE",
    "normalised": "BOOLEAN",
}
# Every staged row carries its household and relation (for the head count) and, when its form was valid, its
# ID (so that a refused row never counts as "removed from the register"); accepted rows carry everything.
_STAGE_COLUMNS = ("row_no", "ok", "household_no", "relation", "id_number", *STAGE_FIELDS[3:7], *STAGE_FIELDS[8:])
_TEMP_TABLES = (
    "roster_stage",
    "roster_stage_issue",
    "roster_stage_household",
    "roster_stage_village",
    "roster_moved_from",
    "roster_known_member",
    "roster_known_household",
)
_ISSUE_COLUMNS = ("row_no", "col", "code", "severity", "message", "value", "household_no")


@dataclass
class ImportOptions:
    actor: Actor
    today: date
    filename: str
    dry_run: bool = False
    strict: bool = False
    county_code: str | None = None  # a county office may import only its own county's rows
    complete: bool = False  # the roster lists the whole register of its villages: who is missing is removed
    progress: Progress | None = None
    bulk_min_rows: int = 100_000  # PostgreSQL: accepted rows from which a load into a small register goes in bulk
    # PostgreSQL: the file size from which a roster for an empty register is loaded as it is read (about 100,000 CSV
    # rows); a smaller one takes the staged path, quick anyway.
    first_load_min_bytes: int = 16 << 20


@dataclass
class ImportCounts:
    rows: int = 0
    accepted: int = 0
    normalised: int = 0
    rejected: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    deceased: int = 0
    removed: int = 0
    households: int = 0
    households_incomplete: int = 0
    villages_created: int = 0


@dataclass
class ImportOutcome:
    import_id: int
    counts: ImportCounts
    applied: bool
    already_imported: int | None = None  # the id of an earlier import of the very same file
    extra_columns: list[str] = field(default_factory=list)
    file_format: str = ""
    encoding: str | None = None
    first_load: bool = False  # loaded into an empty register as it was read (PostgreSQL), not staged first


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def known_county_codes(connection: Connection) -> frozenset[str]:
    rows = connection.execute(text("SELECT code FROM division WHERE level = 'county'"))
    return frozenset(code[:6] for (code,) in rows)


# --- staging ----------------------------------------------------------------------------------------------------


def _create_staging(connection: Connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    temp = "TEMP"
    suffix = " ON COMMIT DROP" if postgres else ""
    for name in _TEMP_TABLES:
        if not postgres:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
    columns = ", ".join(f"{c} {_STAGE_TYPES[c]}" for c in _STAGE_COLUMNS)
    connection.exec_driver_sql(f"CREATE {temp} TABLE roster_stage ({columns}){suffix}")
    connection.exec_driver_sql(
        f"CREATE {temp} TABLE roster_stage_issue (row_no INTEGER NOT NULL, col VARCHAR(50), code VARCHAR(40), "
        f"severity VARCHAR(8), message VARCHAR(500), value VARCHAR(200), household_no VARCHAR(32)){suffix}"
    )


def _drop_staging(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        for name in _TEMP_TABLES:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")


class _Issues:
    """The import's issues, spilled to a temporary file while the rows stream and loaded into roster_stage_issue
    when the caller says: the first load loads them after its savepoint, so that a dry run keeps its report."""

    def __init__(self, connection: Connection) -> None:
        self.driver = connection.connection.driver_connection
        self.postgres = connection.dialect.name == "postgresql"
        self.file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115 - closed in __exit__
        self.writer = csv.writer(self.file)

    def __enter__(self) -> "_Issues":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.file.close()

    def add(self, issue: tuple[Any, ...]) -> None:
        self.writer.writerow(issue)

    def discard(self) -> None:
        self.file.seek(0)
        self.file.truncate()

    def load(self) -> None:
        """Loads the spilled issues (empty fields are NULL)."""
        if self.postgres:
            _copy_spill(
                self.driver,
                f"COPY roster_stage_issue ({', '.join(_ISSUE_COLUMNS)}) FROM STDIN WITH (FORMAT csv)",
                self.file,
            )
            return
        self.file.seek(0)
        batch: list[tuple[Any, ...]] = []
        for issue in csv.reader(self.file):
            batch.append(tuple(v if v != "" else None for v in issue))
            if len(batch) >= BATCH:
                _insert_rows(self.driver, "roster_stage_issue", _ISSUE_COLUMNS, batch)
                batch = []
        _insert_rows(self.driver, "roster_stage_issue", _ISSUE_COLUMNS, batch)


def _copy_spill(driver: Any, statement: str, spill: Any) -> None:
    """Loads a spill file, from its start, by one COPY statement."""
    spill.seek(0)
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        while chunk := spill.read(1 << 20):
            copy.write(chunk)


def _insert_rows(driver: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    if rows:
        marks = ", ".join("?" for _ in columns)
        cursor = driver.cursor()
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        cursor.close()


class _Loader:
    """Streams rows into a table: the staged roster, or on a first load the register's members.

    On PostgreSQL one COPY stays open for the whole file; rows go as COPY text, a few hundred per write, and the
    server parses them while Python checks the next rows (two cores at work). No writer thread: it only contends
    for the GIL, and its queue holds up to 128 MB when Python runs ahead. SQLite gets batched executemany.
    """

    def __init__(
        self, connection: Connection, table: str = "roster_stage", columns: Sequence[str] = _STAGE_COLUMNS
    ) -> None:
        self.driver = connection.connection.driver_connection
        self.postgres = connection.dialect.name == "postgresql"
        self.table, self.columns = table, columns
        self.rows: list[tuple[Any, ...]] = []
        self.lines: list[str] = []
        self._stack = ExitStack()
        self._copy: Any = None

    def __enter__(self) -> "_Loader":
        if self.postgres:
            cursor = self._stack.enter_context(self.driver.cursor())
            statement = f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN"
            self._copy = self._stack.enter_context(cursor.copy(statement))
        return self

    def __exit__(self, *exc: Any) -> None:
        # Passing the exception on lets psycopg cancel an unfinished COPY instead of completing it for nothing.
        self._stack.__exit__(*exc)

    def add_row(self, row: tuple[Any, ...]) -> None:
        if self.postgres:
            self.add_line(copy_line(row))
            return
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            _insert_rows(self.driver, self.table, self.columns, self.rows)
            self.rows = []

    def add_canonical(self, row_no: int, cells: Sequence[str]) -> None:
        """A row canonical_line_check accepted: staged as check_record's values would be, without building them."""
        if not self.postgres:
            self.add_row(staged_row(canonical_values(row_no, cells)))
            return
        self.add_line(canonical_copy_line(row_no, cells))

    def add_lines(self, lines: list[str]) -> None:
        """Rows as lines of COPY text (PostgreSQL)."""
        self.lines += lines
        if len(self.lines) >= COPY_CHUNK_ROWS:
            self._send()

    def add_line(self, line: str) -> None:
        """A row as a line of COPY text (PostgreSQL)."""
        self.lines.append(line)
        if len(self.lines) >= COPY_CHUNK_ROWS:
            self._send()

    def _send(self) -> None:
        self._copy.write("".join(self.lines))
        self.lines = []

    def finish(self) -> None:
        """Ends the row stream."""
        if self.postgres:
            if self.lines:
                self._send()
            self._stack.close()
        else:
            _insert_rows(self.driver, self.table, self.columns, self.rows)
            self.rows = []


def copy_line(row: tuple[Any, ...]) -> str:
    """A staged row as a line of COPY's text format."""
    return "\t".join(map(copy_text, row)) + "\n"


def staged_row(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """check_record's values (STAGE_FIELDS) in the order of _STAGE_COLUMNS, for an accepted row."""
    return (values[0], True, values[1], values[7], values[2], *values[3:7], *values[8:])


def canonical_copy_line(row_no: int, cells: Sequence[str]) -> str:
    """copy_line(staged_row(canonical_values(row_no, cells))) in one f-string: the hot path of a big import.

    The cells need no escaping (the fast path admits no backslash, tab or line break); tests hold the two equal.
    """
    (
        household_no,
        name,
        id_number,
        relation,
        sex,
        birth,
        ethnicity,
        village_code,
        county,
        township,
        village,
        household_type,
        cause,
        phone,
        exit_year,
    ) = cells
    return (
        f"{row_no}\tt\t{household_no}\t{relation}\t{id_number}\t\\N\t{name}\t{SEX_LABELS[sex]}\t{birth}\t"
        f"{RELATION_CODES[relation]}\t{ethnicity}\t{village_code}\t{county}\t{township}\t{village}\t"
        f"{HOUSEHOLD_TYPES[household_type]}\t{POVERTY_CAUSES[cause]}\t{phone or NULL}\t{exit_year or NULL}\t"
        "active\t\\N\tf\n"
    )


class _Records:
    """Every record of the file: (row number, cells, True) for a canonical line, (row number, Checked, False) for any
    other record, checked whole, whose issues are written here. count is how many have been read."""

    def __init__(self, roster: RosterFile, options: ImportOptions, counties: frozenset[str], issues: _Issues) -> None:
        self.roster, self.options, self.counties, self.issues = roster, options, counties, issues
        self.count = 0

    def __iter__(self) -> Records:
        roster, options, counties = self.roster, self.options, self.counties
        header = roster.header
        allowed = options.county_code
        # A county office's fast path knows only its own county: another county's row takes the full path, refused.
        fast = canonical_line_check(
            header, today=options.today, known_counties=counties & {allowed} if allowed else counties
        )
        progress = options.progress
        for row_no, cells, canonical in roster.read(fast):
            self.count += 1
            if canonical:
                yield row_no, cells, True
            else:
                checked = check_record(row_no, cells, header, today=options.today, known_counties=counties)
                if checked.problem is None and allowed and checked.household_no[:6] != allowed:
                    checked.values = None
                    checked.problem = _outside(checked, allowed)
                _row_issues(checked, header, self.issues)
                yield row_no, checked, False
            if progress and self.count % 10_000 == 0:
                progress("reading", self.count, roster.position(), roster.size_bytes)


def _outside(checked: Checked, county: str) -> Problem:
    return Problem(
        "household_no",
        "outside_jurisdiction",
        f"户编号 {checked.household_no} 不属于本县（{county}），不能由本县导入 (outside your county)",
        checked.household_no,
    )


def _stage_one(checked: Checked, loader: _Loader) -> None:
    if checked.values is not None:
        loader.add_row(staged_row(checked.values))
    else:
        loader.add_row(
            (checked.row_no, False, checked.household_no, checked.relation, checked.id_number)
            + (None,) * (len(_STAGE_COLUMNS) - 5)
        )


def _row_issues(checked: Checked, header: HeaderMap, issues: _Issues) -> None:
    """The record's problem, and its fixes when it was accepted (a refused row stores nothing to fix)."""
    problem = checked.problem
    if problem is not None:
        issues.add(
            (
                checked.row_no,
                header.header_of(problem.column),
                problem.code,
                "error",
                problem.message,
                _short(problem.value),
                checked.household_no,
            )
        )
    for fix in checked.fixes if checked.values is not None else ():
        issues.add(
            (
                checked.row_no,
                header.header_of(fix.column),
                fix.code,
                "fixed",
                f"“{fix.value}”已修正为“{fix.fixed}” (normalised)",
                _short(fix.value),
                checked.household_no,
            )
        )


def _short(value: str | None) -> str | None:
    return value[:200] if value is not None else None


# --- whole-file checks in SQL -------------------------------------------------------------------------------------


def _check_whole_file(connection: Connection, header: HeaderMap, county_code: str | None) -> None:
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        _transaction_memory(connection)
    # No index on the household number: every statement that matches on it hashes (an index would be 4.5 seconds
    # of a province for a lookup in nested loops the plans do not use).
    if not postgres:
        connection.exec_driver_sql("CREATE INDEX roster_stage_hh ON roster_stage (household_no)")
    ids_unique = postgres and _unique_id_index(connection)
    if not ids_unique:
        connection.exec_driver_sql("CREATE INDEX roster_stage_id ON roster_stage (id_number)")
    if postgres:
        connection.exec_driver_sql("ANALYZE roster_stage")
    id_header = header.header_of("id_number")
    relation_header = header.header_of("relation")
    # The same ID twice: the earliest accepted row keeps it, every later one is refused, naming that row.
    duplicates = (
        0
        if ids_unique
        else connection.execute(
            text(
                "INSERT INTO roster_stage_issue (row_no, col, code, severity, message, value, household_no) "
                "SELECT d.row_no, :col, 'duplicate_id_in_file', 'error', "
                ":dup_1 || d.id_number || :dup_2 || CAST(d.first_row AS VARCHAR(12)) || "
                ":dup_3 || CAST(d.first_row AS VARCHAR(12)) || :dup_4, "
                "d.id_number, d.household_no FROM ("
                "  SELECT row_no, id_number, household_no, MIN(row_no) OVER (PARTITION BY id_number) AS first_row "
                "  FROM roster_stage WHERE ok) d WHERE d.row_no > d.first_row"
            ),
            {"col": id_header, **{f"dup_{i + 1}": part for i, part in enumerate(DUPLICATE_ID_PARTS)}},
        ).rowcount
    )
    if duplicates:
        connection.execute(
            text(
                "UPDATE roster_stage SET ok = FALSE WHERE ok AND row_no IN ("
                "SELECT row_no FROM roster_stage_issue WHERE code = 'duplicate_id_in_file')"
            )
        )
    if county_code:
        # A county keeps its own register: a person registered in another county's household is not moved by it
        # (and a dry run must not reveal where that person is registered).
        connection.execute(
            text(
                "INSERT INTO roster_stage_issue (row_no, col, code, severity, message, value, household_no) "
                "SELECT s.row_no, :col, 'member_in_other_county', 'error', "
                "'该证件号码登记在其他县的户中，须由该县处理 (registered in another county)', s.id_number, "
                "s.household_no FROM roster_stage s JOIN member m ON m.id_number = s.id_number "
                "JOIN household h ON h.id = m.household_id WHERE s.ok AND h.county_code <> :county"
            ),
            {"col": id_header, "county": county_code},
        )
        connection.execute(
            text(
                "UPDATE roster_stage SET ok = FALSE WHERE ok AND row_no IN ("
                "SELECT row_no FROM roster_stage_issue WHERE code = 'member_in_other_county')"
            )
        )
    # A household must have exactly one head among all its rows; otherwise none of it is stored.
    bad_households = (
        "SELECT household_no, SUM(CASE WHEN relation = :head THEN 1 ELSE 0 END) AS heads "
        "FROM roster_stage GROUP BY household_no "
        "HAVING SUM(CASE WHEN relation = :head THEN 1 ELSE 0 END) <> 1"
    )
    headless = connection.execute(
        text(
            "INSERT INTO roster_stage_issue (row_no, col, code, severity, message, value, household_no) "
            "SELECT s.row_no, :col, CASE WHEN b.heads = 0 THEN 'no_head' ELSE 'two_heads' END, 'error', "
            "CASE WHEN b.heads = 0 THEN :no_head_1 || s.household_no || :no_head_2 "
            "ELSE :two_heads_1 || s.household_no || :two_heads_2 END, "
            f"s.relation, s.household_no FROM roster_stage s JOIN ({bad_households}) b "
            "ON b.household_no = s.household_no WHERE s.ok"
        ),
        {
            "col": relation_header,
            "head": HEAD_RELATION,
            **{f"{code}_{i + 1}": part for code, parts in HEAD_PROBLEMS.items() for i, part in enumerate(parts)},
        },
    ).rowcount
    if headless:
        connection.execute(
            text(
                "UPDATE roster_stage SET ok = FALSE WHERE ok AND household_no IN ("
                "SELECT household_no FROM roster_stage_issue WHERE code IN ('no_head', 'two_heads'))"
            )
        )


def _transaction_memory(connection: Connection) -> None:
    """Sorts and hashes over millions of rows: memory for them, for this transaction only."""
    connection.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
    connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")


def _unique_id_index(connection: Connection) -> bool:
    """Indexes the staged IDs as unique, which fails when an ID appears twice (then the caller indexes them plainly
    and looks for the duplicates). A roster seldom has any: the one sort that builds the index also proves it."""
    savepoint = connection.begin_nested()
    try:
        connection.exec_driver_sql("CREATE UNIQUE INDEX roster_stage_id ON roster_stage (id_number)")
    except IntegrityError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def _final_counts(connection: Connection, counts: ImportCounts) -> None:
    row = connection.execute(
        text(
            "SELECT COUNT(*), SUM(CASE WHEN ok THEN 1 ELSE 0 END), SUM(CASE WHEN ok AND normalised THEN 1 ELSE 0 END) "
            "FROM roster_stage"
        )
    ).one()
    counts.rows, counts.accepted, counts.normalised = (int(v or 0) for v in row)
    counts.rejected = counts.rows - counts.accepted
    # One source row per household with an accepted row: its head's row when accepted, else its first accepted
    # row. The merge reads it; its size and its incomplete households are the counts. In file order, so that new
    # households get their ids in the order their members follow (the member insert then walks household pages
    # and indexes in order instead of at random).
    postgres = connection.dialect.name == "postgresql"
    connection.exec_driver_sql(
        (
            "CREATE TEMP TABLE roster_stage_household ON COMMIT DROP AS "
            if postgres
            else "CREATE TEMP TABLE roster_stage_household AS "
        )
        + "SELECT s.household_no, s.village_code, SUBSTR(s.village_code, 1, 6) AS county_code, s.poverty_attribute, "
        "s.main_cause, s.phone, s.exit_year, p.incomplete "
        "FROM roster_stage s JOIN (SELECT household_no, "
        "COALESCE(MIN(CASE WHEN ok AND relation = '户主' THEN row_no END), MIN(CASE WHEN ok THEN row_no END)) AS pick, "
        "MAX(CASE WHEN ok THEN 0 ELSE 1 END) AS incomplete "
        "FROM roster_stage GROUP BY household_no) p ON p.pick = s.row_no"
    )
    connection.exec_driver_sql("CREATE UNIQUE INDEX roster_stage_household_no ON roster_stage_household (household_no)")
    if postgres:
        connection.exec_driver_sql("ANALYZE roster_stage_household")
    households, incomplete = connection.execute(
        text("SELECT COUNT(*), SUM(incomplete) FROM roster_stage_household")
    ).one()
    counts.households, counts.households_incomplete = int(households), int(incomplete or 0)


# --- the merge into the register ---------------------------------------------------------------------------------


def _divisions(connection: Connection, named_in: str) -> int:
    """Townships and villages, created from their 12-digit codes under the seeded counties (names kept), from the
    rows of named_in (a table and condition with village_code, township_name, village_name); notes them in
    roster_stage_village. Returns how many villages it created."""
    postgres = connection.dialect.name == "postgresql"
    connection.exec_driver_sql(
        (
            "CREATE TEMP TABLE roster_stage_village ON COMMIT DROP AS "
            if postgres
            else "CREATE TEMP TABLE roster_stage_village AS "
        )
        + "SELECT village_code, MIN(township_name) AS township_name, MIN(village_name) AS village_name "
        f"FROM {named_in} GROUP BY village_code"
    )
    connection.execute(
        text(
            "INSERT INTO division (code, name, level, parent_code) "
            "SELECT SUBSTR(v.village_code, 1, 9) || '000', MIN(v.township_name), 'township', "
            "MIN(SUBSTR(v.village_code, 1, 6)) || '000000' FROM roster_stage_village v "
            "WHERE NOT EXISTS (SELECT 1 FROM division d WHERE d.code = SUBSTR(v.village_code, 1, 9) || '000') "
            "GROUP BY SUBSTR(v.village_code, 1, 9)"
        )
    )
    created = connection.execute(
        text(
            "INSERT INTO division (code, name, level, parent_code) "
            "SELECT v.village_code, v.village_name, 'village', SUBSTR(v.village_code, 1, 9) || '000' "
            "FROM roster_stage_village v WHERE NOT EXISTS (SELECT 1 FROM division d WHERE d.code = v.village_code)"
        )
    ).rowcount
    connection.execute(
        text(
            "UPDATE division SET name = v.village_name FROM roster_stage_village v "
            "WHERE division.code = v.village_code AND division.name <> v.village_name"
        )
    )
    return created


def _merge(
    connection: Connection,
    counts: ImportCounts,
    import_id: int,
    today: date,
    *,
    complete: bool,
    has_status: bool,
    bulk_min_rows: int,
) -> datetime:
    """Applies the staged roster to the register; returns the time stamped on every row it changed."""
    postgres = connection.dialect.name == "postgresql"
    # On SQLite a raw parameter is stored as text: written naive, as the models write UTC, so that timestamps of
    # the import and of the models compare (and match) as the same text.
    stamp = utcnow()
    now = stamp if postgres else stamp.replace(tzinfo=None)
    temp_prefix = "CREATE TEMP TABLE {} ON COMMIT DROP AS " if postgres else "CREATE TEMP TABLE {} AS "
    counts.villages_created = _divisions(connection, "roster_stage WHERE ok")
    incomplete = "(incomplete = 1)"
    params = {"now": now, "import_id": import_id, "today": today, "never": date(1, 1, 1)}
    # Updates before inserts. An insert skips the rows noted as known in a table of their own beforehand: an
    # anti-join against the table the same statement fills degrades to a scan per row when the planner believes
    # that table empty, and ON CONFLICT alone tries every row (17 s for a province's 4.45 million members).
    connection.execute(
        text(
            "UPDATE household SET village_code = h.village_code, county_code = h.county_code, "
            "poverty_attribute = h.poverty_attribute, main_cause = h.main_cause, phone = h.phone, "
            f"exit_year = h.exit_year, is_incomplete = {incomplete}, removed_on = NULL, "
            "last_import_id = :import_id, updated_at = :now "
            "FROM roster_stage_household h WHERE household.household_no = h.household_no AND ("
            "household.village_code <> h.village_code OR household.poverty_attribute <> h.poverty_attribute "
            "OR household.main_cause <> h.main_cause OR household.removed_on IS NOT NULL "
            "OR COALESCE(household.phone, '') <> COALESCE(h.phone, '') "
            "OR COALESCE(household.exit_year, 0) <> COALESCE(h.exit_year, 0) "
            f"OR household.is_incomplete <> {incomplete})"
        ),
        params,
    )
    # A big load into a small register (a province's first roster) goes in as a bulk load: see BulkLoad.
    bulk = BulkLoad.wanted(connection, counts.accepted, bulk_min_rows) if postgres else None
    if bulk:
        bulk.lock(connection)
    # Households on the register already: only the others are inserted.
    connection.exec_driver_sql(
        temp_prefix.format("roster_known_household")
        + "SELECT x.household_no FROM roster_stage_household x JOIN household h ON h.household_no = x.household_no"
    )
    connection.exec_driver_sql(
        "ANALYZE roster_known_household"
        if postgres
        else "CREATE INDEX roster_known_household_no ON roster_known_household (household_no)"
    )
    household_insert = (
        "INSERT INTO household (household_no, village_code, county_code, poverty_attribute, main_cause, "
        "phone, exit_year, is_incomplete, last_import_id, created_at, updated_at) "
        f"SELECT household_no, village_code, county_code, poverty_attribute, main_cause, phone, exit_year, "
        f"{incomplete}, :import_id, :now, :now FROM roster_stage_household h "
        "WHERE NOT EXISTS (SELECT 1 FROM roster_known_household k WHERE k.household_no = h.household_no) "
    )
    if bulk:
        bulk.drop(connection, "household")
        connection.execute(text(household_insert), params)
        bulk.restore(connection, "household")
    else:  # ON CONFLICT: the guard against a concurrent import
        connection.execute(text(household_insert + "ON CONFLICT (household_no) DO NOTHING"), params)
    if postgres:  # the planner must know the real sizes, or it joins millions of rows by nested loops
        connection.exec_driver_sql("ANALYZE household")  # member has not changed yet: analysed after its inserts
    # Members: who moved to another household, who died, who changed otherwise, who is new. The deceased count and
    # the update join the roster to the register themselves rather than read roster_known_member: tried on a
    # province's re-import, reading it was slower (update 8.9 -> 13.2 s, count 0.6 -> 0.9 s): the count filters
    # the roster first, and one join by ID number beats two joins of 4.45 million rows by row number.
    joined = (
        "FROM roster_stage s JOIN household h ON h.household_no = s.household_no "
        "JOIN member m ON m.id_number = s.id_number WHERE s.ok"
    )
    # Who is on the register already, with the household they are in and the one the roster puts them in: the
    # member insert skips them, and movers leave a village whose counts change too.
    connection.exec_driver_sql(
        temp_prefix.format("roster_known_member")
        + "SELECT s.row_no, m.household_id AS old_household_id, h.id AS new_household_id FROM roster_stage s "
        "JOIN household h ON h.household_no = s.household_no JOIN member m ON m.id_number = s.id_number WHERE s.ok"
    )
    connection.exec_driver_sql(
        "ANALYZE roster_known_member"
        if postgres
        else "CREATE INDEX roster_known_member_row ON roster_known_member (row_no)"  # SQLite would scan it per row
    )
    connection.exec_driver_sql(
        temp_prefix.format("roster_moved_from")
        + "SELECT o.village_code FROM roster_known_member k JOIN household o ON o.id = k.old_household_id "
        "WHERE k.old_household_id <> k.new_household_id"
    )
    counts.moved = connection.execute(text("SELECT COUNT(*) FROM roster_moved_from")).scalar_one()
    counts.deceased = connection.execute(
        text(f"SELECT COUNT(*) {joined} AND s.member_status = 'deceased' AND m.status <> 'deceased'")
    ).scalar_one()
    # A roster without the status column says nothing about deaths or moves out: a member it lists stays as
    # recorded, except that one removed from the register is back on it.
    if has_status:
        new_status, new_status_date = "x.member_status", "x.status_date"
    else:
        new_status = "CASE WHEN member.status = 'removed' THEN 'active' ELSE member.status END"
        new_status_date = "CASE WHEN member.status = 'removed' THEN NULL ELSE member.status_date END"
    counts.updated = connection.execute(
        text(
            "UPDATE member SET id_number_legacy = COALESCE(x.id_number_legacy, member.id_number_legacy), "
            "household_id = x.household_id, name = x.name, sex = x.sex, birth_date = x.birth_date, "
            "relation = x.relation, relation_code = x.relation_code, ethnicity = x.ethnicity, "
            f"status = {new_status}, status_date = {new_status_date}, updated_at = :now "
            "FROM (SELECT s.*, h.id AS household_id FROM roster_stage s "
            "JOIN household h ON h.household_no = s.household_no WHERE s.ok) x "
            "WHERE member.id_number = x.id_number AND (member.household_id <> x.household_id "
            "OR member.name <> x.name OR member.sex <> x.sex OR member.birth_date <> x.birth_date "
            "OR member.relation <> x.relation OR member.ethnicity <> x.ethnicity "
            f"OR member.status <> {new_status} "
            f"OR COALESCE(member.status_date, :never) <> COALESCE({new_status_date}, :never))"
        ),
        params,
    ).rowcount
    member_columns = (
        "INSERT INTO member (id_number, id_number_legacy, household_id, name, sex, birth_date, relation, "
        "relation_code, ethnicity, status, status_date, created_at, updated_at) "
        "SELECT s.id_number, s.id_number_legacy, h.id, s.name, s.sex, s.birth_date, s.relation, s.relation_code, "
        "s.ethnicity, s.member_status, s.status_date, :now, :now "
        "FROM roster_stage s JOIN household h ON h.household_no = s.household_no WHERE s.ok "
    )
    new_only = "AND NOT EXISTS (SELECT 1 FROM roster_known_member k WHERE k.row_no = s.row_no) "
    if bulk:
        bulk.drop(connection, "member")
        counts.created = connection.execute(text(member_columns + new_only), params).rowcount
        bulk.restore(connection, "member")
    else:
        counts.created = connection.execute(
            text(member_columns + new_only + "ON CONFLICT (id_number) DO NOTHING"), params
        ).rowcount
    if postgres:
        connection.exec_driver_sql("ANALYZE member")
    counts.unchanged = counts.accepted - counts.created - counts.updated
    # Removed from the register: active members whom the roster no longer lists, in the households it lists
    # (or, for a complete roster, in the villages it lists). A household with a refused row is left alone: its
    # missing member may be the refused one.
    if complete:
        scope = "EXISTS (SELECT 1 FROM roster_stage_village v WHERE v.village_code = h.village_code)"
    else:
        scope = "EXISTS (SELECT 1 FROM roster_stage_household x WHERE x.household_no = h.household_no)"
    counts.removed = connection.execute(
        text(
            "UPDATE member SET status = 'removed', status_date = :today, updated_at = :now "
            f"WHERE status = 'active' AND household_id IN (SELECT h.id FROM household h WHERE {scope} "
            "AND h.created_at < :now "  # a household this import created has no one to remove
            "AND NOT EXISTS (SELECT 1 FROM roster_stage r WHERE r.household_no = h.household_no AND NOT r.ok)) "
            "AND NOT EXISTS (SELECT 1 FROM roster_stage r WHERE r.id_number = member.id_number)"
        ),
        params,
    ).rowcount
    if complete:
        connection.execute(
            text(
                "UPDATE household SET removed_on = :today, updated_at = :now WHERE removed_on IS NULL "
                "AND EXISTS (SELECT 1 FROM roster_stage_village v WHERE v.village_code = household.village_code) "
                "AND NOT EXISTS (SELECT 1 FROM roster_stage r WHERE r.household_no = household.household_no) "
                "AND NOT EXISTS (SELECT 1 FROM member m WHERE m.household_id = household.id AND m.status = 'active')"
            ),
            params,
        )
    _recount_villages(connection, now)
    return stamp


def _recount_villages(connection: Connection, now: datetime) -> None:
    """Counts the register again in the villages this import touched (those its accepted rows name, and those its
    movers left) and stores the counts in village_register_count, inside the import's transaction: the counts
    change with the register or not at all."""
    touched = "SELECT village_code FROM roster_stage_village UNION SELECT village_code FROM roster_moved_from"
    where, where_h = f"village_code IN ({touched})", f"h.village_code IN ({touched})"
    connection.execute(text(f"DELETE FROM village_register_count WHERE {where}"))
    # Households per village, and active members per village by one join (grouping members by household first
    # would hash a province's 1.5 million households).
    connection.execute(
        text(
            "INSERT INTO village_register_count (village_code, county_code, households, households_incomplete, "
            "members_active, updated_at) "
            "SELECT v.village_code, v.county_code, v.households, v.incomplete, COALESCE(a.active, 0), :now FROM ("
            "  SELECT village_code, MIN(county_code) AS county_code, COUNT(*) AS households, "
            "  SUM(CASE WHEN is_incomplete THEN 1 ELSE 0 END) AS incomplete FROM household "
            f"  WHERE removed_on IS NULL AND {where} GROUP BY village_code) v LEFT JOIN ("
            "  SELECT h.village_code, COUNT(*) AS active FROM member m JOIN household h ON h.id = m.household_id "
            f"  WHERE m.status = 'active' AND h.removed_on IS NULL AND {where_h} GROUP BY h.village_code"
            ") a ON a.village_code = v.village_code"
        ),
        {"now": now},
    )


# --- the use case -------------------------------------------------------------------------------------------------


def run_import(engine: Engine, path: Path, options: ImportOptions, import_id: int | None = None) -> ImportOutcome:
    """Imports one roster file in one transaction; raises RosterUnreadable for a file that is not a roster."""
    sha256 = file_digest(path)
    size = path.stat().st_size
    if import_id is None:
        # Recorded as running at once (committed): the sweeper re-queues only web uploads, which start queued.
        with Session(engine) as session:
            record = RosterImport(
                filename=options.filename[:255],
                sha256=sha256,
                size_bytes=size,
                county_code=options.county_code,
                actor=options.actor.name,
                actor_user_id=options.actor.user_id,
                status=ImportStatus.running,
                dry_run=options.dry_run,
                strict=options.strict,
                started_at=utcnow(),
            )
            session.add(record)
            session.commit()
            import_id = int(record.id or 0)
    try:
        return _run(engine, path, options, import_id, sha256)
    except RosterUnreadable as exc:
        queue.mark_failed(engine, RosterImport.__table__, import_id, exc.message)
        raise
    except Exception as exc:
        queue.mark_failed(
            engine,
            RosterImport.__table__,
            import_id,
            f"导入失败，未写入任何数据 (import failed, nothing written): {type(exc).__name__}",
        )
        raise


def _run(engine: Engine, path: Path, options: ImportOptions, import_id: int, sha256: str) -> ImportOutcome:
    roster = open_roster(path)
    with for_writing(engine).connect() as connection:  # one writer from the start: it reads, then writes
        transaction = connection.begin()
        try:
            earlier = connection.execute(
                text(
                    "SELECT MAX(id) FROM roster_import WHERE sha256 = :sha AND status = 'done' AND applied "
                    "AND id <> :id"
                ),
                {"sha": sha256, "id": import_id},
            ).scalar_one()
            _create_staging(connection)
            counties = known_county_codes(connection)
            with _Issues(connection) as issues:
                done = None
                if _first_load_wanted(connection, roster, options):
                    done = _first_load(connection, roster, options, counties, import_id, issues)
                    if done is None:  # the staged path decides what the first load could not
                        roster = _reopen(roster, issues)
                counts, applied = done or _staged_import(connection, roster, options, counties, import_id, issues)
            _record(connection, import_id, counts, applied, options, roster)
            _drop_staging(connection)
            transaction.commit()
        except BaseException:
            transaction.rollback()
            raise
    if options.progress:
        options.progress("done", counts.rows, roster.size_bytes, roster.size_bytes)
    return ImportOutcome(
        import_id=import_id,
        counts=counts,
        applied=applied,
        already_imported=earlier,
        extra_columns=roster.header.extra,
        file_format=roster.file_format,
        encoding=roster.encoding,
        first_load=done is not None,
    )


def _reopen(roster: RosterFile, issues: _Issues) -> RosterFile:
    """The file again from its first row, for another pass; the issues of the pass before are forgotten."""
    roster.close()
    issues.discard()
    return open_roster(roster.path)


def _header_issues(header: HeaderMap, issues: _Issues) -> None:
    for extra in (e[:50] for e in header.extra):
        issues.add((1, extra, "extra_column", "note", f"未知的列“{extra}”已忽略 (unknown column ignored)", None, None))


def _applied(options: ImportOptions, counts: ImportCounts) -> bool:
    return not options.dry_run and not (options.strict and counts.rejected > 0)


def _settle(
    connection: Connection, savepoint: Any, options: ImportOptions, applied: bool, changed_at: datetime
) -> None:
    """Keeps the register's changes, with the cover they end (deaths and moves, in the same transaction), or undoes
    them (a dry run, a strict import with refused rows)."""
    if not applied:
        savepoint.rollback()
        return
    with Session(bind=connection) as cover_session:
        events.after_merge(cover_session, options.actor, changed_at)
        cover_session.commit()  # releases the session's own savepoint inside the import's
    savepoint.commit()


def _staged_import(
    connection: Connection,
    roster: RosterFile,
    options: ImportOptions,
    counties: frozenset[str],
    import_id: int,
    issues: _Issues,
) -> tuple[ImportCounts, bool]:
    """Stages the whole file, checks it as a whole in SQL, merges it into the register in a savepoint (undone for a
    dry run or a strict import with refused rows)."""
    header = roster.header
    _header_issues(header, issues)
    records = _Records(roster, options, counties, issues)
    with _Loader(connection) as loader:
        for row_no, item, canonical in records:
            if canonical:
                loader.add_canonical(row_no, item)
            else:
                _stage_one(item, loader)
        loader.finish()
    issues.load()
    counts = ImportCounts(rows=records.count)
    if options.progress:
        options.progress("checking", counts.rows, roster.size_bytes, roster.size_bytes)
    _check_whole_file(connection, header, options.county_code)
    _final_counts(connection, counts)
    applied = _applied(options, counts)
    savepoint = connection.begin_nested()
    changed_at = _merge(
        connection,
        counts,
        import_id,
        options.today,
        complete=options.complete,
        has_status="member_status" in header.positions,
        bulk_min_rows=options.bulk_min_rows,
    )
    _settle(connection, savepoint, options, applied, changed_at)
    return counts, applied


# --- the first load of an empty register (PostgreSQL) -------------------------------------------------------------


def _register_empty(connection: Connection) -> bool:
    return bool(
        connection.execute(
            text("SELECT NOT EXISTS (SELECT 1 FROM household) AND NOT EXISTS (SELECT 1 FROM member)")
        ).scalar_one()
    )


def _first_load_wanted(connection: Connection, roster: RosterFile, options: ImportOptions) -> bool:
    return (
        connection.dialect.name == "postgresql"
        and roster.size_bytes >= options.first_load_min_bytes
        and _register_empty(connection)
    )


def _first_load(
    connection: Connection,
    roster: RosterFile,
    options: ImportOptions,
    counties: frozenset[str],
    import_id: int,
    issues: _Issues,
) -> tuple[ImportCounts, bool] | None:
    """Loads a roster into an empty register while reading it (see insurance.register.roster_bulk); None when the roster
    needs the staged path (a household's rows apart, the register not empty after all). A first pass that finds
    IDs used twice is undone, and a second one, knowing them, refuses them as the staged path does."""
    done = _load_as_read(connection, roster, options, counties, import_id, issues, frozenset())
    if isinstance(done, frozenset):
        again = _reopen(roster, issues)
        try:
            done = _load_as_read(connection, again, options, counties, import_id, issues, done)
        finally:
            again.close()
    return done if isinstance(done, tuple) else None


def _load_as_read(
    connection: Connection,
    roster: RosterFile,
    options: ImportOptions,
    counties: frozenset[str],
    import_id: int,
    issues: _Issues,
    twins: frozenset[str],
) -> tuple[ImportCounts, bool] | frozenset[str] | None:
    """One pass of the first load, in a savepoint. With the savepoint undone, it returns the IDs used twice when it
    found any (but not after a pass that knew them: twins), or None when the roster needs the staged path.

    The register is locked, its secondary indexes and foreign keys dropped (BulkLoad); members stream into member by
    COPY as each household's rows end, households into a spill loaded after them; then every index and constraint
    is built and checked again, and the village counts come from Python's own tally.
    """
    savepoint = connection.begin_nested()
    BulkLoad.lock(connection)
    if not _register_empty(connection):  # another import filled it meanwhile
        savepoint.rollback()
        return None
    _transaction_memory(connection)
    header = roster.header
    stamp = utcnow()
    bulk = BulkLoad()
    bulk.drop(connection, "member")
    bulk.drop(connection, "household", foreign=False)  # its foreign keys to other tables: see BulkLoad.drop
    # COPY leaves the two time stamps to column defaults set for the load: one parse each instead of one per row.
    _stamp_defaults(connection, f"SET DEFAULT '{stamp.isoformat()}'")
    first_id = connection.execute(text("SELECT nextval(pg_get_serial_sequence('household', 'id'))")).scalar_one()
    _header_issues(header, issues)
    with ExitStack() as files:
        spill, refused = (files.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8")) for _ in range(2))
        try:
            with _Loader(connection, "member", MEMBER_COPY_COLUMNS) as loader:
                records = _Records(roster, options, counties, issues)
                stream = iter(records)
                if twins:
                    stream = refuse_twins(stream, twins, issues.add, header.header_of("id_number"))
                load = FirstLoad(
                    first_id, import_id, loader.add_lines, spill, refused, issues.add, header.header_of("relation")
                )
                tally = load.feed(stream)
                loader.finish()
            rows = records.count
        except NotTogether:
            savepoint.rollback()
            return None
        if options.progress:
            options.progress("checking", rows, roster.size_bytes, roster.size_bytes)
        connection.exec_driver_sql(
            "CREATE TEMP TABLE roster_village_name (village_code VARCHAR(12), township_name VARCHAR(100), "
            "village_name VARCHAR(100)) ON COMMIT DROP"
        )
        if tally.names:
            connection.execute(
                text("INSERT INTO roster_village_name VALUES (:code, :township, :village)"),
                [{"code": c, "township": t, "village": v} for c, t, v in sorted(tally.names)],
            )
        villages_created = _divisions(connection, "roster_village_name")
        bulk.drop(connection, "household")  # its foreign keys to division and roster_import, if it may
        driver = connection.connection.driver_connection
        _copy_spill(driver, f"COPY household ({', '.join(HOUSEHOLD_COPY_COLUMNS)}) FROM STDIN", spill)
        connection.exec_driver_sql("CREATE TEMP TABLE roster_refused_id (id_number VARCHAR(18)) ON COMMIT DROP")
        if tally.refused:
            _copy_spill(driver, "COPY roster_refused_id (id_number) FROM STDIN", refused)
    _stamp_defaults(connection, "DROP DEFAULT")
    bulk.restore(connection, "household")
    found = _twins(connection, bulk)
    if found:
        savepoint.rollback()
        return found if not twins else None  # twins again after a pass that knew them: leave it to the staged path
    if tally.households:
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence('household', 'id'), :last)"),
            {"last": tally.next_household_id - 1},
        )
    _store_village_counts(connection, tally.villages, stamp)
    connection.exec_driver_sql("ANALYZE household")
    connection.exec_driver_sql("ANALYZE member")
    counts = ImportCounts(
        rows=rows,
        accepted=tally.accepted,
        normalised=tally.normalised,
        rejected=rows - tally.accepted,
        created=tally.accepted,
        households=tally.households,
        households_incomplete=tally.households_incomplete,
        villages_created=villages_created,
    )
    applied = _applied(options, counts)
    _settle(connection, savepoint, options, applied, stamp)
    issues.load()
    return counts, applied


def _store_village_counts(connection: Connection, villages: dict[str, VillageTally], stamp: datetime) -> None:
    """The first load's tally per village, stored as _recount_villages would count it."""
    if villages:
        connection.execute(
            text(
                "DELETE FROM village_register_count "
                "WHERE village_code IN (SELECT village_code FROM roster_stage_village)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO village_register_count (village_code, county_code, households, households_incomplete, "
                "members_active, updated_at) VALUES (:code, :county, :households, :incomplete, :active, :now)"
            ),
            [
                {
                    "code": code,
                    "county": code[:6],
                    "households": v.households,
                    "incomplete": v.incomplete,
                    "active": v.active,
                    "now": stamp,
                }
                for code, v in sorted(villages.items())
            ],
        )


def _twins(connection: Connection, bulk: BulkLoad) -> frozenset[str]:
    """Builds member's indexes and constraints, or finds the IDs used twice: among the loaded members (the unique
    index fails on them) and between them and the rows of households refused whole (the staged path finds those
    before it refuses the households, so a later good row with such an ID is refused as used twice)."""
    attempt = connection.begin_nested()
    try:
        bulk.restore(connection, "member")
    except IntegrityError:
        attempt.rollback()
        found = connection.execute(
            text(
                "SELECT id_number FROM (SELECT id_number FROM member "
                "UNION ALL SELECT id_number FROM roster_refused_id) a GROUP BY id_number HAVING COUNT(*) > 1"
            )
        ).scalars()
        return frozenset(found)
    attempt.commit()
    found = connection.execute(
        text(
            "SELECT r.id_number FROM roster_refused_id r JOIN member m ON m.id_number = r.id_number "
            "UNION SELECT id_number FROM roster_refused_id GROUP BY id_number HAVING COUNT(*) > 1"
        )
    ).scalars()
    return frozenset(found)


def _stamp_defaults(connection: Connection, action: str) -> None:
    for table in ("member", "household"):
        connection.exec_driver_sql(
            f"ALTER TABLE {table} ALTER COLUMN created_at {action}, ALTER COLUMN updated_at {action}"
        )


def _record(
    connection: Connection,
    import_id: int,
    counts: ImportCounts,
    applied: bool,
    options: ImportOptions,
    roster: RosterFile,
) -> None:
    connection.execute(
        text(
            'INSERT INTO roster_import_issue (import_id, row, "column", code, severity, message, value, household_no) '
            "SELECT :id, row_no, col, code, severity, message, value, household_no FROM roster_stage_issue"
        ),
        {"id": import_id},
    )
    fields = {name: getattr(counts, name) for name in ImportCounts.__dataclass_fields__}
    sets = ", ".join(f"{name} = :{name}" for name in fields)
    message = None
    if options.strict and counts.rejected:
        message = f"严格模式：有 {counts.rejected} 行被拒绝，花名册未作任何修改 (strict: nothing written)"
    elif options.dry_run:
        message = "试运行：花名册未作任何修改 (dry run: nothing written)"
    connection.execute(
        text(
            f"UPDATE roster_import SET {sets}, status = 'done', applied = :applied, message = :message, "
            "file_format = :fmt, encoding = :enc, finished_at = :now WHERE id = :id"
        ),
        {
            **fields,
            "applied": applied,
            "message": message,
            "fmt": roster.file_format,
            "enc": roster.encoding,
            "now": utcnow(),
            "id": import_id,
        },
    )
    # The audit record joins this connection's transaction: it lands, or vanishes, with the import.
    with Session(bind=connection) as session:
        audit.record(
            session,
            options.actor,
            "import",
            "roster_import",
            import_id,
            after={**fields, "applied": applied, "file": options.filename},
        )
        session.flush()


def iter_issues(connection: Connection, import_id: int, *, errors_only: bool = False) -> Iterator[dict[str, Any]]:
    """The import's report rows, by row number, streamed."""
    where = " AND severity = 'error'" if errors_only else ""
    result = connection.execution_options(yield_per=5000).execute(
        text(
            'SELECT row, "column", code, severity, message, value, household_no FROM roster_import_issue '
            f"WHERE import_id = :id{where} ORDER BY row, id"
        ),
        {"id": import_id},
    )
    for row in result:
        yield dict(row._mapping)
