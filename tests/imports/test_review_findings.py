"""Edge cases found in review: malformed files fail whole, odd cells are refused (never crash), people are safe."""

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from insurance.demo.roster import generate_rows
from insurance.register.roster import RosterUnreadable
from insurance.register.roster_import import iter_issues
from tests.imports.builders import HEADER, import_file, register_counts, write_rows


def _errors(engine: Engine, import_id: int) -> dict[int, dict]:
    with engine.connect() as connection:
        return {i["row"]: i for i in iter_issues(connection, import_id, errors_only=True)}


def test_an_unmatched_quote_fails_the_whole_file_instead_of_swallowing_rows(engine: Engine, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "r.csv", list(generate_rows(30, seed=1)))
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    cells = lines[6].split(",")
    cells[10] = '"' + cells[10]
    lines[6] = ",".join(cells)
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    with pytest.raises(RosterUnreadable) as caught:
        import_file(engine, path)
    assert caught.value.code == "bad_csv"
    assert register_counts(engine) == (0, 0, 0)


def test_bytes_in_no_known_encoding_are_an_unusable_file(engine: Engine, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "r.csv", list(generate_rows(5, seed=2)))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes()[:200] + b"\xff\xfe\x80" + path.read_bytes()[200:])
    with pytest.raises(RosterUnreadable) as caught:
        import_file(engine, path)
    assert caught.value.code == "bad_encoding"


def test_odd_digits_and_overlong_values_are_refused_not_crashing(engine: Engine, tmp_path: Path) -> None:
    rows = [list(r) for r in generate_rows(40, seed=3)]
    members = [i for i, r in enumerate(rows) if r[3] != "户主"]
    rows[members[0]][14] = "201²"
    rows[members[1]][1] = "王" * 51
    rows[members[2]][13] = "13²00000000"
    outcome = import_file(engine, write_rows(tmp_path / "r.csv", rows))
    errors = _errors(engine, outcome.import_id)
    assert {errors[i + 2]["code"] for i in members[:3]} == {"bad_exit_year", "value_too_long", "bad_phone"}
    assert outcome.counts.accepted == 37


def test_a_member_listed_in_a_short_row_is_not_removed(engine: Engine, tmp_path: Path) -> None:
    rows = [list(r) for r in generate_rows(60, seed=4)]
    import_file(engine, write_rows(tmp_path / "v1.csv", rows))
    index = next(i for i, r in enumerate(rows) if r[3] != "户主")
    rows[index] = rows[index][:11]
    outcome = import_file(engine, write_rows(tmp_path / "v2.csv", rows))
    assert outcome.counts.rejected == 1 and outcome.counts.removed == 0
    assert register_counts(engine)[2] == 60


def test_a_roster_without_the_status_column_does_not_bring_the_dead_back(engine: Engine, tmp_path: Path) -> None:
    rows = [list(r) for r in generate_rows(30, seed=5)]
    import_file(engine, write_rows(tmp_path / "v1.csv", rows))
    dying = next(r for r in rows if r[3] != "户主")
    with_status = [[*r, "死亡" if r is dying else "正常", "2026-01-02" if r is dying else ""] for r in rows]
    import_file(engine, write_rows(tmp_path / "v2.csv", with_status, header=[*HEADER, "人员状态", "状态变动日期"]))
    again = import_file(engine, write_rows(tmp_path / "v3.csv", rows))
    assert again.counts.updated == 0
    with engine.connect() as connection:
        status = connection.execute(
            text("SELECT status FROM member WHERE id_number = :i"), {"i": dying[2]}
        ).scalar_one()
    assert status == "deceased"


def test_a_county_import_cannot_move_a_member_registered_in_another_county(engine: Engine, tmp_path: Path) -> None:
    elsewhere = list(generate_rows(20, seed=6, counties=["433123"]))
    import_file(engine, write_rows(tmp_path / "other.csv", elsewhere))
    own = [list(r) for r in generate_rows(20, seed=7, counties=["433124"])]
    intruder = next(i for i, r in enumerate(own) if r[3] != "户主")
    stolen = next(r for r in elsewhere if r[3] != "户主")
    own[intruder][1:7] = stolen[1:7]
    outcome = import_file(engine, write_rows(tmp_path / "own.csv", own), county_code="433124", dry_run=True)
    assert outcome.counts.moved == 0
    assert _errors(engine, outcome.import_id)[intruder + 2]["code"] == "member_in_other_county"


def test_no_fix_is_reported_for_a_row_that_was_refused(engine: Engine, tmp_path: Path) -> None:
    rows = [list(r) for r in generate_rows(40, seed=8)]
    index = next(i for i, r in enumerate(rows) if r[3] != "户主")
    rows[index][1] = " " + rows[index][1]
    rows[index][13] = "12345"
    outcome = import_file(engine, write_rows(tmp_path / "r.csv", rows))
    with engine.connect() as connection:
        notes = [i for i in iter_issues(connection, outcome.import_id) if i["row"] == index + 2]
    assert [n["severity"] for n in notes] == ["error"]
