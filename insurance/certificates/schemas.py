"""What the documents API reads and writes: document requests per village, retries, verification."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# --- documents and verification ------------------------------------------------------------------------------------


class DocumentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    household_id: int | None
    village_code: str | None
    parent_id: int | None = Field(description="the booklet that prints this household's certificate")
    reason: str
    status: str
    attempts: int
    error: str | None
    pages: int | None
    size_bytes: int | None
    certificate_id: int | None
    created_at: datetime
    processed_at: datetime | None


class DocumentVillagePublic(BaseModel):
    village_code: str
    village_name: str
    counts: dict[str, int] = Field(description="documents per status: pending, queued, running, failed, done")
    booklet_id: int | None = Field(description="the latest booklet; its PDF at /api/documents/{id}/pdf")
    notice_id: int | None = Field(description="the latest printed enrolment notice")


class RetryRequest(BaseModel):
    village_code: str | None = Field(default=None, min_length=12, max_length=12, pattern=r"^\d{12}$")


class RetryPublic(BaseModel):
    retried: int


class VerificationPublic(BaseModel):
    """What anyone may see about a code: never a full name or ID number."""

    state: str = Field(
        description="genuine | not_started (genuine, cover begins on cover_from) | superseded | revoked | forged | "
        "not_found"
    )
    state_label: str
    kind: str
    certificate_no: str
    version: int | None
    latest_version: int | None
    issued_on: str
    holder: str
    household_no: str
    address: str
    insurer: str
    hotline: str
    product: str
    period: str
    members: list[dict[str, str]]
    covers: list[dict[str, Any]]
    objects: list[dict[str, Any]]
    posted_on: str
    objection_until: str
    households: int | None
    cover_from: str = Field(description="a certificate's first day of cover (YYYY-MM-DD)")
