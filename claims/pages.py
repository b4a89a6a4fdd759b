"""The claims pages: the work queues, the filing form and the claim page with the forms of the steps the user may
take now. Every route calls the same use case as the JSON API (claims.filing, documents, assessing, workflow); a
refusal comes back on the same page, in Chinese, inside the form that caused it, with what was typed kept."""

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from claims import assessing, claimants, documents, filing, forms, queries, review, settlement_uploads, workflow
from claims.api import settlement_import_public, submit_settlement_upload
from claims.errors import ClaimCode, ClaimForbiddenError, ClaimInvalidError, ClaimNotFoundError
from claims.models import Claim
from claims.reasons import REASON_LABELS, ReasonCode
from claims.schemas import (
    CallbackCreate,
    ClaimCreate,
    DecisionCreate,
    OverrideCreate,
    ReopenCreate,
    ReturnCreate,
    ReviewOutcomeCreate,
    SecondApprovalCreate,
    VersionedAction,
)
from claims.status import CLAIM_TYPE_LABELS, DECISION_LABELS, ClaimStatus, ClaimType
from core import validation
from core.auth import CurrentUser, QueueDep, SessionDep, SettingsDep, is_insurer
from core.db import local_today
from core.errors import DomainError
from core.models import Role, User
from core.templating import render
from insurance.cover.models import PERIL_LABELS

router = APIRouter(include_in_schema=False)
QUEUE_SIZE = 50


def _may_act(user: User) -> bool:
    """Insurers' staff act on claims; the county and province offices read them."""
    return is_insurer(user)


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
        may_file=_may_act(user),
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


def _typed(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _chosen_id(typed: dict[str, str], key: str) -> int | None:
    """An id the form's select sent; a value that is not one is left to the service to refuse as not found."""
    text = typed.get(key, "").strip()
    return int(text) if text.isdigit() else (0 if text else None)


@router.post("/claims/new", response_class=HTMLResponse)
async def file_claim_form(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    typed = _typed(await request.form())

    def refused(message: str, status: int) -> HTMLResponse:
        household_no = typed.get("household_no", "")
        return _new_claim_form(
            request, session, user, household_no=household_no, typed=typed, error=message, status=status
        )

    try:
        claim_type = ClaimType(typed.get("claim_type", ""))
    except ValueError:
        return refused("请选择理赔类型", 422)
    industry = claim_type in (ClaimType.livestock_loss, ClaimType.crop_loss)
    if not industry and not typed.get("member_id", "").strip() and not typed.get("id_number", "").strip():
        return refused("请先查找参保户，再选择被保险人", 422)
    try:
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
        claim = filing.file_claim(session, user, data, today=local_today())
    except DomainError as exc:
        return refused(exc.message, exc.status_code)
    except ValidationError as exc:
        return refused(str(validation.describe(exc.errors())["message"]), 422)
    return RedirectResponse(f"/claims/{claim.claim_no}", status_code=303)


# --- the claim page -----------------------------------------------------------------------------------------------


def _claim_page(
    request: Request,
    session: Session,
    user: User,
    claim_no: str,
    *,
    error: str | None = None,
    failed_form: str | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """`failed_form` names the form whose refusal `error` is, so the page shows it there, with `typed` kept."""
    claim = queries.get_claim(session, user, claim_no)
    may_act = _may_act(user)
    return render(
        request,
        "pages/claim.html",
        user,
        status_code=status,
        error=error,
        failed_form=failed_form,
        typed=typed or {},
        claim=queries.claim_public(session, claim, local_today()),
        events=queries.list_events(session, claim),
        documents=[queries.document_public(d) for d in queries.live_documents(session, claim.id or 0)],
        callbacks=queries.list_callbacks(session, claim),
        reviews=[queries.review_public(r, claim.claim_no) for r in review.list_claim_reviews(session, claim)],
        may_act=may_act,
        is_supervisor=may_act and user.role == Role.insurer_supervisor,
        reasons=REASON_LABELS,
        decision_labels=DECISION_LABELS,
        rejection_reasons={c: t for c, t in REASON_LABELS.items() if c != ReasonCode.payable},
    )


@router.get("/claims/{claim_no}", response_class=HTMLResponse)
def claim_page(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    return _claim_page(request, session, user, claim_no)


def _step(
    request: Request,
    session: Session,
    user: User,
    claim_no: str,
    form_name: str,
    typed: dict[str, str],
    run: Callable[[], object],
) -> Response:
    """Runs one use case; back to the claim page on success, or the page with the refusal inside the form."""
    try:
        run()
    except DomainError as exc:
        return _claim_page(
            request,
            session,
            user,
            claim_no,
            error=exc.message,
            failed_form=form_name,
            typed=typed,
            status=exc.status_code,
        )
    except ValidationError as exc:
        message = str(validation.describe(exc.errors())["message"])
        return _claim_page(
            request, session, user, claim_no, error=message, failed_form=form_name, typed=typed, status=422
        )
    return RedirectResponse(f"/claims/{claim_no}#{form_name}", status_code=303)


def _version(typed: dict[str, str]) -> dict[str, Any]:
    return {"version": typed.get("version", ""), "note": typed.get("note", "").strip() or None}


@router.post("/claims/{claim_no}/documents", response_class=HTMLResponse)
def upload_document_form(
    claim_no: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    code: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    def run() -> object:
        if file is None or not file.filename:
            raise ClaimInvalidError("请选择要上传的文件", code=ClaimCode.upload_empty, field="file")
        return documents.upload_document(
            session,
            settings,
            user,
            claim_no,
            code=code,
            stream=file.file,
            filename=file.filename,
            declared_type=file.content_type,
        )

    return _step(request, session, user, claim_no, "upload-form", {"code": code}, run)


@router.post("/claims/{claim_no}/checks/{check_id}/override", response_class=HTMLResponse)
def override_check_form(
    claim_no: str,
    check_id: int,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    reason: Annotated[str, Form()] = "",
) -> Response:
    def run() -> object:
        data = OverrideCreate.model_validate({"reason": reason.strip()})
        return filing.override_check(session, user, claim_no, check_id, data)

    return _step(request, session, user, claim_no, f"check-{check_id}", {"reason": reason}, run)


@router.post("/claims/{claim_no}/complete-documents", response_class=HTMLResponse)
async def complete_documents_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    typed = _typed(await request.form())

    def run() -> object:
        data = VersionedAction.model_validate(_version(typed))
        return workflow.complete_documents(session, user, claim_no, data, today=local_today())

    return _step(request, session, user, claim_no, "complete-form", typed, run)


@router.post("/claims/{claim_no}/return", response_class=HTMLResponse)
async def return_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    form = await request.form()
    typed = _typed(form)

    def run() -> object:
        reasons = [r for r in form.getlist("reasons") if isinstance(r, str)]
        if not reasons:
            raise ClaimInvalidError("请至少选择一项退回原因", code=ClaimCode.reason_required, field="reasons")
        data = ReturnCreate.model_validate({**_version(typed), "reasons": reasons})
        return workflow.return_to_filer(session, user, claim_no, data)

    return _step(request, session, user, claim_no, "return-form", typed, run)


@router.post("/claims/{claim_no}/resubmit", response_class=HTMLResponse)
async def resubmit_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    typed = _typed(await request.form())

    def run() -> object:
        return workflow.resubmit(session, user, claim_no, VersionedAction.model_validate(_version(typed)))

    return _step(request, session, user, claim_no, "resubmit-form", typed, run)


@router.post("/claims/{claim_no}/assess", response_class=HTMLResponse)
async def assess_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    typed = _typed(await request.form())

    def run() -> object:
        data = VersionedAction.model_validate(_version(typed))
        return assessing.assess_claim(session, user, claim_no, data.version)

    return _step(request, session, user, claim_no, "assess-form", typed, run)


@router.post("/claims/{claim_no}/decision", response_class=HTMLResponse)
async def decision_form(
    claim_no: str, request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> Response:
    typed = _typed(await request.form())

    def run() -> object:
        amount = forms.yuan_to_fen(typed.get("amount_yuan", ""), "amount_fen")
        data = DecisionCreate.model_validate(
            {
                **_version(typed),
                "decision": typed.get("decision", ""),
                "amount_fen": amount,
                "reason": typed.get("reason", "").strip() or None,
            }
        )
        threshold = settings.claim_second_approval_yuan * 100
        sampling = review.policy_from(settings)
        return workflow.decide(
            session, user, claim_no, data, threshold_fen=threshold, today=local_today(), sampling=sampling
        )

    return _step(request, session, user, claim_no, "decision-form", typed, run)


@router.post("/claims/{claim_no}/second-approval", response_class=HTMLResponse)
async def second_approval_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    typed = _typed(await request.form())

    def run() -> object:
        data = SecondApprovalCreate.model_validate({**_version(typed), "agree": typed.get("agree") == "1"})
        return workflow.second_approval(session, user, claim_no, data, today=local_today())

    return _step(request, session, user, claim_no, "second-approval-form", typed, run)


@router.post("/claims/{claim_no}/withdraw", response_class=HTMLResponse)
async def withdraw_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    typed = _typed(await request.form())

    def run() -> object:
        return workflow.withdraw(session, user, claim_no, VersionedAction.model_validate(_version(typed)))

    return _step(request, session, user, claim_no, "withdraw-form", typed, run)


@router.post("/claims/{claim_no}/reopen", response_class=HTMLResponse)
async def reopen_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    typed = _typed(await request.form())

    def run() -> object:
        data = ReopenCreate.model_validate({**_version(typed), "note": typed.get("note", "").strip()})
        return workflow.reopen(session, user, claim_no, data, today=local_today())

    return _step(request, session, user, claim_no, "reopen-form", typed, run)


@router.post("/claims/{claim_no}/callbacks", response_class=HTMLResponse)
async def callback_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    typed = _typed(await request.form())

    def run() -> object:
        data = CallbackCreate.model_validate(
            {"reached": typed.get("reached") == "1", "household_said": typed.get("household_said", "").strip() or None}
        )
        return workflow.record_callback(session, user, claim_no, data)

    return _step(request, session, user, claim_no, "callback-form", typed, run)


@router.post("/claims/{claim_no}/reviews/{review_id}", response_class=HTMLResponse)
async def review_form(
    claim_no: str, review_id: int, request: Request, session: SessionDep, user: CurrentUser
) -> Response:
    typed = _typed(await request.form())

    def run() -> object:
        data = ReviewOutcomeCreate.model_validate(
            {"outcome": typed.get("outcome", ""), "note": typed.get("review_note", "").strip() or None}
        )
        return review.record_outcome(session, user, claim_no, review_id, data)

    return _step(request, session, user, claim_no, f"review-form-{review_id}", typed, run)


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
