"""The one yuan parser (core.money): exact fen from text or number, the forms people type, and a reason code for
everything else, never a rounded amount."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import MAX_YUAN_DIGITS, YuanProblem, fen_to_yuan, parse_yuan

fens = st.integers(min_value=0, max_value=10**MAX_YUAN_DIGITS * 100 - 1)


@given(fens)
def test_fen_to_yuan_text_reads_back_to_the_same_fen(fen: int) -> None:
    assert parse_yuan(fen_to_yuan(fen)) == (fen, None)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_a_negative_amount_round_trips_only_when_asked(fen: int) -> None:
    assert parse_yuan(fen_to_yuan(fen), negative=True) == (fen, None)
    if fen < 0:
        assert parse_yuan(fen_to_yuan(fen)) == (None, YuanProblem.negative)


@given(fens)
def test_a_number_reads_as_the_same_fen_as_its_text(fen: int) -> None:
    assert parse_yuan(Decimal(fen_to_yuan(fen))) == (fen, None)
    assert parse_yuan(fen // 100) == (fen // 100 * 100, None)


@given(st.decimals(min_value=0, max_value=99_999, places=3, allow_nan=False, allow_infinity=False))
def test_a_third_decimal_is_refused_never_rounded(amount: Decimal) -> None:
    fen, problem = parse_yuan(f"{amount:.3f}")
    assert (fen, problem) == (None, YuanProblem.decimals)


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234.56", 123456),
        (" 1234.5 ", 123450),
        ("0", 0),
        ("007.05", 705),
        ("１２３４．５６", 123456),  # full-width digits and point
        ("1,234.56", 123456),
        ("1，234", 123400),  # full-width comma
        ("¥300", 30000),
        ("￥300.10", 30010),
    ],
)
def test_forms_people_type_read_with_separators(text: str, fen: int) -> None:
    assert parse_yuan(text, separators=True) == (fen, None)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1,500.50", YuanProblem.invalid),  # a file's cell: maybe a decimal comma, so refused, not 150,050 yuan
        ("¥300", YuanProblem.invalid),
        ("", YuanProblem.invalid),
        ("一百", YuanProblem.invalid),
        ("1e3", YuanProblem.invalid),
        ("NaN", YuanProblem.invalid),
        ("12.", YuanProblem.invalid),
        ("-5", YuanProblem.negative),
        ("-0.001", YuanProblem.negative),
        ("12.345", YuanProblem.decimals),
        ("1" + "0" * MAX_YUAN_DIGITS, YuanProblem.too_large),
    ],
)
def test_what_is_not_an_amount_gets_its_reason(text: str, problem: YuanProblem) -> None:
    assert parse_yuan(text) == (None, problem)


def test_a_caller_sets_its_own_upper_limit() -> None:
    assert parse_yuan("99999999.99", max_digits=8) == (9_999_999_999, None)
    assert parse_yuan("100000000", max_digits=8) == (None, YuanProblem.too_large)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), True])
def test_numbers_that_are_no_amount_are_invalid(value: Decimal | bool) -> None:
    assert parse_yuan(value) == (None, YuanProblem.invalid)


def test_a_decimal_keeps_its_written_places() -> None:
    assert parse_yuan(Decimal("1.50")) == (150, None)
    assert parse_yuan(Decimal("1.505")) == (None, YuanProblem.decimals)


@pytest.mark.parametrize("text", ["-0", "-0.00", "-000.0"])
def test_a_signed_zero_is_zero_not_a_negative_amount(text: str) -> None:
    assert parse_yuan(text) == (0, None)
