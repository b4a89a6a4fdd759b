"""What the coverage-gap API answers: a division's figures with its children's, and the members behind the gap."""

from datetime import date

from pydantic import BaseModel

from insurance.gaps.reasons import GapReason, NotEligibleReason


class CoverageFigures(BaseModel):
    code: str
    name: str
    level: str
    members: int
    eligible: int
    covered: int
    uncovered: int
    lapsing: int


class CoverageReport(CoverageFigures):
    on: date
    children: list[CoverageFigures]


class GapMember(BaseModel):
    id_number_masked: str
    name: str
    household_no: str
    village_code: str
    reason: GapReason | NotEligibleReason
