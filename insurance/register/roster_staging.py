"""The import's staging: temporary tables the checked rows are streamed into by COPY, and the spill of the row-level
issues, written while the file is read.
"""

import csv
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

from sqlalchemy.engine import Connection

from core.masking import mask_id_number
from insurance.register.roster import (
    HOUSEHOLD_TYPES,
    POVERTY_CAUSES,
    HeaderMap,
    RosterFile,
)
from insurance.register.roster_bulk import (
    NULL,
    RELATION_CODES,
    Records,
    copy_text,
)
from insurance.register.roster_checks import (
    SEX_LABELS,
    STAGE_FIELDS,
    Checked,
    Problem,
    canonical_line_check,
    canonical_values,
    check_record,
)
from insurance.register.roster_options import BATCH, COPY_CHUNK_ROWS, ImportOptions

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


# --- staging ----------------------------------------------------------------------------------------------------


def create_staging(connection: Connection) -> None:
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


def drop_staging(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        for name in _TEMP_TABLES:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")


class Issues:
    """The import's issues, spilled to a temporary file while the rows stream and loaded into roster_stage_issue
    when the caller says: the first load loads them after its savepoint, so that a dry run keeps its report."""

    def __init__(self, connection: Connection) -> None:
        self.driver = connection.connection.driver_connection
        self.postgres = connection.dialect.name == "postgresql"
        self.file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115 - closed in __exit__
        self.writer = csv.writer(self.file)

    def __enter__(self) -> "Issues":
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
            copy_spill(
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


def copy_spill(driver: Any, statement: str, spill: Any) -> None:
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


class Loader:
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

    def __enter__(self) -> "Loader":
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


class RecordStream:
    """Every record of the file: (row number, cells, True) for a canonical line, (row number, Checked, False) for any
    other record, checked whole, whose issues are written here. count is how many have been read."""

    def __init__(self, roster: RosterFile, options: ImportOptions, counties: frozenset[str], issues: Issues) -> None:
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
        f"户编号 {checked.household_no} 不属于本县（{county}），不能由本县导入",
        checked.household_no,
    )


def stage_one(checked: Checked, loader: Loader) -> None:
    if checked.values is not None:
        loader.add_row(staged_row(checked.values))
    else:
        loader.add_row(
            (checked.row_no, False, checked.household_no, checked.relation, checked.id_number)
            + (None,) * (len(_STAGE_COLUMNS) - 5)
        )


def _row_issues(checked: Checked, header: HeaderMap, issues: Issues) -> None:
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
        # An ID's fix is told masked, both forms: the message reaches every reader of the report.
        show = mask_id_number if fix.column == "id_number" else str
        issues.add(
            (
                checked.row_no,
                header.header_of(fix.column),
                fix.code,
                "fixed",
                f"“{show(fix.value)}”已修正为“{show(fix.fixed)}”",
                _short(fix.value),
                checked.household_no,
            )
        )


def _short(value: str | None) -> str | None:
    return value[:200] if value is not None else None
