"""Every error of the documents, in one place (certificates, booklets, notices, their downloads): one family per
kind of failure, each a `core.errors` class so main.py maps it to HTTP once, and the stable codes clients and
pages rely on. The Chinese message is said where the error is raised and may change."""

from enum import StrEnum

from core.errors import Conflict, NotFound


class CertificateCode(StrEnum):
    document_not_found = "document_not_found"
    document_not_ready = "document_not_ready"
    notice_not_found = "notice_not_found"
    policy_not_found = "policy_not_found"


class CertificateNotFoundError(NotFound):
    """An object that does not exist or is outside the caller's remit (its existence is not revealed)."""

    codes = CertificateCode


class CertificateConflictError(Conflict):
    """The object's state does not allow the change (yet)."""

    codes = CertificateCode
