"""The one-stop settlement-sheet import pages of an insurer's handler or supervisor: the upload, then what the
worker made of the file. Anyone else: 404 (the service's scope)."""

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from sqlmodel import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from claims import settlement_uploads
from claims.api import settlement_import_public, submit_settlement_upload
from claims.errors import ClaimCode, ClaimNotFoundError
from core.auth import CurrentUser, QueueDep, SessionDep
from core.errors import DomainError
from core.models import User
from core.templating import render

router = APIRouter(include_in_schema=False)


# --- one-stop settlement-sheet imports ----------------------------------------------------------------------------
# An insurer's handler or supervisor uploads a sheet; a worker imports it (claims.jobs) while the page polls the
# API; then the counts, the refused rows, the claims created and the report. Anyone else: 404 (the service's scope).

SETTLEMENT_PAGE_ROWS = 200


def _settlement_imports(
    request: Request, session: Session, user: User, *, error: str | None = None, status: int = 200
) -> HTMLResponse:
    if not settlement_uploads.may_import_settlements(user):
        raise ClaimNotFoundError("页面不存在", code=ClaimCode.import_not_found)
    rows, count = settlement_uploads.list_settlement_imports(session, user, limit=50)
    return render(
        request, "pages/settlement_imports.html", user, status_code=status, error=error, imports=rows, count=count
    )


@router.get("/settlement-imports", response_class=HTMLResponse)
def settlement_imports_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    return _settlement_imports(request, session, user)


@router.post("/settlement-imports", response_class=HTMLResponse)
def upload_settlement_sheet(
    request: Request, session: SessionDep, user: CurrentUser, queue: QueueDep, file: Annotated[UploadFile, File()]
) -> Response:
    try:
        record = submit_settlement_upload(session, user, queue, file)
    except DomainError as exc:
        return _settlement_imports(request, session, user, error=exc.message, status=exc.status_code)
    return RedirectResponse(f"/settlement-imports/{record.id}", status_code=303)


@router.get("/settlement-imports/{import_id}", response_class=HTMLResponse)
def settlement_import_page(
    import_id: int, request: Request, session: SessionDep, user: CurrentUser, queue: QueueDep
) -> HTMLResponse:
    """The refused rows with their Chinese messages (ID numbers stored masked) and the claims created, each linking
    to its claim page; the first rows of each, the whole in the report."""
    record = settlement_uploads.get_settlement_import(session, user, import_id)
    issues, issue_count = settlement_uploads.list_settlement_issues(session, import_id, limit=SETTLEMENT_PAGE_ROWS)
    claims, claim_count = settlement_uploads.list_import_claims(session, record, limit=SETTLEMENT_PAGE_ROWS)
    return render(
        request,
        "pages/settlement_import.html",
        user,
        record=settlement_import_public(queue, record),
        issues=issues,
        issue_count=issue_count,
        claims=claims,
        claim_count=claim_count,
    )
