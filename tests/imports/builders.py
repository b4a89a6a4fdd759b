"""Rosters for the import tests, from the project's own generator."""

import csv
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.audit import Actor
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
