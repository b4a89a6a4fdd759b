"""The first load of an empty register (PostgreSQL: members COPYed while the file is read, households decided as
their rows end) must store and report exactly what the staged import does, or hand the roster to the staged path.

Each scenario runs on a fresh register once staged and once as a first load (ImportOptions.first_load_min_bytes
lowered so that small generated rosters qualify), and the registers, village counts, divisions, reports and counts
are compared.
"""

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from insurance.demo.roster import generate_rows, write_csv, write_xlsx
from insurance.register.roster_options import ImportOutcome
from tests.conftest import reset_database
from tests.imports.builders import (
    HEADER,
    import_file,
    register_counts,
    register_snapshot,
    same_register_both_ways,
    write_rows,
)
from tests.roster_defects import generate_defective_rows

FIRST_LOAD, STAGED = 0, 10**15  # first_load_min_bytes
STATUS_HEADER = [*HEADER, "人员状态", "状态变动日期"]

# SQLite has no first load: these tests run on PostgreSQL alone, not skipped.
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _both_ways(engine: Engine, load: Callable[[int], ImportOutcome]) -> tuple[ImportOutcome, ImportOutcome]:
    """Imports staged, then as a first load on a fresh register; asserts the same register, reports and schema."""
    staged, first, _oids = same_register_both_ways(engine, lambda limit: [load(limit)], STAGED, FIRST_LOAD)
    assert not staged[0].first_load
    return staged[0], first[0]


def _without_duplicates(seed: int) -> list[tuple[str, ...]]:
    """A roster with every kind of bad row but an ID used twice (which needs the whole file)."""
    rows, expectations = generate_defective_rows(seed=seed)
    twins = {e.row for e in expectations if e.kind == "duplicate_id_in_file"}
    assert twins
    return [r for number, r in enumerate(rows, start=2) if number not in twins]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_first_load_of_a_bad_roster_stores_and_reports_what_the_staged_import_does(
    postgres: Engine, tmp_path: Path, file_format: str
) -> None:
    path = tmp_path / f"bad.{file_format}"
    (write_csv if file_format == "csv" else write_xlsx)(path, _without_duplicates(seed=3))
    staged, first = _both_ways(postgres, lambda limit: import_file(postgres, path, first_load_min_bytes=limit))
    assert first.first_load
    counts = staged.counts
    assert counts.rejected > 0 and counts.normalised > 0 and counts.households_incomplete > 0
    with postgres.connect() as connection:
        codes = set(connection.execute(text("SELECT DISTINCT code FROM roster_import_issue")).scalars())
    assert {"no_head", "two_heads", "lowercase_x", "bad_checksum"} <= codes  # a workbook has no short rows


def test_a_first_load_keeps_the_status_and_status_date_a_roster_gives(postgres: Engine, tmp_path: Path) -> None:
    rows = [[*r, "正常", ""] for r in generate_rows(200, seed=21)]
    dead, gone = next(r for r in rows if r[3] != "户主"), next(r for r in reversed(rows) if r[3] != "户主")
    dead[15:17], gone[15:17] = ["死亡", "2026-03-01"], ["迁出", "2026-05-02"]
    path = write_rows(tmp_path / "status.csv", rows, header=STATUS_HEADER)
    _staged, first = _both_ways(postgres, lambda limit: import_file(postgres, path, first_load_min_bytes=limit))
    assert first.first_load
    _households, members, active = register_counts(postgres)
    assert (members, active) == (200, 198)


def test_a_roster_with_an_id_used_twice_is_loaded_again_knowing_those_ids_with_the_same_result(
    postgres: Engine, tmp_path: Path
) -> None:
    rows, _ = generate_defective_rows(seed=4)
    path = tmp_path / "bad.csv"
    write_csv(path, rows)
    _staged, first = _both_ways(postgres, lambda limit: import_file(postgres, path, first_load_min_bytes=limit))
    assert first.first_load  # the unique index on member found the twins; a second pass knowing them refused them
    with postgres.connect() as connection:
        twins = connection.execute(
            text("SELECT COUNT(*) FROM roster_import_issue WHERE code = 'duplicate_id_in_file'")
        ).scalar_one()
    assert twins > 0


def test_a_refused_household_holding_a_later_rows_id_makes_that_row_a_duplicate(
    postgres: Engine, tmp_path: Path
) -> None:
    """The staged import checks IDs twice before heads: a later good row with the ID of a member of a headless
    household is refused as a duplicate. The first load, which never stores the headless household, must notice."""
    rows = [list(r) for r in generate_rows(120, seed=22)]
    headless = rows[0][0]
    for row in rows:
        if row[0] == headless and row[3] == "户主":
            row[3] = "配偶"
    twin = next(r for r in rows if r[0] == headless)
    later = next(r for r in reversed(rows) if r[3] != "户主" and r[0] != headless)
    later[2], later[4], later[5] = twin[2], twin[4], twin[5]  # same ID, sex and birth date: only the ID is twice
    path = write_rows(tmp_path / "twin.csv", rows)
    staged, first = _both_ways(postgres, lambda limit: import_file(postgres, path, first_load_min_bytes=limit))
    assert first.first_load
    assert staged.counts.rejected == sum(r[0] == headless for r in rows) + 1


def test_a_household_whose_rows_are_apart_goes_the_staged_way(postgres: Engine, tmp_path: Path) -> None:
    rows = list(generate_rows(150, seed=23))
    moved = next(i for i, r in enumerate(rows) if r[3] != "户主" and rows[i - 1][0] == r[0])
    rows.append(rows.pop(moved))  # one member listed at the end, after other households
    path = write_rows(tmp_path / "apart.csv", rows)
    staged, first = _both_ways(postgres, lambda limit: import_file(postgres, path, first_load_min_bytes=limit))
    assert not first.first_load
    assert staged.counts.accepted == 150


@pytest.mark.parametrize("mode", ["dry_run", "strict"])
def test_a_first_load_that_must_not_apply_writes_nothing_and_keeps_its_report(
    postgres: Engine, tmp_path: Path, mode: str
) -> None:
    path = tmp_path / "bad.csv"
    write_csv(path, _without_duplicates(seed=5))
    staged, first = _both_ways(
        postgres, lambda limit: import_file(postgres, path, first_load_min_bytes=limit, **{mode: True})
    )
    assert first.first_load and not first.applied
    assert register_counts(postgres) == (0, 0, 0)
    with postgres.connect() as connection:
        issues = connection.execute(
            text("SELECT COUNT(*) FROM roster_import_issue WHERE import_id = :id"), {"id": first.import_id}
        ).scalar_one()
    assert issues > 0 and staged.counts.rejected > 0


def test_a_second_roster_after_a_first_load_is_staged_and_finds_everyone_registered(
    postgres: Engine, tmp_path: Path
) -> None:
    path = write_rows(tmp_path / "good.csv", list(generate_rows(300, seed=24)))
    first = import_file(postgres, path, first_load_min_bytes=FIRST_LOAD)
    again = import_file(postgres, path, first_load_min_bytes=FIRST_LOAD)
    assert first.first_load and not again.first_load
    assert (again.counts.created, again.counts.unchanged, again.already_imported) == (0, 300, first.import_id)
    with postgres.connect() as connection:  # the household sequence went on past the ids the first load gave
        next_id = connection.execute(text("SELECT nextval(pg_get_serial_sequence('household', 'id'))")).scalar_one()
        assert next_id > connection.execute(text("SELECT MAX(id) FROM household")).scalar_one()
        defaults = connection.execute(
            text(
                "SELECT COUNT(*) FROM information_schema.columns WHERE table_name IN ('household', 'member') "
                "AND column_name IN ('created_at', 'updated_at') AND column_default IS NOT NULL"
            )
        ).scalar_one()
    assert defaults == 0  # the time stamps' load-time defaults are gone again


def test_a_household_takes_its_fields_from_its_head_wherever_listed_and_else_from_its_first_accepted_row(
    postgres: Engine, tmp_path: Path
) -> None:
    rows = [list(r) for r in generate_rows(300, seed=25)]
    sizes: dict[str, int] = {}
    for row in rows:
        sizes[row[0]] = sizes.get(row[0], 0) + 1
    late_head, bad_head = [h for h, n in sizes.items() if n >= 3][:2]
    for row in rows:  # members that disagree with their head on the household's fields
        if row[0] in (late_head, bad_head) and row[3] != "户主":
            row[12], row[13] = "缺技术", "13900000000"
    head = next(i for i, r in enumerate(rows) if r[0] == late_head and r[3] == "户主")
    last = max(i for i, r in enumerate(rows) if r[0] == late_head)
    rows.insert(last, rows.pop(head))  # the head listed last in its household
    broken = next(r for r in rows if r[0] == bad_head and r[3] == "户主")
    broken[2] = broken[2][:17] + ("0" if broken[2][17] != "0" else "1")  # the head's row refused: bad checksum
    path = write_rows(tmp_path / "heads.csv", rows)
    staged, first = _both_ways(postgres, lambda limit: import_file(postgres, path, first_load_min_bytes=limit))
    assert first.first_load and staged.counts.households_incomplete == 1
    with postgres.connect() as connection:
        causes = dict(
            connection.execute(
                text("SELECT household_no, main_cause FROM household WHERE household_no IN (:a, :b)"),
                {"a": late_head, "b": bad_head},
            ).all()
        )
    assert causes[late_head] != causes[bad_head]  # the head's cause for one, a member's for the other


def test_a_first_load_for_a_county_office_refuses_other_counties_rows_as_the_staged_import_does(
    postgres: Engine, tmp_path: Path
) -> None:
    rows = list(generate_rows(300, seed=26))
    county = rows[0][7][:6]
    assert any(r[7][:6] != county for r in rows)
    path = write_rows(tmp_path / "county.csv", rows)
    staged, first = _both_ways(
        postgres, lambda limit: import_file(postgres, path, first_load_min_bytes=limit, county_code=county)
    )
    assert first.first_load and 0 < staged.counts.rejected < 300


def test_a_reader_holding_the_divisions_leaves_the_first_load_its_foreign_keys_and_it_still_loads(
    postgres: Engine, tmp_path: Path
) -> None:
    """Dropping household's foreign key to division would wait for that reader, who may be waiting for the register
    this import holds: a deadlock. So the load keeps that key and checks it row by row instead."""
    path = write_rows(tmp_path / "good.csv", list(generate_rows(300, seed=27)))
    staged = import_file(postgres, path, first_load_min_bytes=STAGED)
    expected = register_snapshot(postgres, [staged.import_id])
    reset_database(postgres)
    outcomes: list[ImportOutcome] = []
    with postgres.connect() as reader:
        reader.execute(text("SELECT COUNT(*) FROM division"))  # holds its lock on division until it ends
        load = threading.Thread(
            target=lambda: outcomes.append(import_file(postgres, path, first_load_min_bytes=FIRST_LOAD))
        )
        load.start()
        load.join(timeout=60)
        finished_while_read = not load.is_alive()
        reader.rollback()  # lets a load that waited for the lock go on, so that the test ends either way
    load.join()
    assert finished_while_read, "the first load waited for the reader's lock on division"
    first = outcomes[0]
    assert first.first_load
    assert register_snapshot(postgres, [first.import_id]) == expected
