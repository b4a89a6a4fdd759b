"""The roster's messages never carry a full ID number (they reach pages, the API, exports and logs), and the log filter
masks every form of one, tracebacks included. Pure: no database."""

import io
import logging
import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.masking import IdMaskingFilter, mask_id_number, mask_ids_in_text
from insurance.register import identifiers
from insurance.register.identifiers import ID_CHECK_CHARS, id_check_char, validate_id_number
from insurance.register.roster import COLUMNS, map_header
from insurance.register.roster_checks import check_record

TODAY = date(2026, 11, 25)
HEADER = map_header([c.header for c in COLUMNS])
COUNTIES = frozenset({"433124"})
_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _plain(text: str) -> str:
    """The text as a reader could copy a number out of it: full-width folded, spaces gone, x upper-case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _carries(message: str, number: str) -> bool:
    """Whether the message carries the number, or its masked middle (digits 7 to 15: the birth date and more)."""
    number = _plain(number)
    return number in _plain(message) or (len(number) >= 15 and number[6:15] in _plain(message))


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    """A valid 18-digit number."""
    county = draw(st.sampled_from(["433124", "431221", "110101", "650102"]))
    birth = draw(st.dates(date(1900, 1, 1), TODAY))
    first17 = f"{county}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first17 + id_check_char(first17)


@st.composite
def written_forms(draw: st.DrawFn) -> tuple[str, str]:
    """(the number, a form a roster may write it in): as is, or with a wrong check character, a mistyped birth date,
    a digit too few or too many, a lower-case x, spaces, full-width digits, the first-generation 15 digits."""
    number = draw(id_numbers())
    kind = draw(st.sampled_from(["as_is", "checksum", "birth", "short", "long", "lower", "spaces", "fullwidth", "15"]))
    if kind == "checksum":
        number = number[:17] + ID_CHECK_CHARS[(ID_CHECK_CHARS.index(number[17]) + draw(st.integers(1, 10))) % 11]
    elif kind == "birth":
        number = number[:10] + draw(st.sampled_from(["13", "00", "02"])) + "3" + number[13:]
    elif kind == "short":
        number = number[:17]
    elif kind == "long":
        number += draw(st.sampled_from("0123456789"))
    written = {
        "lower": number.lower(),
        "spaces": f"{number[:6]} {number[6:14]} {number[14:]}",
        "fullwidth": number.translate(_FULLWIDTH),
        "15": number[:6] + number[8:17],
    }.get(kind, number)
    return number, written


@given(written_forms())
def test_no_id_message_carries_the_number_it_is_about(forms: tuple[str, str]) -> None:
    number, written = forms
    problem = validate_id_number(written, today=TODAY).problem
    if problem is not None:
        assert not _carries(problem.message, number) and not _carries(problem.message, written), problem.message


def _row(id_number: str, **cells: str) -> list[str]:
    first17 = "433124" + "19850315" + "123"
    row = {
        "household_no": "4331241012010001",
        "name": "田丹艳",
        "id_number": first17 + id_check_char(first17),
        "relation": "户主",
        "sex": "男",
        "birth_date": "1985-03-15",
        "ethnicity": "苗族",
        "village_code": "433124101201",
        "county": "花垣县",
        "township": "借母溪镇",
        "village": "鸡公寨村",
        "household_type": "一般贫困户",
        "poverty_cause": "因病",
        "phone": "",
        "exit_year": "",
    }
    row["id_number"] = id_number or row["id_number"]
    row.update(cells)
    return [row[c.key] for c in COLUMNS]


@given(written_forms())
def test_a_refused_row_never_quotes_its_id_number(forms: tuple[str, str]) -> None:
    number, written = forms
    checked = check_record(2, _row(written), HEADER, today=TODAY, known_counties=COUNTIES)
    if checked.problem is not None:
        assert not _carries(checked.problem.message, number), checked.problem.message


@pytest.mark.parametrize(
    "column", ["household_no", "relation", "sex", "birth_date", "village_code", "household_type", "phone", "exit_year"]
)
@given(number=id_numbers(), fullwidth=st.booleans())
def test_an_id_typed_into_another_column_is_masked_in_the_message(column: str, number: str, fullwidth: bool) -> None:
    written = number.translate(_FULLWIDTH) if fullwidth else number
    checked = check_record(2, _row("", **{column: written}), HEADER, today=TODAY, known_counties=COUNTIES)
    assert checked.problem is not None and checked.problem.column == column
    assert not _carries(checked.problem.message, number), checked.problem.message


def test_a_bad_check_digit_is_named_masked_like_its_column() -> None:
    """The issue as reported: the message quoted the full number while the value beside it was masked."""
    bad = "433124198503151238"
    problem = validate_id_number(bad, today=TODAY).problem
    assert problem is not None and problem.code == "bad_checksum"
    assert problem.message == f"证件号码“{mask_id_number(bad)}”的校验位错误"


@given(st.text(max_size=30))
def test_the_rule_modules_mask_is_the_pages_mask(text: str) -> None:
    assert identifiers.masked(text) == mask_id_number(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("旧号码 433124620708002 已升位", "旧号码 433124******002 已升位"),
        ("全角 ４３３１２４１９８５０３１５１２３Ｘ", "全角 ４３３１２４*********２３Ｘ"),
        ("Key (id_number)=(433124198503151237) already exists", "Key (id_number)=(433124*********237) already exists"),
        (
            "户 4331241012010001，电话 13422116575，村 433124101201",
            "户 4331241012010001，电话 13422116575，村 433124101201",
        ),
    ],
)
def test_text_masking_covers_first_generation_and_full_width_numbers_and_spares_other_numbers(
    text: str, expected: str
) -> None:
    assert mask_ids_in_text(text) == expected


def test_log_filter_masks_ids_in_an_exceptions_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(IdMaskingFilter())
    logger = logging.getLogger("tests.id_masking")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("duplicate key (id_number)=(433124198503151237)")
        except ValueError:
            logger.exception("import of %s failed", "433124620708002")
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert "ValueError" in logged and "433124*********237" in logged and "433124******002" in logged
    assert "433124198503151237" not in logged and "433124620708002" not in logged


def test_log_filter_masks_a_stack_too() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "x", None, None, sinfo="at 433124198503151237")
    IdMaskingFilter().filter(record)
    assert record.stack_info == "at 433124*********237"
