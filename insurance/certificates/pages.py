"""The documents' pages, and the public verification page anyone can open."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from core import verification as core_verification
from core.auth import CurrentUser, OptionalUser, SessionDep, SettingsDep
from core.documents import DOCUMENT_STATUS_LABELS, DocumentStatus
from core.templating import render
from insurance.certificates import service as certificates_service
from insurance.certificates import verification
from insurance.certificates.api import VerifyLimiterDep
from insurance.cover.deps import CurrentPolicy
from insurance.cover.outbox import DOCUMENT_KIND_LABELS

router = APIRouter(include_in_schema=False)


# --- documents and the public verification page ---------------------------------------------------------------------


@router.get("/policies/{policy_no}/documents", response_class=HTMLResponse)
def documents_page(
    policy: CurrentPolicy,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    village_code: str | None = None,
    status: DocumentStatus | None = None,
    retried: int | None = None,
) -> HTMLResponse:
    return render(
        request,
        "pages/documents.html",
        user,
        policy=policy,
        villages=certificates_service.village_status(session, policy),
        requests=certificates_service.list_requests(
            session, policy, village_code=village_code, status=status, limit=100
        ),
        village_code=village_code,
        status=status,
        retried=retried,
        kind_labels=DOCUMENT_KIND_LABELS,
        status_labels=DOCUMENT_STATUS_LABELS,
    )


@router.post("/policies/{policy_no}/documents/retry", response_class=HTMLResponse)
def documents_retry_form(
    policy: CurrentPolicy,
    session: SessionDep,
    village_code: Annotated[str | None, Form()] = None,
) -> Response:
    retried = certificates_service.retry_failed(session, policy, village_code=village_code or None)
    return RedirectResponse(f"/policies/{policy.policy_no}/documents?retried={retried}", status_code=303)


@router.get("/verify", response_class=HTMLResponse)
def verify_page(
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    settings: SettingsDep,
    limiter: VerifyLimiterDep,
    code: str | None = None,
) -> HTMLResponse:
    """Public (no login): a household or anyone types the short code, or lands here from the QR."""
    result = None
    if code and code.strip():
        limiter.check(request)
        result = verification.verify(session, settings, code[:600])
    return render(
        request,
        "pages/verify.html",
        user,
        code=code or "",
        result=result,
        state_labels=core_verification.STATE_LABELS,
    )


@router.get("/v/{code}", response_class=HTMLResponse)
def verify_qr_page(
    code: str,
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    settings: SettingsDep,
    limiter: VerifyLimiterDep,
) -> HTMLResponse:
    """Where a certificate's QR code leads."""
    return verify_page(request, session, user, settings, limiter, code)
