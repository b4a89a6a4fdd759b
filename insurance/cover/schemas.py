"""What the cover API reads and writes: products, insurers' offers, policies, enrolments, notices, objections,
and the cover answer."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from insurance.cover.eligibility import MovedOutCover
from insurance.cover.models import PERIL_LABELS, ProductUnit
from insurance.register.schemas import InsurerPublic

# --- products, insurers, policies ---------------------------------------------------------------------------

Bp = Annotated[int, Field(ge=0, le=10_000, description="basis points: 6% = 600")]
Fen = Annotated[int, Field(ge=0, description="integer fen")]


class CoverTermsIn(BaseModel):
    """A version's programme terms; extra keys (franchise, stage sums, preconditions) are kept as given."""

    model_config = ConfigDict(extra="allow")

    new_member_grace_days: int = Field(default=60, ge=0, le=366)
    cover_after_exit_years: int = Field(default=0, ge=0, le=50)
    moved_out_cover: MovedOutCover = MovedOutCover.period_end
    notice_objection_days: int = Field(default=7, ge=1, le=60)


class BenefitIn(BaseModel):
    code: str = Field(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1, max_length=100)
    unit: ProductUnit
    perils: list[str] = Field(min_length=1)
    sum_insured_fen: int = Field(gt=0)
    deductible_fen: Fen = 0
    reimbursement_bp: Bp = 10_000
    per_event_limit_fen: Fen | None = None
    annual_limit_fen: Fen | None = None
    waiting_days: int = Field(default=0, ge=0, le=365)
    waiting_perils: list[str] = Field(default_factory=list)
    premium_fen: Fen | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("perils", "waiting_perils")
    @classmethod
    def _known_perils(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in PERIL_LABELS]
        if unknown:
            raise ValueError(f"含有未知的风险 {', '.join(unknown)}")
        return value


class ProductVersionCreate(BaseModel):
    year_from: int = Field(ge=2000, le=2100)
    premium_per_unit_fen: int | None = Field(default=None, gt=0, description="family cover: premium per person")
    premium_per_household_fen: Fen = 0
    sum_insured_fen: int | None = Field(default=None, gt=0, description="industry: per head or per mu")
    rate_bp: int | None = Field(default=None, gt=0, le=10_000)
    subsidy_central_bp: Bp = 0
    subsidy_provincial_bp: Bp = 0
    subsidy_county_bp: Bp = 0
    farmer_share_bp: Bp = 0
    terms: CoverTermsIn = Field(default_factory=CoverTermsIn)
    note: str | None = Field(default=None, max_length=500)
    benefits: list[BenefitIn] = Field(min_length=1)


class BenefitPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    unit: str
    perils: list[str]
    sum_insured_fen: int
    deductible_fen: int
    reimbursement_bp: int
    per_event_limit_fen: int | None
    annual_limit_fen: int | None
    waiting_days: int
    waiting_perils: list[str]
    premium_fen: int | None
    extra: dict[str, Any]


class ProductVersionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    product_code: str
    version: int
    year_from: int
    premium_per_unit_fen: int | None
    premium_per_household_fen: int
    sum_insured_fen: int | None
    rate_bp: int | None
    subsidy_central_bp: int
    subsidy_provincial_bp: int
    subsidy_county_bp: int
    farmer_share_bp: int
    terms: dict[str, Any]
    note: str | None
    created_by: str
    created_at: datetime
    benefits: list[BenefitPublic] = []


class ProductPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    kind: str
    unit: str
    subject: str | None
    versions: list[ProductVersionPublic] = []


class InsurerCreate(BaseModel):
    uscc: str = Field(min_length=18, max_length=18, description="统一社会信用代码, GB 32100-2015")
    name: str = Field(min_length=2, max_length=200)
    short_name: str = Field(min_length=1, max_length=50)
    hotline: str | None = Field(default=None, max_length=30)
    products: list[str] = Field(default_factory=list, description="codes of the products it offers")


class InsurerDetail(InsurerPublic):
    products: list[str]


class GroupPolicyCreate(BaseModel):
    """A county's family group policy for one insurance year."""

    county_code: str = Field(description="6-digit county code")
    year: int = Field(ge=2000, le=2100)
    product_code: str = "th_family"
    product_version: int | None = Field(default=None, ge=1, description="default: the latest for the year")
    period_start: date | None = None
    period_end: date | None = None
    premium_per_person_fen: int | None = Field(default=None, gt=0, description="default: the version's premium")
    premium_per_household_fen: Fen | None = None
    policy_no: str | None = Field(default=None, min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    policyholder: str | None = Field(default=None, max_length=200)


class InsuredObjectIn(BaseModel):
    household_no: str = Field(min_length=1, max_length=32)
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=2, description="heads, or an area in mu")
    village_code: str | None = Field(default=None, description="default: the household's village")
    ear_tags: list[str] = Field(default_factory=list)


class IndustryPolicyCreate(BaseModel):
    """An industry policy for a household, or for a cooperative on behalf of its member households."""

    product_code: str
    year: int = Field(ge=2000, le=2100)
    product_version: int | None = Field(default=None, ge=1)
    period_start: date | None = None
    period_end: date | None = None
    season: str | None = Field(default=None, max_length=16, description="default: the year (rice: 2026-early ...)")
    policy_no: str | None = Field(default=None, min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    cooperative_uscc: str | None = Field(default=None, description="when a cooperative insures for its members")
    cooperative_name: str | None = Field(default=None, max_length=200)
    objects: list[InsuredObjectIn] = Field(min_length=1)


class RenewalCreate(BaseModel):
    year: int | None = Field(default=None, ge=2000, le=2100, description="default: the next year")
    product_version: int | None = Field(default=None, ge=1)
    premium_per_person_fen: int | None = Field(default=None, gt=0)
    policy_no: str | None = Field(default=None, min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")


class CancelRequest(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class EnrolRequest(BaseModel):
    enrolled_on: date | None = Field(default=None, description="default: today")


class PolicyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    policy_no: str
    kind: str
    insurer_id: int
    insurer_name: str | None = None
    product_code: str
    product_version_id: int
    county_code: str
    year: int
    period_start: date
    period_end: date
    premium_per_person_fen: int
    premium_per_household_fen: int
    policyholder: str
    cooperative_uscc: str | None
    status: str
    members_count: int
    households_count: int
    premium_fen: int
    subsidy_central_fen: int
    subsidy_provincial_fen: int
    subsidy_county_fen: int
    farmer_share_fen: int
    created_by: str
    created_at: datetime
    issued_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    renewed_from: str | None = None


class EnrolmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    policy_id: int
    kind: str
    status: str
    enrolled_on: date
    actor: str
    added: int
    households_added: int
    already_enrolled: int
    ineligible: int
    too_late: int
    double_cover: int
    message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: dict[str, int | str] | None = None


class InsuredObjectPublic(BaseModel):
    id: int
    policy_no: str
    household_no: str
    subject: str
    unit: str
    quantity: Decimal
    village_code: str
    season: str
    ear_tags: list[str]
    sum_insured_fen: int
    premium_fen: int
    subsidy_central_fen: int
    subsidy_provincial_fen: int
    subsidy_county_fen: int
    farmer_share_fen: int
    cover_start: date
    cover_end: date
    waiting_waived: bool
    status: str


class NoticeCreate(BaseModel):
    village_code: str = Field(description="12-digit village code")
    posted_on: date = Field(description="not after today, nor before the village's households were enrolled")
    late_reason: str | None = Field(
        default=None,
        max_length=500,
        description="required when posted_on is more than NOTICE_LATE_DAYS days back: why it is recorded late",
    )


class NoticeLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    household_no: str
    head_name: str | None
    head_id_masked: str | None
    insured: str = Field(description="what is insured: persons covered, or heads / mu")
    persons: int
    premium_fen: int
    household_share_fen: int


class NoticePublic(BaseModel):
    id: int
    policy_no: str
    village_code: str
    village_name: str | None = None
    posted_on: date
    objection_until: date
    households: int
    members: int
    posted_by: str
    late_reason: str | None = None
    objections_open: int = 0


class ObjectionCreate(BaseModel):
    household_no: str = Field(min_length=1, max_length=32)
    member_id: int | None = Field(default=None, description="the member objected to; none = the whole household")
    raised_by: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=2, max_length=500)
    raised_on: date


class ObjectionResolve(BaseModel):
    upheld: bool
    resolution: str = Field(min_length=2, max_length=500)


class ObjectionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    notice_id: int
    household_id: int
    member_id: int | None
    raised_on: date
    raised_by: str
    reason: str
    status: str
    resolution: str | None
    recorded_by: str
    resolved_by: str | None


class CoverAnswerPublic(BaseModel):
    covered: bool
    reason: str
    reason_label: str
    peril: str
    on: date
    policy_no: str | None
    benefit_code: str | None
    benefit_name: str | None
    sum_insured_fen: int | None
    deductible_fen: int | None
    reimbursement_bp: int | None
    per_event_limit_fen: int | None
    annual_limit_fen: int | None
    annual_left_fen: int | None
    waiting_until: date | None
    also_covered_by: list[str]


class MemberCoverLine(BaseModel):
    member_id: int
    name: str
    id_number_masked: str
    relation: str
    member_status: str
    policy_no: str
    insurer_name: str
    product_name: str
    policy_status: str
    cover_start: date
    cover_end: date
    waiting_waived: bool
    status: str
    end_reason: str | None


class HouseholdCover(BaseModel):
    household_no: str
    village_code: str
    on: date
    members: list[MemberCoverLine]
    objects: list[InsuredObjectPublic]
    uncovered_members: list[str] = Field(description="masked IDs of active members without cover on the date")
