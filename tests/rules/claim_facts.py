"""Builders for the claims rule tests: the catalogue's real benefits (products.json) as assessment `Benefit`s."""

import json
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from claims.assessment import Benefit, Cover

CATALOGUE = Path(__file__).resolve().parents[2] / "insurance" / "cover" / "data" / "products.json"


@cache
def catalogue_benefits() -> dict[str, Benefit]:
    products = json.loads(CATALOGUE.read_text(encoding="utf-8"))["products"]
    return {
        benefit["code"]: Benefit.from_catalogue(benefit, version["terms"])
        for product in products
        for version in product["versions"]
        for benefit in version["benefits"]
    }


def benefit(code: str) -> Benefit:
    return catalogue_benefits()[code]


def cover(
    code: str,
    *,
    used: int = 0,
    disability_paid: int = 0,
    units: Decimal | int = 1,
    start: date = date(2026, 1, 1),
    end: date = date(2026, 12, 31),
    waiting_ends: date | None = None,
) -> Cover:
    """A cover in force for the whole 2026 policy year unless told otherwise."""
    return Cover(
        benefit(code),
        cover_start=start,
        cover_end=end,
        waiting_ends=waiting_ends,
        insured_units=Decimal(units),
        used_this_year_fen=used,
        disability_paid_this_year_fen=disability_paid,
    )
