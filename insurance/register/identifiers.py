"""Pure validation of the programme's identifiers (domain.md §1): resident ID numbers and USCC codes.

Imports nothing from the web or the database: rules return reasons as data.
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from operator import mul

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
MIN_BIRTH_DATE = date(1900, 1, 1)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_check_char(first17: str) -> str:
    return ID_CHECK_CHARS[sum(map(mul, map(int, first17), ID_WEIGHTS)) % 11]


@dataclass(frozen=True)
class IdProblem:
    """A stable code and a Chinese message a county clerk understands, naming the number only masked."""

    code: str
    message: str


@dataclass
class IdResult:
    original: str
    value: str | None = None
    birth_date: date | None = None
    is_male: bool | None = None
    legacy: str | None = None
    fixes: list[str] = field(default_factory=list)
    problem: IdProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def normalised(self) -> bool:
        return self.ok and bool(self.fixes)


def masked(raw: str) -> str:
    """The value as pages show it (first 6 and last 3 characters), for a message: core.masking.mask_id_number's rule,
    repeated because a rule module imports nothing of core (a test keeps the two the same)."""
    if len(raw) < 10:
        return "*" * len(raw)
    return raw[:6] + "*" * (len(raw) - 9) + raw[-3:]


def _strip_spaces(text: str) -> str:
    """Removes every whitespace character, ASCII or not (U+3000 included), anywhere in the text."""
    return "".join(text.split())


def _parse_date(yyyymmdd: str) -> date | None:
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


def validate_id_number(raw: str | None, *, today: date) -> IdResult:
    """Validates per GB 11643-1999 and normalises the fixable forms (spaces, full-width, lower-case x, 15 digits).

    A problem's message names the number masked as the pages mask it (first 6, last 3) and never quotes its middle
    (the birth date): messages reach pages, the API, exports and logs, where only the masked form may go.
    """
    original = raw or ""
    shown = masked(original)
    result = IdResult(original=original)
    text = _strip_spaces(original)
    if text != original:
        result.fixes.append("id_with_spaces")
    nfkc = text if text.isascii() else unicodedata.normalize("NFKC", text)
    if nfkc != text:
        result.fixes.append("fullwidth_digits")
        text = nfkc
    if not text:
        result.problem = IdProblem("missing_id", "证件号码为空")
        return result
    if text.endswith("x"):
        result.fixes.append("lowercase_x")
        text = text[:-1] + "X"
    if not text.isdigit() and text.replace(".", "").replace("E", "").replace("+", "").isdigit():
        result.problem = IdProblem(
            "excel_scientific",
            f"证件号码“{shown}”被表格软件显示为科学计数法，位数已丢失，无法恢复",
        )
        return result
    if len(text) == 15 and text.isdigit():
        birth = _parse_date("19" + text[6:12])
        if birth is None:
            result.problem = IdProblem("bad_birth_date", f"证件号码“{shown}”中的出生日期不存在")
            return result
        first17 = text[:6] + "19" + text[6:]
        result.legacy = text
        result.fixes.append("legacy_15_digit_id")
        text = first17 + id_check_char(first17)
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        result.problem = IdProblem("bad_id_format", f"证件号码“{shown}”应为18位（末位可为X）")
        return result
    if not 11 <= int(text[:2]) <= 65:
        result.problem = IdProblem("bad_id_address", f"证件号码“{shown}”的地址码无效")
        return result
    birth = _parse_date(text[6:14])
    if birth is None:
        result.problem = IdProblem("bad_birth_date", f"证件号码“{shown}”中的出生日期不存在")
        return result
    if birth > today:
        result.problem = IdProblem("future_birth_date", f"证件号码“{shown}”中的出生日期晚于今天")
        return result
    if birth < MIN_BIRTH_DATE:
        result.problem = IdProblem("bad_birth_date", f"证件号码“{shown}”中的出生日期早于1900年")
        return result
    if id_check_char(text[:17]) != text[17]:
        result.problem = IdProblem("bad_checksum", f"证件号码“{shown}”的校验位错误")
        return result
    result.value = text
    result.birth_date = birth
    result.is_male = int(text[16]) % 2 == 1
    return result


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(raw: str) -> tuple[str | None, str | None]:
    """Returns (normalised code, None) or (None, Chinese reason), per GB 32100-2015."""
    text = unicodedata.normalize("NFKC", _strip_spaces(raw or "")).upper()
    if len(text) != 18:
        return None, "统一社会信用代码应为18位"
    bad = sorted({c for c in text if c not in USCC_ALPHABET})
    if bad:
        return None, f"统一社会信用代码含有无效字符 {''.join(bad)}"
    if uscc_check_char(text[:17]) != text[17]:
        return None, "统一社会信用代码校验位错误"
    return text, None
