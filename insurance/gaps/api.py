"""The coverage-gap JSON API (a contract: its paths and fields keep these names) and the lists' XLSX exports."""

import itertools
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from core.auth import CurrentUser, SessionDep
from core.db import local_today
from core.schemas import Page
from insurance.gaps import figures, lists
from insurance.gaps.reasons import GapReason, NotEligibleReason
from insurance.gaps.schemas import CoverageReport, GapMember

router = APIRouter(prefix="/api/coverage", tags=["coverage gaps"])

OnQuery = Annotated[date | None, Query(description="the date of the figures (default: today, Beijing)")]
LimitQuery = Annotated[int, Query(ge=1, le=500)]
OffsetQuery = Annotated[int, Query(ge=0)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/{division_code}", response_model=CoverageReport, summary="A division's coverage figures and children's")
def read_coverage(
    division_code: str,
    session: SessionDep,
    user: CurrentUser,
    on: OnQuery = None,
    lapsing_days: Annotated[int, Query(ge=0, le=366)] = figures.LAPSING_DAYS,
) -> CoverageReport:
    return figures.coverage_report(session, user, division_code, on or local_today(), lapsing_days=lapsing_days)


@router.get("/{division_code}/uncovered", response_model=Page[GapMember], summary="Eligible members without cover")
def read_uncovered(
    division_code: str,
    session: SessionDep,
    user: CurrentUser,
    on: OnQuery = None,
    reason: GapReason | None = None,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> Page[GapMember]:
    data, count = lists.list_members(
        session, user, division_code, on or local_today(), "uncovered", reason=reason, limit=limit, offset=offset
    )
    return Page(data=data, count=count)


@router.get(
    "/{division_code}/not-eligible", response_model=Page[GapMember], summary="Members who are not a gap, and why"
)
def read_not_eligible(
    division_code: str,
    session: SessionDep,
    user: CurrentUser,
    on: OnQuery = None,
    reason: NotEligibleReason | None = None,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> Page[GapMember]:
    data, count = lists.list_members(
        session, user, division_code, on or local_today(), "not-eligible", reason=reason, limit=limit, offset=offset
    )
    return Page(data=data, count=count)


@router.get("/{division_code}/uncovered.xlsx", summary="The uncovered list as XLSX (Chinese headers)")
def export_uncovered(
    division_code: str, session: SessionDep, user: CurrentUser, on: OnQuery = None, reason: GapReason | None = None
) -> FileResponse:
    return _export(session, user, division_code, on or local_today(), "uncovered", reason)


@router.get("/{division_code}/not-eligible.xlsx", summary="The not-eligible list as XLSX (Chinese headers)")
def export_not_eligible(
    division_code: str,
    session: SessionDep,
    user: CurrentUser,
    on: OnQuery = None,
    reason: NotEligibleReason | None = None,
) -> FileResponse:
    return _export(session, user, division_code, on or local_today(), "not-eligible", reason)


def _export(
    session: SessionDep, user: CurrentUser, code: str, on: date, which: str, reason: str | None
) -> FileResponse:
    rows = lists.iter_members(session, user, code, on, which, reason)  # checks the jurisdiction before any file
    first = next(rows, None)
    # A temporary file, not memory: a province's list has hundreds of thousands of rows.
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as handle:
        path = Path(handle.name)
    lists.write_xlsx(path, itertools.chain([] if first is None else [first], rows), which)
    stem = f"{'未参保人员' if which == 'uncovered' else '非缺口人员'}-{code}-{on.isoformat()}.xlsx"
    return FileResponse(
        path,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename=\"list.xlsx\"; filename*=UTF-8''{quote(stem)}"},
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
