"""Tables of the risk flags: the flag (one open per household, reason and year) and its history.

The flag copies the household's county and village at raising, so the county's work list and the division filter
are index ranges (the register's village of a household does not change; a move is a new household row)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from claims.risk.rules import RiskReason, RiskStatus
from core.db import enum_type, utcnow

OPEN_CONDITION = "status IN ('new', 'following_up')"


class RiskFlag(SQLModel, table=True):
    """A household flagged for a risk of falling back into poverty: the reason, the year, the figures behind it
    (amounts in fen, the threshold), the claims it comes from, and where the county office's work on it stands."""

    __tablename__ = "risk_flag"
    __table_args__ = (
        # At most one open flag per household, reason and year, whatever two transactions do at once.
        Index(
            "uq_risk_flag_open",
            "household_id",
            "reason",
            "year",
            unique=True,
            sqlite_where=text(OPEN_CONDITION),
            postgresql_where=text(OPEN_CONDITION),
        ),
        Index("ix_risk_flag_county_status", "county_code", "status"),
        Index("ix_risk_flag_village", "village_code"),
        Index("ix_risk_flag_household", "household_id", "reason", "year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id")
    county_code: str = Field(max_length=6, description="the household's county, for scope")
    village_code: str = Field(max_length=12, description="the household's village, for the division filter")
    reason: RiskReason = Field(sa_type=enum_type(RiskReason))
    year: int = Field(description="the calendar year of the facts (incident or admission date)")
    status: RiskStatus = Field(sa_type=enum_type(RiskStatus), default=RiskStatus.new)
    figures: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False), description="amounts in fen and the threshold"
    )
    basis: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description="the claim numbers it comes from (members as `member:<id>` for eligible_uncovered)",
    )
    confirmed_category: str | None = Field(
        default=None, max_length=32, description="the monitoring category the county confirmed on resolving"
    )
    closing_note: str | None = Field(default=None, max_length=1000, description="why resolved or dismissed")
    raised_by: str = Field(max_length=100)
    raised_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    closed_by: str | None = Field(default=None, max_length=100)
    closed_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    closed_at: datetime | None = None


class RiskFlagEvent(SQLModel, table=True):
    """One step of a flag: raised, figures updated, followed up, resolved or dismissed; who, when, from -> to, the
    note, and for a refresh the figures before and after."""

    __tablename__ = "risk_flag_event"
    __table_args__ = (Index("ix_risk_flag_event_flag", "flag_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    flag_id: int = Field(foreign_key="risk_flag.id")
    action: str = Field(max_length=32, description="claims.risk.rules.RiskAction")
    from_status: RiskStatus | None = Field(default=None, sa_type=enum_type(RiskStatus))
    to_status: RiskStatus = Field(sa_type=enum_type(RiskStatus))
    note: str | None = Field(default=None, max_length=1000)
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON), description="figures, category")
    actor: str = Field(max_length=100)
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    at: datetime = Field(default_factory=utcnow)
