"""Tables of cover: the product catalogue, insurers' offers, policies, coverage, insured objects, enrolments,
enrolment notices and objections."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import enum_type, utcnow

# --- the product catalogue ------------------------------------------------------------------------------------


class ProductKind(StrEnum):
    family = "family"  # 家庭综合保障: per person (and per household), bought by the county as a group policy
    industry = "industry"  # 产业保险: per head or per mu, per household or cooperative


PRODUCT_KIND_LABELS: dict[str, str] = {"family": "家庭综合保障", "industry": "产业保险"}


class ProductUnit(StrEnum):
    person = "person"
    household = "household"
    loan = "loan"
    head = "head"
    mu = "mu"


UNIT_LABELS: dict[str, str] = {"person": "人", "household": "户", "loan": "笔", "head": "头", "mu": "亩"}

PERIL_LABELS: dict[str, str] = {
    "accident_death": "意外身故",
    "accident_disability": "意外伤残",
    "accident_medical": "意外医疗",
    "illness_death": "疾病身故",
    "hospitalisation": "住院医疗（补充医疗）",
    "house_collapse": "农房倒塌",
    "borrower_death": "借款人身故",
    "borrower_disability": "借款人伤残",
    "rainstorm": "暴雨",
    "flood": "洪水",
    "waterlogging": "内涝",
    "wind": "风灾",
    "typhoon": "台风",
    "hail": "冰雹",
    "freeze": "冻灾",
    "drought": "旱灾",
    "earthquake": "地震",
    "mudslide": "泥石流",
    "landslide": "山体滑坡",
    "lightning": "雷击",
    "pests_disease": "病虫害",
    "fire": "火灾",
    "explosion": "爆炸",
    "building_collapse": "建筑物倒塌",
    "falling_object": "空中运行物体坠落",
    "disease": "疾病",
    "epidemic": "疫病",
    "culling": "强制扑杀",
}


class Product(SQLModel, table=True):
    """A product's identity; its terms live in versions, so a policy keeps the terms it was sold under."""

    __tablename__ = "product"

    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    kind: ProductKind = Field(sa_type=enum_type(ProductKind))
    unit: ProductUnit = Field(sa_type=enum_type(ProductUnit))
    subject: str | None = Field(default=None, max_length=32, description="species or crop of industry insurance")
    created_at: datetime = Field(default_factory=utcnow)


class ProductVersion(SQLModel, table=True):
    """The terms of a product from an insurance year on. Immutable once created: a change is a new version."""

    __tablename__ = "product_version"
    __table_args__ = (UniqueConstraint("product_code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    product_code: str = Field(foreign_key="product.code", max_length=32, index=True)
    version: int
    year_from: int = Field(description="first insurance year these terms are sold for")
    premium_per_unit_fen: int | None = Field(
        sa_type=BigInteger, default=None, description="fixed premium per person (family cover)"
    )
    premium_per_household_fen: int = Field(
        sa_type=BigInteger, default=0, description="household-level benefits (farm house)"
    )
    sum_insured_fen: int | None = Field(
        sa_type=BigInteger, default=None, description="per head or per mu (industry insurance)"
    )
    rate_bp: int | None = Field(default=None, description="premium rate in basis points (6% = 600)")
    subsidy_central_bp: int = 0
    subsidy_provincial_bp: int = 0
    subsidy_county_bp: int = 0
    farmer_share_bp: int = 0
    terms: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, max_length=500)
    created_by: str = Field(default="system:seed", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class ProductBenefit(SQLModel, table=True):
    """One liability of a product version (意外身故, 补充医疗, 能繁母猪死亡...), with its limits and waiting period."""

    __tablename__ = "product_benefit"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="product_version.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=100)
    unit: ProductUnit = Field(sa_type=enum_type(ProductUnit))
    perils: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sum_insured_fen: int = Field(sa_type=BigInteger)
    deductible_fen: int = Field(default=0, sa_type=BigInteger)
    reimbursement_bp: int = 10_000
    per_event_limit_fen: int | None = Field(default=None, sa_type=BigInteger)
    annual_limit_fen: int | None = Field(default=None, sa_type=BigInteger)
    waiting_days: int = 0
    waiting_perils: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    premium_fen: int | None = Field(
        sa_type=BigInteger, default=None, description="the benefit's part of a per-unit premium, if fixed"
    )
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class InsurerProduct(SQLModel, table=True):
    """Which insurer offers which product; a policy can only be written for an offered product."""

    __tablename__ = "insurer_product"

    insurer_id: int = Field(foreign_key="insurer.id", primary_key=True)
    product_code: str = Field(foreign_key="product.code", primary_key=True, max_length=32)


# --- policies and who is on them ------------------------------------------------------------------------------


class PolicyStatus(StrEnum):
    draft = "draft"  # being enrolled and publicly noticed (承保公示); not yet in force
    issued = "issued"  # in force
    cancelled = "cancelled"


POLICY_STATUS_LABELS: dict[str, str] = {"draft": "待出单（公示中）", "issued": "已出单", "cancelled": "已撤销"}


class Policy(SQLModel, table=True):
    """A family group policy (one county, one year, one insurer) or an industry policy (a household or a
    cooperative on behalf of its member households)."""

    __tablename__ = "policy"
    __table_args__ = (Index("ix_policy_county_product", "county_code", "product_code"),)

    id: int | None = Field(default=None, primary_key=True)
    policy_no: str = Field(max_length=40, unique=True)
    kind: ProductKind = Field(sa_type=enum_type(ProductKind))
    insurer_id: int = Field(foreign_key="insurer.id", index=True)
    product_code: str = Field(foreign_key="product.code", max_length=32)
    product_version_id: int = Field(foreign_key="product_version.id")
    county_code: str = Field(max_length=6, description="the county the policy is for")
    year: int
    period_start: date
    period_end: date
    premium_per_person_fen: int = Field(default=0, sa_type=BigInteger)
    premium_per_household_fen: int = Field(default=0, sa_type=BigInteger)
    policyholder: str = Field(max_length=200, description="投保人: the county office, the household or cooperative")
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    cooperative_uscc: str | None = Field(default=None, max_length=18)
    status: PolicyStatus = Field(sa_type=enum_type(PolicyStatus), default=PolicyStatus.draft)
    renewed_from_id: int | None = Field(default=None, foreign_key="policy.id")
    members_count: int = 0
    households_count: int = 0
    premium_fen: int = Field(default=0, sa_type=BigInteger)
    subsidy_central_fen: int = Field(default=0, sa_type=BigInteger)
    subsidy_provincial_fen: int = Field(default=0, sa_type=BigInteger)
    subsidy_county_fen: int = Field(default=0, sa_type=BigInteger)
    farmer_share_fen: int = Field(default=0, sa_type=BigInteger)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    issued_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = Field(default=None, max_length=500)


class CoverStatus(StrEnum):
    active = "active"
    ended = "ended"  # ended early: death, moved out
    cancelled = "cancelled"  # void from the start (an upheld objection, a cancelled policy)


COVER_STATUS_LABELS: dict[str, str] = {"active": "保障中", "ended": "已终止", "cancelled": "已撤销"}


class Coverage(SQLModel, table=True):
    """A member on a family group policy. Keyed (policy, member), so enrolment is idempotent and a policy's members
    are one index range; a second index on the member serves the double-cover check and the household's view. The
    household is reached through the member (a member may move household), never copied here.

    No foreign keys, by choice (measured with bench/enrol.py): PostgreSQL checks a foreign key row by row, and a
    province enrols 4.45 million rows at once. Each check cost about as much as writing the row itself (the three
    took a bare INSERT ... SELECT of the province from 8 s to 55 s), and the one on the member also takes a
    share lock on every member row, which rewrites every page of the member table and its WAL. The trade-off: the
    database no longer refuses a row naming a missing policy, member or enrolment, nor the deletion of a policy,
    member or enrolment that rows still name. What holds the references instead: rows are written only by
    enrol_county, which takes the member ids from the member table in the same statement and the policy and
    enrolment from rows it has just read or written in the same transaction; and nothing in the system deletes a
    member (the register marks them removed), a policy (it is cancelled) or an enrolment. Anyone deleting rows by
    hand must delete the cover first; `SELECT ... FROM coverage c LEFT JOIN member m ON m.id = c.member_id WHERE
    m.id IS NULL` finds orphans."""

    __tablename__ = "coverage"
    __table_args__ = (Index("ix_coverage_member", "member_id"),)

    policy_id: int = Field(primary_key=True, description="policy.id (no foreign key: see the class docstring)")
    member_id: int = Field(primary_key=True, description="member.id (no foreign key: see the class docstring)")
    cover_start: date
    cover_end: date
    waiting_waived: bool = False
    status: CoverStatus = Field(sa_type=enum_type(CoverStatus), default=CoverStatus.active)
    end_reason: str | None = Field(default=None, max_length=32)
    enrolment_id: int | None = Field(default=None, description="enrolment.id that added the row (no foreign key)")


class InsuredObject(SQLModel, table=True):
    """Head of livestock or mu of a crop on an industry policy, with its premium and who pays which part."""

    __tablename__ = "insured_object"
    __table_args__ = (Index("ix_insured_object_identity", "household_id", "subject", "village_code", "season"),)

    id: int | None = Field(default=None, primary_key=True)
    policy_id: int = Field(foreign_key="policy.id", index=True)
    household_id: int = Field(foreign_key="household.id")
    subject: str = Field(max_length=32)
    unit: ProductUnit = Field(sa_type=enum_type(ProductUnit))
    quantity: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    village_code: str = Field(max_length=12, foreign_key="division.code")
    season: str = Field(max_length=16, description="the year, or year and season for rice: 2026, 2026-early")
    ear_tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sum_insured_fen: int = Field(sa_type=BigInteger)
    premium_fen: int = Field(sa_type=BigInteger)
    subsidy_central_fen: int = Field(sa_type=BigInteger)
    subsidy_provincial_fen: int = Field(sa_type=BigInteger)
    subsidy_county_fen: int = Field(sa_type=BigInteger)
    farmer_share_fen: int = Field(sa_type=BigInteger)
    cover_start: date
    cover_end: date
    waiting_waived: bool = False
    status: CoverStatus = Field(sa_type=enum_type(CoverStatus), default=CoverStatus.active)
    end_reason: str | None = Field(default=None, max_length=32)


class EnrolmentStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


ENROLMENT_STATUS_LABELS: dict[str, str] = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}


class Enrolment(SQLModel, table=True):
    """One run of enrolling a county onto a group policy, with its counts; a rerun adds only who is new."""

    __tablename__ = "enrolment"

    id: int | None = Field(default=None, primary_key=True)
    policy_id: int = Field(foreign_key="policy.id", index=True)
    kind: str = Field(default="enrol", max_length=16, description="enrol | renew")
    status: EnrolmentStatus = Field(sa_type=enum_type(EnrolmentStatus), default=EnrolmentStatus.queued)
    enrolled_on: date
    actor: str = Field(max_length=100)
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    added: int = 0
    households_added: int = 0
    already_enrolled: int = 0
    ineligible: int = 0
    too_late: int = 0
    double_cover: int = 0
    message: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class CoverConflict(SQLModel, table=True):
    """A member left off a policy because another policy already covers them for the same risk: for review."""

    __tablename__ = "cover_conflict"
    __table_args__ = (UniqueConstraint("member_id", "policy_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    policy_id: int = Field(foreign_key="policy.id", index=True, description="the policy the member was refused on")
    other_policy_id: int = Field(foreign_key="policy.id", description="the policy that already covers the member")
    enrolment_id: int | None = Field(default=None, foreign_key="enrolment.id")
    status: str = Field(default="open", max_length=16, description="open | resolved")
    created_at: datetime = Field(default_factory=utcnow)


class EnrolmentNotice(SQLModel, table=True):
    """承保公示: the list of a policy's households posted in one village, with its objection window."""

    __tablename__ = "enrolment_notice"
    __table_args__ = (UniqueConstraint("policy_id", "village_code"),)

    id: int | None = Field(default=None, primary_key=True)
    policy_id: int = Field(foreign_key="policy.id", index=True)
    village_code: str = Field(max_length=12, foreign_key="division.code")
    posted_on: date
    objection_until: date
    households: int = 0
    members: int = 0
    posted_by: str = Field(max_length=100)
    late_reason: str | None = Field(
        default=None, max_length=500, description="why the posting was recorded late (more than the allowed days)"
    )
    created_at: datetime = Field(default_factory=utcnow)


class ObjectionStatus(StrEnum):
    open = "open"
    upheld = "upheld"
    dismissed = "dismissed"


OBJECTION_STATUS_LABELS: dict[str, str] = {"open": "待处理", "upheld": "成立", "dismissed": "不成立"}


class NoticeObjection(SQLModel, table=True):
    """An objection raised against one line of an enrolment notice, and how it was resolved."""

    __tablename__ = "notice_objection"

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="enrolment_notice.id", index=True)
    household_id: int = Field(foreign_key="household.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")
    raised_on: date
    raised_by: str = Field(max_length=100, description="who objected, as told to the clerk")
    reason: str = Field(max_length=500)
    status: ObjectionStatus = Field(sa_type=enum_type(ObjectionStatus), default=ObjectionStatus.open)
    resolution: str | None = Field(default=None, max_length=500)
    recorded_by: str = Field(max_length=100)
    resolved_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None


# --- coverage cohorts: the office's coverage figures, kept exact in the transactions that change them ----------


class CohortKind(StrEnum):
    member = "member"  # members on the register, by registration, leaving, exit year and monitoring
    cover = "cover"  # the same, per family cover line of an issued policy, by its dates


class CoverageCohort(SQLModel, table=True):
    """How many members of one village share the facts the coverage figures of any date depend on.

    Why: "how many eligible members had cover in force on D" over a province's 4.45 million members takes seconds;
    summed from these rows (a few per village, rewritten by insurance.cover.counts in every transaction that
    changes a member, a household or a cover line) it takes milliseconds, for any date, with nothing to refresh.
    `kind` member rows count members; cover rows count family cover lines of issued policies (status active or
    ended), carrying the member's facts too, so eligibility is tested on the same terms. `left_on`: the first day
    off the register (death, move, removal, the household's removal); None while on it."""

    __tablename__ = "coverage_cohort"
    __table_args__ = (Index("ix_coverage_cohort_village", "village_code"),)

    id: int | None = Field(default=None, primary_key=True)
    village_code: str = Field(max_length=12)
    county_code: str = Field(max_length=6, index=True)
    kind: CohortKind = Field(sa_type=enum_type(CohortKind))
    registered_at: datetime = Field(description="member.created_at: the members of one import share it")
    left_on: date | None = None
    exit_year: int | None = None
    monitored: bool = False
    cover_start: date | None = None
    cover_end: date | None = None
    continued: bool = Field(default=False, description="another issued family cover starts the day after cover_end")
    members: int = 0


class CountyCoverageCohort(SQLModel, table=True):
    """CoverageCohort summed per county (the same keys without the village): the province's and a prefecture's
    report sum a few thousand of these rather than every village's."""

    __tablename__ = "coverage_cohort_county"

    id: int | None = Field(default=None, primary_key=True)
    county_code: str = Field(max_length=6, index=True)
    kind: CohortKind = Field(sa_type=enum_type(CohortKind))
    registered_at: datetime
    left_on: date | None = None
    exit_year: int | None = None
    monitored: bool = False
    cover_start: date | None = None
    cover_end: date | None = None
    continued: bool = False
    members: int = 0
