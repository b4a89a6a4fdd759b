"""PostgreSQL's bulk load (indexes and foreign keys dropped and rebuilt) must store what the row-by-row path stores.

The threshold is lowered per import (ImportOptions.bulk_min_rows) so that small generated rosters take the bulk
path; each scenario runs twice on a fresh register, once each way, and the registers and reports are compared.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from insurance.demo.roster import generate_rows, write_csv
from insurance.register.roster_options import ImportOutcome
from tests.imports.builders import HEADER, import_file, register_schema, same_register_both_ways, write_rows
from tests.roster_defects import generate_defective_rows

BULK, ROW_BY_ROW = 1, 10**9  # bulk_min_rows
REGISTER = ("household", "member")


# SQLite has no bulk load (bulk_min_rows does nothing there): these tests run on PostgreSQL alone, not skipped.
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _both_ways(
    engine: Engine, scenario: Callable[[int], list[ImportOutcome]]
) -> tuple[list[ImportOutcome], list[ImportOutcome], dict[str, Any]]:
    """Runs the scenario row by row, then in bulk on a fresh register; asserts the same register and reports."""
    return same_register_both_ways(engine, scenario, ROW_BY_ROW, BULK)


def test_a_bulk_load_of_a_bad_roster_stores_and_reports_what_row_by_row_inserts_do(
    postgres: Engine, tmp_path: Path
) -> None:
    rows, _ = generate_defective_rows(seed=3)
    path = tmp_path / "bad.csv"
    write_csv(path, rows)
    slow, _fast, oids = _both_ways(postgres, lambda bulk: [import_file(postgres, path, bulk_min_rows=bulk)])
    assert slow[0].counts.rejected > 0 and slow[0].counts.households_incomplete > 0
    assert oids["after"]["member_id_number_key"] != oids["before"]["member_id_number_key"]  # rebuilt: in bulk


def test_a_bulk_load_onto_a_small_register_moves_ends_and_adds_members_as_row_by_row_inserts_do(
    postgres: Engine, tmp_path: Path
) -> None:
    rows = [list(r) for r in generate_rows(400, seed=11)]
    first_households = {r[0] for r in rows[:60]}
    early = [r for r in rows if r[0] in first_households]
    v1 = write_rows(tmp_path / "v1.csv", early)
    mover, dying = next(r for r in early if r[3] != "户主"), next(r for r in reversed(early) if r[3] != "户主")
    target = next(r for r in rows if r[0] not in first_households)  # a household new in v2
    newer = [[*r, "正常", ""] for r in rows]
    for row in newer:
        if row[2] == mover[2]:
            row[0], row[7:15], row[3] = target[0], target[7:15], "其他"
        if row[2] == dying[2]:
            row[15], row[16] = "死亡", "2026-03-01"
    v2 = write_rows(tmp_path / "v2.csv", newer, header=[*HEADER, "人员状态", "状态变动日期"])

    def scenario(bulk: int) -> list[ImportOutcome]:
        return [import_file(postgres, v1, bulk_min_rows=ROW_BY_ROW), import_file(postgres, v2, bulk_min_rows=bulk)]

    slow, _fast, oids = _both_ways(postgres, scenario)
    counts = slow[1].counts
    assert (counts.moved, counts.deceased, counts.created) == (1, 1, len(rows) - len(early))
    assert oids["after"]["member_id_number_key"] != oids["before"]["member_id_number_key"]


def test_a_roster_mostly_on_the_register_already_is_not_bulk_loaded(postgres: Engine, tmp_path: Path) -> None:
    rows = list(generate_rows(300, seed=12))
    import_file(postgres, write_rows(tmp_path / "v1.csv", rows[:200]), bulk_min_rows=ROW_BY_ROW)
    before = register_schema(postgres)["oids"]
    outcome = import_file(postgres, write_rows(tmp_path / "v2.csv", rows), bulk_min_rows=BULK)
    assert outcome.counts.created == 100
    assert register_schema(postgres)["oids"] == before  # 200 of 300 already registered: row by row, indexes kept
