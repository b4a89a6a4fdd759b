"""The dashboards' JSON API: one endpoint behind every figure the dashboard page shows, so other systems can read
them (coverage figures come from /api/coverage, risk flags from /api/risk-flags)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from claims.dashboard import service
from claims.dashboard.deps import DashboardDivision
from claims.dashboard.schemas import ClaimsByMonthPublic, OpenFlagsPublic, OverduePublic
from core.auth import CurrentUser, SessionDep
from core.db import local_today

router = APIRouter(prefix="/api/dashboard", tags=["dashboard"])


@router.get(
    "/{code}/claims-by-month",
    response_model=ClaimsByMonthPublic,
    summary="Claims paid and approved per type and month of a year, for the province, a prefecture or a county",
)
def read_claims_by_month(
    division: DashboardDivision,
    session: SessionDep,
    user: CurrentUser,
    year: Annotated[int | None, Query(description="default: this year")] = None,
) -> ClaimsByMonthPublic:
    return service.claims_by_month(session, user, division, year or local_today().year)


@router.get("/{code}/overdue", response_model=OverduePublic, summary="Claims overdue or due within 3 days, by county")
def read_overdue(
    division: DashboardDivision,
    session: SessionDep,
    user: CurrentUser,
    on: Annotated[date | None, Query(description="default: today")] = None,
) -> OverduePublic:
    return service.overdue_claims(session, user, division, on or local_today())


@router.get("/{code}/open-flags", response_model=OpenFlagsPublic, summary="Open risk flags by reason and by county")
def read_open_flags(division: DashboardDivision, session: SessionDep, user: CurrentUser) -> OpenFlagsPublic:
    return service.open_flags(session, user, division)
