"""Certificate versions: the table of what each household's certificate stated, version by version."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import enum_type, utcnow


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
