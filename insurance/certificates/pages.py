"""The documents' pages, the household page (its cover and its certificates), and the public verification page
anyone can open.

Why the household page lives here and not with cover's pages: it lists the household's certificates, and cover
never imports certificates (certificates print what cover decided; tests/test_architecture.py)."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from core import verification as core_verification
from core.auth import CurrentUser, OptionalUser, SessionDep, SettingsDep
from core.db import local_today
from core.documents import DOCUMENT_STATUS_LABELS, DocumentStatus
from core.templating import render
from insurance.certificates import service as certificates_service
from insurance.certificates import verification
from insurance.certificates.api import VerifyLimiterDep
from insurance.cover import answers
from insurance.cover.deps import CurrentPolicy
from insurance.cover.pages.policies import COVER_LABELS
from insurance.register import service as register_service
from insurance.register.deps import CurrentHousehold
from insurance.register.pages import LABELS

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
    villages = certificates_service.village_status(session, policy)
    rows = certificates_service.list_requests(session, policy, village_code=village_code, status=status, limit=100)
    return render(
        request,
        "pages/documents.html",
        user,
        policy=policy,
        villages=villages,
        requests=rows,
        subjects=certificates_service.request_subjects(session, rows),
        village_names={v.village_code: v.village_name for v in villages},
        village_code=village_code,
        status=status,
        retried=retried,
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


@router.get("/households/{household_no}", response_class=HTMLResponse)
def household_page(
    household: CurrentHousehold, request: Request, session: SessionDep, user: CurrentUser
) -> HTMLResponse:
    """The household, its members with why each has cover today or not, its cover lines and its certificates."""
    village = register_service.get_division(session, user, household.village_code)
    members = register_service.list_members(session, household)
    cover = answers.household_cover(session, user, household)
    today = local_today()
    return render(
        request,
        "pages/household.html",
        user,
        household=household,
        members=members,
        village=village,
        path=register_service.division_path(session, user, village),
        labels=LABELS,
        cover=cover,
        standing=answers.household_standing(cover[0], members, today),
        certificates=certificates_service.household_certificates(session, user, household),
        today=today,
        cover_labels=COVER_LABELS,
    )
