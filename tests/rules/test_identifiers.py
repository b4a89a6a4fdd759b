"""ID numbers (GB 11643-1999) and unified social credit codes (GB 32100-2015): pure rules, no database."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurance.register.identifiers import id_check_char, uscc_check_char, validate_id_number, validate_uscc

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    "raw",
    ["433124198503151237", "360426199101010071", "34052419800101001X", "433027198003150039", "431228199001010024"],
)
def test_valid_id_numbers_from_domain_reference_pass_unchanged(raw: str) -> None:
    result = validate_id_number(raw, today=TODAY)
    assert result.ok and result.value == raw and not result.fixes


@pytest.mark.parametrize(
    ("raw", "expected", "fix"),
    [
        ("433124620708002", "433124196207080025", "legacy_15_digit_id"),
        ("34052419800101001x", "34052419800101001X", "lowercase_x"),
        ("４３３１２４１９８５０３１５１２３７", "433124198503151237", "fullwidth_digits"),
        ("433124 19850315 1237", "433124198503151237", "id_with_spaces"),
        ("\u3000433124198503151237 ", "433124198503151237", "id_with_spaces"),
    ],
)
def test_fixable_id_forms_are_normalised_and_reported(raw: str, expected: str, fix: str) -> None:
    result = validate_id_number(raw, today=TODAY)
    assert result.ok and result.normalised
    assert result.value == expected
    assert fix in result.fixes


def test_legacy_number_keeps_the_original_fifteen_digits() -> None:
    assert validate_id_number("433124620708002", today=TODAY).legacy == "433124620708002"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("433124198503151238", "bad_checksum"),
        ("433124198502301234", "bad_birth_date"),
        ("4.33124E+17", "excel_scientific"),
        ("43312419850315123", "bad_id_format"),
        ("", "missing_id"),
        ("O33124198503151237", "bad_id_format"),
    ],
)
def test_invalid_id_numbers_are_rejected_with_a_stable_code(raw: str, code: str) -> None:
    result = validate_id_number(raw, today=TODAY)
    assert not result.ok and result.problem is not None
    assert result.problem.code == code
    assert result.problem.message  # a sentence a clerk can read


def test_birth_date_after_today_is_rejected_even_with_a_right_check_char() -> None:
    first17 = "43312420790403629"
    result = validate_id_number(first17 + id_check_char(first17), today=TODAY)
    assert result.problem is not None and result.problem.code == "future_birth_date"


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    county = draw(st.sampled_from(["433124", "431221", "430102", "433027", "110101"]))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    seq = draw(st.integers(min_value=0, max_value=999))
    first17 = f"{county}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


@given(valid_ids())
def test_every_generated_valid_number_passes(id_number: str) -> None:
    result = validate_id_number(id_number, today=TODAY)
    assert result.ok and result.value == id_number
    assert result.is_male == (int(id_number[16]) % 2 == 1)


@given(valid_ids(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_character_change_fails(id_number: str, position: int, replacement: str) -> None:
    if id_number[position] == replacement or (position < 17 and replacement == "X"):
        return
    changed = id_number[:position] + replacement + id_number[position + 1 :]
    # The weights are non-zero mod 11, so one changed digit always breaks the check (or the date first).
    assert not validate_id_number(changed, today=TODAY).ok


def test_uscc_examples_from_domain_reference() -> None:
    assert validate_uscc("91110000600037341L") == ("91110000600037341L", None)
    assert validate_uscc("93433124MA4L123452") == ("93433124MA4L123452", None)
    assert validate_uscc(" 91110000600037341l") == ("91110000600037341L", None)


@pytest.mark.parametrize("raw", ["91110000600037341M", "9111000060003734", "91110000600037341I"])
def test_bad_uscc_is_refused_with_a_reason(raw: str) -> None:
    code, reason = validate_uscc(raw)
    assert code is None and reason


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17))
def test_uscc_with_computed_check_char_validates(first17: str) -> None:
    assert validate_uscc(first17 + uscc_check_char(first17))[0] == first17 + uscc_check_char(first17)


def test_tomorrow_is_in_the_future() -> None:
    born = TODAY + timedelta(days=1)
    first17 = f"433124{born:%Y%m%d}123"
    assert validate_id_number(first17 + id_check_char(first17), today=TODAY).problem.code == "future_birth_date"
