"""The import's fast path for canonical lines agrees with the full row check, and stages the very same text.

Pure: no database. The fast path may decline any line (the full path then decides); what it accepts must be
exactly what check_record accepts unchanged, with no fix, and with the same values.
"""

import csv
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from insurance.demo.names import DEFAULT_COUNTIES
from insurance.demo.roster import generate_rows
from insurance.register.roster import COLUMNS, OPTIONAL_COLUMNS, HeaderMap, map_header, open_roster
from insurance.register.roster_checks import canonical_line_check, canonical_values, check_record
from insurance.register.roster_staging import canonical_copy_line, copy_line, staged_row
from tests.imports.builders import write_rows
from tests.roster_defects import generate_defective_rows

TODAY = date(2026, 11, 25)
COUNTIES = frozenset(c[:6] for c in DEFAULT_COUNTIES)
HEADER = [c.header for c in COLUMNS]
GOOD = [list(r) for r in generate_rows(300, seed=11)]


def _line(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


def _agrees(header: HeaderMap, line: str, row_no: int = 7, counties: frozenset[str] = COUNTIES) -> bool:
    """Checks one line both ways; True when the fast path took it."""
    fast = canonical_line_check(header, today=TODAY, known_counties=counties)(line)
    if fast is None:
        return False
    (cells,) = list(csv.reader(io.StringIO(line), strict=True))
    checked = check_record(row_no, cells, header, today=TODAY, known_counties=counties)
    assert checked.problem is None and not checked.fixes, (line, checked)
    assert checked.values == canonical_values(row_no, fast), line
    assert canonical_copy_line(row_no, fast) == copy_line(staged_row(checked.values))
    return True


def test_generated_rows_take_the_fast_path_and_stage_what_the_full_path_would() -> None:
    header = map_header(HEADER)
    assert all(_agrees(header, _line(row), row_no) for row_no, row in enumerate(GOOD, start=2))


def test_no_defective_or_fixable_row_of_the_answer_key_takes_the_fast_path() -> None:
    rows, expectations = generate_defective_rows(seed=5)
    header = map_header(HEADER)
    flagged = {
        e.row
        for e in expectations
        if e.decision in ("reject", "fixable") and e.scope == "row" and e.kind != "duplicate_id_in_file"
    }
    for row_no, row in enumerate(rows, start=2):
        took = _agrees(header, _line(row), row_no)
        if row_no in flagged:
            assert not took, (row_no, row)
    assert len(flagged) > 20


def test_columns_in_another_order_with_extra_and_status_columns_map_to_the_same_cells() -> None:
    keys = [c.key for c in COLUMNS]
    order = [*reversed(keys), "extra", *(c.key for c in OPTIONAL_COLUMNS)]
    by_key = {c.key: c.header for c in (*COLUMNS, *OPTIONAL_COLUMNS)} | {"extra": "备注"}
    header = map_header([by_key[k] for k in order])
    for status, fast in (("", True), ("正常", True), ("在册", True), ("死亡", False), ("迁出", False)):
        row = dict(zip(keys, GOOD[0], strict=True)) | {"extra": "x", "member_status": status, "status_date": ""}
        if status in ("死亡", "迁出"):
            row["status_date"] = "2026-01-02"
        assert _agrees(header, _line([row[k] for k in order])) is fast, status


def test_a_county_office_fast_path_declines_other_counties() -> None:
    header = map_header(HEADER)
    own = GOOD[0][7][:6]
    assert _agrees(header, _line(GOOD[0]), counties=frozenset({own}))
    other = next(r for r in GOOD if r[7][:6] != own)
    assert not _agrees(header, _line(other), counties=frozenset({own}))


_ODD = st.sampled_from(
    [" ", "\u3000", "\t", ",", '"', "\\", "x", "X", "0", "9", "-", "\ufeff", "１", "²", "王", "", "\x1c", "\r", "\n"]
)


@settings(max_examples=600, deadline=None)
@given(
    row=st.sampled_from(GOOD),
    column=st.integers(min_value=0, max_value=len(COLUMNS) - 1),
    position=st.integers(min_value=0, max_value=30),
    insert=st.lists(_ODD, min_size=1, max_size=3).map("".join),
    replace=st.booleans(),
)
def test_whatever_is_done_to_a_cell_the_fast_path_never_accepts_what_the_full_path_would_not(
    row: list[str], column: int, position: int, insert: str, replace: bool
) -> None:
    cells = list(row)
    value = cells[column]
    at = min(position, len(value))
    cells[column] = insert if replace else value[:at] + insert + value[at + (1 if position % 2 else 0) :]
    line = _line(cells)
    if "\n" in line[:-2] or "\r" in line[:-2]:
        return  # a quoted line break spans two lines: never one line the fast path sees
    _agrees(map_header(HEADER), line)


def test_records_are_numbered_alike_with_and_without_the_fast_path(tmp_path: Path) -> None:
    rows, _ = generate_defective_rows(seed=2)
    path = write_rows(tmp_path / "bad.csv", rows)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\r\n", "\r\n\r\n,,\r\n", 3), encoding="utf-8")  # blank records count too
    roster = open_roster(path)
    check = canonical_line_check(roster.header, today=TODAY, known_counties=COUNTIES)
    fast = [(n, list(c)) for n, c, _ in roster.read(check)]
    full = [(n, c) for n, c, _ in open_roster(path).read(None)]
    assert [n for n, _ in fast] == [n for n, _ in full] and len(full) == len(rows)
    for (n, cells), (_, raw) in zip(fast, full, strict=True):
        if len(cells) == len(COLUMNS) and cells != raw:  # a canonical record: its required cells, as written
            assert cells == [raw[i] for i in roster.header.required_index], n
