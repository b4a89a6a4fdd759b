"""The claim page with the forms of the steps the user may take now. Every form calls the same use case as the JSON
API (claims.documents, filing, assessing, workflow, review); a refusal comes back on the claim page, in Chinese,
inside the form that caused it, with what was typed kept."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from claims import assessing, documents, filing, forms, queries, review, workflow
from claims.errors import ClaimCode, ClaimInvalidError
from claims.reasons import REASON_LABELS, ReasonCode
from claims.schemas import (
    CallbackCreate,
    DecisionCreate,
    OverrideCreate,
    ReopenCreate,
    ReturnCreate,
    ReviewOutcomeCreate,
    SecondApprovalCreate,
    VersionedAction,
)
from claims.status import DECISION_LABELS
from core.auth import CurrentUser, SessionDep, SettingsDep, is_insurer
from core.db import local_today
from core.models import Role, User
from core.templating import form_step, render

router = APIRouter(include_in_schema=False)


def may_act(user: User) -> bool:
    """Insurers' staff act on claims; the county and province offices read them."""
    return is_insurer(user)


def typed_form(form: FormData) -> dict[str, str]:
    """A form's text fields (files left out), as typed: kept to fill the form again after a refusal."""
    return {k: v for k, v in form.items() if isinstance(v, str)}


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
    acts = may_act(user)
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
        may_act=acts,
        is_supervisor=acts and user.role == Role.insurer_supervisor,
        reasons=REASON_LABELS,
        decision_labels=DECISION_LABELS,
        rejection_reasons={c: t for c, t in REASON_LABELS.items() if c != ReasonCode.payable},
    )


@router.get("/claims/{claim_no}", response_class=HTMLResponse)
def claim_page(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    return _claim_page(request, session, user, claim_no)


async def _step(
    request: Request,
    session: Session,
    user: User,
    claim_no: str,
    form_name: str,
    typed: dict[str, str],
    run: Callable[[], object],
) -> Response:
    """Runs one use case; back to the claim page on success, or the page with the refusal inside the form. In the
    thread pool: the use case and the page wait on the database, the routes are `async` to read their forms."""

    def refused(message: str, status: int) -> HTMLResponse:
        return _claim_page(
            request, session, user, claim_no, error=message, failed_form=form_name, typed=typed, status=status
        )

    return await run_in_threadpool(form_step, run, refused, f"/claims/{claim_no}#{form_name}")


async def _versioned_step(
    request: Request,
    session: Session,
    user: User,
    claim_no: str,
    form_name: str,
    act: Callable[[VersionedAction], object],
) -> Response:
    """A step whose form sends only the version and a note (complete, resubmit, assess, withdraw)."""
    typed = typed_form(await request.form())
    return await _step(
        request, session, user, claim_no, form_name, typed, lambda: act(VersionedAction.model_validate(_version(typed)))
    )


def _version(typed: dict[str, str]) -> dict[str, Any]:
    return {"version": typed.get("version", ""), "note": typed.get("note", "").strip() or None}


@router.post("/claims/{claim_no}/documents", response_class=HTMLResponse)
async def upload_document_form(
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

    return await _step(request, session, user, claim_no, "upload-form", {"code": code}, run)


@router.post("/claims/{claim_no}/checks/{check_id}/override", response_class=HTMLResponse)
async def override_check_form(
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

    return await _step(request, session, user, claim_no, f"check-{check_id}", {"reason": reason}, run)


@router.post("/claims/{claim_no}/complete-documents", response_class=HTMLResponse)
async def complete_documents_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return await _versioned_step(
        request,
        session,
        user,
        claim_no,
        "complete-form",
        lambda data: workflow.complete_documents(session, user, claim_no, data, today=local_today()),
    )


@router.post("/claims/{claim_no}/return", response_class=HTMLResponse)
async def return_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    form = await request.form()
    typed = typed_form(form)

    def run() -> object:
        reasons = [r for r in form.getlist("reasons") if isinstance(r, str)]
        if not reasons:
            raise ClaimInvalidError("请至少选择一项退回原因", code=ClaimCode.reason_required, field="reasons")
        data = ReturnCreate.model_validate({**_version(typed), "reasons": reasons})
        return workflow.return_to_filer(session, user, claim_no, data)

    return await _step(request, session, user, claim_no, "return-form", typed, run)


@router.post("/claims/{claim_no}/resubmit", response_class=HTMLResponse)
async def resubmit_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return await _versioned_step(
        request, session, user, claim_no, "resubmit-form", lambda data: workflow.resubmit(session, user, claim_no, data)
    )


@router.post("/claims/{claim_no}/assess", response_class=HTMLResponse)
async def assess_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return await _versioned_step(
        request,
        session,
        user,
        claim_no,
        "assess-form",
        lambda data: assessing.assess_claim(session, user, claim_no, data.version),
    )


@router.post("/claims/{claim_no}/decision", response_class=HTMLResponse)
async def decision_form(
    claim_no: str, request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> Response:
    typed = typed_form(await request.form())

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

    return await _step(request, session, user, claim_no, "decision-form", typed, run)


@router.post("/claims/{claim_no}/second-approval", response_class=HTMLResponse)
async def second_approval_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    typed = typed_form(await request.form())

    def run() -> object:
        data = SecondApprovalCreate.model_validate({**_version(typed), "agree": typed.get("agree") == "1"})
        return workflow.second_approval(session, user, claim_no, data, today=local_today())

    return await _step(request, session, user, claim_no, "second-approval-form", typed, run)


@router.post("/claims/{claim_no}/withdraw", response_class=HTMLResponse)
async def withdraw_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return await _versioned_step(
        request, session, user, claim_no, "withdraw-form", lambda data: workflow.withdraw(session, user, claim_no, data)
    )


@router.post("/claims/{claim_no}/reopen", response_class=HTMLResponse)
async def reopen_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    typed = typed_form(await request.form())

    def run() -> object:
        data = ReopenCreate.model_validate({**_version(typed), "note": typed.get("note", "").strip()})
        return workflow.reopen(session, user, claim_no, data, today=local_today())

    return await _step(request, session, user, claim_no, "reopen-form", typed, run)


@router.post("/claims/{claim_no}/callbacks", response_class=HTMLResponse)
async def callback_form(claim_no: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    typed = typed_form(await request.form())

    def run() -> object:
        data = CallbackCreate.model_validate(
            {"reached": typed.get("reached") == "1", "household_said": typed.get("household_said", "").strip() or None}
        )
        return workflow.record_callback(session, user, claim_no, data)

    return await _step(request, session, user, claim_no, "callback-form", typed, run)


@router.post("/claims/{claim_no}/reviews/{review_id}", response_class=HTMLResponse)
async def review_form(
    claim_no: str, review_id: int, request: Request, session: SessionDep, user: CurrentUser
) -> Response:
    typed = typed_form(await request.form())

    def run() -> object:
        data = ReviewOutcomeCreate.model_validate(
            {"outcome": typed.get("outcome", ""), "note": typed.get("review_note", "").strip() or None}
        )
        return review.record_outcome(session, user, claim_no, review_id, data)

    return await _step(request, session, user, claim_no, f"review-form-{review_id}", typed, run)
