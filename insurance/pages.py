"""Thin HTML routes of the coverage domain."""

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from core.auth import CurrentUser, SessionDep
from core.templating import render
from insurance import service
from insurance.models import DIVISION_LEVEL_LABELS

router = APIRouter(include_in_schema=False)


@router.get("/divisions/{code}", response_class=HTMLResponse)
def division_page(code: str, request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    division = service.get_division(session, user, code)
    return render(
        request,
        "pages/division.html",
        user,
        division=division,
        path=service.division_path(session, user, division),
        children=service.list_children(session, division),
        level_labels=DIVISION_LEVEL_LABELS,
    )
