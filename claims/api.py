"""The claims JSON API: filing, documents, the checks, assessment, the decision and its second approval, the
workflow's other steps, call-backs and the work queues. Thin: each route calls one use case."""

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile

from claims import assessing, documents, filing, queries, workflow
from claims.deps import CurrentClaim
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
    SecondApprovalCreate,
    VersionedAction,
)
from claims.status import ClaimStatus
from core.auth import CurrentUser, SessionDep, SettingsDep
from core.db import local_today
from core.schemas import Page

router = APIRouter(prefix="/api/claims", tags=["claims"])


def _public(session: SessionDep, claim_no: str, user: CurrentUser) -> ClaimPublic:
    return queries.claim_public(session, queries.get_claim(session, user, claim_no), local_today())


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


@router.post("", response_model=ClaimPublic, status_code=201, summary="File a claim for a household")
def create_claim(data: ClaimCreate, session: SessionDep, user: CurrentUser) -> ClaimPublic:
    claim = filing.file_claim(session, user, data, today=local_today())
    return queries.claim_public(session, claim, local_today())


@router.get("/{claim_no}", response_model=ClaimPublic)
def read_claim(claim: CurrentClaim, session: SessionDep) -> ClaimPublic:
    return queries.claim_public(session, claim, local_today())


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
) -> DocumentPublic:
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
    return queries.document_public(document)


@router.get("/{claim_no}/documents", response_model=list[DocumentPublic])
def read_documents(claim_no: str, session: SessionDep, user: CurrentUser) -> list[DocumentPublic]:
    return [queries.document_public(d) for d in documents.list_documents(session, user, claim_no)]


@router.post("/{claim_no}/checks/{check_id}/override", response_model=CheckPublic, summary="Let a check pass")
def override_check(
    claim_no: str, check_id: int, data: OverrideCreate, session: SessionDep, user: CurrentUser
) -> CheckPublic:
    return CheckPublic.model_validate(filing.override_check(session, user, claim_no, check_id, data))


@router.post("/{claim_no}/complete-documents", response_model=ClaimPublic)
def complete_documents(claim_no: str, data: VersionedAction, session: SessionDep, user: CurrentUser) -> ClaimPublic:
    workflow.complete_documents(session, user, claim_no, data, today=local_today())
    return _public(session, claim_no, user)


@router.post("/{claim_no}/return", response_model=ClaimPublic, summary="Back to the filer with coded reasons")
def return_to_filer(claim_no: str, data: ReturnCreate, session: SessionDep, user: CurrentUser) -> ClaimPublic:
    workflow.return_to_filer(session, user, claim_no, data)
    return _public(session, claim_no, user)


@router.post("/{claim_no}/resubmit", response_model=ClaimPublic)
def resubmit(claim_no: str, data: VersionedAction, session: SessionDep, user: CurrentUser) -> ClaimPublic:
    workflow.resubmit(session, user, claim_no, data)
    return _public(session, claim_no, user)


@router.post("/{claim_no}/assess", response_model=ClaimPublic, summary="Compute the payable amount and why")
def assess_claim(claim_no: str, data: VersionedAction, session: SessionDep, user: CurrentUser) -> ClaimPublic:
    assessing.assess_claim(session, user, claim_no, data.version)
    return _public(session, claim_no, user)


@router.post("/{claim_no}/decision", response_model=ClaimPublic, summary="Approve, approve partly or reject")
def decide(
    claim_no: str, data: DecisionCreate, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> ClaimPublic:
    threshold = settings.claim_second_approval_yuan * 100
    workflow.decide(session, user, claim_no, data, threshold_fen=threshold, today=local_today())
    return _public(session, claim_no, user)


@router.post("/{claim_no}/second-approval", response_model=ClaimPublic, summary="Confirm or send back a decision")
def second_approval(claim_no: str, data: SecondApprovalCreate, session: SessionDep, user: CurrentUser) -> ClaimPublic:
    workflow.second_approval(session, user, claim_no, data, today=local_today())
    return _public(session, claim_no, user)


@router.post("/{claim_no}/withdraw", response_model=ClaimPublic)
def withdraw(claim_no: str, data: VersionedAction, session: SessionDep, user: CurrentUser) -> ClaimPublic:
    workflow.withdraw(session, user, claim_no, data)
    return _public(session, claim_no, user)


@router.post("/{claim_no}/reopen", response_model=ClaimPublic, summary="Reopen a decided claim, with a reason")
def reopen(claim_no: str, data: ReopenCreate, session: SessionDep, user: CurrentUser) -> ClaimPublic:
    workflow.reopen(session, user, claim_no, data, today=local_today())
    return _public(session, claim_no, user)


@router.post("/{claim_no}/callbacks", response_model=CallbackPublic, status_code=201)
def record_callback(claim_no: str, data: CallbackCreate, session: SessionDep, user: CurrentUser) -> CallbackPublic:
    return CallbackPublic.model_validate(workflow.record_callback(session, user, claim_no, data))


@router.get("/{claim_no}/callbacks", response_model=list[CallbackPublic])
def read_callbacks(claim: CurrentClaim, session: SessionDep) -> list[CallbackPublic]:
    return [CallbackPublic.model_validate(c) for c in queries.list_callbacks(session, claim)]
