"""The one yuan parser: an amount a person typed or a file held, in yuan, to exact integer fen (never through a
float's binary error). Pure: callers word the reason code as their page, form or report words it.

Full-width digits and signs are read as their ASCII forms (NFKC), so `１２３．４５` is 123.45 yuan. Grouping
separators (`,` `，`) and the currency sign (`¥` `￥`) are dropped only where the caller allows them: a person
typing into a form writes `1,234.56`; a settlement file's amount cell is a plain number, and there `1,500.50` may
well be a decimal comma, so it is refused rather than read as 150,050 yuan."""

import re
import unicodedata
from decimal import Decimal
from enum import StrEnum

# Far inside a BIGINT of fen; a form's typo of 30 digits is refused, never an overflow in the database.
MAX_YUAN_DIGITS = 15
_AMOUNT = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?", re.ASCII)
_GROUPING = str.maketrans("", "", ",¥")  # after NFKC: `，` is `,` and `￥` is `¥`


class YuanProblem(StrEnum):
    """Why a text is not an amount in yuan; each caller words these in its own Chinese."""

    invalid = "invalid"  # not a number written in digits
    negative = "negative"
    decimals = "decimals"  # more than 2 decimals: refused, never rounded
    too_large = "too_large"  # more whole yuan digits than the caller allows


def parse_yuan(
    value: str | int | Decimal,
    *,
    separators: bool = False,
    negative: bool = False,
    max_digits: int = MAX_YUAN_DIGITS,
) -> tuple[int | None, YuanProblem | None]:
    """Yuan -> (fen, None), or (None, the problem). Empty text is `invalid`: whether a blank field is allowed is the
    caller's to say. An int is whole yuan; a Decimal is read as written (so `Decimal("1.50")` is 150 fen)."""
    if isinstance(value, bool):
        return None, YuanProblem.invalid
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            return None, YuanProblem.invalid
        text = format(value, "f")
    else:
        text = (value if value.isascii() else unicodedata.normalize("NFKC", value)).strip()  # ASCII: NFKC is a no-op
        if separators:
            text = text.translate(_GROUPING).strip()
    found = _AMOUNT.fullmatch(text)
    if found is None:
        return None, YuanProblem.invalid
    sign, whole, cents = found.groups()
    cents = cents or ""
    if sign and not negative and (whole.strip("0") or cents.strip("0")):  # "-0.00" is zero, not negative
        return None, YuanProblem.negative
    if len(cents) > 2:
        return None, YuanProblem.decimals
    if len(whole.lstrip("0")) > max_digits:
        return None, YuanProblem.too_large
    fen = int(whole) * 100 + int(cents.ljust(2, "0"))
    return (-fen if sign else fen), None


def fen_to_yuan(fen: int) -> str:
    """Fen as yuan text with two decimals (`-1.05`), the form parse_yuan reads back to the same fen."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"
