"""Tables of claims: the claim and its documents, history, checks, reviews and call-backs; the numbering counters;
the one-stop settlement imports; and the payments the next issue fills in.

Who did what is kept as a pair, the readable actor (`filed_by`, the username or `system:cli`) and the user's id
(`filed_by_user_id`): the id is what the service compares when it refuses the same person as filer, assessor and
second approver; the name is what the history shows, and stays when a user is renamed or the actor is the system.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer
from sqlmodel import Field, SQLModel

from claims.status import ClaimStatus, ClaimType, Decision
from core.db import enum_type, utcnow
from insurance.register.models import ImportStatus

CLAIM_NO_PREFIX = "LP"  # 理赔


def claim_no_for(year: int, county_code: str, sequence: int) -> str:
    """`LP` + the year + the 6-digit county + a 6-digit sequence per county and year (`LP2026433124000017`):
    readable on the phone, sortable, and unique because the sequence comes from `claim_counter`."""
    return f"{CLAIM_NO_PREFIX}{year:04d}{county_code}{sequence:06d}"


# The claim's optimistic-concurrency column. SQLAlchemy's version counter: every UPDATE of a claim through the ORM
# says `WHERE id = ? AND version = <the version loaded>` and sets version + 1, and raises StaleDataError when no row
# matched (another transaction got there first); the service answers that with 409. A client's own stale version
# (read on a page, sent back with the form) is compared with the loaded one by the service before it changes
# anything.
_claim_version = Column("version", Integer, nullable=False)


class Claim(SQLModel, table=True):
    """One claim: what is claimed for (a member, a household or an insured object, under one benefit of one
    policy), its facts, the assessment with its explanation, the decision and the statutory due dates the work
    queues sort by. Scoped by `insurer_id` (an insurer sees only its own) and `county_code` (a county office its
    county), both copied from the policy at filing so every list is one index range."""

    __tablename__ = "claim"
    __table_args__ = (
        Index("ix_claim_insurer_status", "insurer_id", "status"),
        Index("ix_claim_county_status", "county_code", "status"),
        Index("ix_claim_insurer_decision_due", "insurer_id", "decision_due_on"),
        Index("ix_claim_insurer_refusal_due", "insurer_id", "refusal_notice_due_on"),
        Index("ix_claim_insurer_payment_due", "insurer_id", "payment_due_on"),
        Index("ix_claim_filer_status", "filed_by_user_id", "status"),
        Index("ix_claim_member_peril_date", "member_id", "peril", "incident_date"),
        Index("ix_claim_member_benefit", "member_id", "benefit_code"),
        Index("ix_claim_household_benefit", "household_id", "benefit_code"),
    )
    __mapper_args__ = {"version_id_col": _claim_version}

    id: int | None = Field(default=None, primary_key=True)
    claim_no: str = Field(max_length=24, unique=True, description="LP + year + county + sequence")
    claim_type: ClaimType = Field(sa_type=enum_type(ClaimType))
    status: ClaimStatus = Field(sa_type=enum_type(ClaimStatus), default=ClaimStatus.filed)
    version: int = Field(default=1, sa_column=_claim_version)
    insurer_id: int = Field(foreign_key="insurer.id")
    county_code: str = Field(max_length=6, description="the policy's county")
    policy_id: int = Field(foreign_key="policy.id", index=True)
    benefit_code: str = Field(max_length=32, description="product_benefit.code of the policy's product version")
    member_id: int | None = Field(default=None, foreign_key="member.id", description="a person's claim")
    household_id: int = Field(foreign_key="household.id", description="the member's household, or the claimant")
    insured_object_id: int | None = Field(
        default=None, foreign_key="insured_object.id", index=True, description="livestock or crops"
    )
    claimant_name: str = Field(max_length=50)
    claimant_relation: str = Field(max_length=20, description="本人, 配偶, 子女 ... as the claimant says it")
    claimant_phone: str | None = Field(default=None, max_length=20)
    incident_date: date
    incident_place: str | None = Field(default=None, max_length=200)
    peril: str = Field(max_length=32, description="a peril code of the benefit (insurance PERIL_LABELS)")
    reported_on: date = Field(description="when the claim was reported (Art. 21, 26)")
    documents_complete_on: date | None = Field(default=None, description="the Art. 23 clock runs from here")
    facts: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False),
        description="the claim type's facts (amounts in fen, grade, heads, mu, loss degree in bp ...)",
    )
    main_diagnosis: str | None = Field(default=None, max_length=200, description="medical: for the risk sample")
    settlement_no: str | None = Field(
        default=None, max_length=40, unique=True, description="one-stop settlement number: one claim per stay"
    )
    settlement_import_id: int | None = Field(default=None, foreign_key="settlement_import.id", index=True)
    claimed_fen: int = Field(default=0, sa_type=BigInteger)
    payable_fen: int | None = Field(default=None, sa_type=BigInteger, description="set by the assessment")
    household_pays_fen: int | None = Field(
        default=None, sa_type=BigInteger, description="medical: what the stay leaves to the household, never < 0"
    )
    assessment: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON), description="the explanation's lines and reason codes"
    )
    assessed_at: datetime | None = None
    assessed_by: str | None = Field(default=None, max_length=100)
    assessed_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    decision_reason: str | None = Field(
        default=None, max_length=32, description="a claims.reasons.ReasonCode, kept as a plain string"
    )
    decision_text: str | None = Field(default=None, max_length=1000)
    decided_at: datetime | None = None
    decided_by: str | None = Field(default=None, max_length=100)
    decided_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    # The first decision while it awaits a second supervisor (status awaiting_second_approval); cleared when the
    # second one confirms it (it lands in the columns above) or sends it back. Its note is `decision_text`; its
    # maker's user id is `decided_by_user_id`, which the first decision sets and the same-person check compares.
    pending_decision: Decision | None = Field(default=None, sa_type=enum_type(Decision))
    pending_amount_fen: int | None = Field(default=None, sa_type=BigInteger, description="what it would pay")
    pending_reason: str | None = Field(default=None, max_length=32, description="a ReasonCode: a rejection's")
    pending_by: str | None = Field(default=None, max_length=100)
    pending_at: datetime | None = None
    second_approver: str | None = Field(default=None, max_length=100)
    second_approver_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    second_approved_at: datetime | None = None
    decision_due_on: date | None = Field(default=None, description="documents complete + 30 days (Art. 23)")
    refusal_notice_due_on: date | None = Field(default=None, description="rejection + 3 days (Art. 24)")
    payment_due_on: date | None = Field(default=None, description="agreement + 10 days (Art. 23), next issue")
    filed_by: str = Field(max_length=100)
    filed_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ClaimCounter(SQLModel, table=True):
    """The last claim number given per county and year. The service takes the next one with an UPDATE of this row
    (a row lock on PostgreSQL, the database lock on SQLite), so concurrent filings never share a number."""

    __tablename__ = "claim_counter"

    year: int = Field(primary_key=True)
    county_code: str = Field(primary_key=True, max_length=6)
    last: int = 0


class ClaimInvoice(SQLModel, table=True):
    """A medical invoice number of a claim, so the filing check finds the same invoice claimed twice by index."""

    __tablename__ = "claim_invoice"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    invoice_no: str = Field(max_length=50, index=True)
    issuer: str | None = Field(default=None, max_length=200, description="the hospital or pharmacy")
    amount_fen: int | None = Field(default=None, sa_type=BigInteger)


class ClaimDocument(SQLModel, table=True):
    """An uploaded document of a claim, filed under a checklist code; the bytes live in the store (core.storage)
    under `store_key`. Never deleted: a document taken back is marked removed, so the history keeps what was seen."""

    __tablename__ = "claim_document"
    __table_args__ = (Index("ix_claim_document_claim_code", "claim_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id")
    code: str = Field(max_length=40, description="claims.checklist document code")
    filename: str = Field(max_length=255, description="as uploaded; shown, never trusted")
    content_type: str = Field(max_length=40, description="sniffed from the content (claims.uploads)")
    size_bytes: int
    sha256: str = Field(max_length=64, index=True)
    store_key: str = Field(max_length=300)
    uploaded_by: str = Field(max_length=100)
    uploaded_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    uploaded_at: datetime = Field(default_factory=utcnow)
    removed_at: datetime | None = None
    removed_by: str | None = Field(default=None, max_length=100)


class ClaimEvent(SQLModel, table=True):
    """One transition of a claim, from -> to, with the action, the coded reasons and the note: the claim page's
    history. The audit log records the same change (who, before, after); this table is what the page reads."""

    __tablename__ = "claim_event"
    __table_args__ = (Index("ix_claim_event_claim_at", "claim_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id")
    from_status: ClaimStatus | None = Field(default=None, sa_type=enum_type(ClaimStatus), description="none: filed")
    to_status: ClaimStatus = Field(sa_type=enum_type(ClaimStatus))
    action: str = Field(max_length=32, description="claims.status action code")
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, max_length=1000)
    version: int = Field(description="the claim's version after the transition")
    actor: str = Field(max_length=100)
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    at: datetime = Field(default_factory=utcnow)


class CheckKind(StrEnum):
    duplicate_settlement = "duplicate_settlement"
    duplicate_invoice = "duplicate_invoice"
    same_member_peril_date = "same_member_peril_date"
    incident_after_death = "incident_after_death"
    object_not_on_policy = "object_not_on_policy"
    outside_cover_period = "outside_cover_period"
    late_report = "late_report"  # past the Art. 26 period: always a warning


CHECK_KIND_LABELS: dict[CheckKind, str] = {
    CheckKind.duplicate_settlement: "结算单号重复",
    CheckKind.duplicate_invoice: "发票号重复",
    CheckKind.same_member_peril_date: "同一人同一事故同一日期重复报案",
    CheckKind.incident_after_death: "出险日期在死亡日期之后",
    CheckKind.object_not_on_policy: "保险标的不在保单上",
    CheckKind.outside_cover_period: "出险日期不在任何保险期间内",
    CheckKind.late_report: "超过法定报案期限",
}


class CheckSeverity(StrEnum):
    warn = "warn"  # shown; filing goes on
    block = "block"  # filing stops unless someone overrides it with a reason (audited)


CHECK_SEVERITY_LABELS: dict[CheckSeverity, str] = {CheckSeverity.warn: "提示", CheckSeverity.block: "阻止"}


class ClaimCheck(SQLModel, table=True):
    """A warning or block found at filing, and its override: the reason and who overrode it, when."""

    __tablename__ = "claim_check"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    kind: CheckKind = Field(sa_type=enum_type(CheckKind))
    severity: CheckSeverity = Field(sa_type=enum_type(CheckSeverity))
    message: str = Field(max_length=500)
    other_claim_id: int | None = Field(default=None, foreign_key="claim.id", description="the duplicate found")
    override_reason: str | None = Field(default=None, max_length=500)
    overridden_by: str | None = Field(default=None, max_length=100)
    overridden_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    overridden_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ReviewKind(StrEnum):
    second_approval = "second_approval"  # above the amount, or a death claim's rejection: a second supervisor
    random_sample = "random_sample"  # a true random share of the period's other decisions
    risk_sample = "risk_sample"  # amount above a threshold, or unusual for the diagnosis or the area


REVIEW_KIND_LABELS: dict[ReviewKind, str] = {
    ReviewKind.second_approval: "复核审批",
    ReviewKind.random_sample: "随机抽查",
    ReviewKind.risk_sample: "风险抽查",
}


class ReviewOutcome(StrEnum):
    pending = "pending"
    agreed = "agreed"
    disagreed = "disagreed"


REVIEW_OUTCOME_LABELS: dict[ReviewOutcome, str] = {
    ReviewOutcome.pending: "待复核",
    ReviewOutcome.agreed: "同意",
    ReviewOutcome.disagreed: "不同意",
}


class ClaimReview(SQLModel, table=True):
    """A required (second approval) or sampled review of a decision; `reason` says why it was picked (a code of
    the REVIEW_REASON labels: `above_approval_amount`, `death_rejection`, `random`, `amount_above_threshold`,
    `unusual_amount`)."""

    __tablename__ = "claim_review"
    __table_args__ = (Index("ix_claim_review_kind_outcome", "kind", "outcome"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    kind: ReviewKind = Field(sa_type=enum_type(ReviewKind))
    reason: str | None = Field(default=None, max_length=40)
    outcome: ReviewOutcome = Field(sa_type=enum_type(ReviewOutcome), default=ReviewOutcome.pending)
    reviewer: str | None = Field(default=None, max_length=100)
    reviewer_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    note: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    reviewed_at: datetime | None = None


class ClaimCallback(SQLModel, table=True):
    """A call to the household about a claim: reached or not, and what the household said (confirmed the stay,
    the amount, that they filed ...)."""

    __tablename__ = "claim_callback"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    reached: bool
    household_said: str | None = Field(default=None, max_length=1000)
    called_by: str = Field(max_length=100)
    called_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    called_at: datetime = Field(default_factory=utcnow)


# --- one-stop settlement imports ------------------------------------------------------------------------------


class SettlementImport(SQLModel, table=True):
    """One settlement file imported (or queued to be): counts and totals, for the page and the report.

    `sha256` is unique: a file imports once. Importing it again finds this row and creates nothing; a dry run
    writes no row at all; a failed import keeps its row (status failed) and is retried on it."""

    __tablename__ = "settlement_import"

    id: int | None = Field(default=None, primary_key=True)
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64, unique=True)
    size_bytes: int = 0
    file_format: str | None = Field(default=None, max_length=8, description="csv | xlsx")
    encoding: str | None = Field(default=None, max_length=16)
    stored_path: str | None = Field(default=None, max_length=500, description="the uploaded file, for a web import")
    insurer_id: int | None = Field(default=None, foreign_key="insurer.id", index=True)
    actor: str = Field(max_length=100)
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    status: ImportStatus = Field(sa_type=enum_type(ImportStatus), default=ImportStatus.queued)
    rows: int = 0
    accepted: int = 0
    refused: int = 0
    claims_created: int = 0
    payable_fen: int = Field(default=0, sa_type=BigInteger)
    household_pays_fen: int = Field(default=0, sa_type=BigInteger)
    message: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class SettlementImportIssue(SQLModel, table=True):
    """A refused row of a settlement import (or an unknown column, row 1), as the roster report names it."""

    __tablename__ = "settlement_import_issue"

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="settlement_import.id", index=True)
    row: int
    column: str = Field(max_length=50, description="the header as written in the file")
    code: str = Field(max_length=40)
    message: str = Field(max_length=500)
    value: str | None = Field(default=None, max_length=200, description="masked when it is an ID number")
    settlement_no: str | None = Field(default=None, max_length=40)


# --- payments (the next issue) --------------------------------------------------------------------------------


class PaymentKind(StrEnum):
    advance = "advance"  # Art. 25: the determinable amount, paid first when the whole is not fixed in 60 days
    final = "final"  # the (rest of the) agreed amount


PAYMENT_KIND_LABELS: dict[PaymentKind, str] = {PaymentKind.advance: "先予支付", PaymentKind.final: "赔款支付"}


class PaymentStatus(StrEnum):
    pending = "pending"  # agreed, not yet sent to the bank
    sent = "sent"
    paid = "paid"
    failed = "failed"  # the bank returned it (wrong account ...); a new payment row retries
    cancelled = "cancelled"


PAYMENT_STATUS_LABELS: dict[PaymentStatus, str] = {
    PaymentStatus.pending: "待支付",
    PaymentStatus.sent: "已提交银行",
    PaymentStatus.paid: "已支付",
    PaymentStatus.failed: "支付失败",
    PaymentStatus.cancelled: "已取消",
}


class ClaimPayment(SQLModel, table=True):
    """A payment of a claim to the payee's bank or social-security card. Several per claim: an Art. 25 advance and
    the rest, or a retry after a failure. The account number is stored masked only."""

    __tablename__ = "claim_payment"
    __table_args__ = (Index("ix_claim_payment_status_due", "status", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    kind: PaymentKind = Field(sa_type=enum_type(PaymentKind), default=PaymentKind.final)
    status: PaymentStatus = Field(sa_type=enum_type(PaymentStatus), default=PaymentStatus.pending)
    amount_fen: int = Field(sa_type=BigInteger)
    payee_name: str = Field(max_length=50)
    bank_name: str | None = Field(default=None, max_length=100)
    account_masked: str = Field(max_length=40, description="e.g. 6217 **** **** 1234")
    due_on: date | None = Field(default=None, description="agreement + 10 days (Art. 23)")
    paid_on: date | None = None
    reference: str | None = Field(default=None, max_length=64, description="the bank's transaction reference")
    note: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=100)
    created_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
