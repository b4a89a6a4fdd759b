"""What the risk-flag API reads and writes: the county's three actions, a flag as a list row and as its page."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from claims.risk.rules import MonitorCategory, RiskReason, RiskStatus


class FollowUpCreate(BaseModel):
    note: str | None = Field(default=None, max_length=1000, description="what the visit or call found")


class ResolveCreate(BaseModel):
    note: str | None = Field(default=None, max_length=1000)
    confirmed_category: MonitorCategory | None = Field(
        default=None, description="the monitoring category the county confirmed, or none"
    )


class DismissCreate(BaseModel):
    reason: str = Field(max_length=1000, description="why the flag is unfounded (required)")


class RiskFlagPublic(BaseModel):
    """A row of the work list: the household (its head's ID number masked), the reason, the figures behind it."""

    id: int
    household_id: int
    household_no: str
    head_name: str
    head_id_number_masked: str
    county_code: str
    village_code: str
    village_name: str
    reason: RiskReason
    reason_label: str
    year: int
    status: RiskStatus
    status_label: str
    figures: dict[str, Any]
    summary: str = Field(description="the figures as a sentence, in Chinese")
    claim_nos: list[str]
    confirmed_category: str | None
    confirmed_category_label: str
    closing_note: str | None
    raised_at: datetime
    updated_at: datetime
    closed_by: str | None
    closed_at: datetime | None


class RiskFlagEventPublic(BaseModel):
    action: str
    action_label: str
    from_status: RiskStatus | None
    to_status: RiskStatus
    note: str | None
    details: dict[str, Any] | None
    actor: str
    at: datetime


class RiskFlagDetail(RiskFlagPublic):
    events: list[RiskFlagEventPublic]
    allowed_actions: list[str]
