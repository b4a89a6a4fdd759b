"""The risk-flag pages: the county office's work list (filters, paging, export) and a flag's page with its figures,
claims, history and the county's forms. Every route calls the same service as the JSON API; a refusal comes back on
the flag's page, in Chinese, inside the form that caused it."""

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from sqlmodel import Session
from starlette.responses import HTMLResponse, Response

from claims.risk import labels as risk_labels
from claims.risk import service, views
from claims.risk.api import FlagFilterDep
from claims.risk.errors import RiskCode, RiskForbiddenError
from claims.risk.schemas import DismissCreate, FollowUpCreate, ResolveCreate
from core import labels
from core.auth import CurrentUser, SessionDep
from core.models import Role, User
from core.templating import form_step, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def _readers(user: User) -> None:
    if user.role not in (Role.county_office, Role.province_office):
        raise RiskForbiddenError("只有扶贫办可以查看返贫风险预警", code=RiskCode.forbidden)


@router.get("/risk-flags", response_class=HTMLResponse)
def flags_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    where: FlagFilterDep,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    _readers(user)
    rows, count = service.list_flags(session, user, where, limit=PAGE_SIZE, offset=offset)
    query = {
        k: v
        for k, v in {
            "reason": where.reason,
            "status": where.status,
            "division": where.division,
            "year": where.year,
        }.items()
        if v
    }
    return render(
        request,
        "pages/risk_flags.html",
        user,
        flags=views.flags_public(session, rows),
        count=count,
        offset=offset,
        page_size=PAGE_SIZE,
        where=where,
        reasons=risk_labels.REASON_LABELS,
        statuses=risk_labels.STATUS_LABELS,
        export_query=urlencode({k: str(v) for k, v in query.items()}),
        previous_query=urlencode({**query, "offset": max(offset - PAGE_SIZE, 0)}),
        next_query=urlencode({**query, "offset": offset + PAGE_SIZE}),
    )


def _flag_page(
    request: Request,
    session: Session,
    user: User,
    flag_id: int,
    *,
    error: str | None = None,
    failed_form: str | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    _readers(user)
    flag = service.get_flag(session, user, flag_id)
    detail = views.flag_detail(session, flag, service.list_events(session, flag), may_act=service.may_act(user))
    return render(
        request,
        "pages/risk_flag.html",
        user,
        status_code=status,
        flag=detail,
        categories=labels.table(risk_labels.MONITOR_CATEGORY),
        error=error,
        failed_form=failed_form,
        typed=typed or {},
    )


@router.get("/risk-flags/{flag_id}", response_class=HTMLResponse)
def flag_page(flag_id: int, request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    return _flag_page(request, session, user, flag_id)


def _step(
    request: Request,
    session: Session,
    user: User,
    flag_id: int,
    form: str,
    typed: dict[str, str],
    run: Callable[[], object],
) -> Response:
    def refused(message: str, status: int) -> HTMLResponse:
        return _flag_page(request, session, user, flag_id, error=message, failed_form=form, typed=typed, status=status)

    return form_step(run, refused, f"/risk-flags/{flag_id}#history")


@router.post("/risk-flags/{flag_id}/follow-up", response_class=HTMLResponse)
def follow_up_form(
    flag_id: int, request: Request, session: SessionDep, user: CurrentUser, note: Annotated[str, Form()] = ""
) -> Response:
    def run() -> object:
        return service.follow_up(session, user, flag_id, FollowUpCreate(note=note.strip() or None))

    return _step(request, session, user, flag_id, "follow-up-form", {"note": note}, run)


@router.post("/risk-flags/{flag_id}/resolve", response_class=HTMLResponse)
def resolve_form(
    flag_id: int,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    note: Annotated[str, Form()] = "",
    confirmed_category: Annotated[str, Form()] = "",
) -> Response:
    def run() -> object:
        data = ResolveCreate.model_validate(
            {"note": note.strip() or None, "confirmed_category": confirmed_category or None}
        )
        return service.resolve(session, user, flag_id, data)

    typed = {"note": note, "confirmed_category": confirmed_category}
    return _step(request, session, user, flag_id, "resolve-form", typed, run)


@router.post("/risk-flags/{flag_id}/dismiss", response_class=HTMLResponse)
def dismiss_form(
    flag_id: int, request: Request, session: SessionDep, user: CurrentUser, reason: Annotated[str, Form()] = ""
) -> Response:
    def run() -> object:
        return service.dismiss(session, user, flag_id, DismissCreate(reason=reason.strip()))

    return _step(request, session, user, flag_id, "dismiss-form", {"reason": reason}, run)
