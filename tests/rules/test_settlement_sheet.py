"""The per-row checks of a one-stop settlement sheet (issue 14's contract), without files or a database: one row of
every refusal this side of the database, the fixable ID forms, duplicates naming the earlier row, the amounts read to
the fen exactly, and no full ID number in any message or value."""

import unicodedata
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims.settlement_checks import (
    AMOUNTS_INCONSISTENT,
    DATE_IN_FUTURE,
    DATE_INVALID,
    DUPLICATE_SETTLEMENT,
    ERROR,
    FIXED,
    ID_INVALID,
    REQUIRED,
    VALUE_INVALID,
    CheckedRow,
    SettlementChecker,
    read_amount_cell,
)
from claims.settlement_sheet import SETTLEMENT_COLUMNS, SETTLEMENT_LAYOUT, exact_cell_text
from insurance.register.identifiers import ID_CHECK_CHARS, id_check_char
from insurance.register.roster import map_header

TODAY = date(2026, 3, 1)
HEADER = map_header([c.header for c in SETTLEMENT_COLUMNS], SETTLEMENT_LAYOUT)
KEYS = [c.key for c in SETTLEMENT_COLUMNS]
FIRST17 = "43312419850315123"
ID = FIRST17 + id_check_char(FIRST17)
_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def good(**cells: str) -> dict[str, str]:
    row = {
        "settlement_no": "JS20260105001",
        "name": "田丹艳",
        "id_number": ID,
        "hospital": "花垣县人民医院",
        "admission_date": "2026-01-02",
        "discharge_date": "2026-01-10",
        "settled_on": "2026-01-10",
        "total_cost": "12345.67",
        "in_policy_amount": "10000.00",
        "bmi_paid": "6000",
        "ci_paid": "1500.5",
        "assistance_paid": "800.00",
        "main_diagnosis": "肺炎 J18.9",
    }
    row.update(cells)
    return row


def cells_of(row: dict[str, str]) -> list[str]:
    return [row[k] for k in KEYS]


def check(*rows: dict[str, str]) -> list[CheckedRow]:
    checker = SettlementChecker(HEADER, today=TODAY)
    return [checker.check(n, cells_of(r)) for n, r in enumerate(rows, start=2)]


def test_a_good_row_is_typed_in_fen_and_dates() -> None:
    [checked] = check(good())
    assert checked.refusal is None and checked.issues == ()
    settlement = checked.settlement
    assert settlement is not None
    assert settlement.row == 2 and settlement.id_number == ID and settlement.name == "田丹艳"
    assert settlement.admission_date == date(2026, 1, 2) and settlement.settled_on == date(2026, 1, 10)
    assert (settlement.total_cost_fen, settlement.in_policy_fen, settlement.bmi_paid_fen) == (1234567, 1000000, 600000)
    assert (settlement.ci_paid_fen, settlement.assistance_paid_fen) == (150050, 80000)
    assert settlement.main_diagnosis == "肺炎 J18.9" and settlement.hospital == "花垣县人民医院"


# One row of every refusal that needs no database, with the column it names (the first problem in column order).
REFUSALS = [
    ({"settlement_no": " "}, "settlement_no", REQUIRED),
    ({"settlement_no": "J" * 41}, "settlement_no", VALUE_INVALID),
    ({"settlement_no": "2.02601E+15"}, "settlement_no", VALUE_INVALID),
    ({"name": ""}, "name", REQUIRED),
    ({"id_number": ""}, "id_number", REQUIRED),
    ({"id_number": ID[:17] + ID_CHECK_CHARS[(ID_CHECK_CHARS.index(ID[17]) + 1) % 11]}, "id_number", ID_INVALID),
    ({"id_number": "4.33124E+17"}, "id_number", ID_INVALID),
    ({"hospital": ""}, "hospital", REQUIRED),
    ({"admission_date": "2026/01/02"}, "admission_date", DATE_INVALID),
    ({"discharge_date": "2026-02-30"}, "discharge_date", DATE_INVALID),
    ({"settled_on": ""}, "settled_on", REQUIRED),
    ({"admission_date": "2026-03-02"}, "admission_date", DATE_IN_FUTURE),
    ({"total_cost": "12.345"}, "total_cost", "amount_invalid"),
    ({"in_policy_amount": "-5"}, "in_policy_amount", "amount_invalid"),
    ({"bmi_paid": "一百"}, "bmi_paid", "amount_invalid"),
    ({"ci_paid": "1,500.50"}, "ci_paid", "amount_invalid"),
    ({"assistance_paid": "100000000"}, "assistance_paid", "amount_invalid"),
    ({"assistance_paid": ""}, "assistance_paid", REQUIRED),
    ({"main_diagnosis": ""}, "main_diagnosis", REQUIRED),
    ({"in_policy_amount": "12345.68"}, "in_policy_amount", AMOUNTS_INCONSISTENT),
    ({"bmi_paid": "9000", "ci_paid": "1000.01"}, "bmi_paid", AMOUNTS_INCONSISTENT),
    ({"discharge_date": "2026-01-01", "settled_on": "2026-01-01"}, "discharge_date", DATE_INVALID),
    ({"settled_on": "2026-01-09"}, "settled_on", DATE_INVALID),
]


@pytest.mark.parametrize(("cells", "column", "code"), REFUSALS, ids=[f"{c}-{k}" for _, k, c in REFUSALS])
def test_each_refusal_names_its_row_column_and_code(cells: dict[str, str], column: str, code: str) -> None:
    [checked] = check(good(**cells))
    assert checked.settlement is None
    refusal = checked.refusal
    assert refusal is not None and checked.issues == (refusal,)
    assert (refusal.row, refusal.key, refusal.code, refusal.kind) == (2, column, code, ERROR)
    assert refusal.column == HEADER.header_of(column)  # the header as the file wrote it
    assert refusal.message and refusal.message.isascii() is False  # a Chinese sentence


def test_the_message_names_the_column_in_chinese_whatever_the_header() -> None:
    english = map_header(KEYS, SETTLEMENT_LAYOUT)
    checked = SettlementChecker(english, today=TODAY).check(2, cells_of(good(total_cost="1.234")))
    refusal = checked.refusal
    assert refusal is not None and refusal.column == "total_cost"
    assert refusal.message == "医疗总费用“1.234”最多保留两位小数"


def test_a_settlement_number_used_earlier_is_refused_naming_that_row() -> None:
    first, other, again = check(good(), good(settlement_no="JS2"), good(name="田 丹艳"))
    assert first.settlement is not None and other.settlement is not None
    refusal = again.refusal
    assert refusal is not None and refusal.code == DUPLICATE_SETTLEMENT and refusal.key == "settlement_no"
    assert refusal.message == "结算单号“JS20260105001”与第 2 行重复"


def test_a_refused_rows_number_still_counts_as_used_earlier_in_the_file() -> None:
    """The contract: duplicate_settlement is "a number used earlier in the file, naming that row", whatever became
    of that row (a refused row's number used to be forgotten, and a DB-side refusal's not: two rules for one file)."""
    bad, again = check(good(total_cost="abc"), good())
    assert bad.settlement is None and again.settlement is None
    assert again.refusal is not None and again.refusal.code == DUPLICATE_SETTLEMENT
    assert again.refusal.message == "结算单号“JS20260105001”与第 2 行重复"
    blank, numbered = check(good(settlement_no=""), good())  # a row with no number uses none
    assert blank.settlement is None and numbered.settlement is not None


@pytest.mark.parametrize(
    ("written", "code"),
    [
        (f"{ID[:6]} {ID[6:14]} {ID[14:]}", "id_with_spaces"),
        (ID.translate(_FULLWIDTH), "fullwidth_digits"),
        (FIRST17[:6] + FIRST17[8:17], "legacy_15_digit_id"),
    ],
)
def test_a_fixable_id_form_is_normalised_and_reported_fixed(written: str, code: str) -> None:
    [checked] = check(good(id_number=written))
    assert checked.settlement is not None
    expected = ID if code != "legacy_15_digit_id" else FIRST17 + id_check_char(FIRST17)
    assert checked.settlement.id_number == expected
    [fix] = checked.issues
    assert (fix.kind, fix.code, fix.key) == (FIXED, code, "id_number")
    assert ID not in fix.message and expected not in fix.message


def test_a_lower_case_x_is_upper_cased() -> None:
    first17 = "43312419850315100"
    number = first17 + id_check_char(first17)
    assert number.endswith("X")
    [checked] = check(good(id_number=number.lower()))
    assert checked.settlement is not None and checked.settlement.id_number == number
    assert [i.code for i in checked.issues] == ["lowercase_x"]


def test_spaces_in_a_name_are_removed_and_reported() -> None:
    [checked] = check(good(name=" 王 𠮷䶮 "))
    assert checked.settlement is not None and checked.settlement.name == "王𠮷䶮"
    assert [(i.kind, i.code) for i in checked.issues] == [(FIXED, "name_with_spaces")]


def test_a_short_record_reads_its_missing_cells_as_blank() -> None:
    checked = SettlementChecker(HEADER, today=TODAY).check(5, cells_of(good())[:11])
    refusal = checked.refusal
    assert refusal is not None and (refusal.row, refusal.key, refusal.code) == (5, "assistance_paid", REQUIRED)


# --- amounts, exactly ---------------------------------------------------------------------------------------------

fens = st.integers(min_value=0, max_value=99_999_999_99)


@given(fens)
def test_yuan_text_reads_to_its_exact_fen(fen: int) -> None:
    assert read_amount_cell(f"{fen // 100}.{fen % 100:02d}") == (fen, None)
    assert read_amount_cell(str(fen // 100)) == (fen // 100 * 100, None)


@given(fens)
def test_a_number_cell_reads_to_the_fen_its_text_shows(fen: int) -> None:
    """A workbook holds a double; the cell reads as Excel shows it, so the fen is the one typed, never off by one."""
    text = f"{fen // 100}.{fen % 100:02d}"
    assert read_amount_cell(exact_cell_text(float(text))) == (fen, None)


@pytest.mark.parametrize(
    ("value", "fen"),
    [(1234.56, 123456), (0.1 + 0.2, 30), (1.1 + 2.2, 330), (5000.0, 500000), (5000, 500000), (0.07 * 100, 700)],
)
def test_float_error_never_reaches_the_fen(value: float, fen: int) -> None:
    assert read_amount_cell(exact_cell_text(value)) == (fen, None)


@given(st.decimals(min_value=0, max_value=99_999, places=3, allow_nan=False, allow_infinity=False))
def test_a_third_decimal_is_refused_not_rounded(amount: Decimal) -> None:
    assert read_amount_cell(f"{amount:.3f}") == (None, "最多保留两位小数")


# --- no full ID number in any message or value -----------------------------------------------------------------


def _plain(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _carries(text: str | None, number: str) -> bool:
    """Whether the text carries the number, or its masked middle (digits 7 to 15: the birth date and more)."""
    if text is None:
        return False
    number, plain = _plain(number), _plain(text)
    return number in plain or number[6:15] in plain


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    county = draw(st.sampled_from(["433124", "431221", "110101", "650102"]))
    birth = draw(st.dates(date(1900, 1, 1), TODAY))
    first17 = f"{county}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first17 + id_check_char(first17)


@st.composite
def written_forms(draw: st.DrawFn) -> tuple[str, str]:
    """(a number, how a file may write it): as is, a wrong check character, a digit too few or too many, spaces,
    full-width, lower case."""
    number = draw(id_numbers())
    kind = draw(st.sampled_from(["as_is", "checksum", "short", "long", "lower", "spaces", "fullwidth"]))
    if kind == "checksum":
        number = number[:17] + ID_CHECK_CHARS[(ID_CHECK_CHARS.index(number[17]) + draw(st.integers(1, 10))) % 11]
    elif kind == "short":
        number = number[:17]
    elif kind == "long":
        number += draw(st.sampled_from("0123456789"))
    written = {
        "lower": number.lower(),
        "spaces": f"{number[:6]} {number[6:14]} {number[14:]}",
        "fullwidth": number.translate(_FULLWIDTH),
    }.get(kind, number)
    return number, written


@given(forms=written_forms(), column=st.sampled_from(KEYS), twice=st.booleans())
def test_no_message_or_value_carries_a_full_id_number(forms: tuple[str, str], column: str, twice: bool) -> None:
    """The number in its own column or typed into any other (a row shifted by one column), refused or fixed, alone
    or a second time (a duplicate quotes its settlement number)."""
    number, written = forms
    row = good(id_number=written) if column == "id_number" else good(id_number=number, **{column: written})
    results = check(row, row) if twice else check(row)
    for checked in results:
        for issue in checked.issues:
            assert not _carries(issue.message, number), issue.message
            assert not _carries(issue.value, number), issue.value
