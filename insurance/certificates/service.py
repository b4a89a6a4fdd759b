"""Documents for the office: status per village, the list of requests, retries, and downloads."""

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import documents, signing
from core.documents import DocumentRequest, DocumentStatus
from core.models import User
from core.storage import DocumentStore
from insurance.certificates import slicing
from insurance.certificates.errors import CertificateCode, CertificateConflictError, CertificateNotFoundError
from insurance.certificates.models import Certificate
from insurance.cover import notices, policies
from insurance.cover.models import (
    Policy,
)
from insurance.cover.outbox import DocumentKind
from insurance.register.models import Household, Member
from insurance.register.roster import HEAD_RELATION

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


@dataclass(frozen=True)
class RequestSubject:
    """Whom a document request is about, as the documents page names it: the household and its head, the village."""

    village_name: str = ""
    household_no: str = ""
    head: str = ""


def request_subjects(session: Session, requests: list[DocumentRequest]) -> dict[int, RequestSubject]:
    """The village's name and, for a household's certificate, the household number and its head's name (never an
    ID number) of each request, in two or three queries for a page of requests."""
    household_ids = {r.household_id for r in requests if r.household_id}
    households: dict[int, str] = {}
    heads: dict[int, str] = {}
    if household_ids:
        households = dict(
            session.exec(select(Household.id, Household.household_no).where(col(Household.id).in_(household_ids))).all()
        )
        heads = dict(
            session.exec(
                select(Member.household_id, Member.name).where(
                    col(Member.household_id).in_(household_ids), Member.relation == HEAD_RELATION
                )
            ).all()
        )
    villages = notices.village_names(session, {r.village_code for r in requests if r.village_code})
    return {
        r.id or 0: RequestSubject(
            village_name=villages.get(r.village_code or "", ""),
            household_no=households.get(r.household_id or 0, ""),
            head=heads.get(r.household_id or 0, ""),
        )
        for r in requests
    }


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


# --- a household's own PDF ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredPdf:
    """Where a document's PDF lies, and the certificate to cut out of it when it is a booklet (None: all of it)."""

    key: str
    filename: str
    anchor: str | None = None

    def read(self, store: DocumentStore) -> bytes:
        """The file, or only the household's pages of its village's booklet (see insurance.certificates.slicing)."""
        data = store.get(self.key)
        if self.anchor is None:
            return data
        try:
            return slicing.household_pages(data, self.anchor)
        except slicing.AnchorMissing:
            raise CertificateConflictError(
                "该凭证册印制较早，无法单独取出本户凭证，请重新打印本村凭证册", code=CertificateCode.document_not_ready
            ) from None


def _booklet_pages(certificate: Certificate, booklet_key: str) -> StoredPdf:
    return StoredPdf(
        booklet_key,
        f"{certificate.certificate_no}-v{certificate.version}.pdf",
        slicing.certificate_anchor(certificate.certificate_no),
    )


def document_pdf(session: Session, request: DocumentRequest) -> StoredPdf:
    """A finished document's PDF; a household's certificate printed in its village's booklet is that household's
    pages of the booklet, never the whole village's."""
    key = require_done(request)
    if request.kind == DocumentKind.household_certificate and request.parent_id is not None:
        certificate = session.get(Certificate, request.certificate_id) if request.certificate_id else None
        if certificate is None:
            raise CertificateConflictError("本户没有可打印的凭证", code=CertificateCode.document_not_ready)
        return _booklet_pages(certificate, key)
    return StoredPdf(key, key.rsplit("/", 1)[-1])


def get_certificate(session: Session, user: User, certificate_id: int) -> Certificate:
    """A certificate version within the caller's remit (its policy's insurer, county office, the province)."""
    certificate = session.get(Certificate, certificate_id)
    policy = policies.find_visible_policy(session, user, certificate.policy_id if certificate else None)
    if certificate is None or policy is None:
        raise CertificateNotFoundError("凭证不存在", code=CertificateCode.document_not_found, field="certificate_id")
    return certificate


def certificate_pdf(session: Session, certificate: Certificate) -> StoredPdf:
    """The version's own PDF when it was printed alone, else its pages of the latest booklet that printed it."""
    if certificate.document_key:
        return StoredPdf(certificate.document_key, certificate.document_key.rsplit("/", 1)[-1])
    booklet_key = session.exec(
        select(DocumentRequest.document_key)
        .where(
            DocumentRequest.certificate_id == certificate.id,
            DocumentRequest.kind == DocumentKind.household_certificate,
            DocumentRequest.status == DocumentStatus.done,
            col(DocumentRequest.document_key).is_not(None),
        )
        .order_by(col(DocumentRequest.id).desc())
    ).first()
    if booklet_key is None:
        raise CertificateConflictError("凭证尚未打印", code=CertificateCode.document_not_ready)
    return _booklet_pages(certificate, booklet_key)


@dataclass(frozen=True)
class HouseholdCertificate:
    certificate: Certificate
    policy_no: str
    printed: bool  # its PDF exists (alone or in a booklet), so the page links it

    @property
    def short_code(self) -> str:
        return signing.format_short_code(self.certificate.short_code)


def household_certificates(session: Session, user: User, household: Household) -> list[HouseholdCertificate]:
    """Every version of the household's certificates on the policies the user may see, newest policy and version
    first, with whether each was printed, for the household page (the household comes from the register's scoped
    lookup)."""
    rows = session.exec(
        policies.scope_policies(
            select(Certificate, Policy.policy_no)
            .join(Policy, col(Policy.id) == Certificate.policy_id)
            .where(Certificate.household_id == household.id),
            user,
        ).order_by(col(Policy.period_start).desc(), col(Certificate.policy_id), col(Certificate.version).desc())
    ).all()
    ids = [c.id for c, _ in rows]
    printed = set(
        session.exec(
            select(DocumentRequest.certificate_id).where(
                col(DocumentRequest.certificate_id).in_(ids),
                DocumentRequest.status == DocumentStatus.done,
                col(DocumentRequest.document_key).is_not(None),
            )
        ).all()
        if ids
        else []
    )
    return [
        HouseholdCertificate(c, policy_no, printed=bool(c.document_key) or c.id in printed) for c, policy_no in rows
    ]
