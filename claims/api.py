"""The claims JSON API: filing, documents, the checks, assessment, the decision and its second approval, the
workflow's other steps, call-backs and the work queues. Thin: each route calls one use case."""

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel
from sqlmodel import Session
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response, StreamingResponse

from claims import assessing, documents, filing, queries, review, settlement_uploads, workflow
from claims.deps import CurrentClaim
from claims.errors import ClaimCode, ClaimNotFoundError
from claims.models import Claim, ReviewOutcome, SettlementImport
from claims.schemas import (
    CallbackCreate,
    CallbackPublic,
    CheckPublic,
    ClaimCreate,
    ClaimPublic,
    ClaimSummary,
    DecisionCreate,
    DocumentPublic,
    EventPublic,
    OverrideCreate,
    ReopenCreate,
    ReturnCreate,
    ReviewOutcomeCreate,
    ReviewPublic,
    SecondApprovalCreate,
    SettlementImportPublic,
    SettlementIssuePublic,
    VersionedAction,
)
from claims.settlement_import import PROGRESS_KEY
from claims.settlement_report import iter_report_csv, stored_rows, write_report_xlsx
from claims.status import ClaimStatus
from core.auth import CurrentUser, EngineDep, QueueDep, SessionDep, SettingsDep
from core.db import local_today, read_without_transaction
from core.models import User
from core.queue import JobQueue
from core.schemas import Page

router = APIRouter(prefix="/api/claims", tags=["claims"])


def _json(model: BaseModel, status_code: int = 200) -> Response:
    """A step's answer serialized here, in the route's thread, as FastAPI would (the decorator's response_model
    still documents it): for a plain `def` route FastAPI validates and serializes the return value in one more hop
    to the thread pool, a cost on every request of the claims' busiest routes."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def _public(session: SessionDep, claim: Claim) -> Response:
    """The answer of a step: the claim its use case returns is current after the commit (the session keeps it).
    What the use case did not read already (documents, checks) is read outside any transaction, and the session is
    closed here, in the route's thread, once the answer is built."""
    read_without_transaction(session)
    answer = _json(queries.claim_public(session, claim, local_today()))
    session.close()
    return answer


@router.get("", response_model=Page[ClaimSummary], summary="Claims within the caller's remit: the work queues")
def read_claims(
    session: SessionDep,
    user: CurrentUser,
    status: ClaimStatus | None = None,
    mine: bool = False,
    due: Literal["overdue", "soon"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ClaimSummary]:
    rows, count = queries.list_claims(
        session, user, today=local_today(), status=status, mine=mine, due=due, limit=limit, offset=offset
    )
    return Page(data=[queries.claim_summary(c) for c in rows], count=count)


@router.get("/reviews", response_model=Page[ReviewPublic], summary="The review sample of the supervisor's insurer")
def read_review_sample(
    session: SessionDep,
    user: CurrentUser,
    outcome: ReviewOutcome | None = ReviewOutcome.pending,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ReviewPublic]:
    rows, count = review.list_sample(session, user, outcome=outcome, limit=limit, offset=offset)
    return Page(data=[queries.review_public(r, c.claim_no) for r, c in rows], count=count)


@router.post("", response_model=ClaimPublic, status_code=201, summary="File a claim for a household")
def create_claim(data: ClaimCreate, session: SessionDep, user: CurrentUser) -> Response:
    claim = filing.file_claim(session, user, data, today=local_today())
    return _json(queries.claim_public(session, claim, local_today(), present=()), 201)  # no documents yet


@router.get("/{claim_no}", response_model=ClaimPublic)
def read_claim(claim: CurrentClaim, session: SessionDep) -> Response:
    return _json(queries.claim_public(session, claim, local_today()))


@router.get("/{claim_no}/events", response_model=list[EventPublic], summary="The claim's history, from -> to")
def read_events(claim: CurrentClaim, session: SessionDep) -> list[EventPublic]:
    return [EventPublic.model_validate(e) for e in queries.list_events(session, claim)]


@router.post("/{claim_no}/documents", response_model=DocumentPublic, status_code=201)
def upload_document(
    claim_no: str,
    code: Annotated[str, Form(max_length=40)],
    file: Annotated[UploadFile, File(description="PDF, JPEG or PNG")],
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
) -> Response:
    document = documents.upload_document(
        session,
        settings,
        user,
        claim_no,
        code=code,
        stream=file.file,
        filename=file.filename,
        declared_type=file.content_type,
    )
    return _json(queries.document_public(document), 201)


@router.get("/{claim_no}/documents", response_model=list[DocumentPublic])
def read_documents(claim_no: str, session: SessionDep, user: CurrentUser) -> list[DocumentPublic]:
    return [queries.document_public(d) for d in documents.list_documents(session, user, claim_no)]


@router.post("/{claim_no}/checks/{check_id}/override", response_model=CheckPublic, summary="Let a check pass")
def override_check(
    claim_no: str, check_id: int, data: OverrideCreate, session: SessionDep, user: CurrentUser
) -> CheckPublic:
    return CheckPublic.model_validate(filing.override_check(session, user, claim_no, check_id, data))


@router.post("/{claim_no}/complete-documents", response_model=ClaimPublic)
def complete_documents(claim_no: str, data: VersionedAction, session: SessionDep, user: CurrentUser) -> Response:
    claim = workflow.complete_documents(session, user, claim_no, data, today=local_today())
    return _public(session, claim)


@router.post("/{claim_no}/return", response_model=ClaimPublic, summary="Back to the filer with coded reasons")
def return_to_filer(claim_no: str, data: ReturnCreate, session: SessionDep, user: CurrentUser) -> Response:
    claim = workflow.return_to_filer(session, user, claim_no, data)
    return _public(session, claim)


@router.post("/{claim_no}/resubmit", response_model=ClaimPublic)
def resubmit(claim_no: str, data: VersionedAction, session: SessionDep, user: CurrentUser) -> Response:
    claim = workflow.resubmit(session, user, claim_no, data)
    return _public(session, claim)


@router.post("/{claim_no}/assess", response_model=ClaimPublic, summary="Compute the payable amount and why")
def assess_claim(claim_no: str, data: VersionedAction, session: SessionDep, user: CurrentUser) -> Response:
    claim = assessing.assess_claim(session, user, claim_no, data.version)
    return _public(session, claim)


@router.post("/{claim_no}/decision", response_model=ClaimPublic, summary="Approve, approve partly or reject")
def decide(
    claim_no: str, data: DecisionCreate, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> Response:
    threshold = settings.claim_second_approval_yuan * 100
    sampling = review.policy_from(settings)
    claim = workflow.decide(
        session, user, claim_no, data, threshold_fen=threshold, today=local_today(), sampling=sampling
    )
    return _public(session, claim)


@router.post("/{claim_no}/second-approval", response_model=ClaimPublic, summary="Confirm or send back a decision")
def second_approval(claim_no: str, data: SecondApprovalCreate, session: SessionDep, user: CurrentUser) -> Response:
    claim = workflow.second_approval(session, user, claim_no, data, today=local_today())
    return _public(session, claim)


@router.post("/{claim_no}/withdraw", response_model=ClaimPublic)
def withdraw(claim_no: str, data: VersionedAction, session: SessionDep, user: CurrentUser) -> Response:
    claim = workflow.withdraw(session, user, claim_no, data)
    return _public(session, claim)


@router.post("/{claim_no}/reopen", response_model=ClaimPublic, summary="Reopen a decided claim, with a reason")
def reopen(claim_no: str, data: ReopenCreate, session: SessionDep, user: CurrentUser) -> Response:
    claim = workflow.reopen(session, user, claim_no, data, today=local_today())
    return _public(session, claim)


@router.get("/{claim_no}/reviews", response_model=list[ReviewPublic], summary="The claim's reviews")
def read_reviews(claim: CurrentClaim, session: SessionDep) -> list[ReviewPublic]:
    return [queries.review_public(r, claim.claim_no) for r in review.list_claim_reviews(session, claim)]


@router.post(
    "/{claim_no}/reviews/{review_id}", response_model=ReviewPublic, summary="Record a sampled review's outcome"
)
def record_review(
    claim_no: str, review_id: int, data: ReviewOutcomeCreate, session: SessionDep, user: CurrentUser
) -> ReviewPublic:
    return queries.review_public(review.record_outcome(session, user, claim_no, review_id, data), claim_no)


@router.post("/{claim_no}/callbacks", response_model=CallbackPublic, status_code=201)
def record_callback(claim_no: str, data: CallbackCreate, session: SessionDep, user: CurrentUser) -> CallbackPublic:
    return CallbackPublic.model_validate(workflow.record_callback(session, user, claim_no, data))


@router.get("/{claim_no}/callbacks", response_model=list[CallbackPublic])
def read_callbacks(claim: CurrentClaim, session: SessionDep) -> list[CallbackPublic]:
    return [CallbackPublic.model_validate(c) for c in queries.list_callbacks(session, claim)]


# --- settlement-sheet imports ---------------------------------------------------------------------------------

settlement_router = APIRouter(prefix="/api/settlement-imports", tags=["claims"])


def get_current_import(import_id: int, session: SessionDep, user: CurrentUser) -> SettlementImport:
    """The import of the path, if it is of the user's company; anyone else gets 404."""
    return settlement_uploads.get_settlement_import(session, user, import_id)


CurrentSettlementImport = Annotated[SettlementImport, Depends(get_current_import)]


def settlement_import_public(queue: JobQueue, row: SettlementImport) -> SettlementImportPublic:
    public = SettlementImportPublic.model_validate(row)
    if row.status in ("queued", "running"):
        public.progress = queue.progress(PROGRESS_KEY.format(row.id))
    return public


@settlement_router.post(
    "",
    response_model=SettlementImportPublic,
    status_code=202,
    summary="Upload a one-stop settlement sheet (CSV or XLSX); a worker files its rows as claims",
)
def create_settlement_import(
    session: SessionDep,
    user: CurrentUser,
    queue: QueueDep,
    file: Annotated[UploadFile, File(description="the settlement sheet")],
) -> SettlementImportPublic:
    return settlement_import_public(queue, submit_settlement_upload(session, user, queue, file))


def submit_settlement_upload(session: Session, user: User, queue: JobQueue, file: UploadFile) -> SettlementImport:
    """The upload recorded (committed), then its job sent; the API and the page both upload through here."""
    settings = queue.settings
    record = settlement_uploads.start_settlement_upload(
        session,
        user,
        upload=file.file,
        filename=file.filename or "",
        var_dir=settings.var_dir,
        max_bytes=settings.max_upload_mb << 20,
    )
    import_id = record.id or 0
    queue.try_enqueue(
        settlement_uploads.IMPORT_JOB,
        import_id,
        job_id=settlement_uploads.import_job_id(import_id),
        timeout=settlement_uploads.IMPORT_TIMEOUT,
    )
    return record


@settlement_router.get("", response_model=Page[SettlementImportPublic], summary="The imports of the caller's company")
def read_settlement_imports(
    session: SessionDep,
    user: CurrentUser,
    queue: QueueDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[SettlementImportPublic]:
    rows, count = settlement_uploads.list_settlement_imports(session, user, limit=limit, offset=offset)
    return Page(data=[settlement_import_public(queue, r) for r in rows], count=count)


@settlement_router.get("/{import_id}", response_model=SettlementImportPublic)
def read_settlement_import(record: CurrentSettlementImport, queue: QueueDep) -> SettlementImportPublic:
    return settlement_import_public(queue, record)


@settlement_router.get("/{import_id}/issues", response_model=Page[SettlementIssuePublic])
def read_settlement_issues(
    record: CurrentSettlementImport,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[SettlementIssuePublic]:
    rows, count = settlement_uploads.list_settlement_issues(session, record.id or 0, limit=limit, offset=offset)
    return Page(data=[SettlementIssuePublic.model_validate(r) for r in rows], count=count)


@settlement_router.get("/{import_id}/report.{fmt}", summary="The refused rows and the claims created, as CSV or XLSX")
def download_settlement_report(record: CurrentSettlementImport, fmt: str, engine: EngineDep) -> Response:
    import_id = record.id or 0
    stem = f"结算单导入报告-{import_id}-{record.filename.rsplit('.', 1)[0]}"
    if fmt == "csv":

        def chunks() -> Iterator[bytes]:
            with Session(engine) as session:
                for chunk in iter_report_csv(stored_rows(session, import_id)):
                    yield chunk.encode("utf-8")

        return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers=_attachment(f"{stem}.csv"))
    if fmt == "xlsx":
        with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as handle:
            path = Path(handle.name)
        with Session(engine) as session:
            write_report_xlsx(path, stored_rows(session, import_id))
        return FileResponse(
            path,
            headers=_attachment(f"{stem}.xlsx"),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            background=BackgroundTask(path.unlink, missing_ok=True),
        )
    raise ClaimNotFoundError("报告格式只能是 csv 或 xlsx", code=ClaimCode.import_not_found, field="fmt")


def _attachment(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="report.{filename.rsplit(".", 1)[-1]}"; '
        f"filename*=UTF-8''{quote(filename)}"
    }
