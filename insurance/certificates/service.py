"""Documents for the office: status per village, the list of requests, retries, and downloads."""

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import documents
from core.documents import DocumentRequest, DocumentStatus
from core.models import User
from insurance.certificates.errors import CertificateCode, CertificateConflictError, CertificateNotFoundError
from insurance.cover import notices, policies
from insurance.cover.models import (
    Policy,
)
from insurance.cover.outbox import DocumentKind

# --- status, retry and download for the office ----------------------------------------------------------------------


@dataclass
class VillageDocuments:
    village_code: str
    village_name: str = ""
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys([s.value for s in DocumentStatus], 0))
    booklet: DocumentRequest | None = None  # the latest
    notice: DocumentRequest | None = None  # the latest


def village_status(session: Session, policy: Policy) -> list[VillageDocuments]:
    """Per village: how many of its documents are pending, queued, running, failed and done, and its latest
    booklet and notice, for the documents page and its API."""
    requests = DocumentRequest.__table__
    rows = session.connection().execute(
        sa.select(requests.c.village_code, requests.c.status, sa.func.count())
        .where(requests.c.policy_id == policy.id)
        .group_by(requests.c.village_code, requests.c.status)
    )
    villages: dict[str, VillageDocuments] = {}
    for village_code, status, number in rows:
        code = village_code or ""
        villages.setdefault(code, VillageDocuments(code)).counts[status] += number
    printed = session.exec(
        select(DocumentRequest)
        .where(
            DocumentRequest.policy_id == policy.id,
            col(DocumentRequest.kind).in_([DocumentKind.village_booklet, DocumentKind.enrolment_notice]),
        )
        .order_by(col(DocumentRequest.id))
    ).all()
    for request in printed:  # in id order: the latest of each kind stays
        entry = villages[request.village_code or ""]
        if request.kind == DocumentKind.village_booklet:
            entry.booklet = request
        else:
            entry.notice = request
    names = notices.village_names(session, villages)
    for code, entry in villages.items():
        entry.village_name = names.get(code, "")
    return [villages[code] for code in sorted(villages)]


def list_requests(
    session: Session, policy: Policy, *, village_code: str | None = None, status: str | None = None, limit: int = 200
) -> list[DocumentRequest]:
    query = select(DocumentRequest).where(DocumentRequest.policy_id == policy.id)
    if village_code:
        query = query.where(DocumentRequest.village_code == village_code)
    if status:
        query = query.where(DocumentRequest.status == status)
    return list(session.exec(query.order_by(col(DocumentRequest.id).desc()).limit(limit)).all())


def retry_failed(session: Session, policy: Policy, *, village_code: str | None = None) -> int:
    """Failed documents of the policy (or one village) go back to pending with a fresh count of attempts."""
    requests = DocumentRequest.__table__
    condition = sa.and_(requests.c.policy_id == policy.id, requests.c.status == DocumentStatus.failed.value)
    if village_code:
        condition = sa.and_(condition, requests.c.village_code == village_code)
    result = session.connection().execute(
        requests.update()
        .where(condition)
        .values(status=DocumentStatus.pending.value, attempts=0, next_attempt_at=None),
        execution_options={"preserve_rowcount": True},
    )
    documents.send_after_commit(session, policy_id=policy.id)
    session.commit()
    return result.rowcount


def get_document(session: Session, user: User, request_id: int) -> tuple[DocumentRequest, Policy]:
    """A document within the caller's remit (its policy's insurer, county office, the province); 404 otherwise."""
    request = session.get(DocumentRequest, request_id)
    policy = policies.find_visible_policy(session, user, request.policy_id if request else None)
    if request is None or policy is None:
        raise CertificateNotFoundError("文档不存在", code=CertificateCode.document_not_found, field="document_id")
    return request, policy


def require_done(request: DocumentRequest) -> str:
    if request.status != DocumentStatus.done or not request.document_key:
        raise CertificateConflictError("文档尚未生成", code=CertificateCode.document_not_ready)
    return request.document_key
