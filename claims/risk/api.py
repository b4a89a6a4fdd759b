"""The risk-flag JSON API under /api/risk-flags: the county's work list (filtered, paged, exportable), a flag with its
history, and the county's three steps. Thin: who sees and who acts is decided in claims.risk.service."""

import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from claims.risk import service, views
from claims.risk.rules import RiskReason, RiskStatus
from claims.risk.schemas import DismissCreate, FollowUpCreate, ResolveCreate, RiskFlagDetail, RiskFlagPublic
from core.auth import CurrentUser, SessionDep
from core.db import local_today
from core.schemas import Page

router = APIRouter(prefix="/api/risk-flags", tags=["risk"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def flag_filter(
    reason: RiskReason | None = None,
    status: RiskStatus | None = None,
    division: Annotated[str | None, Query(max_length=12, description="county, township or village code")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> service.FlagFilter:
    return service.FlagFilter(reason=reason, status=status, division=division or None, year=year)


FlagFilterDep = Annotated[service.FlagFilter, Depends(flag_filter)]


def detail(session: SessionDep, user: CurrentUser, flag_id: int) -> RiskFlagDetail:
    flag = service.get_flag(session, user, flag_id)
    return views.flag_detail(session, flag, service.list_events(session, flag), may_act=service.may_act(user))


@router.get("", response_model=Page[RiskFlagPublic], summary="The caller's risk flags, newest first")
def read_flags(
    session: SessionDep,
    user: CurrentUser,
    where: FlagFilterDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[RiskFlagPublic]:
    rows, count = service.list_flags(session, user, where, limit=limit, offset=offset)
    return Page(data=views.flags_public(session, rows), count=count)


@router.get("/export.xlsx", summary="The filtered flags as XLSX with Chinese headers (ID numbers masked)")
def export_flags(session: SessionDep, user: CurrentUser, where: FlagFilterDep) -> FileResponse:
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as handle:
        path = Path(handle.name)
    views.write_xlsx(path, session, service.iter_flags(session, user, where))
    return FileResponse(
        path,
        headers=attachment(f"返贫风险预警-{local_today().isoformat()}.xlsx"),
        media_type=XLSX,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get("/{flag_id}", response_model=RiskFlagDetail, summary="A flag with its history")
def read_flag(flag_id: int, session: SessionDep, user: CurrentUser) -> RiskFlagDetail:
    return detail(session, user, flag_id)


@router.post("/{flag_id}/follow-up", response_model=RiskFlagDetail, summary="The county follows the household up")
def follow_up(flag_id: int, data: FollowUpCreate, session: SessionDep, user: CurrentUser) -> RiskFlagDetail:
    service.follow_up(session, user, flag_id, data)
    return detail(session, user, flag_id)


@router.post("/{flag_id}/resolve", response_model=RiskFlagDetail, summary="Resolved, with the confirmed category")
def resolve(flag_id: int, data: ResolveCreate, session: SessionDep, user: CurrentUser) -> RiskFlagDetail:
    service.resolve(session, user, flag_id, data)
    return detail(session, user, flag_id)


@router.post("/{flag_id}/dismiss", response_model=RiskFlagDetail, summary="Dismissed, with the reason")
def dismiss(flag_id: int, data: DismissCreate, session: SessionDep, user: CurrentUser) -> RiskFlagDetail:
    service.dismiss(session, user, flag_id, data)
    return detail(session, user, flag_id)


def attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename=\"risk-flags.xlsx\"; filename*=UTF-8''{quote(filename)}"}
