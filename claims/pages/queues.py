"""The work queues per role and the filing form (find the household, then the claim), through the same use cases as
the JSON API (claims.queries, claimants, filing); a refusal comes back inside the form, in Chinese."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from claims import claimants, filing, forms, queries, review
from claims.errors import ClaimCode, ClaimForbiddenError, ClaimInvalidError
from claims.models import Claim
from claims.pages.claim import may_act, typed_form
from claims.schemas import (
    ClaimCreate,
)
from claims.status import CLAIM_TYPE_LABELS, ClaimStatus, ClaimType
from core.auth import CurrentUser, SessionDep
from core.db import local_today
from core.errors import DomainError
from core.models import Role, User
from core.templating import form_step, render
from insurance.cover.models import PERIL_LABELS

router = APIRouter(include_in_schema=False)
QUEUE_SIZE = 50


# --- the work queues ----------------------------------------------------------------------------------------------


def _queues(session: Session, user: User, today: date) -> list[tuple[str, str, list[Claim], int]]:
    """(id, title, rows, count) per queue the user's role works from."""
    specs: list[tuple[str, str, dict[str, Any]]]
    if user.role == Role.insurer_handler:
        specs = [
            ("mine", "我经办的案件", {"mine": True}),
            ("due-soon", "3 日内到期", {"due": "soon"}),
            ("returned", "已退回补正", {"status": ClaimStatus.returned}),
        ]
    elif user.role == Role.insurer_supervisor:
        specs = [
            ("approvals", "待复核审批", {"status": ClaimStatus.awaiting_second_approval}),
            ("overdue", "已超期", {"due": "overdue"}),
            ("due-soon", "3 日内到期", {"due": "soon"}),
            ("all", "本公司全部案件", {}),
        ]
    else:
        title = "本县理赔案件" if user.role == Role.county_office else "全省理赔案件"
        specs = [("all", title, {})]
    queues = []
    for key, title, narrowing in specs:
        rows, count = queries.list_claims(session, user, today=today, limit=QUEUE_SIZE, **narrowing)
        queues.append((key, title, rows, count))
    return queues


def _review_sample(session: Session, user: User) -> tuple[list[Any], int] | None:
    """The supervisor's "复核抽样" queue: pending random and risk reviews of the insurer's claims, newest first."""
    if user.role != Role.insurer_supervisor or user.insurer_id is None:
        return None
    rows, count = review.list_sample(session, user, limit=QUEUE_SIZE)
    return [queries.review_public(r, c.claim_no) for r, c in rows], count


@router.get("/claims", response_class=HTMLResponse)
def claims_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    if user.role == Role.admin:
        raise ClaimForbiddenError("系统管理员不办理理赔案件", code=ClaimCode.forbidden)
    today = local_today()
    return render(
        request,
        "pages/claims.html",
        user,
        queues=_queues(session, user, today),
        review_sample=_review_sample(session, user),
        today=today,
        may_file=may_act(user),
    )


# --- filing -------------------------------------------------------------------------------------------------------


def _new_claim_form(
    request: Request,
    session: Session,
    user: User,
    *,
    q: str = "",
    household_no: str = "",
    typed: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The filing form in its two steps: find the household (`q`), then, once one is chosen (`household_no`), the
    claim itself with the household's members and insured objects to pick from."""
    found: tuple[list[claimants.HouseholdChoice], int] | None = None
    chosen: claimants.HouseholdChoices | None = None
    search_error: str | None = None
    try:
        if household_no.strip():
            chosen = claimants.household_choices(session, user, household_no)
        elif q.strip():
            found = claimants.search_households(session, user, q)
    except DomainError as exc:
        search_error, status = exc.message, max(status, exc.status_code)
    return render(
        request,
        "pages/claim_new.html",
        user,
        status_code=status,
        error=error,
        search_error=search_error,
        q=q,
        found=found,
        chosen=chosen,
        typed=typed or {},
        claim_types=CLAIM_TYPE_LABELS,
        perils=PERIL_LABELS,
        today=local_today(),
    )


@router.get("/claims/new", response_class=HTMLResponse)
def new_claim_page(
    request: Request, session: SessionDep, user: CurrentUser, q: str = "", household: str = ""
) -> HTMLResponse:
    queries.require_handler(user)
    return _new_claim_form(request, session, user, q=q, household_no=household)


def _chosen_id(typed: dict[str, str], key: str) -> int | None:
    """An id the form's select sent; a value that is not one is left to the service to refuse as not found."""
    text = typed.get(key, "").strip()
    return int(text) if text.isdigit() else (0 if text else None)


@router.post("/claims/new", response_class=HTMLResponse)
async def file_claim_form(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    typed = typed_form(await request.form())

    def refused(message: str, status: int) -> HTMLResponse:
        household_no = typed.get("household_no", "")
        return _new_claim_form(
            request, session, user, household_no=household_no, typed=typed, error=message, status=status
        )

    def run() -> Claim:
        try:
            claim_type = ClaimType(typed.get("claim_type", ""))
        except ValueError:
            raise ClaimInvalidError("请选择理赔类型", code=ClaimCode.invalid, field="claim_type") from None
        industry = claim_type in (ClaimType.livestock_loss, ClaimType.crop_loss)
        if not industry and not typed.get("member_id", "").strip() and not typed.get("id_number", "").strip():
            raise ClaimInvalidError("请先查找参保户，再选择被保险人", code=ClaimCode.invalid, field="member_id")
        data = ClaimCreate.model_validate(
            {
                "claim_type": claim_type,
                "member_id": None if industry else _chosen_id(typed, "member_id"),
                "insured_object_id": _chosen_id(typed, "insured_object_id") if industry else None,
                "id_number": typed.get("id_number", "").strip() or None,
                "claimant_name": typed.get("claimant_name", "").strip(),
                "claimant_relation": typed.get("claimant_relation", "").strip() or "本人",
                "claimant_phone": typed.get("claimant_phone", "").strip() or None,
                "incident_date": typed.get("incident_date", "").strip(),
                "incident_place": typed.get("incident_place", "").strip() or None,
                "peril": typed.get("peril", "").strip() or None,
                "facts": forms.facts_from_form(claim_type, typed),
                "settlement_no": typed.get("settlement_no", "").strip() or None,
                "invoice_nos": forms.tag_list(typed.get("invoice_nos", "")),
                "main_diagnosis": typed.get("main_diagnosis", "").strip() or None,
            }
        )
        return filing.file_claim(session, user, data, today=local_today())

    # In the thread pool: filing and the refused form wait on the database; the route is `async` to read the form.
    return await run_in_threadpool(form_step, run, refused, lambda claim: f"/claims/{claim.claim_no}")
