"""What the claims API reads and writes. Amounts are integer fen, as in the cover API (`*_fen`); a fen amount with a
fraction (a yuan amount of more than 2 decimals) is refused by the filing service naming the field. The type's
facts arrive as an object whose keys are the facts dataclass's (`claims.assessment`), checked by the service."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from claims.models import ReviewKind, ReviewOutcome
from claims.reasons import ReasonCode
from claims.status import ClaimStatus, ClaimType, Decision


class ClaimCreate(BaseModel):
    """A claim filed by a handler for a household: who (a member by id or ID number, or an insured object), what
    happened (date, place, peril) and the type's facts, e.g. supplementary medical
    `{"total_cost_fen": 1200000, "in_policy_fen": 1000000, "bmi_paid_fen": 600000, "ci_paid_fen": 0,
    "assistance_paid_fen": 0}`; accidental medical `{"medical_cost_fen": ...}`; a death `{"died_on": "2026-05-02"}`;
    disability `{"grades": [8, 9]}`; house `{"rooms_collapsed": 2, "village_verified": true}`; livestock
    `{"ear_tags": [...], "culled_tags": [...], "culling_subsidy_per_head_fen": 0, "harmless_disposal": true}`;
    crops `{"area_mu": "3.5", "loss_bp": 6000, "stage": "tillering"}`."""

    claim_type: ClaimType
    member_id: int | None = None
    id_number: str | None = Field(default=None, max_length=18)
    insured_object_id: int | None = None
    claimant_name: str = Field(min_length=1, max_length=50)
    claimant_relation: str = Field(default="本人", min_length=1, max_length=20)
    claimant_phone: str | None = Field(default=None, max_length=20)
    incident_date: date
    incident_place: str | None = Field(default=None, max_length=200)
    peril: str | None = Field(default=None, max_length=32, description="default: the claim type's peril")
    facts: dict[str, Any] = Field(default_factory=dict)
    settlement_no: str | None = Field(default=None, max_length=40)
    invoice_nos: list[str] = Field(default_factory=list, max_length=50)
    main_diagnosis: str | None = Field(default=None, max_length=200)


class VersionedAction(BaseModel):
    """Every change names the version the client read: a stale one is refused with 409 and changes nothing."""

    version: int
    note: str | None = Field(default=None, max_length=1000)


class ReturnCreate(VersionedAction):
    reasons: list[ReasonCode] = Field(default_factory=lambda: [ReasonCode.documents_missing])


class ReopenCreate(VersionedAction):
    note: str = Field(min_length=1, max_length=1000)


class DecisionCreate(VersionedAction):
    decision: Decision
    amount_fen: int | None = Field(default=None, ge=0, description="approve partly: at most the payable amount")
    reason: ReasonCode | None = Field(default=None, description="a rejection's reason code (required to reject)")


class SecondApprovalCreate(VersionedAction):
    agree: bool = True


class OverrideCreate(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class CallbackCreate(BaseModel):
    reached: bool
    household_said: str | None = Field(default=None, max_length=1000)


class ReviewOutcomeCreate(BaseModel):
    """A supervisor's verdict on a sampled review; a note is required when disagreeing."""

    outcome: Literal[ReviewOutcome.agreed, ReviewOutcome.disagreed]
    note: str | None = Field(default=None, max_length=1000)


class ReviewPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    claim_no: str = ""
    kind: ReviewKind
    kind_label: str = ""
    reason: str | None
    reason_label: str = ""
    outcome: ReviewOutcome
    outcome_label: str = ""
    reviewer: str | None
    note: str | None
    created_at: datetime
    reviewed_at: datetime | None


class LinePublic(BaseModel):
    kind: str
    label: str
    amount_fen: int
    detail: str = ""
    reason: str | None = None


class ClocksPublic(BaseModel):
    decision_due: date | None
    refusal_notice_due: date | None
    payment_due: date | None
    advance_payment_from: date | None
    advance_payment_owed: bool
    waiting_on: str
    waiting_on_label: str
    next_due: date | None
    days_left: int | None
    overdue: bool
    due_soon: bool


class ChecklistItem(BaseModel):
    code: str
    label: str
    needed: bool
    present: bool


class CheckPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    severity: str
    message: str
    other_claim_id: int | None = None
    override_reason: str | None = None
    overridden_by: str | None = None
    overridden_at: datetime | None = None


class DocumentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    label: str = ""
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class EventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: ClaimStatus | None
    to_status: ClaimStatus
    action: str
    reasons: list[str]
    note: str | None
    version: int
    actor: str
    at: datetime


class CallbackPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reached: bool
    household_said: str | None
    called_by: str
    called_at: datetime


class ClaimSummary(BaseModel):
    """A row of a work queue."""

    claim_no: str
    claim_type: ClaimType
    claim_type_label: str
    status: ClaimStatus
    status_label: str
    version: int
    claimant_name: str
    incident_date: date
    reported_on: date
    claimed_fen: int
    payable_fen: int | None
    filed_by: str
    decision_due_on: date | None
    refusal_notice_due_on: date | None
    payment_due_on: date | None


class PendingDecisionPublic(BaseModel):
    """The first decision of a claim that needs a second supervisor, as the claim page shows it until answered."""

    decision: Decision
    amount_fen: int
    reason: str | None = Field(description="a claims.reasons code: a rejection's reason")
    by: str | None
    at: datetime | None


class ClaimPublic(ClaimSummary):
    """The claim page's data: facts, the explanation, the checklist with what is missing, the clocks, the checks,
    the history and what may be done next."""

    policy_no: str
    benefit_code: str
    member_id: int | None
    household_id: int
    insured_object_id: int | None
    claimant_relation: str
    claimant_phone: str | None
    incident_place: str | None
    peril: str
    facts: dict[str, Any]
    settlement_no: str | None
    main_diagnosis: str | None
    household_pays_fen: int | None
    documents_complete_on: date | None
    explanation: list[LinePublic]
    total_line: LinePublic | None
    reasons: list[str]
    pending_decision: PendingDecisionPublic | None = Field(
        description="the first decision awaiting a second supervisor, if any"
    )
    decision_reason: str | None
    decision_text: str | None
    decided_by: str | None
    second_approver: str | None
    assessed_by: str | None
    clocks: ClocksPublic
    checklist: list[ChecklistItem]
    missing_documents: list[ChecklistItem]
    checks: list[CheckPublic]
    allowed_actions: list[str]


class SettlementImportPublic(BaseModel):
    """A settlement-sheet import: its state and counts; `progress` while a worker runs it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    size_bytes: int
    file_format: str | None
    encoding: str | None
    status: str
    rows: int
    accepted: int
    refused: int
    claims_created: int
    payable_fen: int
    household_pays_fen: int
    message: str | None
    actor: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: dict[str, Any] | None = None


class SettlementIssuePublic(BaseModel):
    """A refused row (or note) of an import; ID numbers are stored masked."""

    model_config = ConfigDict(from_attributes=True)

    row: int
    column: str
    code: str
    message: str
    value: str | None
    settlement_no: str | None
