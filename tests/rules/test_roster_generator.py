"""The synthetic roster generator: rows in the sample files' form, valid and unique IDs, households that hold
together, files that round-trip, and a defective roster whose answer key points at real defects. No database."""

import csv
import itertools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from insurance.demo import roster as gen
from insurance.demo.names import (
    DEFAULT_COUNTIES,
    ETHNICITIES,
    RARE_CHARACTERS,
    ROSTER_DATE,
    county_names,
    village_names,
)
from insurance.demo.roster import generate_rows, write_csv, write_xlsx
from insurance.register.identifiers import id_check_char, validate_id_number
from insurance.register.roster import COLUMNS, HEAD_RELATION, HOUSEHOLD_TYPES, POVERTY_CAUSES, RELATIONS
from tests.roster_defects import DEFECT_KINDS, Expectation, defective_totals, generate_defective_rows

PHONE = re.compile(r"^1[3-9]\d{9}$")
VILLAGE_CODE = re.compile(r"^\d{6}[12]\d{2}\d{3}$")


@pytest.fixture(scope="module")
def big() -> list[tuple[str, ...]]:
    return list(generate_rows(50_000, seed=11))


def households(rows: Sequence[Sequence[str]]) -> dict[str, list[Sequence[str]]]:
    grouped: dict[str, list[Sequence[str]]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    return grouped


def real_date(yyyymmdd: str) -> date | None:
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


def full_years(earlier: date, later: date) -> int:
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


# --- generated rows --------------------------------------------------------------------------------------------


def test_ids_are_valid_unique_and_agree_with_sex_and_birth_date(big: list[tuple[str, ...]]) -> None:
    assert len(big) == 50_000
    assert len({row[2] for row in big}) == len(big)
    for row in big:
        result = validate_id_number(row[2], today=ROSTER_DATE)
        assert result.ok and result.value == row[2] and not result.fixes, row
        assert row[2][17] == id_check_char(row[2][:17])
        assert result.is_male == (row[4] == "男")
        assert result.birth_date is not None and result.birth_date.isoformat() == row[5] and row[5] <= "2020-06-30"
        assert row[2][:6] == row[7][:6]  # the address code is the household's county


def test_rows_have_the_sample_files_form(big: list[tuple[str, ...]]) -> None:
    names = county_names()
    causes = set(POVERTY_CAUSES) - {"其他"}
    for row in big:
        assert len(row) == len(COLUMNS) and all(isinstance(v, str) for v in row)
        (
            household_no,
            name,
            _,
            relation,
            sex,
            _,
            ethnicity,
            code,
            county,
            township,
            village,
            kind,
            cause,
            phone,
            exit_,
        ) = row
        assert VILLAGE_CODE.match(code) and int(code[6:9]) % 100 >= 1 and int(code[9:]) >= 201
        assert re.match(r"^\d{16}$", household_no) and household_no[:12] == code and household_no[12:] != "0000"
        assert code[:6] in DEFAULT_COUNTIES and county == names[code[:6]]
        assert township.endswith("镇") if code[6] == "1" else township.endswith("乡")
        assert village.endswith("村") and (county, township, village) == village_names(code)
        assert relation in RELATIONS and sex in ("男", "女") and ethnicity in ETHNICITIES
        assert kind in HOUSEHOLD_TYPES and cause in causes
        assert phone == "" or PHONE.match(phone)
        assert exit_ == "" or 2014 <= int(exit_) <= 2020
        assert 2 <= len(name) <= 4 and all(unicodedata.category(c) == "Lo" for c in name)


def test_households_have_one_head_constant_attributes_and_contiguous_rows(big: list[tuple[str, ...]]) -> None:
    grouped = households(big)
    runs = [key for key, _ in itertools.groupby(row[0] for row in big)]
    assert len(runs) == len(grouped)  # each household is one contiguous run of rows
    for rows in grouped.values():
        assert 1 <= len(rows) <= 7
        assert [r[3] for r in rows].count(HEAD_RELATION) == 1
        assert len({tuple(r[7:15]) for r in rows}) == 1
    first_is_head = sum(rows[0][3] == HEAD_RELATION for rows in grouped.values()) / len(grouped)
    assert 0.85 < first_is_head < 1  # usually, not always


def assert_ages_agree_with_relations(rows: Sequence[Sequence[str]]) -> None:
    gaps = {"之子": (20, 42), "之女": (20, 42), "之孙子": (42, 68), "之孙女": (42, 68)}
    for members in households(rows).values():
        head = date.fromisoformat(next(r for r in members if r[3] == HEAD_RELATION)[5])
        for row in members:
            born = date.fromisoformat(row[5])
            if row[3] in gaps:
                low, high = gaps[row[3]]
                assert low <= full_years(head, born) <= high, row
            elif row[3] in ("之父", "之母"):
                assert 20 <= full_years(born, head) <= 38, row
            elif row[3] == "配偶":
                assert full_years(born, ROSTER_DATE) >= 18 and abs((born - head).days) <= 7 * 366, row
            if row[3] in ("之子", "之父", "之孙子"):
                assert row[4] == "男"
            elif row[3] in ("之女", "之母", "之孙女"):
                assert row[4] == "女"


def test_ages_agree_with_relations(big: list[tuple[str, ...]]) -> None:
    assert_ages_agree_with_relations(big)


def test_shares_look_like_the_readme(big: list[tuple[str, ...]]) -> None:
    grouped = households(big)
    heads = [rows[0] for rows in grouped.values()]
    assert 2.7 < len(big) / len(grouped) < 3.2
    kinds = Counter(r[11] for r in heads)
    assert abs(kinds["一般贫困户"] / len(heads) - 0.70) < 0.03
    assert abs(kinds["低保贫困户"] / len(heads) - 0.25) < 0.03
    assert abs(kinds["特困供养贫困户"] / len(heads) - 0.05) < 0.02
    assert abs(sum(r[13] == "" for r in heads) / len(heads) - 0.20) < 0.03
    rare = sum(any(c in RARE_CHARACTERS for c in r[1]) for r in big) / len(big)
    assert 1 / 400 < rare < 1 / 100
    villages = Counter(rows[0][7] for rows in grouped.values())
    assert max(villages.values()) <= 150 and sorted(villages.values())[len(villages) // 2] >= 30


def test_deterministic_for_a_seed_and_place_names_depend_on_the_code_only() -> None:
    first = list(generate_rows(3_000, seed=5))
    assert first == list(generate_rows(3_000, seed=5))
    other = list(generate_rows(3_000, seed=6))
    assert other != first
    places = {r[7]: r[8:11] for r in first}
    assert all(places.get(r[7], r[8:11]) == r[8:11] for r in other)


def test_exact_member_count_and_chosen_counties() -> None:
    rows = list(generate_rows(1_001, seed=2, counties=["433124", "431226"]))
    assert len(rows) == 1_001
    assert {r[7][:6] for r in rows} == {"433124", "431226"}
    assert {r[8] for r in rows} == {"花垣县", "麻阳苗族自治县"}
    assert list(generate_rows(0)) == []
    with pytest.raises(ValueError, match="433199"):
        list(generate_rows(10, counties=["433199"]))
    with pytest.raises(ValueError, match="twice"):
        list(generate_rows(10, counties=["433124", "433124"]))


def test_the_real_village_keeps_its_real_names() -> None:
    assert village_names("433124104204") == ("花垣县", "双龙镇", "十八洞村")


def test_a_full_birth_date_bucket_moves_the_member_a_day_and_ids_stay_unique(monkeypatch: pytest.MonkeyPatch) -> None:
    # One ID per (county, birth date, sex) instead of ~500: 3,000 members share ~60 birthdays, all moved a day.
    monkeypatch.setattr(gen, "_SEQ_CAPACITY", (1, 1))
    rows = list(generate_rows(3_000, seed=1, counties=["433124"]))
    assert Counter((r[5], r[4]) for r in rows).most_common(1)[0][1] == 1
    for row in rows:
        result = validate_id_number(row[2], today=ROSTER_DATE)
        assert result.ok and result.birth_date is not None and result.birth_date.isoformat() == row[5]
    assert_ages_agree_with_relations(rows)  # the 3-day margins absorb the move
    with pytest.raises(ValueError, match="unique ID"):  # a bucket and both neighbours full: refused, not repeated
        list(generate_rows(20_000, seed=1, counties=["433124"]))


# --- files -----------------------------------------------------------------------------------------------------

RARE_ROW = ("4331241042040099", "田璐𠮷", "433124199001011234", "户主", "男", "1990-01-01", "苗族", "433124104204")
RARE_ROWS = [
    (*RARE_ROW, "花垣县", "双龙镇", "十八洞村", "一般贫困户", "因病", "", "2019"),
    ("4331241042040099", "熊梓䶮", *RARE_ROW[2:], "花垣县", "双龙镇", "十八洞村", "一般贫困户", "因病", "", "2019"),
]


def read_csv(path: Path, encoding: str) -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8-sig", True), ("gb18030", False), ("utf-8", False)])
def test_csv_round_trips_with_rare_characters(tmp_path: Path, encoding: str, bom: bool) -> None:
    rows = [*generate_rows(500, seed=3), *RARE_ROWS]
    path = tmp_path / "roster.csv"
    assert write_csv(path, rows, encoding=encoding) == len(rows)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") == bom
    assert data.count(b"\r\n") == len(rows) + 1 and b"\n" not in data.replace(b"\r\n", b"")
    if encoding == "gb18030":
        assert b"\x95\x34\xb2\x35" in data and b"\xfe\x9f" in data  # 𠮷 and 䶮, as the data README gives them
    back = read_csv(path, "utf-8-sig" if bom else encoding)
    assert back[0] == [c.header for c in COLUMNS]
    assert [tuple(r) for r in back[1:]] == rows


def test_csv_english_headers_and_same_bytes_as_the_csv_module(tmp_path: Path) -> None:
    rows = list(generate_rows(300, seed=4))
    path = tmp_path / "en.csv"
    write_csv(path, rows, encoding="utf-8", english_headers=True)
    reference = tmp_path / "reference.csv"
    with reference.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow([c.key for c in COLUMNS])
        writer.writerows(rows)
    assert path.read_bytes() == reference.read_bytes()


def test_xlsx_keeps_ids_as_text_cells(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    rows = [*generate_rows(120, seed=8), *RARE_ROWS]
    path = tmp_path / "roster.xlsx"
    assert write_xlsx(path, rows) == len(rows)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["花名册"]
    sheet = workbook["花名册"]
    assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS]
    for row, cells in zip(rows, sheet.iter_rows(min_row=2), strict=True):
        assert tuple("" if c.value is None else c.value for c in cells) == row
        id_cell = cells[2]
        assert id_cell.data_type == "s" and id_cell.number_format == "@"
        assert all(c.value is None or c.number_format == "@" for c in cells)


# --- the defective roster --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def defective() -> tuple[list[tuple[str, ...]], list[Expectation]]:
    return generate_defective_rows(seed=0)


def problems(row: Sequence[str]) -> list[str]:
    """An independent, strict check of one good row (the importer's rules, as the data README states them)."""
    if len(row) != len(COLUMNS):
        return ["fields"]
    found = []
    result = validate_id_number(row[2], today=ROSTER_DATE)
    if not result.ok or result.fixes:
        found.append("id")
    elif result.is_male != (row[4] == "男") or result.birth_date is None or result.birth_date.isoformat() != row[5]:
        found.append("sex/birth")
    if not row[1] or any(c.isspace() for c in row[1]):
        found.append("name")
    if row[3] not in RELATIONS:
        found.append("relation")
    if not VILLAGE_CODE.match(row[7]) or row[7][:6] not in DEFAULT_COUNTIES:
        found.append("village_code")
    if row[13] and not PHONE.match(row[13]):
        found.append("phone")
    if row[10] != row[10].strip():
        found.append("village")
    return found


def test_every_kind_is_present_and_the_key_is_well_formed(
    defective: tuple[list[tuple[str, ...]], list[Expectation]],
) -> None:
    rows, key = defective
    assert {e.kind for e in key} == set(DEFECT_KINDS) and len(DEFECT_KINDS) == 21
    assert len({e.row for e in key}) == len(key)  # one defect per row
    for e in key:
        row = rows[e.row - 2]
        assert e.household_no == row[0]
        assert (e.expected is not None) == (e.decision == "fixable")
        assert (e.duplicate_of_row is not None) == (e.kind == "duplicate_id_in_file")
        assert (e.scope == "household") == (e.kind in ("no_head", "two_heads"))
        if e.decision == "reject" and e.scope == "row":
            assert row[3] != HEAD_RELATION  # a rejected row is never the head's, except household-wide kinds
        if e.value is not None:
            assert row[[c.key for c in COLUMNS].index(e.column)] == e.value


def test_unlisted_rows_are_good_and_households_hold_together(
    defective: tuple[list[tuple[str, ...]], list[Expectation]],
) -> None:
    rows, key = defective
    listed = {e.row for e in key}
    for number, row in enumerate(rows, start=2):
        if number not in listed:
            assert problems(row) == [], (number, row)
    refused = {e.household_no for e in key if e.scope == "household"}
    for household_no, members in households(rows).items():
        heads = [r[3] for r in members].count(HEAD_RELATION)
        assert heads != 1 if household_no in refused else heads == 1


def test_the_key_points_at_rows_that_really_carry_the_defect(
    defective: tuple[list[tuple[str, ...]], list[Expectation]],
) -> None:
    rows, key = defective
    by_household = households(rows)
    for e in key:
        row = rows[e.row - 2]
        if e.kind in ("bad_checksum", "bad_birth_date", "future_birth_date", "excel_scientific"):
            assert not validate_id_number(row[2], today=ROSTER_DATE).ok, e
        if e.kind == "bad_checksum":
            assert row[2][17] != id_check_char(row[2][:17])
            assert validate_id_number(row[2][:17] + id_check_char(row[2][:17]), today=ROSTER_DATE).ok
        elif e.kind in ("bad_birth_date", "future_birth_date"):
            assert row[2][17] == id_check_char(row[2][:17])  # the check character is right: only the date is wrong
            if e.kind == "bad_birth_date":
                assert real_date(row[2][6:14]) is None
            else:
                born = real_date(row[2][6:14])
                assert born is not None and born.year > 2050 and row[5] == born.isoformat()
        elif e.kind == "excel_scientific":
            assert re.match(r"^4\.\d{1,5}E\+17$", row[2])
        elif e.kind in ("legacy_15_digit_id", "lowercase_x", "fullwidth_digits", "id_with_spaces"):
            result = validate_id_number(row[2], today=ROSTER_DATE)
            assert result.ok and result.fixes and result.value == e.expected, e
        elif e.kind == "sex_mismatch":
            assert validate_id_number(row[2], today=ROSTER_DATE).is_male != (row[4] == "男")
        elif e.kind == "birth_date_mismatch":
            born = validate_id_number(row[2], today=ROSTER_DATE).birth_date
            assert born is not None and born.isoformat() != row[5] and date.fromisoformat(row[5]) <= ROSTER_DATE
        elif e.kind == "duplicate_id_in_file":
            earlier = rows[e.duplicate_of_row - 2] if e.duplicate_of_row else ()
            assert e.duplicate_of_row < e.row and earlier[2] == row[2] and earlier[0] != row[0]
            assert e.duplicate_of_row not in {x.row for x in key} and problems(row) == []
        elif e.kind == "unknown_village_code":
            assert re.match(r"^\d{12}$", row[7]) and row[7][:6] not in county_names()
        elif e.kind == "bad_village_code":
            assert not re.match(r"^\d{12}$", row[7])
        elif e.kind == "no_head":
            assert HEAD_RELATION not in [r[3] for r in by_household[row[0]]]
        elif e.kind == "two_heads":
            assert [r[3] for r in by_household[row[0]]].count(HEAD_RELATION) == 2
        elif e.kind == "missing_name":
            assert row[1].strip() == ""
        elif e.kind == "name_with_spaces":
            assert row[1] != e.expected and "".join(row[1].split()) == e.expected
        elif e.kind == "bad_phone":
            assert row[13] and not PHONE.match(row[13])
        elif e.kind == "bad_relation":
            assert row[3] not in RELATIONS
        elif e.kind == "too_few_fields":
            assert 5 <= len(row) <= 12 and e.column == COLUMNS[len(row)].key and e.value is None
        elif e.kind == "embedded_newline_in_quoted_field":
            assert row[10].endswith("\n") and problems((*row[:10], row[10].strip(), *row[11:])) == []


def test_normalised_ids_of_accepted_rows_stay_unique(
    defective: tuple[list[tuple[str, ...]], list[Expectation]],
) -> None:
    rows, key = defective
    by_row = {e.row: e for e in key}
    accepted = [
        (by_row[n].expected if n in by_row and by_row[n].column == "id_number" else None) or row[2].strip()
        for n, row in enumerate(rows, start=2)
        if n not in by_row or by_row[n].decision != "reject"
    ]
    assert len(set(accepted)) == len(accepted)


def test_totals_and_the_written_file_agree(
    tmp_path: Path, defective: tuple[list[tuple[str, ...]], list[Expectation]]
) -> None:
    rows, key = defective
    totals = defective_totals(key, rows)
    refused = {e.household_no for e in key if e.scope == "household"}
    assert totals.rows == len(rows) and totals.households == len(households(rows))
    assert totals.accepted_rows == totals.good_rows + totals.fixable_rows + totals.valid_tricky_rows
    assert totals.accepted_rows + totals.rejected_rows == totals.rows
    assert totals.accepted_households == totals.households - len(refused)
    assert sum(totals.by_kind.values()) == len(key) and set(totals.by_kind) == set(DEFECT_KINDS)
    path = tmp_path / "bad.csv"
    write_csv(path, rows, encoding="utf-8")
    assert path.read_bytes().count(b"\n") == totals.physical_lines > len(rows) + 1
    assert [tuple(r) for r in read_csv(path, "utf-8")[1:]] == rows  # records, not lines, and short rows stay short


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_other_seeds_also_carry_every_kind_and_are_deterministic(seed: int) -> None:
    rows, key = generate_defective_rows(seed)
    assert {e.kind for e in key} == set(DEFECT_KINDS)
    assert generate_defective_rows(seed) == (rows, key)
