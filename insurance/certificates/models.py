"""Tables of the printed documents: the outbox of document requests, and certificate versions."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import enum_type, utcnow


class DocumentStatus(StrEnum):
    pending = "pending"
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class DocumentKind(StrEnum):
    household_certificate = "household_certificate"  # one household's certificate on one policy
    village_booklet = "village_booklet"  # a village's certificates, with a cover page and a sign-off sheet
    enrolment_notice = "enrolment_notice"  # the village's 承保公示, as posted


DOCUMENT_KIND_LABELS = {
    DocumentKind.household_certificate: "保险凭证",
    DocumentKind.village_booklet: "村保险凭证册",
    DocumentKind.enrolment_notice: "承保公示",
}

DOCUMENT_STATUS_LABELS = {
    DocumentStatus.pending: "待处理",
    DocumentStatus.queued: "排队中",
    DocumentStatus.running: "生成中",
    DocumentStatus.done: "已完成",
    DocumentStatus.failed: "失败",
}


class DocumentRequest(SQLModel, table=True):
    """Outbox: a document that must be (re)produced, written in the transaction of the change that calls for it.
    The row is the job's record: the worker claims it, and stores where the finished PDF lies; RQ only carries
    its id. A household's certificate requested with its village's booklet (parent_id) is printed in the booklet
    and not on its own."""

    __tablename__ = "document_request"
    __table_args__ = (
        Index("ix_document_request_pending", "status", "kind", "household_id"),
        Index("ix_document_request_village", "policy_id", "village_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, description="a DocumentKind")
    household_id: int | None = Field(default=None, foreign_key="household.id")
    policy_id: int | None = Field(default=None, foreign_key="policy.id")
    village_code: str | None = Field(default=None, max_length=12)
    parent_id: int | None = Field(default=None, foreign_key="document_request.id", index=True)
    reason: str = Field(max_length=64)
    status: DocumentStatus = Field(sa_type=enum_type(DocumentStatus), default=DocumentStatus.pending)
    attempts: int = 0
    worker: str | None = Field(default=None, max_length=120, description="the worker running it, for the sweeper")
    error: str | None = Field(default=None, max_length=1000)
    next_attempt_at: datetime | None = Field(default=None, description="a failed one is retried from then")
    document_key: str | None = Field(default=None, max_length=300, description="where the PDF lies in the store")
    pages: int | None = None
    size_bytes: int | None = None
    certificate_id: int | None = Field(default=None, description="certificate.id of the version it produced")
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    processed_at: datetime | None = None


class CertificateStatus(StrEnum):
    current = "current"
    superseded = "superseded"
    revoked = "revoked"


CERTIFICATE_STATUS_LABELS = {
    CertificateStatus.current: "有效",
    CertificateStatus.superseded: "已被新版本取代",
    CertificateStatus.revoked: "已作废",
}


class Certificate(SQLModel, table=True):
    """One version of a household's certificate on one policy. `statement` is exactly what the certificate states
    (the PDF is rendered from it alone, so rendering twice gives the same document) and `digest` its SHA-256; a
    new version is made only when the statement changes. `code` is the signed verification code in the QR;
    `short_code` the one printed for typing in."""

    __tablename__ = "certificate"
    __table_args__ = (
        UniqueConstraint("certificate_no", "version", name="uq_certificate_version"),
        Index("ix_certificate_policy_village", "policy_id", "village_code"),
        Index("ix_certificate_household", "household_id", "policy_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    certificate_no: str = Field(max_length=80)
    version: int
    policy_id: int = Field(foreign_key="policy.id")
    household_id: int = Field(foreign_key="household.id")
    village_code: str = Field(max_length=12)
    status: CertificateStatus = Field(sa_type=enum_type(CertificateStatus), default=CertificateStatus.current)
    statement: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    digest: str = Field(max_length=64)
    code: str = Field(max_length=400)
    short_code: str = Field(max_length=12, unique=True)
    issued_on: date
    document_key: str | None = Field(default=None, max_length=300, description="its own PDF, once printed alone")
    created_at: datetime = Field(default_factory=utcnow)
    superseded_at: datetime | None = None
