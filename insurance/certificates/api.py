"""The documents' JSON API: status per village, retries, downloads, and the public verification of codes."""

from dataclasses import asdict
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import PlainTextResponse, Response

from core import verification as core_verification
from core.auth import CurrentUser, SessionDep, SettingsDep
from core.documents import DocumentStatus
from core.ratelimit import RateLimiter
from core.storage import get_store
from insurance.certificates import service as certificates_service
from insurance.certificates import verification
from insurance.certificates.schemas import (
    DocumentPublic,
    DocumentVillagePublic,
    RetryPublic,
    RetryRequest,
    VerificationPublic,
)
from insurance.cover.deps import CurrentPolicy

router = APIRouter(prefix="/api", tags=["documents"])


# --- documents: status per village, retry, download; public verification ----------------------------------------


@router.get(
    "/policies/{policy_no}/documents",
    response_model=list[DocumentVillagePublic],
    summary="Certificates, booklets and notices of the policy per village: pending, queued, running, failed, done",
)
def read_document_status(policy: CurrentPolicy, session: SessionDep) -> list[DocumentVillagePublic]:
    return [
        DocumentVillagePublic(
            village_code=v.village_code,
            village_name=v.village_name,
            counts=v.counts,
            booklet_id=v.booklet.id if v.booklet else None,
            notice_id=v.notice.id if v.notice else None,
        )
        for v in certificates_service.village_status(session, policy)
    ]


@router.get(
    "/policies/{policy_no}/documents/requests",
    response_model=list[DocumentPublic],
    summary="The policy's document requests, newest first, by village and status",
)
def read_document_requests(
    policy: CurrentPolicy,
    session: SessionDep,
    village_code: str | None = None,
    status: DocumentStatus | None = None,
) -> list[DocumentPublic]:
    rows = certificates_service.list_requests(session, policy, village_code=village_code, status=status)
    return [DocumentPublic.model_validate(r) for r in rows]


@router.post(
    "/policies/{policy_no}/documents/retry",
    response_model=RetryPublic,
    summary="Send failed documents again (all of the policy's, or one village's)",
)
def retry_documents(policy: CurrentPolicy, data: RetryRequest, session: SessionDep) -> RetryPublic:
    retried = certificates_service.retry_failed(session, policy, village_code=data.village_code)
    return RetryPublic(retried=retried)


def _pdf_response(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}"},
    )


@router.get(
    "/documents/{document_id}/pdf",
    summary="A finished PDF (a booklet, a notice, or one household's certificate: its own pages only)",
)
def download_document(document_id: int, session: SessionDep, user: CurrentUser, settings: SettingsDep) -> Response:
    document, _ = certificates_service.get_document(session, user, document_id)
    stored = certificates_service.document_pdf(session, document)
    return _pdf_response(stored.read(get_store(settings)), stored.filename)


@router.get("/certificates/{certificate_id}/pdf", summary="One household's certificate (one version) as a PDF")
def download_certificate(
    certificate_id: int, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> Response:
    certificate = certificates_service.get_certificate(session, user, certificate_id)
    stored = certificates_service.certificate_pdf(session, certificate)
    return _pdf_response(stored.read(get_store(settings)), stored.filename)


def get_verify_limiter(request: Request, settings: SettingsDep) -> RateLimiter:
    """One limiter per app, created on first use and kept with the app (it holds a Redis client)."""
    limiter = getattr(request.app.state, "verify_limiter", None)
    if limiter is None:
        limiter = RateLimiter(settings.redis_url, "verify", settings.verify_per_minute)
        request.app.state.verify_limiter = limiter
    return limiter


VerifyLimiterDep = Annotated[RateLimiter, Depends(get_verify_limiter)]


@router.get(
    "/verify",
    response_model=VerificationPublic,
    summary="Public: check a certificate's QR code or short code (no login; rate limited per client)",
)
def verify_code(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: VerifyLimiterDep,
    code: Annotated[str, Query(min_length=1, max_length=600, description="the QR's text or URL, or the short code")],
) -> VerificationPublic:
    limiter.check(request)
    result = verification.verify(session, settings, code)
    return VerificationPublic(**asdict(result), state_label=core_verification.STATE_LABELS[result.state])


@router.get(
    "/verify/public-key",
    response_class=PlainTextResponse,
    summary="Public: the Ed25519 key (PEM) that verifies codes offline (docs/verification.md)",
)
def verify_public_key(settings: SettingsDep) -> str:
    return core_verification.public_key_pem(settings)
