"""Money in the assessment (domain.md §4): integer fen in and out, Decimal in between, rounded half up to the fen
once per explanation line; and the forms a person reads in a line's detail."""

from decimal import Decimal

from insurance.cover.premiums import round_fen

BP = Decimal(10_000)

__all__ = ["BP", "apply_bp", "percent", "round_fen", "yuan"]


def apply_bp(amount: int | Decimal, bp: int) -> int:
    """`amount` × `bp`/10,000, rounded half up once (a reimbursement ratio, a disability or loss ratio)."""
    return round_fen(Decimal(amount) * Decimal(bp) / BP)


def yuan(fen: int) -> str:
    """¥1,234.56, the display form of domain.md §4."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def percent(bp: int) -> str:
    """85%, 12.5%: a basis-point ratio as a person reads it."""
    value = (Decimal(bp) / 100).normalize()
    return f"{value:f}%"
