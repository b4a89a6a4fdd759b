"""Rosters for the import tests, from the project's own generator."""

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.audit import Actor
from insurance.demo.roster import generate_rows
from insurance.register.identifiers import ID_CHECK_CHARS, id_check_char
from insurance.register.roster import COLUMNS
from insurance.register.roster_import import run_import
from insurance.register.roster_options import ImportOptions, ImportOutcome
from tests.conftest import reset_database

TODAY = date(2026, 11, 25)
HEADER = [c.header for c in COLUMNS]


def write_rows(
    path: Path, rows: Sequence[Sequence[str]], *, header: Sequence[str] = HEADER, encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def import_file(engine: Engine, path: Path, **options: object) -> ImportOutcome:
    return run_import(
        engine, path, ImportOptions(actor=Actor.system("test"), today=TODAY, filename=path.name, **options)
    )


def register_counts(engine: Engine) -> tuple[int, int, int]:
    """(households, members, active members)"""
    with engine.connect() as connection:
        return (
            connection.execute(text("SELECT COUNT(*) FROM household")).scalar_one(),
            connection.execute(text("SELECT COUNT(*) FROM member")).scalar_one(),
            connection.execute(text("SELECT COUNT(*) FROM member WHERE status = 'active'")).scalar_one(),
        )


def village_counts(engine: Engine) -> dict[str, tuple[str, int, int, int]]:
    """The counts the import keeps per village: (county, households, incomplete households, active members)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT village_code, county_code, households, households_incomplete, members_active "
                "FROM village_register_count"
            )
        ).all()
    return {v: (c, h, i, m) for v, c, h, i, m in rows}


def register_snapshot(engine: Engine, import_ids: list[int]) -> dict[str, Any]:
    """The register, its kept counts and divisions, and the reports, without ids and timestamps."""
    with engine.connect() as connection:
        households = connection.execute(
            text(
                "SELECT household_no, village_code, county_code, poverty_attribute, main_cause, phone, exit_year, "
                "is_incomplete, removed_on FROM household ORDER BY household_no"
            )
        ).all()
        members = connection.execute(
            text(
                "SELECT m.id_number, h.household_no, m.name, m.sex, m.birth_date, m.relation, m.relation_code, "
                "m.ethnicity, m.status, m.status_date FROM member m JOIN household h ON h.id = m.household_id "
                "ORDER BY m.id_number"
            )
        ).all()
        divisions = connection.execute(text("SELECT code, name, level, parent_code FROM division ORDER BY code")).all()
        issues = connection.execute(
            text(
                'SELECT import_id, row, "column", code, severity, message, value, household_no '
                "FROM roster_import_issue ORDER BY import_id, row, id"  # a row's issues in the report's order
            )
        ).all()
    first = min(import_ids)
    return {
        "households": households,
        "members": members,
        "village_counts": village_counts(engine),
        "divisions": divisions,
        "issues": [(i - first, *rest) for i, *rest in issues],
    }


def register_schema(engine: Engine) -> dict[str, Any]:
    """Each register table's index and constraint definitions, and their object ids (a rebuild changes those)."""
    with engine.connect() as connection:
        indexes = connection.execute(
            text(
                "SELECT tablename, indexname, indexdef, CAST(CAST(indexname AS regclass) AS oid) AS oid "
                "FROM pg_indexes WHERE tablename IN ('household', 'member') ORDER BY 2"
            )
        ).all()
        constraints = connection.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
                "WHERE conrelid IN (CAST('household' AS regclass), CAST('member' AS regclass)) ORDER BY conname"
            )
        ).all()
    return {
        "definitions": [(t, n, d) for t, n, d, _ in indexes] + list(constraints),
        "oids": {n: oid for _, n, _, oid in indexes},
    }


def same_register_both_ways(
    engine: Engine, scenario: Callable[[int], list[ImportOutcome]], reference: int, other: int
) -> tuple[list[ImportOutcome], list[ImportOutcome], dict[str, Any]]:
    """Runs the scenario with the reference option value, then with the other one on a fresh register; asserts the
    same register, kept counts, divisions, reports, counts and outcome, and every index and constraint back and
    validated. Returns both runs' outcomes and the index object ids after each (a rebuild changes them)."""
    expected_run = scenario(reference)
    expected = register_snapshot(engine, [o.import_id for o in expected_run])
    schema = register_schema(engine)
    reset_database(engine)
    run = scenario(other)
    assert register_snapshot(engine, [o.import_id for o in run]) == expected
    assert [o.counts for o in run] == [o.counts for o in expected_run]
    assert [o.applied for o in run] == [o.applied for o in expected_run]
    after = register_schema(engine)
    assert after["definitions"] == schema["definitions"]  # every index and constraint back, validated
    return expected_run, run, {"before": schema["oids"], "after": after["oids"]}


@dataclass(frozen=True)
class LeakyRoster:
    """A small roster of one county whose report must quote ID numbers, with the numbers it holds in full."""

    path: Path
    bad_checksum: str  # refused: the check character is wrong
    legacy: str  # the 18-digit form of a 15-digit ID (fixed)
    lowercase: str  # an ID written with a lower-case x (fixed)
    duplicate: str  # listed twice (the second refused)
    shifted: str  # a valid ID typed into the phone column (refused)

    @property
    def full_numbers(self) -> tuple[str, ...]:
        """Every full number the file holds that the report speaks of, in each form the file writes it."""
        legacy15 = self.legacy[:6] + self.legacy[8:17]
        return (
            self.bad_checksum,
            self.legacy,
            legacy15,
            self.lowercase,
            self.lowercase.lower(),
            self.duplicate,
            self.shifted,
        )


def leaky_roster(path: Path, county: str = "433124", *, header: Sequence[str] = HEADER) -> LeakyRoster:
    rows = [list(r) for r in generate_rows(12, seed=11, counties=[county])]
    assert [r[3] for r in rows[:3]] == ["户主", "配偶", "之子"] and rows[7][2].endswith("X") and rows[2][5] < "2000"
    good = rows[1][2]
    bad = good[:17] + ID_CHECK_CHARS[(ID_CHECK_CHARS.index(good[17]) + 1) % 11]
    rows[1][2] = bad
    legacy = rows[2][2]
    rows[2][2] = legacy[:6] + legacy[8:17]
    lowercase = rows[7][2]
    rows[7][2] = lowercase.lower()
    shifted = county + "19900101123"
    shifted += id_check_char(shifted)
    rows[4][13] = shifted
    rows.append(list(rows[11]))
    write_rows(path, rows, header=header)
    return LeakyRoster(path, bad, legacy, lowercase, rows[11][2], shifted)
