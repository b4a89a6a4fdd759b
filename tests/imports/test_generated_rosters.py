"""Roster import on SQLite and PostgreSQL with the project's own rosters: every defect kind, every kind of change."""

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from insurance.demo.roster import generate_rows, write_csv, write_xlsx
from insurance.register.identifiers import id_check_char
from insurance.register.roster import RosterUnreadable
from insurance.register.roster_import import iter_issues
from tests.imports.builders import HEADER, import_file, register_counts, write_rows
from tests.roster_defects import defective_totals, generate_defective_rows


def test_a_good_roster_goes_in_whole(engine: Engine, tmp_path: Path) -> None:
    rows = list(generate_rows(400, seed=3))
    outcome = import_file(engine, write_rows(tmp_path / "good.csv", rows))
    counts = outcome.counts
    households = {r[0] for r in rows}
    assert (counts.rows, counts.accepted, counts.rejected, counts.created) == (400, 400, 0, 400)
    assert counts.households == len(households)
    assert register_counts(engine) == (len(households), 400, 400)
    with engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT id_number, name FROM member")).all())
        heads = connection.execute(text("SELECT COUNT(*) FROM member WHERE relation = '户主'")).scalar_one()
        villages = connection.execute(text("SELECT COUNT(*) FROM division WHERE level = 'village'")).scalar_one()
    assert stored == {r[2]: r[1] for r in rows}
    assert heads == len(households)
    assert villages == len({r[7] for r in rows}) == counts.villages_created


def test_every_defect_kind_is_handled_as_the_answer_key_says(engine: Engine, tmp_path: Path) -> None:
    rows, expectations = generate_defective_rows(seed=1)
    totals = defective_totals(expectations, rows)
    outcome = import_file(engine, write_rows(tmp_path / "bad.csv", rows))
    counts = outcome.counts
    assert (counts.rows, counts.accepted, counts.rejected) == (totals.rows, totals.accepted_rows, totals.rejected_rows)
    assert counts.households == totals.accepted_households
    assert counts.normalised == totals.fixable_rows
    with engine.connect() as connection:
        issues = list(iter_issues(connection, outcome.import_id))
        stored_ids = {i for (i,) in connection.execute(text("SELECT id_number FROM member"))}
        stored_names = {n for (n,) in connection.execute(text("SELECT name FROM member"))}
    errors = {i["row"]: i for i in issues if i["severity"] == "error"}
    fixed = {i["row"]: i for i in issues if i["severity"] == "fixed"}
    for expected in expectations:
        if expected.decision == "reject":
            got = errors.get(expected.row)
            assert got is not None, expected
            assert (got["column"], got["code"]) == (expected.header, expected.kind), (expected, got)
            if expected.duplicate_of_row:
                assert f"第 {expected.duplicate_of_row} 行" in got["message"]
        elif expected.decision == "fixable":
            assert fixed[expected.row]["code"] == expected.kind
            assert expected.expected in (stored_ids if expected.column == "id_number" else stored_names)
        else:
            assert expected.row not in errors
    assert set(errors) == {e.row for e in expectations if e.decision == "reject"}
    assert {k for k in totals.by_kind} >= {"no_head", "two_heads", "too_few_fields", "duplicate_id_in_file"}


def test_importing_the_same_file_again_changes_nothing_and_says_so(engine: Engine, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "roster.csv", list(generate_rows(120, seed=4)))
    first = import_file(engine, path)
    again = import_file(engine, path)
    assert again.already_imported == first.import_id
    assert (again.counts.created, again.counts.updated, again.counts.removed, again.counts.unchanged) == (0, 0, 0, 120)
    assert register_counts(engine) == (first.counts.households, 120, 120)


def test_a_newer_roster_reports_added_moved_deceased_and_removed_members(engine: Engine, tmp_path: Path) -> None:
    rows = [list(r) for r in generate_rows(300, seed=5)]
    import_file(engine, write_rows(tmp_path / "v1.csv", rows))
    by_household: dict[str, list[list[str]]] = {}
    for row in rows:
        by_household.setdefault(row[0], []).append(row)
    big = [members for members in by_household.values() if len(members) >= 3]
    leaving = next(m for m in big[0] if m[3] != "户主")  # removed from the register
    mover = next(m for m in big[1] if m[3] != "户主")  # moves to another household
    dying = next(m for m in big[2] if m[3] != "户主")  # dies
    target = big[3][0]
    newer = [[*r, "正常", ""] for r in rows if r is not leaving]
    for row in newer:
        if row[2] == mover[2]:
            row[0], row[7:15], row[3] = target[0], target[7:15], "其他"
        if row[2] == dying[2]:
            row[15], row[16] = "死亡", "2026-03-01"
    first17 = big[4][0][2][:6] + "20250101" + "991"
    newborn = [*big[4][0][:15], "正常", ""]
    newborn[1:7] = ["新生儿", first17 + id_check_char(first17), "之孙子", "男", "2025-01-01", newborn[6]]
    newer.append(newborn)
    outcome = import_file(engine, write_rows(tmp_path / "v2.csv", newer, header=[*HEADER, "人员状态", "状态变动日期"]))
    counts = outcome.counts
    assert (counts.moved, counts.deceased, counts.removed) == (1, 1, 1)
    assert counts.updated == 2 and counts.created == 1
    with engine.connect() as connection:
        status = dict(connection.execute(text("SELECT id_number, status FROM member")).all())
        moved_to = connection.execute(
            text(
                "SELECT h.household_no FROM member m JOIN household h ON h.id = m.household_id WHERE m.id_number = :i"
            ),
            {"i": mover[2]},
        ).scalar_one()
    assert status[leaving[2]] == "removed" and status[dying[2]] == "deceased" and status[mover[2]] == "active"
    assert moved_to == target[0]


def test_strict_mode_writes_nothing_when_a_row_is_bad(engine: Engine, tmp_path: Path) -> None:
    rows, _ = generate_defective_rows(seed=2)
    outcome = import_file(engine, write_rows(tmp_path / "bad.csv", rows), strict=True)
    assert outcome.counts.rejected > 0 and not outcome.applied
    assert register_counts(engine) == (0, 0, 0)
    with engine.connect() as connection:
        divisions = connection.execute(text("SELECT COUNT(*) FROM division WHERE level = 'village'")).scalar_one()
        recorded = connection.execute(text("SELECT applied, rejected FROM roster_import")).one()
    assert divisions == 0
    assert tuple(recorded) == (False, outcome.counts.rejected)


def test_a_dry_run_reports_but_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    outcome = import_file(engine, write_rows(tmp_path / "r.csv", list(generate_rows(50, seed=6))), dry_run=True)
    assert outcome.counts.created == 50 and not outcome.applied
    assert register_counts(engine) == (0, 0, 0)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_gb18030_and_utf8_files_store_rare_characters_exactly(engine: Engine, tmp_path: Path, encoding: str) -> None:
    rows = list(generate_rows(2000, seed=7))
    rare = {r[2]: r[1] for r in rows if any(ch in r[1] for ch in "𠮷䶮赟堃昇喆玥镕旻珺祎垚")}
    assert rare
    path = tmp_path / "roster.csv"
    write_csv(path, rows, encoding=encoding)
    outcome = import_file(engine, path)
    assert outcome.encoding == encoding and outcome.counts.accepted == 2000
    with engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT id_number, name FROM member")).all())
    assert {k: stored[k] for k in rare} == rare


def test_an_xlsx_roster_keeps_every_digit(engine: Engine, tmp_path: Path) -> None:
    rows = list(generate_rows(60, seed=8))
    path = tmp_path / "roster.xlsx"
    write_xlsx(path, rows)
    outcome = import_file(engine, path)
    assert (outcome.file_format, outcome.counts.accepted) == ("xlsx", 60)
    with engine.connect() as connection:
        assert {i for (i,) in connection.execute(text("SELECT id_number FROM member"))} == {r[2] for r in rows}


def test_an_id_stored_as_a_number_cell_in_a_workbook_is_reported_as_mangled(engine: Engine, tmp_path: Path) -> None:
    from openpyxl import Workbook

    rows = list(generate_rows(5, seed=9))
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for index, row in enumerate(rows):
        cells: list[object] = list(row)
        if index == 1:
            cells[2] = int(row[2][:17]) * 10  # what Excel keeps of an 18-digit number: 15 significant digits
        sheet.append(cells)
    path = tmp_path / "mangled.xlsx"
    workbook.save(path)
    outcome = import_file(engine, path)
    with engine.connect() as connection:
        errors = list(iter_issues(connection, outcome.import_id, errors_only=True))
    assert [(e["row"], e["code"]) for e in errors][:1] == [(3, "excel_scientific")]


def test_a_missing_required_column_rejects_the_file_naming_the_column(engine: Engine, tmp_path: Path) -> None:
    rows = [r[:2] + r[3:] for r in generate_rows(5, seed=10)]
    path = write_rows(tmp_path / "no-id.csv", rows, header=[h for h in HEADER if h != "证件号码"])
    with pytest.raises(RosterUnreadable) as caught:
        import_file(engine, path)
    assert caught.value.code == "missing_column" and caught.value.column == "证件号码"
    assert register_counts(engine) == (0, 0, 0)


def test_unknown_extra_columns_are_reported_and_ignored(engine: Engine, tmp_path: Path) -> None:
    rows = [[*r, "备注内容"] for r in generate_rows(10, seed=11)]
    outcome = import_file(engine, write_rows(tmp_path / "extra.csv", rows, header=[*HEADER, "备注"]))
    assert outcome.extra_columns == ["备注"] and outcome.counts.accepted == 10
    with engine.connect() as connection:
        notes = [i for i in iter_issues(connection, outcome.import_id) if i["code"] == "extra_column"]
    assert notes and notes[0]["row"] == 1 and notes[0]["column"] == "备注"


def test_a_county_office_import_refuses_rows_of_other_counties(engine: Engine, tmp_path: Path) -> None:
    rows = list(generate_rows(200, seed=12, counties=["433124", "433123"]))
    outcome = import_file(engine, write_rows(tmp_path / "two.csv", rows), county_code="433124")
    own = [r for r in rows if r[0].startswith("433124")]
    assert outcome.counts.accepted == len(own)
    with engine.connect() as connection:
        codes = {e["code"] for e in iter_issues(connection, outcome.import_id, errors_only=True)}
        counties = {c for (c,) in connection.execute(text("SELECT DISTINCT county_code FROM household"))}
    assert codes == {"outside_jurisdiction"} and counties == {"433124"}
