"""How the coverage kinds of document are printed: a household's certificate, a village's booklet, a village's
enrolment notice. Registered with the shared pipeline (core.documents) when this package is imported; cover only
asks for them by name (insurance.cover.outbox)."""

from datetime import date
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, select

from core import documents
from core.documents import DocumentKindSpec, DocumentRequest, DocumentStatus, Printable
from core.settings import Settings
from insurance.certificates.errors import CertificateCode, CertificateNotFoundError
from insurance.certificates.printing import booklet_html, certificate_html, notice_html, notice_statement, sign_notice
from insurance.certificates.statements import statements
from insurance.certificates.versions import CertificatePlan, plan_versions, save_plans
from insurance.cover import notices
from insurance.cover.models import EnrolmentNotice, Policy, PolicyStatus
from insurance.cover.outbox import DOCUMENT_KIND_LABELS, DocumentKind


def _policy_of(session: Session, request: DocumentRequest) -> Policy:
    policy = session.get(Policy, request.policy_id) if request.policy_id else None
    if policy is None:
        raise CertificateNotFoundError(f"文档请求 {request.id} 没有保单", code=CertificateCode.policy_not_found)
    return policy


def _in_force(policy: Policy) -> bool:
    return policy.status in (PolicyStatus.issued, PolicyStatus.cancelled) and policy.issued_at is not None


def _prepare_certificate(
    session: Session, settings: Settings, key: Ed25519PrivateKey, request: DocumentRequest, today: date
) -> Printable:
    policy = _policy_of(session, request)
    household_id = request.household_id or 0
    found = statements(session, policy, household_ids=[household_id]) if _in_force(policy) else {}
    plans = plan_versions(session, policy, found, [household_id], key=key, today=today)
    plan = plans[0]
    printable = Printable(request=request, outcome=plans)
    if plan.certificate is None:
        printable.note = "revoked" if plan.superseded else "no cover"
        return printable
    certificate = plan.certificate
    folder = f"certificates/{policy.policy_no}/{certificate.village_code}"
    printable.key = f"{folder}/{certificate.certificate_no}-v{certificate.version}.pdf"
    if plan.new or certificate.document_key is None:
        printable.html = certificate_html(settings, certificate)
    else:
        printable.note = "unchanged"
    return printable


def _prepare_booklet(
    session: Session, settings: Settings, key: Ed25519PrivateKey, request: DocumentRequest, today: date
) -> Printable:
    policy = _policy_of(session, request)
    village_code = request.village_code or ""
    found = statements(session, policy, village_code=village_code) if _in_force(policy) else {}
    household_ids = sorted(found, key=lambda h: found[h]["household_no"])
    plans = plan_versions(session, policy, found, household_ids, key=key, today=today)
    printable = Printable(request=request, outcome=plans)
    certificates = [p.certificate for p in plans if p.certificate is not None]
    if not certificates:
        printable.note = "no cover"
        return printable
    village = {
        "code": village_code,
        "address": next(iter(found.values()))["address"],
        "households": len(certificates),
        "members": sum(len(c.statement.get("members", [])) for c in certificates),
        "printed_on": today.isoformat(),
        "request_id": request.id,
    }
    printable.key = f"booklets/{policy.policy_no}/{village_code}-{request.id}.pdf"
    printable.html = booklet_html(settings, village, certificates)
    return printable


def _prepare_notice(
    session: Session, settings: Settings, key: Ed25519PrivateKey, request: DocumentRequest, _today: date
) -> Printable:
    policy = _policy_of(session, request)
    notice = session.exec(
        select(EnrolmentNotice).where(
            EnrolmentNotice.policy_id == policy.id, EnrolmentNotice.village_code == request.village_code
        )
    ).first()
    if notice is None:
        raise CertificateNotFoundError("公示不存在", code=CertificateCode.notice_not_found)
    statement = notice_statement(session, policy, notice, notices.notice_lines(session, policy, notice.village_code))
    code = sign_notice(key, statement)
    printable = Printable(request=request)
    printable.key = f"notices/{policy.policy_no}/{notice.village_code}-{notice.posted_on.isoformat()}.pdf"
    printable.html = notice_html(settings, statement, code)
    return printable


def _plans(printable: Printable) -> list[CertificatePlan]:
    return printable.outcome or []


def _finish_certificate(session: Session, printable: Printable) -> None:
    """New certificate versions and what they replace; a certificate printed alone keeps its PDF's key."""
    plans = _plans(printable)
    save_plans(session, plans)
    certificate = plans[0].certificate if plans else None
    if certificate is not None:
        if printable.html is not None:
            certificate.document_key = printable.key
            session.add(certificate)
        printable.request.certificate_id = certificate.id


def _finish_booklet(session: Session, printable: Printable) -> None:
    """The booklet's versions, and its households' requests done with it (they are printed in it)."""
    plans = _plans(printable)
    save_plans(session, plans)
    request = printable.request
    by_household = {p.household_id: p.certificate for p in plans if p.certificate is not None}
    children = session.exec(select(DocumentRequest).where(DocumentRequest.parent_id == request.id)).all()
    for child in children:
        certificate = by_household.get(child.household_id or 0)
        child.status = DocumentStatus.done
        child.processed_at = request.processed_at
        child.document_key = request.document_key
        child.certificate_id = certificate.id if certificate else None
        child.error = None if certificate else "no cover"
        session.add(child)


KINDS: dict[DocumentKind, Any] = {
    DocumentKind.household_certificate: (_prepare_certificate, _finish_certificate),
    DocumentKind.village_booklet: (_prepare_booklet, _finish_booklet),
    DocumentKind.enrolment_notice: (_prepare_notice, None),
}
for _kind, (_prepare, _finish) in KINDS.items():
    documents.register_kind(DocumentKindSpec(_kind.value, DOCUMENT_KIND_LABELS[_kind], _prepare, _finish))
