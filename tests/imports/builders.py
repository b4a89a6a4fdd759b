"""Rosters for the import tests, from the project's own generator."""

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.audit import Actor
from insurance.roster import COLUMNS
from insurance.roster_import import ImportOptions, ImportOutcome, run_import

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
