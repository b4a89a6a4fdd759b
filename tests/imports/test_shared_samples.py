"""The shared sample rosters and their answer key (present in CI beside the clone; absent in a user's clone)."""

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.audit import Actor
from insurance.register.roster_import import iter_issues, run_import
from insurance.register.roster_options import ImportOptions

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
pytestmark = pytest.mark.skipif(
    not (SHARED / "roster_bad.answers.json").is_file(),
    reason="../shared/data is not beside this clone (only CI and the developers have it); "
    "tests/imports/test_generated_rosters.py covers every defect kind with the project's own rosters",
)


def _import(engine: Engine, name: str) -> object:
    options = ImportOptions(actor=Actor.system("test"), today=date(2026, 11, 25), filename=name)
    return run_import(engine, SHARED / name, options)


def test_bad_roster_is_imported_exactly_as_the_answer_key_says(engine: Engine) -> None:
    key = json.loads((SHARED / "roster_bad.answers.json").read_text(encoding="utf-8"))
    outcome = _import(engine, "roster_bad.csv")
    totals = key["totals"]
    counts = outcome.counts
    assert (counts.rows, counts.accepted, counts.rejected, counts.households) == (
        totals["rows"],
        totals["accepted_rows"],
        totals["rejected_rows"],
        totals["accepted_households"],
    )
    assert counts.normalised == totals["fixable_rows"]
    with engine.connect() as connection:
        errors = {i["row"]: i for i in iter_issues(connection, outcome.import_id, errors_only=True)}
        fixed = {i["row"]: i for i in iter_issues(connection, outcome.import_id) if i["severity"] == "fixed"}
        stored = dict(connection.execute(text("SELECT id_number, name FROM member")).all())
        incomplete = {r for (r,) in connection.execute(text("SELECT household_no FROM household WHERE is_incomplete"))}
    rejected = {b["row"]: b for b in key["bad_rows"] if b["decision"] == "reject"}
    assert set(errors) == set(rejected)
    for row, expected in rejected.items():
        assert errors[row]["column"] == expected["header"], (row, expected["kind"], errors[row])
        assert errors[row]["code"] == expected["kind"], (row, errors[row])
        if expected["kind"] == "duplicate_id_in_file":
            assert str(expected["duplicate_of_row"]) in errors[row]["message"]
    for bad in key["bad_rows"]:
        if bad["decision"] == "fixable":
            assert bad["row"] in fixed and fixed[bad["row"]]["code"] == bad["kind"]
            if bad["column"] == "id_number":
                assert bad["expected"] in stored
            else:
                assert bad["expected"] in stored.values()
    row_scoped = {b["household_no"] for b in key["bad_rows"] if b["decision"] == "reject" and b["scope"] == "row"}
    assert incomplete == row_scoped


def test_the_three_forms_of_the_small_roster_store_the_same_register(engine: Engine) -> None:
    first = _import(engine, "roster_small.csv").counts
    assert (first.rows, first.created, first.households) == (871, 871, 300)
    for name in ("roster_small_gb18030.csv", "roster_small.xlsx"):
        again = _import(engine, name).counts
        assert (again.accepted, again.unchanged, again.created, again.updated) == (871, 871, 0, 0), name


def test_rare_characters_come_back_from_storage_exactly(engine: Engine) -> None:
    import csv

    _import(engine, "roster_small_gb18030.csv")
    with (SHARED / "roster_small.csv").open(encoding="utf-8-sig", newline="") as handle:
        names = {row["证件号码"]: row["姓名"] for row in csv.DictReader(handle)}
    rare = {k: v for k, v in names.items() if any(ch in v for ch in "𠮷䶮赟堃昇喆玥镕旻珺祎垚")}
    assert rare, "the sample has rare characters"
    with engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT id_number, name FROM member")).all())
    assert {k: stored[k] for k in rare} == rare


def test_english_headers_are_recognised(engine: Engine) -> None:
    counts = _import(engine, "roster_english_headers.csv").counts
    assert (counts.rows, counts.accepted, counts.households) == (171, 171, 50)
