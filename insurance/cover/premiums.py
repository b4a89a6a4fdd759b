"""Premium arithmetic (pure): integer fen in and out, Decimal in between, rounded half up once per line.

domain.md §4: rates and shares are basis points; each computed line is rounded half up to the fen (never
`round()`, never float); the subsidy shares are rounded one by one and the remainder goes to the farmer's share
(the county's when the government pays everything), so the shares always add up to the premium exactly.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

BP = Decimal(10_000)
ONE_FEN = Decimal(1)


def round_fen(amount: Decimal) -> int:
    """Half up to the whole fen (四舍五入), the one rounding rule of the programme."""
    return int(amount.quantize(ONE_FEN, rounding=ROUND_HALF_UP))


def unit_premium_exact(sum_insured_fen: int, rate_bp: int) -> Decimal:
    """The premium of one unit (head, mu, person) before rounding: sum insured × rate."""
    return Decimal(sum_insured_fen) * Decimal(rate_bp) / BP


def line_premium(quantity: Decimal | int, *, sum_insured_fen: int, rate_bp: int) -> int:
    """The premium of one insured line (n heads, or an area in mu), rounded once, so that scaling the quantity
    scales the premium to within a fen."""
    if isinstance(quantity, float):  # pragma: no cover - a programming error, not user input
        raise TypeError("quantities are Decimal or int, never float")
    return round_fen(Decimal(quantity) * unit_premium_exact(sum_insured_fen, rate_bp))


def line_sum_insured(quantity: Decimal | int, sum_insured_fen: int) -> int:
    if isinstance(quantity, float):  # pragma: no cover - a programming error, not user input
        raise TypeError("quantities are Decimal or int, never float")
    return round_fen(Decimal(quantity) * Decimal(sum_insured_fen))


@dataclass(frozen=True)
class SubsidyShares:
    """Who pays which part of a premium, in basis points that add up to 10,000."""

    central_bp: int
    provincial_bp: int
    county_bp: int
    farmer_bp: int

    def problems(self) -> list[str]:
        values = (self.central_bp, self.provincial_bp, self.county_bp, self.farmer_bp)
        found = []
        if any(v < 0 or v > 10_000 for v in values):
            found.append("各级补贴比例须在 0 到 100% 之间")
        if sum(values) != 10_000:
            found.append(f"补贴比例合计须为100%，现为{Decimal(sum(values)) / 100}%")
        return found


@dataclass(frozen=True)
class PremiumSplit:
    central_fen: int
    provincial_fen: int
    county_fen: int
    farmer_fen: int

    @property
    def total_fen(self) -> int:
        return self.central_fen + self.provincial_fen + self.county_fen + self.farmer_fen

    @property
    def government_fen(self) -> int:
        return self.central_fen + self.provincial_fen + self.county_fen


def split_premium(premium_fen: int, shares: SubsidyShares) -> PremiumSplit:
    """Each share rounded half up; the remainder to the farmer (or, at 0% farmer, to the county) so the parts add up
    to the premium to the fen. A share never goes below zero: for a premium of a few fen the overshoot of rounding is
    taken back from the largest other share."""
    if premium_fen < 0:
        raise ValueError("premium must not be negative")
    if shares.problems():
        raise ValueError("; ".join(shares.problems()))
    amount = Decimal(premium_fen)
    parts = [
        round_fen(amount * Decimal(bp) / BP)
        for bp in (shares.central_bp, shares.provincial_bp, shares.county_bp, shares.farmer_bp)
    ]
    sink = 3 if shares.farmer_bp > 0 else 2
    parts[sink] += premium_fen - sum(parts)
    while parts[sink] < 0:
        donor = max((i for i in range(4) if i != sink), key=lambda i: parts[i])
        parts[donor] -= 1
        parts[sink] += 1
    return PremiumSplit(*parts)


def group_premium(persons: int, households: int, *, per_person_fen: int, per_household_fen: int) -> int:
    """A family group policy's premium: fixed amounts per person and per household, no pro-rating (domain.md §5)."""
    return persons * per_person_fen + households * per_household_fen


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_SECTIONS = ["", "万"]  # within one 亿 group; 亿 groups are joined in _integer_capitals


def yuan_in_capitals(fen: int) -> str:
    """The amount in Chinese capitals as notices print it (大写): 123456 fen → 壹仟贰佰叁拾肆元伍角陆分."""
    if fen < 0:
        return "负" + yuan_in_capitals(-fen)
    yuan, rest = divmod(fen, 100)
    jiao, fen_digit = divmod(rest, 10)
    text = _integer_capitals(yuan) + "元" if yuan else ""
    if jiao == 0 and fen_digit == 0:
        return (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen_digit:
        text += _DIGITS[fen_digit] + "分"
    return text


def _integer_capitals(number: int) -> str:
    if number >= 100_000_000:  # 壹万零壹亿, not 壹万亿零壹亿: what stands before 亿 is read as a number of its own
        high, low = divmod(number, 100_000_000)
        low_text = _integer_capitals(low) if low else ""
        return _integer_capitals(high) + "亿" + ("零" if 0 < low < 10_000_000 else "") + low_text
    sections: list[int] = []  # groups of four digits, lowest first
    while number:
        number, section = divmod(number, 10_000)
        sections.append(section)
    out = ""
    pending_zero = False
    for index in reversed(range(len(sections))):
        section = sections[index]
        if section == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or section < 1000):
            out += "零"
        out += _section_capitals(section) + _SECTIONS[index]
        pending_zero = False
    return out


def _section_capitals(section: int) -> str:
    out = ""
    zero = False
    for position in range(3, -1, -1):
        digit = (section // 10**position) % 10
        if digit:
            if zero and out:
                out += "零"
            out += _DIGITS[digit] + _UNITS[position]
            zero = False
        else:
            zero = True
    return out
