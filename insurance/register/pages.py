"""The register's pages: divisions, households, roster uploads and their reports."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from starlette.responses import HTMLResponse, RedirectResponse, Response

from core.auth import CurrentUser, QueueDep, SessionDep
from core.errors import DomainError
from core.templating import render
from insurance.register import scope, service
from insurance.register.api import import_public, submit_import
from insurance.register.deps import CurrentDivision, CurrentImport
from insurance.register.models import DIVISION_LEVEL_LABELS, MEMBER_STATUS_LABELS, POVERTY_ATTRIBUTE_LABELS
from insurance.register.roster import POVERTY_CAUSES, column_of
from insurance.register.roster_report import for_reader

router = APIRouter(include_in_schema=False)
CAUSE_LABELS = {code: label for label, code in POVERTY_CAUSES.items()}
PAGE_SIZE = 50
LABELS = {
    "levels": DIVISION_LEVEL_LABELS,
    "attributes": POVERTY_ATTRIBUTE_LABELS,
    "causes": CAUSE_LABELS,
    "statuses": MEMBER_STATUS_LABELS,
}


@router.get("/divisions/{code}", response_class=HTMLResponse)
def division_page(division: CurrentDivision, request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    return render(
        request,
        "pages/division.html",
        user,
        division=division,
        path=service.division_path(session, user, division),
        children=service.list_children(session, division),
        level_labels=DIVISION_LEVEL_LABELS,
    )


@router.get("/households", response_class=HTMLResponse)
def households_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    village: str | None = None,
    q: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    rows, count = service.list_households(session, user, village_code=village, q=q, limit=PAGE_SIZE, offset=offset)
    division = service.get_division(session, user, village) if village else None
    return render(
        request,
        "pages/households.html",
        user,
        rows=rows,
        count=count,
        village=division,
        q=q or "",
        offset=offset,
        page_size=PAGE_SIZE,
        labels=LABELS,
        path=service.division_path(session, user, division) if division else [],
        sees_register=scope.sees_a_register(user),
    )


@router.get("/roster-imports", response_class=HTMLResponse)
def imports_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    rows, count = service.list_imports(session, user, limit=50)
    return render(
        request, "pages/imports.html", user, imports=rows, count=count, may_import=service.may_import_rosters(user)
    )


@router.post("/roster-imports", response_class=HTMLResponse)
def upload_roster(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    queue: QueueDep,
    file: Annotated[UploadFile, File()],
    dry_run: Annotated[bool, Form()] = False,
    strict: Annotated[bool, Form()] = False,
) -> Response:
    try:
        record = submit_import(session, user, queue, file, dry_run=dry_run, strict=strict)
    except DomainError as exc:
        rows, count = service.list_imports(session, user, limit=50)
        return render(
            request,
            "pages/imports.html",
            user,
            status_code=exc.status_code,
            error=exc.message,
            imports=rows,
            count=count,
            may_import=service.may_import_rosters(user),
        )
    return RedirectResponse(f"/roster-imports/{record.id}", status_code=303)


@router.get("/roster-imports/{import_id}", response_class=HTMLResponse)
def import_page(
    record: CurrentImport, request: Request, session: SessionDep, user: CurrentUser, queue: QueueDep
) -> HTMLResponse:
    """The rejected rows, ID numbers masked for every reader (the importing office too: only its report file has them
    whole), each column named by its Chinese header even when the file used the English alias."""
    rows, issue_count = service.list_import_issues(session, record.id or 0, errors_only=True, limit=200)
    issues = []
    for row in rows:
        issue = for_reader(row.model_dump(), full_ids=False)
        column = column_of(issue["column"])
        issues.append({**issue, "column": column.header if column else issue["column"]})
    return render(
        request,
        "pages/import.html",
        user,
        record=import_public(queue, record),
        issues=issues,
        issue_count=issue_count,
    )
