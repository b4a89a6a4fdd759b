"""The sample story's one-stop settlement sheets against their answer keys (shared/data/claims, copied into
tests/data/coverage_story): every refused row with its code and column, every assessed row with its payable amount,
what it leaves to the household and its reason, in file order (the annual limit counts earlier rows), on SQLite
and PostgreSQL, through the service the CLI and the worker call. A stay of a member whose county has no policy of
the company is refused with `not_covered` (the contract's choice): there is no policy to file a claim under."""

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from claims.settlement_import import SettlementOptions, run_settlement_import
from core.audit import Actor
from tests.gaps_story import DATA, Story, build_story

TODAY = date(2026, 12, 1)  # after every stay of the sheets, before the one dated 2030


@pytest.fixture
def story(session: Session, engine: Engine, tmp_path: Path) -> Story:
    return build_story(session, engine, tmp_path)


def check_against_key(engine: Engine, story: Story, name: str) -> None:
    key: dict[str, Any] = json.loads((DATA / f"{name}.answers.json").read_text(encoding="utf-8"))
    options = SettlementOptions(story.cast.insurer.id or 0, Actor.system("test"), TODAY, name)
    outcome = run_settlement_import(engine, DATA / name, options)
    refused = {i.row: i for i in outcome.errors}
    created = {c.row: c for c in outcome.claims}
    for expected in key["rows"]:
        row = expected["row"]
        if expected["outcome"] == "refused":
            assert row in refused and row not in created, expected
            assert (refused[row].code, refused[row].column) == (expected["code"], expected["column"]), expected
        elif row in refused:  # the contract's choice: a stay the cover does not answer for, refused with its code
            assert expected["reason"] == "not_covered" and expected["payable_fen"] == 0, expected
            assert (refused[row].code, refused[row].column) == ("not_covered", "证件号码"), expected
        else:
            claim = created[row]
            assert claim.settlement_no == expected["settlement_no"]
            assert (claim.payable_fen, claim.household_pays_fen) == (
                expected["payable_fen"],
                expected["household_pays_fen"],
            ), expected
            assert expected["reason"] in claim.reasons, (expected, claim.reasons)
    totals = key["totals"]
    not_filed = sum(1 for r in key["rows"] if r["outcome"] == "assessed" and r["row"] in refused)
    assert (outcome.rows, outcome.refused, outcome.claims_created) == (
        totals["rows"],
        totals["refused"] + not_filed,
        totals["assessed"] - not_filed,
    )
    assert outcome.payable_fen == totals["payable_fen"]


def test_the_gb18030_sheet_gives_every_answer_of_its_key(engine: Engine, story: Story) -> None:
    check_against_key(engine, story, "settlements.csv")


def test_the_xlsx_sheet_with_number_and_date_cells_gives_every_answer_of_its_key(engine: Engine, story: Story) -> None:
    check_against_key(engine, story, "settlements.xlsx")
