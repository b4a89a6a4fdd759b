"""What the dashboards' API answers: the figures behind each chart and table, amounts in integer fen."""

from datetime import date

from pydantic import BaseModel

from claims.schemas import ClaimSummary
from claims.status import ClaimType


class TypeMonths(BaseModel):
    """One claim type's amounts per calendar month (index 0 = January)."""

    claim_type: ClaimType
    claim_type_label: str
    paid_fen: list[int]
    approved_fen: list[int]
    paid_total_fen: int
    approved_total_fen: int


class ClaimsByMonthPublic(BaseModel):
    """Claims paid (payments recorded as paid, by the day paid) and approved (agreed amounts, by the day decided,
    Beijing time) per type and month of one year, for a division's claims."""

    division_code: str
    division_name: str
    year: int
    types: list[TypeMonths]
    paid_fen_by_month: list[int]
    approved_fen_by_month: list[int]
    paid_total_fen: int
    approved_total_fen: int


class OverdueRow(BaseModel):
    """A child division's (county's) claims whose pending statutory step is overdue or due within 3 days."""

    code: str
    name: str
    overdue: int
    due_soon: int


class OverduePublic(BaseModel):
    division_code: str
    division_name: str
    on: date
    overdue: int
    due_soon: int
    by_county: list[OverdueRow]
    oldest: list[ClaimSummary]


class FlagReasonRow(BaseModel):
    reason: str
    reason_label: str
    new: int
    following_up: int


class FlagCountyRow(BaseModel):
    code: str
    name: str
    open: int


class OpenFlagsPublic(BaseModel):
    """Open risk-of-return flags (new or being followed up) of a division, by reason and by county."""

    division_code: str
    division_name: str
    open: int
    by_reason: list[FlagReasonRow]
    by_county: list[FlagCountyRow]
