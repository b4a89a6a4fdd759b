"""Use cases of cover: the product catalogue, insurers' offers, policies, enrolment, notices and the cover answer.

The register's use cases live in service.py; these follow the same rule: each public writer is one transaction
with its audit record, and a change to what a household is covered for writes a certificate request (outbox)
in that same transaction. Enrolment is set-based SQL (INSERT ... SELECT per township) so that a county of
100,000 members enrols in seconds; the dates it writes come from the pure rules in eligibility.py.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from core import audit, queue
from core.audit import Actor
from core.auth import can_see_division, county_prefix, is_insurer
from core.db import PROGRAMME_TZ, for_writing, local_date, new_session, utcnow
from core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from core.masking import mask_id_number
from core.models import Role, User
from insurance.certificates import outbox
from insurance.certificates.models import DocumentKind
from insurance.cover import eligibility, premiums
from insurance.cover.models import (
    UNIT_LABELS,
    Coverage,
    CoverConflict,
    CoverStatus,
    Enrolment,
    EnrolmentNotice,
    EnrolmentStatus,
    InsuredObject,
    InsurerProduct,
    NoticeObjection,
    ObjectionStatus,
    Policy,
    PolicyStatus,
    Product,
    ProductBenefit,
    ProductKind,
    ProductUnit,
    ProductVersion,
)
from insurance.cover.schemas import (
    GroupPolicyCreate,
    IndustryPolicyCreate,
    InsurerCreate,
    ObjectionCreate,
    ObjectionResolve,
    ProductVersionCreate,
    RenewalCreate,
)
from insurance.register import service as register_service
from insurance.register.models import Division, DivisionLevel, Household, Insurer, Member, MemberStatus
from insurance.register.roster import HEAD_RELATION

CATALOGUE_FILE = Path(__file__).resolve().parent / "data" / "products.json"
CERTIFICATE = DocumentKind.household_certificate.value
PROGRESS_KEY = "tehuibao:enrolment:{}:progress"  # Redis: how far a running enrolment got
ENROL_TIMEOUT = timedelta(hours=1)  # the worker's job timeout; an enrolment still "running" past it has died
ENROL_JOB = "insurance.jobs.run_enrolment"


def enrolment_job_id(enrolment_id: int) -> str:
    """One job id per enrolment, whoever enqueues it (the web after the commit, or the sweeper)."""
    return f"enrolment-{enrolment_id}"


CONFLICT_SAMPLE = 50
# SQLAlchemy keeps the driver's row count only for UPDATE and DELETE unless asked; INSERT ... SELECT needs it too.
ROWCOUNT = {"preserve_rowcount": True}

ProgressFn = Callable[[int, int, int], None]  # (townships done, townships in all, members added so far)


# --- the product catalogue ------------------------------------------------------------------------------------


@dataclass
class CatalogueReport:
    products_created: int = 0
    versions_created: int = 0
    unchanged: int = 0


def seed_products(session: Session, actor: Actor) -> CatalogueReport:
    """Adds the products and versions of the seed file that are missing; existing versions are never touched
    (they are immutable, and an administrator may have added newer ones)."""
    report = CatalogueReport()
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    for item in data["products"]:
        product = session.get(Product, item["code"])
        if product is None:
            product = Product(
                code=item["code"],
                name=item["name"],
                kind=ProductKind(item["kind"]),
                unit=ProductUnit(item["unit"]),
                subject=item["subject"],
            )
            session.add(product)
            session.flush()
            report.products_created += 1
        for spec in item["versions"]:
            exists = session.exec(
                select(ProductVersion.id).where(
                    ProductVersion.product_code == product.code, ProductVersion.version == spec["version"]
                )
            ).first()
            if exists is not None:
                report.unchanged += 1
                continue
            _add_version(session, product, spec["version"], _version_from_seed(spec), created_by=actor.name)
            report.versions_created += 1
    if report.products_created or report.versions_created:
        audit.record(
            session,
            actor,
            "seed",
            "product",
            None,
            after={"products": report.products_created, "versions": report.versions_created},
        )
    session.commit()
    return report


def _version_from_seed(spec: dict[str, Any]) -> ProductVersionCreate:
    shares = spec["subsidy_bp"]
    return ProductVersionCreate(
        year_from=spec["year_from"],
        premium_per_unit_fen=spec["premium_per_unit_fen"],
        premium_per_household_fen=spec["premium_per_household_fen"],
        sum_insured_fen=spec["sum_insured_fen"],
        rate_bp=spec["rate_bp"],
        subsidy_central_bp=shares["central"],
        subsidy_provincial_bp=shares["provincial"],
        subsidy_county_bp=shares["county"],
        farmer_share_bp=shares["farmer"],
        terms=spec["terms"],
        note=spec.get("note"),
        benefits=spec["benefits"],
    )


def _check_version(product: Product, data: ProductVersionCreate) -> None:
    shares = premiums.SubsidyShares(
        data.subsidy_central_bp, data.subsidy_provincial_bp, data.subsidy_county_bp, data.farmer_share_bp
    )
    for problem in shares.problems():
        raise Invalid(problem, code="bad_subsidy_shares", field="farmer_share_bp")
    if product.kind == ProductKind.family and product.unit == ProductUnit.person and not data.premium_per_unit_fen:
        raise Invalid("家庭综合保障须有每人保费 (premium per person required)", field="premium_per_unit_fen")
    if product.kind == ProductKind.industry:
        if not data.sum_insured_fen:
            raise Invalid("产业保险须有每单位保额 (sum insured per unit required)", field="sum_insured_fen")
        if not data.rate_bp:
            raise Invalid("产业保险须有费率 (premium rate required)", field="rate_bp")
    codes = [b.code for b in data.benefits]
    if len(set(codes)) != len(codes):
        raise Invalid("保险责任代码重复 (duplicate benefit codes)", field="benefits")
    for index, benefit in enumerate(data.benefits):
        stray = set(benefit.waiting_perils) - set(benefit.perils)
        if stray:
            raise Invalid(
                f"等待期责任须属于该责任 (waiting perils outside the benefit): {', '.join(sorted(stray))}",
                field=f"benefits.{index}.waiting_perils",
            )


def _add_version(
    session: Session, product: Product, number: int, data: ProductVersionCreate, *, created_by: str
) -> ProductVersion:
    _check_version(product, data)
    version = ProductVersion(
        product_code=product.code,
        version=number,
        year_from=data.year_from,
        premium_per_unit_fen=data.premium_per_unit_fen,
        premium_per_household_fen=data.premium_per_household_fen,
        sum_insured_fen=data.sum_insured_fen,
        rate_bp=data.rate_bp,
        subsidy_central_bp=data.subsidy_central_bp,
        subsidy_provincial_bp=data.subsidy_provincial_bp,
        subsidy_county_bp=data.subsidy_county_bp,
        farmer_share_bp=data.farmer_share_bp,
        terms=data.terms.model_dump(mode="json"),
        note=data.note,
        created_by=created_by,
    )
    session.add(version)
    session.flush()
    for benefit in data.benefits:
        session.add(ProductBenefit(version_id=version.id, **benefit.model_dump()))
    session.flush()
    return version


def create_product_version(
    session: Session, user: User, product_code: str, data: ProductVersionCreate
) -> ProductVersion:
    """An administrator changes a product's terms by adding a version; policies keep the version they were sold
    under."""
    if user.role != Role.admin:
        raise Forbidden("只有系统管理员可以修改产品条款 (only an administrator changes product terms)")
    product = get_product(session, product_code)
    latest = session.exec(
        select(func.max(ProductVersion.version)).where(ProductVersion.product_code == product.code)
    ).one()
    version = _add_version(session, product, (latest or 0) + 1, data, created_by=user.username)
    audit.record(
        session,
        Actor.of(user),
        "create",
        "product_version",
        f"{product.code}#{version.version}",
        after=data.model_dump(mode="json"),
    )
    session.commit()
    return version


def list_products(session: Session) -> list[Product]:
    return list(session.exec(select(Product).order_by(col(Product.kind), col(Product.code))).all())


def get_product(session: Session, code: str) -> Product:
    product = session.get(Product, code)
    if product is None:
        raise NotFound(f"产品 {code} 不存在 (no such product)", code="product_not_found", field="product_code")
    return product


def list_versions(session: Session, product_code: str) -> list[ProductVersion]:
    return list(
        session.exec(
            select(ProductVersion)
            .where(ProductVersion.product_code == product_code)
            .order_by(col(ProductVersion.version).desc())
        ).all()
    )


@dataclass(frozen=True)
class CatalogueEntry:
    product: Product
    versions: list[ProductVersion]  # newest first
    benefits: dict[int, list[ProductBenefit]]  # by version id

    @property
    def latest(self) -> ProductVersion | None:
        return self.versions[0] if self.versions else None


def catalogue(session: Session, codes: Iterable[str] | None = None) -> list[CatalogueEntry]:
    """Products with their versions and benefits in three queries (the API and the catalogue page show them all)."""
    query = select(Product).order_by(col(Product.kind), col(Product.code))
    if codes is not None:
        query = query.where(col(Product.code).in_(list(codes)))
    products = list(session.exec(query).all())
    versions = session.exec(
        select(ProductVersion)
        .where(col(ProductVersion.product_code).in_([p.code for p in products]))
        .order_by(col(ProductVersion.version).desc())
    ).all()
    benefits: dict[int, list[ProductBenefit]] = {v.id or 0: [] for v in versions}
    for benefit in session.exec(
        select(ProductBenefit)
        .where(col(ProductBenefit.version_id).in_(list(benefits)))
        .order_by(col(ProductBenefit.id))
    ):
        benefits[benefit.version_id].append(benefit)
    return [CatalogueEntry(p, [v for v in versions if v.product_code == p.code], benefits) for p in products]


def list_benefits(session: Session, version_id: int) -> list[ProductBenefit]:
    return list(
        session.exec(
            select(ProductBenefit).where(ProductBenefit.version_id == version_id).order_by(col(ProductBenefit.id))
        ).all()
    )


def version_for(session: Session, product: Product, year: int, number: int | None) -> ProductVersion:
    """The version asked for, or the latest one sold for the year."""
    query = select(ProductVersion).where(ProductVersion.product_code == product.code)
    if number is not None:
        version = session.exec(query.where(ProductVersion.version == number)).first()
    else:
        version = session.exec(
            query.where(ProductVersion.year_from <= year).order_by(col(ProductVersion.version).desc())
        ).first()
    if version is None:
        raise Invalid(
            f"产品 {product.code} 没有适用于 {year} 年的条款版本 (no version for the year)", field="product_version"
        )
    if version.year_from > year:
        raise Invalid(
            f"该版本自 {version.year_from} 年起适用 (version not yet sold that year)", field="product_version"
        )
    return version


def cover_terms(version: ProductVersion) -> eligibility.CoverTerms:
    terms = version.terms or {}
    return eligibility.CoverTerms(
        new_member_grace_days=int(terms.get("new_member_grace_days", 60)),
        cover_after_exit_years=int(terms.get("cover_after_exit_years", 0)),
        moved_out_cover=eligibility.MovedOutCover(terms.get("moved_out_cover", "period_end")),
        notice_objection_days=int(terms.get("notice_objection_days", 7)),
    )


def subsidy_shares(version: ProductVersion) -> premiums.SubsidyShares:
    return premiums.SubsidyShares(
        version.subsidy_central_bp, version.subsidy_provincial_bp, version.subsidy_county_bp, version.farmer_share_bp
    )


# --- insurers ---------------------------------------------------------------------------------------------------


def create_insurer(session: Session, user: User, data: InsurerCreate) -> Insurer:
    if user.role != Role.admin:
        raise Forbidden("只有系统管理员可以登记保险公司 (only an administrator registers insurers)")
    code = register_service.valid_uscc(data.uscc)
    if session.exec(select(Insurer.id).where(Insurer.uscc == code)).first() is not None:
        raise Conflict(f"统一社会信用代码 {code} 已登记 (insurer already registered)", field="uscc")
    insurer = register_service.add_insurer(
        session,
        Actor.of(user),
        uscc=code,
        name=data.name,
        short_name=data.short_name,
        hotline=data.hotline,
        facts={"short_name": data.short_name, "hotline": data.hotline, "products": sorted(set(data.products))},
    )
    _set_offers(session, insurer, data.products)
    session.commit()
    return insurer


def set_insurer_products(session: Session, user: User, insurer_id: int, codes: list[str]) -> list[str]:
    if user.role != Role.admin:
        raise Forbidden("只有系统管理员可以修改保险公司的产品 (only an administrator changes offers)")
    insurer = register_service.get_insurer(session, insurer_id)
    before = insurer_products(session, insurer.id or 0)
    _set_offers(session, insurer, codes)
    audit.record(
        session,
        Actor.of(user),
        "update",
        "insurer",
        insurer.id,
        before={"products": before},
        after={"products": sorted(set(codes))},
    )
    session.commit()
    return insurer_products(session, insurer.id or 0)


def _set_offers(session: Session, insurer: Insurer, codes: Iterable[str]) -> None:
    wanted = set(codes)
    for code in sorted(wanted):
        get_product(session, code)
    current = {
        row.product_code: row
        for row in session.exec(select(InsurerProduct).where(InsurerProduct.insurer_id == insurer.id))
    }
    for code, row in current.items():
        if code not in wanted:
            session.delete(row)
    for code in wanted - set(current):
        session.add(InsurerProduct(insurer_id=insurer.id or 0, product_code=code))
    session.flush()


def ensure_offers(session: Session, actor: Actor, insurer: Insurer, codes: Iterable[str]) -> None:
    """Idempotent, for the demo seed: adds the offers that are missing."""
    have = set(insurer_products(session, insurer.id or 0))
    missing = [c for c in codes if c not in have]
    for code in missing:
        session.add(InsurerProduct(insurer_id=insurer.id or 0, product_code=code))
    if missing:
        audit.record(session, actor, "update", "insurer", insurer.id, after={"products_added": missing})
        session.commit()


def insurer_products(session: Session, insurer_id: int) -> list[str]:
    return sorted(
        session.exec(select(InsurerProduct.product_code).where(InsurerProduct.insurer_id == insurer_id)).all()
    )


# --- policies: who sees them, how they are found ---------------------------------------------------------------


def _scope_policies(query: Any, user: User) -> Any:
    if is_insurer(user):
        return query.where(Policy.insurer_id == (user.insurer_id or -1))
    prefix = county_prefix(user)
    if prefix:
        return query.where(Policy.county_code == prefix)
    return query


def may_see_policy(user: User, policy: Policy) -> bool:
    if is_insurer(user):
        return policy.insurer_id == user.insurer_id
    prefix = county_prefix(user)
    return policy.county_code == prefix if prefix else True


def get_policy(session: Session, user: User, policy_no: str) -> Policy:
    policy = find_policy(session, policy_no)
    if policy is None or not may_see_policy(user, policy):
        raise NotFound("保单不存在或不在您的权限内 (no such policy)", code="policy_not_found", field="policy_no")
    return policy


def list_policies(
    session: Session,
    user: User,
    *,
    county_code: str | None = None,
    year: int | None = None,
    kind: ProductKind | None = None,
    status: PolicyStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Policy], int]:
    conditions = []
    if county_code:
        conditions.append(Policy.county_code == county_code.strip()[:6])
    if year:
        conditions.append(Policy.year == year)
    if kind:
        conditions.append(Policy.kind == kind)
    if status:
        conditions.append(Policy.status == status)
    query = _scope_policies(select(Policy), user)
    count_query = _scope_policies(select(func.count()).select_from(Policy), user)
    for condition in conditions:
        query = query.where(condition)
        count_query = count_query.where(condition)
    rows = session.exec(query.order_by(col(Policy.year).desc(), col(Policy.id).desc()).offset(offset).limit(limit))
    return list(rows.all()), session.exec(count_query).one()


def _require_insurer(user: User, *, supervisor: bool = False) -> int:
    allowed = (Role.insurer_supervisor,) if supervisor else (Role.insurer_handler, Role.insurer_supervisor)
    if user.role not in allowed or user.insurer_id is None:
        who = "保险公司主管" if supervisor else "保险公司经办人或主管"
        raise Forbidden(f"只有{who}可以执行此操作 (only insurer staff may do this)")
    return user.insurer_id


def _own_policy(session: Session, user: User, policy_no: str, *, supervisor: bool = False) -> Policy:
    """A policy the user's company wrote: 404 outside what they may see (an insurer sees only its own), 403 for a
    role that may see it but not act on it."""
    policy = get_policy(session, user, policy_no)
    _require_insurer(user, supervisor=supervisor)
    return policy


def may_notice(user: User) -> bool:
    """Insurers and county offices post enrolment notices and record and resolve objections."""
    return is_insurer(user) or user.role == Role.county_office


def _require_noticer(user: User) -> None:
    if not may_notice(user):
        raise Forbidden("只有保险公司或县扶贫办可以登记公示和异议 (insurers and county offices handle notices)")


def _require_offer(session: Session, insurer_id: int, product: Product) -> None:
    offered = session.get(InsurerProduct, (insurer_id, product.code))
    if offered is None:
        raise Invalid(
            f"本公司未登记经营产品 {product.name} (your company does not offer this product)",
            code="product_not_offered",
            field="product_code",
        )


def _period(year: int, start: date | None, end: date | None) -> tuple[date, date]:
    """The policy year by default: 00:00 1 January to 24:00 31 December (domain.md §5)."""
    period_start = start or date(year, 1, 1)
    period_end = end or (date(year, 12, 31) if start is None else _one_year_from(period_start))
    if period_end < period_start:
        raise Invalid("保险止期早于起期 (period ends before it starts)", code="bad_period", field="period_end")
    if (period_end - period_start).days > 366:
        raise Invalid("保险期间不能超过一年 (a period lasts at most a year)", code="bad_period", field="period_end")
    return period_start, period_end


def _one_year_from(start: date) -> date:
    try:
        return start.replace(year=start.year + 1) - timedelta(days=1)
    except ValueError:  # 29 February
        return date(start.year + 1, 3, 1) - timedelta(days=1)


def _next_policy_no(session: Session, prefix: str) -> str:
    taken = session.exec(select(func.count()).select_from(Policy).where(col(Policy.policy_no).startswith(prefix))).one()
    number = taken + 1
    while session.exec(select(Policy.id).where(Policy.policy_no == f"{prefix}{number:05d}")).first() is not None:
        number += 1
    return f"{prefix}{number:05d}"


def _check_policy_no(session: Session, policy_no: str) -> None:
    if session.exec(select(Policy.id).where(Policy.policy_no == policy_no)).first() is not None:
        raise Conflict(f"保单号 {policy_no} 已存在 (policy number taken)", code="policy_no_taken", field="policy_no")


def _current_county(session: Session, code: str) -> Division:
    code = code.strip()
    if not (code.isdigit() and len(code) in (6, 12)):
        raise Invalid("县级区划代码须为6位数字 (a county code has 6 digits)", field="county_code")
    county = session.get(Division, code[:6].ljust(12, "0"))
    if county is None or county.level != DivisionLevel.county:
        raise Invalid(
            f"区划 {code[:6]} 不是已登记的县 (not a known county)", code="county_not_found", field="county_code"
        )
    if county.valid_to is not None:
        raise Invalid(f"区划 {code[:6]} 已撤销 (a retired county code)", code="county_retired", field="county_code")
    return county


def _clashing_policy_ids(session: Session, policy: Policy, *, same_county_only: bool = False) -> list[int]:
    """Other live family policies whose period overlaps this one's and whose benefits share a peril with it: a
    member on both would be covered twice for the same risk. Ids only, perils read in one query: a province has
    one policy per county, and enrolling each county asks about all the others."""
    conditions = [
        Policy.kind == ProductKind.family,
        Policy.status != PolicyStatus.cancelled,
        Policy.period_start <= policy.period_end,
        Policy.period_end >= policy.period_start,
    ]
    if policy.id is not None:
        conditions.append(Policy.id != policy.id)
    if same_county_only:
        conditions.append(Policy.county_code == policy.county_code)
    rows = session.exec(select(Policy.id, Policy.product_version_id).where(*conditions).order_by(col(Policy.id))).all()
    benefits = _benefits_by_version(session, [policy.product_version_id, *(v for _, v in rows)])
    perils = {v: {p for b in found for p in b.perils} for v, found in benefits.items()}
    mine = perils[policy.product_version_id]
    return [i or 0 for i, version_id in rows if mine & perils[version_id]]


# --- family group policies ---------------------------------------------------------------------------------------


def create_group_policy(session: Session, user: User, data: GroupPolicyCreate) -> Policy:
    policy = _new_group_policy(session, user, data)
    session.commit()
    return policy


def _new_group_policy(
    session: Session, user: User, data: GroupPolicyCreate, *, renewed_from: Policy | None = None
) -> Policy:
    """Checks, adds and audits a group policy in the caller's transaction."""
    insurer_id = _require_insurer(user)
    product = get_product(session, data.product_code)
    if product.kind != ProductKind.family or product.unit != ProductUnit.person:
        raise Invalid("团体保单只用于按人投保的家庭综合保障 (group policies are per person)", field="product_code")
    _require_offer(session, insurer_id, product)
    county = _current_county(session, data.county_code)
    version = version_for(session, product, data.year, data.product_version)
    period_start, period_end = _period(data.year, data.period_start, data.period_end)
    if period_start.year != data.year:
        raise Invalid("保险起期须在保险年度内 (the period starts in its year)", code="bad_period", field="period_start")
    per_person = data.premium_per_person_fen or version.premium_per_unit_fen or 0
    per_household = (
        data.premium_per_household_fen
        if data.premium_per_household_fen is not None
        else version.premium_per_household_fen
    )
    policy_no = data.policy_no or _next_policy_no(session, f"TH{data.year}{county.code[:6]}")
    _check_policy_no(session, policy_no)
    policy = Policy(
        policy_no=policy_no,
        kind=ProductKind.family,
        insurer_id=insurer_id,
        product_code=product.code,
        product_version_id=version.id or 0,
        county_code=county.code[:6],
        year=data.year,
        period_start=period_start,
        period_end=period_end,
        premium_per_person_fen=per_person,
        premium_per_household_fen=per_household,
        policyholder=data.policyholder or f"{county.name}扶贫开发办公室",
        renewed_from_id=renewed_from.id if renewed_from else None,
        created_by=user.username,
    )
    clashes = _clashing_policy_ids(session, policy, same_county_only=True)
    if clashes:
        other = session.get(Policy, clashes[0])
        assert other is not None
        raise Conflict(
            f"{county.name} 已有保险期间重叠的同类保单 {other.policy_no}（{other.period_start}至{other.period_end}）"
            "(a policy for the same county and risk overlaps this period)",
            code="overlapping_policy",
            field="period_start",
        )
    session.add(policy)
    session.flush()
    audit.record(session, Actor.of(user), "create", "policy", policy.policy_no, after=_policy_facts(policy))
    return policy


def _policy_facts(policy: Policy) -> dict[str, Any]:
    return {
        "kind": policy.kind,
        "insurer_id": policy.insurer_id,
        "product_version_id": policy.product_version_id,
        "county_code": policy.county_code,
        "period": [policy.period_start, policy.period_end],
        "premium_per_person_fen": policy.premium_per_person_fen,
        "premium_per_household_fen": policy.premium_per_household_fen,
        "premium_fen": policy.premium_fen,
    }


def start_enrolment(
    session: Session, user: User, policy_no: str, enrolled_on: date, *, kind: str = "enrol"
) -> Enrolment:
    """Records a queued enrolment (committed); the caller enqueues the job after the commit."""
    policy = _own_policy(session, user, policy_no)
    return create_enrolment(session, Actor.of(user), policy, enrolled_on, kind=kind)


def create_enrolment(
    session: Session,
    actor: Actor,
    policy: Policy,
    enrolled_on: date,
    *,
    kind: str = "enrol",
    status: EnrolmentStatus = EnrolmentStatus.queued,
) -> Enrolment:
    """A queued enrolment of the policy's county (committed); one at a time per policy. Created running by a
    caller that runs it at once (enrol_now), so neither the sweeper nor a worker ever takes it."""
    enrolment = _queue_enrolment(session, actor, policy, enrolled_on, kind=kind, status=status)
    session.commit()
    return enrolment


def _queue_enrolment(
    session: Session, actor: Actor, policy: Policy, enrolled_on: date, *, kind: str, status: EnrolmentStatus
) -> Enrolment:
    _check_enrollable(policy)
    running = session.exec(
        select(Enrolment.id).where(
            Enrolment.policy_id == policy.id,
            col(Enrolment.status).in_([EnrolmentStatus.queued, EnrolmentStatus.running]),
        )
    ).first()
    if running is not None:
        raise Conflict("该保单正在参保中，请稍候 (an enrolment of this policy is under way)", code="enrolment_running")
    enrolment = Enrolment(
        policy_id=policy.id or 0,
        kind=kind,
        enrolled_on=enrolled_on,
        actor=actor.name,
        actor_user_id=actor.user_id,
        status=status,
        started_at=utcnow() if status == EnrolmentStatus.running else None,
    )
    session.add(enrolment)
    session.flush()
    audit.record(
        session,
        actor,
        "queue_enrolment",
        "policy",
        policy.policy_no,
        after={"enrolment_id": enrolment.id, "enrolled_on": enrolled_on},
    )
    return enrolment


def find_policy(session: Session, policy_no: str) -> Policy | None:
    """For the command line, which acts for the programme as a whole."""
    return session.exec(select(Policy).where(Policy.policy_no == policy_no.strip())).first()


def _check_enrollable(policy: Policy) -> None:
    if policy.kind != ProductKind.family:
        raise Invalid("只有家庭综合保障团体保单按县参保 (only group policies enrol a county)", field="policy_no")
    if policy.status == PolicyStatus.cancelled:
        raise Conflict("保单已撤销 (the policy is cancelled)", code="policy_cancelled", field="policy_no")


def get_enrolment(session: Session, user: User, enrolment_id: int) -> Enrolment:
    enrolment = session.get(Enrolment, enrolment_id)
    policy = session.get(Policy, enrolment.policy_id) if enrolment else None
    if enrolment is None or policy is None or not may_see_policy(user, policy):
        raise NotFound("参保记录不存在 (no such enrolment)", code="enrolment_not_found", field="id")
    return enrolment


def last_enrolments(session: Session, rows: list[Policy]) -> dict[int, Enrolment]:
    """Per policy: its latest enrolment, for the home pages."""
    found: dict[int, Enrolment] = {}
    ids = [p.id for p in rows if p.id is not None]
    if not ids:
        return found
    for enrolment in session.exec(
        select(Enrolment).where(col(Enrolment.policy_id).in_(ids)).order_by(col(Enrolment.id))
    ):
        found[enrolment.policy_id] = enrolment
    return found


def list_enrolments(session: Session, policy: Policy) -> list[Enrolment]:
    return list(
        session.exec(select(Enrolment).where(Enrolment.policy_id == policy.id).order_by(col(Enrolment.id).desc()))
    )


def run_enrolment(engine: Engine, enrolment_id: int, *, progress: ProgressFn | None = None) -> Enrolment | None:
    """The worker's entry: claims a queued enrolment and runs it; None when another delivery claimed it first."""
    if not queue.claim(engine, Enrolment.__table__, enrolment_id):
        return None
    return _run_claimed(engine, enrolment_id, progress)


def enrol_now(
    engine: Engine, actor: Actor, policy_no: str, enrolled_on: date, *, progress: ProgressFn | None = None
) -> Enrolment:
    """The command line's (and the demo's) entry: records the enrolment as running and runs it in this process."""
    with new_session(engine) as session:
        policy = find_policy(session, policy_no)
        if policy is None:
            raise NotFound(f"保单不存在 (no such policy): {policy_no}", code="policy_not_found", field="policy_no")
        enrolment = create_enrolment(session, actor, policy, enrolled_on, status=EnrolmentStatus.running)
    return _run_claimed(engine, enrolment.id or 0, progress)


def _run_claimed(engine: Engine, enrolment_id: int, progress: ProgressFn | None) -> Enrolment:
    """Whatever stops the run (a refusal, an error, Ctrl-C, a job timeout) marks it failed before propagating, so no
    enrolment stays running for nothing; its transaction never committed, so nothing of it was written."""
    try:
        with new_session(for_writing(engine)) as session:  # it reads the register, then writes the cover
            return enrol_county(session, enrolment_id, progress=progress)
    except DomainError as exc:
        queue.mark_failed(engine, Enrolment.__table__, enrolment_id, exc.message)
        raise
    except BaseException as exc:
        queue.mark_failed(
            engine,
            Enrolment.__table__,
            enrolment_id,
            f"参保失败，未写入任何数据 (enrolment failed, nothing written): {type(exc).__name__}",
        )
        raise


def _beijing_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), PROGRAMME_TZ)


def enrol_county(session: Session, enrolment_id: int, *, progress: ProgressFn | None = None) -> Enrolment:
    """Puts every eligible active member of the policy's county on it, in one transaction.

    Idempotent: a member already on the policy is skipped, so a rerun adds only members new to the register.
    A member another live policy already covers for the same risk is left off and recorded as a conflict for
    review, naming that policy. Cover dates follow eligibility.enrolment_start, computed once per registration
    day (members imported together share it) rather than per row.

    How, a few neighbouring townships per statement (bench/enrol.py measures it on a province of 4.45 million
    members against a bare INSERT ... SELECT of the same rows): a first pass adds everyone registered before the
    period and counts the eligible members, their households and those registered during the period, with one
    index probe per member of its existing cover (on this policy, or on a clashing one); on PostgreSQL adding and
    counting are one statement. A second pass, only if someone registered during the period, adds them per
    registration day. Only when someone eligible was left out does it search for conflicts (another probe per
    member) and recount the policy's members and households; otherwise the first pass's counts are the totals.
    """
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise NotFound("参保记录不存在 (no such enrolment)", code="enrolment_not_found", field="id")
    policy = session.get(Policy, enrolment.policy_id)
    assert policy is not None  # a foreign key
    _check_enrollable(policy)
    actor = Actor(name=enrolment.actor, user_id=enrolment.actor_user_id)  # who asked for it, recorded with it
    enrolment.status = EnrolmentStatus.running
    enrolment.started_at = enrolment.started_at or utcnow()
    version = session.get(ProductVersion, policy.product_version_id)
    assert version is not None
    terms = cover_terms(version)
    clashing_ids = _clashing_policy_ids(session, policy)
    previous_ids = _previous_year_policy_ids(session, policy)
    county_code = policy.county_code.ljust(12, "0")
    townships = list(
        session.exec(
            select(Division.code)
            .where(Division.parent_code == county_code, Division.level == DivisionLevel.township)
            .order_by(col(Division.code))
        ).all()
    )
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Each statement runs for milliseconds; compiling it (JIT, tens of milliseconds) would cost far more, and
        # PostgreSQL does so whenever its estimates for a large township cross jit_above_cost.
        connection.exec_driver_sql("SET LOCAL jit = off")
    member, household, coverage = Member.__table__, Household.__table__, Coverage.__table__
    exit_bound = eligibility.latest_eligible_exit_year(policy.year, terms.cover_after_exit_years)
    eligible_household = sa.and_(
        household.c.removed_on.is_(None),
        sa.or_(
            household.c.exit_year.is_(None),
            household.c.exit_year >= exit_bound,
            household.c.monitor_category.is_not(None),
        ),
    )
    active = sa.and_(household.c.county_code == policy.county_code, member.c.status == MemberStatus.active.value)
    eligible = sa.and_(active, eligible_household)
    in_township = household.c.village_code.between(sa.bindparam("low"), sa.bindparam("high"))
    source = member.join(household, household.c.id == member.c.household_id)
    mine = coverage.c.policy_id == policy.id
    live = coverage.c.status != CoverStatus.cancelled.value
    clashing = _among(connection, coverage.c.policy_id, clashing_ids)
    previous = _among(connection, coverage.c.policy_id, previous_ids)

    def taken(member_id: Any) -> sa.ColumnElement[bool]:
        """One probe of the member's cover: already on this policy, or covered elsewhere for the same risk."""
        return _probe(member_id, sa.or_(mine, sa.and_(clashing, live)))

    def cover_rows(start: eligibility.EnrolmentStart, member_id: Any) -> sa.Select[Any]:
        renewed = (
            _probe(member_id, sa.and_(previous, live, coverage.c.cover_end >= policy.period_start - timedelta(days=1)))
            if previous_ids
            else sa.false()
        )
        return sa.select(
            member_id,
            sa.literal(policy.id),
            sa.literal(start.cover_start),
            sa.literal(policy.period_end),
            sa.true() if start.waiting_waived else renewed,  # a member covered last year has no waiting period
            sa.literal(CoverStatus.active.value),
            sa.literal(enrolment.id),
        )

    def group_statement(start: eligibility.EnrolmentStart | None, registered: Any) -> sa.Executable:
        """Adds the township's eligible members registered as `registered` says, unless taken (or counts them)."""
        who = sa.and_(eligible, in_township, registered, ~taken(member.c.id))
        if start is None:  # the period is over before their cover could start
            return sa.select(sa.func.count()).select_from(source).where(who)
        return coverage.insert().from_select(
            _COVER_COLUMNS, cover_rows(start, member.c.id).select_from(source).where(who)
        )

    # Whether the policy covered anyone before this run: if not, and everyone eligible is added, the first pass's
    # counts are the policy's totals.
    covered_before = connection.execute(sa.select(sa.exists().where(mine, live))).scalar_one()
    boundary = _beijing_midnight(policy.period_start)
    registered_before = member.c.created_at < boundary
    before = eligibility.enrolment_start(
        period_start=policy.period_start,
        period_end=policy.period_end,
        registered_on=policy.period_start - timedelta(days=1),
        enrolled_on=enrolment.enrolled_on,
        terms=terms,
    )
    later = sa.case((registered_before, 0), else_=1)  # registered during the period: for the second pass
    if connection.dialect.name == "postgresql":
        # One statement per township: the eligible members with their flags, those free added, all counted.
        candidates = (
            sa.select(
                member.c.id.label("member_id"),
                member.c.household_id.label("household_id"),
                later.label("later"),
                sa.case((sa.and_(registered_before, ~taken(member.c.id)), 1), else_=0).label("free"),
            )
            .select_from(source)
            .where(eligible, in_township)
            .cte("candidates")
        )
        # The free ones are added (a data-modifying CTE runs once, to completion, read or not) or too late.
        counting = sa.select(
            sa.func.sum(candidates.c.free), *_township_counts(candidates.c.household_id, candidates.c.later)
        ).select_from(candidates)
        if before is not None:
            rows = cover_rows(before, candidates.c.member_id).where(candidates.c.free == 1)
            counting = counting.add_cte(coverage.insert().from_select(_COVER_COLUMNS, rows).cte("added"))
        first_pass: list[sa.Executable] = [counting]
    else:
        counting = sa.select(*_township_counts(member.c.household_id, later)).select_from(source)
        first_pass = [counting.where(eligible, in_township), group_statement(before, registered_before)]
    ranges = _township_ranges(county_code, townships)
    counts = _Counts()
    added = too_late = conflicts = done = 0
    for low, high, number in ranges:
        township = {"low": low, "high": high}
        if len(first_pass) == 1:
            settled_here, *township_counts = connection.execute(first_pass[0], township).one()
        else:
            township_counts = list(connection.execute(first_pass[0], township).one())
            settled_here = _settle(connection, first_pass[1], township, counting=before is None)
        counts.add(*township_counts)
        if before is None:
            too_late += int(settled_here or 0)
        else:
            added += int(settled_here or 0)
        done += number
        if progress:
            progress(done, len(townships) or 1, added)
    if counts.later:
        # The second pass: members registered during the period, whose start depends on their registration day.
        later_days = connection.execute(
            sa.select(member.c.created_at).distinct().select_from(source).where(eligible, ~registered_before)
        ).scalars()
        groups: dict[eligibility.EnrolmentStart | None, list[Any]] = {}
        for registered_at in later_days:
            start = eligibility.enrolment_start(
                period_start=policy.period_start,
                period_end=policy.period_end,
                registered_on=local_date(registered_at),
                enrolled_on=enrolment.enrolled_on,
                terms=terms,
            )
            groups.setdefault(start, []).append(member.c.created_at == registered_at)
        second_pass = [(start, group_statement(start, sa.or_(*days))) for start, days in groups.items()]
        for low, high, _ in ranges:
            for start, statement in second_pass:
                count = _settle(connection, statement, {"low": low, "high": high}, counting=start is None)
                if start is None:
                    too_late += count
                else:
                    added += count
        if progress:
            progress(done, done, added)
    # Everyone eligible added or found too late: no one was on the policy already or covered elsewhere, so there is
    # no conflict to look for (the search costs another probe per member) and nothing to recount.
    everyone = added + too_late == counts.eligible
    if clashing_ids and not everyone:
        for low, high, _ in ranges:
            conflicts += _record_conflicts(
                connection,
                sa.and_(eligible, in_township),
                {"low": low, "high": high},
                sa.exists().where(coverage.c.member_id == member.c.id, mine),
                clashing_ids,
                policy,
                enrolment,
            )
    if everyone and not too_late and not covered_before:
        totals = _Totals(added, counts.households)
    else:
        totals = _policy_totals(connection, policy)
    ineligible = connection.execute(
        sa.select(sa.func.count()).select_from(source).where(active, sa.not_(eligible_household))
    ).scalar_one()
    households_before = policy.households_count
    _apply_totals(policy, version, totals)
    enrolment.added = added
    enrolment.households_added = policy.households_count - households_before
    enrolment.already_enrolled = policy.members_count - added
    enrolment.too_late = too_late
    enrolment.double_cover = conflicts
    enrolment.ineligible = ineligible
    enrolment.status = EnrolmentStatus.done
    enrolment.finished_at = utcnow()
    if added and policy.status == PolicyStatus.issued:
        _request_certificates_for_enrolment(connection, enrolment.id or 0, policy, reason="enrolled")
    session.add(enrolment)
    session.add(policy)
    audit.record(
        session,
        actor,
        enrolment.kind,
        "policy",
        policy.policy_no,
        after={
            "enrolment_id": enrolment.id,
            "enrolled_on": enrolment.enrolled_on,
            "added": added,
            "households_added": enrolment.households_added,
            "double_cover": conflicts,
            "ineligible": ineligible,
            "too_late": too_late,
            "members": policy.members_count,
            "premium_fen": policy.premium_fen,
        },
    )
    session.commit()
    return enrolment


TOWNSHIPS_PER_STATEMENT = 8  # fewer statements (each costs about a millisecond to plan and start), none huge


def _township_ranges(county_code: str, townships: list[str]) -> list[tuple[str, str, int]]:
    """Village-code ranges (low, high, how many townships) to enrol a county by: up to TOWNSHIPS_PER_STATEMENT
    townships with consecutive codes each (so a range holds no village of a township not on record), or the whole
    county when it has no township on record."""
    ranges: list[tuple[str, str, int]] = []
    for code in (t[:9] for t in townships):
        if ranges and ranges[-1][2] < TOWNSHIPS_PER_STATEMENT and int(code) == int(ranges[-1][1][:9]) + 1:
            low, _, number = ranges[-1]
            ranges[-1] = (low, code + "999", number + 1)
        else:
            ranges.append((code + "000", code + "999", 1))
    return ranges or [(county_code, county_code[:6] + "999999", 1)]


_COVER_COLUMNS = ["member_id", "policy_id", "cover_start", "cover_end", "waiting_waived", "status", "enrolment_id"]


@dataclass
class _Counts:
    """A county's eligible active members in its townships, as the first pass of enrol_county counts them."""

    eligible: int = 0
    households: int = 0  # households with an eligible member (a household lies in one village, so in one township)
    later: int = 0  # eligible members registered on or after the period start: the second pass enrols them

    def add(self, eligible: int | None, households: int | None, later: int | None) -> None:
        self.eligible += int(eligible or 0)
        self.households += int(households or 0)
        self.later += int(later or 0)


def _township_counts(household_id: Any, later: Any) -> list[Any]:
    """The columns _Counts.add takes, over a township's eligible members (`later` is 1 for those registered during
    the period)."""
    return [sa.func.count(), sa.func.count(sa.distinct(household_id)), sa.func.sum(later)]


def _probe(member_id: Any, condition: sa.ColumnElement[bool]) -> sa.Exists:
    """Whether the member has a coverage row meeting `condition`: one probe of the member's index, whatever the
    planner's statistics say. PostgreSQL would otherwise plan some of these, when it believes coverage small (stale
    statistics, or a generic plan of the driver's prepared statement), as one hash of every matching coverage row
    built afresh by each township's statement, or as one index descent per policy of the condition; either way the
    province's enrolment then grows with every county already enrolled (measured: 270 s instead of 3 s for 200,000
    members). So the condition is hidden from index matching inside a CASE, and `OFFSET 0` keeps the EXISTS from
    being hashed. (`<> 0`, not `= 1`: the planner guesses that few rows pass an `=`, which makes each probe look a
    hundred times dearer than it is.)"""
    coverage = Coverage.__table__
    return (
        sa.select(sa.literal(1))
        .select_from(coverage)
        .where(coverage.c.member_id == member_id, sa.case((condition, 1), else_=0) != 0)
        .offset(0)
        .exists()
    )


def _settle(connection: sa.Connection, statement: sa.Executable, params: dict[str, str], *, counting: bool) -> int:
    """Runs one group's statement: the members it added, or (a count of those too late) the members it counted."""
    if counting:
        return int(connection.execute(statement, params).scalar_one())
    return connection.execute(statement, params, execution_options=ROWCOUNT).rowcount


def _among(connection: sa.Connection, column: sa.ColumnElement[Any], ids: list[int]) -> sa.ColumnElement[bool]:
    """`column IN ids`. On PostgreSQL as one parameter, the array's text: a province has 121 other policies, and 121
    parameters made each township's statement too long for the driver's query cache (parsed anew every time), while
    a list parameter is adapted element by element on every execution."""
    if not ids:
        return sa.false()
    if connection.dialect.name == "postgresql":
        literal = "{" + ",".join(str(i) for i in ids) + "}"
        return column == sa.any_(sa.cast(sa.bindparam(None, literal, type_=sa.String), postgresql.ARRAY(sa.Integer)))
    return column.in_(ids)


def _previous_year_policy_ids(session: Session, policy: Policy) -> list[int]:
    """Live policies of the same product that ran up to the day before this one starts (renewal: no waiting)."""
    day_before = policy.period_start - timedelta(days=1)
    rows = session.exec(
        select(Policy.id).where(
            Policy.product_code == policy.product_code,
            Policy.status != PolicyStatus.cancelled,
            Policy.period_end >= day_before,
            Policy.period_start < policy.period_start,
        )
    ).all()
    return [r for r in rows if r is not None]


def _record_conflicts(
    connection: sa.Connection,
    in_township: sa.ColumnElement[bool],
    township: dict[str, str],
    on_this_policy: sa.ColumnElement[bool],
    clashing_ids: list[int],
    policy: Policy,
    enrolment: Enrolment,
) -> int:
    """Records, once, each eligible member of the townships given left off because a clashing policy covers them;
    returns how many this run recorded."""
    member, household, coverage = Member.__table__, Household.__table__, Coverage.__table__
    conflict = CoverConflict.__table__
    already = sa.exists().where(conflict.c.member_id == member.c.id, conflict.c.policy_id == policy.id)
    # The clashing policy with the lowest id, looked up through the member's index (see _probe): never a join that
    # the planner could turn into a hash of every clashing policy's rows. `+ 0`: PostgreSQL answers a bare MIN of
    # policy_id by walking the (policy_id, member_id) key in order, which for one member is the whole index.
    clashing = sa.and_(
        _among(connection, coverage.c.policy_id, clashing_ids), coverage.c.status != CoverStatus.cancelled.value
    )
    other = (
        sa.select(sa.func.min(coverage.c.policy_id + 0))
        .where(coverage.c.member_id == member.c.id, sa.case((clashing, 1), else_=0) != 0)
        .scalar_subquery()
    )
    rows = (
        sa.select(
            member.c.id,
            sa.literal(policy.id),
            other,
            sa.literal(enrolment.id),
            sa.literal("open"),
            sa.literal(utcnow(), sa.DateTime(timezone=True)),
        )
        .select_from(member.join(household, household.c.id == member.c.household_id))
        .where(in_township, ~on_this_policy, ~already, other.is_not(None))
    )
    result = connection.execute(
        conflict.insert().from_select(
            ["member_id", "policy_id", "other_policy_id", "enrolment_id", "status", "created_at"], rows
        ),
        township,
        execution_options=ROWCOUNT,
    )
    return result.rowcount


@dataclass(frozen=True)
class _Totals:
    members: int
    households: int


def _policy_totals(connection: sa.Connection, policy: Policy) -> _Totals:
    member, coverage = Member.__table__, Coverage.__table__
    row = connection.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(member.c.household_id)))
        .select_from(coverage.join(member, member.c.id == coverage.c.member_id))
        .where(coverage.c.policy_id == policy.id, coverage.c.status != CoverStatus.cancelled.value)
    ).one()
    return _Totals(int(row[0]), int(row[1]))


def _apply_totals(policy: Policy, version: ProductVersion, totals: _Totals) -> None:
    """A group premium: per person and per household, no pro-rating; who pays which part, to the fen."""
    policy.members_count = totals.members
    policy.households_count = totals.households
    policy.premium_fen = premiums.group_premium(
        totals.members,
        totals.households,
        per_person_fen=policy.premium_per_person_fen,
        per_household_fen=policy.premium_per_household_fen,
    )
    split = premiums.split_premium(policy.premium_fen, subsidy_shares(version))
    policy.subsidy_central_fen = split.central_fen
    policy.subsidy_provincial_fen = split.provincial_fen
    policy.subsidy_county_fen = split.county_fen
    policy.farmer_share_fen = split.farmer_fen


def _request_certificates_for_enrolment(
    connection: sa.Connection, enrolment_id: int, policy: Policy, reason: str
) -> None:
    member, coverage = Member.__table__, Coverage.__table__
    outbox.request_certificates(
        connection,
        sa.select(member.c.household_id)
        .distinct()
        .select_from(coverage.join(member, member.c.id == coverage.c.member_id))
        .where(coverage.c.policy_id == policy.id, coverage.c.enrolment_id == enrolment_id),
        policy.id or 0,
        reason,
    )


# --- renewal, issue, cancellation ---------------------------------------------------------------------------------


def renew_policy(
    session: Session, user: User, policy_no: str, data: RenewalCreate, today: date
) -> tuple[Policy, Enrolment]:
    """Next year's policy for the same county and insurer, and a queued enrolment that carries forward everyone
    still eligible (members covered this year keep no waiting period)."""
    old = _own_policy(session, user, policy_no)
    _check_enrollable(old)
    year = data.year or old.year + 1
    if year <= old.year:
        raise Invalid("续保年度须晚于原保单年度 (renewal is for a later year)", field="year")
    version = version_for(session, get_product(session, old.product_code), year, data.product_version)
    created = _new_group_policy(
        session,
        user,
        GroupPolicyCreate(
            county_code=old.county_code,
            year=year,
            product_code=old.product_code,
            product_version=version.version,
            premium_per_person_fen=data.premium_per_person_fen,
            policy_no=data.policy_no,
            policyholder=old.policyholder,
        ),
        renewed_from=old,
    )
    audit.record(session, Actor.of(user), "renew", "policy", old.policy_no, after={"renewed_as": created.policy_no})
    enrolment = _queue_enrolment(session, Actor.of(user), created, today, kind="renew", status=EnrolmentStatus.queued)
    session.commit()
    return created, enrolment


def issue_policy(session: Session, user: User, policy_no: str, today: date) -> Policy:
    """Puts a policy in force once every village has seen its notice, the objection windows have closed and no
    objection is left open; every covered household's certificate is then requested."""
    policy = _own_policy(session, user, policy_no, supervisor=True)
    if policy.status != PolicyStatus.draft:
        raise Conflict(f"保单状态为{policy.status}，不能出单 (only a draft policy is issued)", code="not_draft")
    if policy.members_count == 0 and policy.kind == ProductKind.family:
        raise Invalid("保单还没有参保人员 (no one is enrolled yet)", code="nobody_enrolled", field="policy_no")
    villages = policy_village_summary(session, policy)
    missing = [v["village_code"] for v in villages if v["notice"] is None]
    if missing:
        raise Conflict(
            f"还有 {len(missing)} 个村未张贴承保公示，如 {missing[0]} (villages without an enrolment notice)",
            code="notice_missing",
        )
    open_window = [v["notice"] for v in villages if v["notice"].objection_until >= today]
    if open_window:
        first = min(open_window, key=lambda n: n.objection_until)
        raise Conflict(
            f"村 {first.village_code} 的公示异议期至 {first.objection_until} 才结束 (an objection window is open)",
            code="objection_window_open",
        )
    open_objections = sum(open_objection_counts(session, policy).values())
    if open_objections:
        raise Conflict(f"还有 {open_objections} 条异议未处理 (objections are still open)", code="objections_open")
    policy.status = PolicyStatus.issued
    policy.issued_at = utcnow()
    session.add(policy)
    connection = session.connection()
    requested = outbox.request_certificates(connection, _covered_households(policy), policy.id or 0, "policy_issued")
    outbox.request_booklets(connection, policy.id or 0, "policy_issued")
    audit.record(
        session,
        Actor.of(user),
        "issue",
        "policy",
        policy.policy_no,
        after={"members": policy.members_count, "certificates_requested": requested},
    )
    session.commit()
    return policy


def _covered_households(policy: Policy, *, include_cancelled: bool = False) -> sa.Select[Any]:
    if policy.kind == ProductKind.industry:
        objects = InsuredObject.__table__
        query = sa.select(objects.c.household_id).distinct().where(objects.c.policy_id == policy.id)
        return query if include_cancelled else query.where(objects.c.status != CoverStatus.cancelled.value)
    member, coverage = Member.__table__, Coverage.__table__
    query = (
        sa.select(member.c.household_id)
        .distinct()
        .select_from(coverage.join(member, member.c.id == coverage.c.member_id))
        .where(coverage.c.policy_id == policy.id)
    )
    return query if include_cancelled else query.where(coverage.c.status != CoverStatus.cancelled.value)


def cancel_policy(session: Session, user: User, policy_no: str, reason: str, today: date) -> Policy:
    """A draft policy is void from the start; an issued one ends today. Households it covered get new
    certificates when it was in force."""
    policy = _own_policy(session, user, policy_no, supervisor=True)
    if policy.status == PolicyStatus.cancelled:
        raise Conflict("保单已撤销 (already cancelled)", code="policy_cancelled")
    was_issued = policy.status == PolicyStatus.issued
    connection = session.connection()
    table = InsuredObject.__table__ if policy.kind == ProductKind.industry else Coverage.__table__
    live = sa.and_(table.c.policy_id == policy.id, table.c.status == CoverStatus.active.value)
    if was_issued:
        connection.execute(
            table.update()
            .where(live, table.c.cover_end > today)
            .values(status=CoverStatus.ended.value, end_reason="policy_cancelled", cover_end=today)
        )
        outbox.request_certificates(
            connection, _covered_households(policy, include_cancelled=True), policy.id or 0, "policy_cancelled"
        )
    else:
        connection.execute(
            table.update().where(live).values(status=CoverStatus.cancelled.value, end_reason="policy_cancelled")
        )
    policy.status = PolicyStatus.cancelled
    policy.cancelled_at = utcnow()
    policy.cancel_reason = reason
    session.add(policy)
    audit.record(
        session,
        Actor.of(user),
        "cancel",
        "policy",
        policy.policy_no,
        before={"status": "issued" if was_issued else "draft"},
        after={"status": "cancelled", "reason": reason, "on": today},
    )
    session.commit()
    return policy


# --- the register changes: deaths and moves end cover ---------------------------------------------------------------


def sync_cover_with_register(session: Session, actor: Actor, *, changed_since: datetime | None = None) -> int:
    """Ends the cover of members the register now shows as deceased (on the day of death) or moved out (per the
    programme's rule), each change audited and the household's certificate requested. Runs in the caller's
    transaction (the roster import's), so the register and the cover never disagree. The import passes the time it
    stamped on the members it changed, so only those are looked at, not every death in the province."""
    connection = session.connection()
    member, coverage, policy_table = Member.__table__, Coverage.__table__, Policy.__table__
    rows = connection.execute(
        sa.select(
            coverage.c.member_id,
            coverage.c.policy_id,
            coverage.c.cover_start,
            coverage.c.cover_end,
            member.c.status,
            member.c.status_date,
            member.c.household_id,
            policy_table.c.period_end,
            policy_table.c.product_version_id,
            policy_table.c.status.label("policy_status"),
            policy_table.c.policy_no,
        )
        .select_from(
            coverage.join(member, member.c.id == coverage.c.member_id).join(
                policy_table, policy_table.c.id == coverage.c.policy_id
            )
        )
        .where(
            coverage.c.status == CoverStatus.active.value,
            policy_table.c.status != PolicyStatus.cancelled.value,
            member.c.status.in_([MemberStatus.deceased.value, MemberStatus.moved_out.value]),
            member.c.status_date.is_not(None),
            member.c.status_date <= coverage.c.cover_end,
            sa.true() if changed_since is None else member.c.updated_at >= changed_since,
        )
    ).all()
    terms_by_version: dict[int, eligibility.CoverTerms] = {}
    changed = 0
    for row in rows:
        if row.product_version_id not in terms_by_version:
            version = session.get(ProductVersion, row.product_version_id)
            assert version is not None
            terms_by_version[row.product_version_id] = cover_terms(version)
        end = eligibility.cover_end_after_status(
            status=row.status,
            status_date=row.status_date,
            cover_start=row.cover_start,
            period_end=row.period_end,
            terms=terms_by_version[row.product_version_id],
        )
        if end >= row.cover_end:
            continue
        connection.execute(
            coverage.update()
            .where(coverage.c.member_id == row.member_id, coverage.c.policy_id == row.policy_id)
            .values(cover_end=end, status=CoverStatus.ended.value, end_reason=row.status)
        )
        audit.record(
            session,
            actor,
            "end_cover",
            "coverage",
            f"{row.policy_no}:{row.member_id}",
            before={"cover_end": row.cover_end},
            after={"cover_end": end, "reason": row.status},
        )
        if row.policy_status == PolicyStatus.issued.value:
            outbox.request_certificates(
                connection, sa.select(sa.literal(row.household_id)), row.policy_id, f"member_{row.status}"
            )
        changed += 1
    return changed


# --- industry policies ------------------------------------------------------------------------------------------


def _household_by_no(session: Session, household_no: str, field: str) -> Household:
    household = register_service.find_household(session, household_no)
    if household is None:
        raise Invalid(
            f"户编号 {household_no} 不在建档立卡名册中 (not on the register)", code="household_not_found", field=field
        )
    if household.removed_on is not None:
        raise Invalid(
            f"户 {household_no} 已移出名册 (removed from the register)", code="household_removed", field=field
        )
    return household


def _village_in_county(session: Session, code: str, county_code: str, field: str) -> Division:
    """A village (not a township or county) of the given county: where an object lies or a notice is posted."""
    village = session.get(Division, code.strip())
    if village is None or village.level != DivisionLevel.village or not village.code.startswith(county_code):
        raise Invalid(f"{code} 不是本县的村 (not a village of county {county_code})", code="bad_village", field=field)
    return village


def _default_season(product: Product, year: int) -> str:
    subject = product.subject or ""
    if subject.startswith("rice_"):
        return f"{year}-{subject.removeprefix('rice_')}"
    return str(year)


def create_industry_policy(session: Session, user: User, data: IndustryPolicyCreate) -> Policy:
    """An industry policy with its insured objects, each priced exactly and split between payers to the fen.

    The same object (household, species or crop, village, season) insured twice for overlapping periods, by this
    or another insurer, is refused with the other policy named.
    """
    insurer_id = _require_insurer(user)
    product = get_product(session, data.product_code)
    if product.kind != ProductKind.industry:
        raise Invalid("产业保险须选择种植或养殖险产品 (an industry product is required)", field="product_code")
    _require_offer(session, insurer_id, product)
    version = version_for(session, product, data.year, data.product_version)
    period_start, period_end = _period(data.year, data.period_start, data.period_end)
    season = data.season or _default_season(product, data.year)
    assert version.sum_insured_fen is not None and version.rate_bp is not None  # checked when the version was made
    shares = subsidy_shares(version)
    cooperative_uscc = None
    if data.cooperative_uscc:
        cooperative_uscc = register_service.valid_uscc(data.cooperative_uscc, field="cooperative_uscc")
        if not data.cooperative_name:
            raise Invalid("请填写合作社名称 (cooperative name required)", field="cooperative_name")
    elif len({o.household_no.strip() for o in data.objects}) > 1:
        raise Invalid(
            "多户投保须由合作社统一投保 (several households need a cooperative as policyholder)",
            field="cooperative_uscc",
        )
    lines: list[InsuredObject] = []
    seen: set[tuple[int, str]] = set()
    county: str | None = None
    for index, item in enumerate(data.objects):
        field = f"objects.{index}"
        household = _household_by_no(session, item.household_no, f"{field}.household_no")
        if product.unit == ProductUnit.head and item.quantity != item.quantity.to_integral_value():
            raise Invalid("头数须为整数 (a head count is a whole number)", field=f"{field}.quantity")
        village = _village_in_county(
            session, item.village_code or household.village_code, household.county_code, f"{field}.village_code"
        ).code
        if county is None:
            county = household.county_code
        elif county != household.county_code:
            raise Invalid("一张保单的标的须在同一县 (a policy covers one county)", field=f"{field}.household_no")
        key = (household.id or 0, village)
        if key in seen:
            raise Invalid("同一农户同一村的标的重复 (the same object twice in one policy)", field=field)
        seen.add(key)
        other = _double_insured(
            session, household.id or 0, product.subject or "", village, season, period_start, period_end
        )
        if other is not None:
            raise Conflict(
                f"户 {household.household_no} 的{product.name}（{season}）已由保单 {other.policy_no} 承保"
                f"（{other.period_start}至{other.period_end}）(already insured by that policy)",
                code="double_cover",
                field=f"{field}.household_no",
            )
        premium = premiums.line_premium(item.quantity, sum_insured_fen=version.sum_insured_fen, rate_bp=version.rate_bp)
        split = premiums.split_premium(premium, shares)
        lines.append(
            InsuredObject(
                policy_id=0,
                household_id=household.id or 0,
                subject=product.subject or product.code,
                unit=product.unit,
                quantity=item.quantity,
                village_code=village,
                season=season,
                ear_tags=item.ear_tags,
                sum_insured_fen=premiums.line_sum_insured(item.quantity, version.sum_insured_fen),
                premium_fen=premium,
                subsidy_central_fen=split.central_fen,
                subsidy_provincial_fen=split.provincial_fen,
                subsidy_county_fen=split.county_fen,
                farmer_share_fen=split.farmer_fen,
                cover_start=period_start,
                cover_end=period_end,
                waiting_waived=_renewed_object(session, household.id or 0, product.subject or "", period_start),
            )
        )
    assert county is not None
    holder = data.cooperative_name if cooperative_uscc else None
    if holder is None:
        first = session.get(Household, lines[0].household_id)  # loaded above: no query
        assert first is not None
        head = session.exec(
            select(Member.name).where(Member.household_id == first.id, Member.relation == HEAD_RELATION)
        ).first()
        holder = f"{head or ''}（户 {first.household_no}）"
    policy_no = data.policy_no or _next_policy_no(session, f"NY{data.year}{county}")
    _check_policy_no(session, policy_no)
    policy = Policy(
        policy_no=policy_no,
        kind=ProductKind.industry,
        insurer_id=insurer_id,
        product_code=product.code,
        product_version_id=version.id or 0,
        county_code=county,
        year=data.year,
        period_start=period_start,
        period_end=period_end,
        policyholder=holder,
        household_id=None if cooperative_uscc else lines[0].household_id,
        cooperative_uscc=cooperative_uscc,
        created_by=user.username,
    )
    _set_industry_totals(policy, lines)
    session.add(policy)
    session.flush()
    for line in lines:
        line.policy_id = policy.id or 0
        session.add(line)
    session.flush()
    audit.record(
        session,
        Actor.of(user),
        "create",
        "policy",
        policy.policy_no,
        after={**_policy_facts(policy), "objects": [_object_facts(o) for o in lines]},
    )
    session.commit()
    return policy


def _object_facts(line: InsuredObject) -> dict[str, Any]:
    return {
        "household_id": line.household_id,
        "subject": line.subject,
        "quantity": str(line.quantity),
        "village_code": line.village_code,
        "season": line.season,
        "premium_fen": line.premium_fen,
        "farmer_share_fen": line.farmer_share_fen,
    }


def _double_insured(
    session: Session, household_id: int, subject: str, village: str, season: str, start: date, end: date
) -> Policy | None:
    return session.exec(
        select(Policy)
        .join(InsuredObject, col(InsuredObject.policy_id) == Policy.id)
        .where(
            InsuredObject.household_id == household_id,
            InsuredObject.subject == subject,
            InsuredObject.village_code == village,
            InsuredObject.season == season,
            InsuredObject.status != CoverStatus.cancelled,
            Policy.status != PolicyStatus.cancelled,
            InsuredObject.cover_start <= end,
            InsuredObject.cover_end >= start,
        )
    ).first()


def _renewed_object(session: Session, household_id: int, subject: str, start: date) -> bool:
    """Livestock renewed without a gap keeps no disease waiting period (domain.md §2.2)."""
    return (
        session.exec(
            select(InsuredObject.id)
            .join(Policy, col(Policy.id) == InsuredObject.policy_id)
            .where(
                InsuredObject.household_id == household_id,
                InsuredObject.subject == subject,
                InsuredObject.status != CoverStatus.cancelled,
                Policy.status != PolicyStatus.cancelled,
                InsuredObject.cover_start < start,
                InsuredObject.cover_end >= start - timedelta(days=1),
            )
        ).first()
        is not None
    )


def list_objects(session: Session, policy: Policy) -> list[tuple[InsuredObject, str]]:
    rows = session.exec(
        select(InsuredObject, Household.household_no)
        .join(Household, col(Household.id) == InsuredObject.household_id)
        .where(InsuredObject.policy_id == policy.id)
        .order_by(col(InsuredObject.id))
    ).all()
    return [(o, no) for o, no in rows]


# --- enrolment notices (承保公示) and objections ----------------------------------------------------------------------


def list_notices(session: Session, policy: Policy) -> list[EnrolmentNotice]:
    return list(
        session.exec(
            select(EnrolmentNotice)
            .where(EnrolmentNotice.policy_id == policy.id)
            .order_by(col(EnrolmentNotice.village_code))
        ).all()
    )


def household_premium(policy: Policy, shares: premiums.SubsidyShares, persons: int) -> tuple[int, int]:
    """One household's premium on a family group policy and the household's own share of it (notice, certificate)."""
    premium = premiums.group_premium(
        persons, 1, per_person_fen=policy.premium_per_person_fen, per_household_fen=policy.premium_per_household_fen
    )
    return premium, premiums.split_premium(premium, shares).farmer_fen


@dataclass(frozen=True)
class NoticeLineData:
    household_id: int
    household_no: str
    head_name: str | None
    head_id_masked: str | None
    insured: str
    persons: int
    premium_fen: int
    household_share_fen: int


def notice_lines(session: Session, policy: Policy, village_code: str) -> list[NoticeLineData]:
    """The lines of the village's enrolment notice: household, head, masked ID, what is insured, the premium
    and the household's own share. Nothing else leaves the office."""
    version = session.get(ProductVersion, policy.product_version_id)
    assert version is not None
    shares = subsidy_shares(version)
    heads = {
        household_id: (name, id_number)
        for household_id, name, id_number in session.exec(
            select(Member.household_id, Member.name, Member.id_number)
            .join(Household, col(Household.id) == Member.household_id)
            .where(Household.village_code == village_code, Member.relation == HEAD_RELATION)
        ).all()
    }
    lines: list[NoticeLineData] = []
    if policy.kind == ProductKind.family:
        rows = session.exec(
            select(Household.id, Household.household_no, func.count())
            .select_from(Coverage)
            .join(Member, col(Member.id) == Coverage.member_id)
            .join(Household, col(Household.id) == Member.household_id)
            .where(
                Coverage.policy_id == policy.id,
                Coverage.status != CoverStatus.cancelled,
                Household.village_code == village_code,
            )
            .group_by(col(Household.id), col(Household.household_no))
            .order_by(col(Household.household_no))
        ).all()
        for household_id, household_no, persons in rows:
            premium, share = household_premium(policy, shares, persons)
            name, id_number = heads.get(household_id, (None, None))
            lines.append(
                NoticeLineData(
                    household_id=household_id,
                    household_no=household_no,
                    head_name=name,
                    head_id_masked=mask_id_number(id_number) if id_number else None,
                    insured=f"家庭综合保障 {persons} 人",
                    persons=persons,
                    premium_fen=premium,
                    household_share_fen=share,
                )
            )
        return lines
    product = session.get(Product, policy.product_code)
    unit = UNIT_LABELS.get(product.unit, "") if product else ""
    for line, household_no in list_objects(session, policy):
        if line.village_code != village_code or line.status == CoverStatus.cancelled:
            continue
        name, id_number = heads.get(line.household_id, (None, None))
        lines.append(
            NoticeLineData(
                household_id=line.household_id,
                household_no=household_no,
                head_name=name,
                head_id_masked=mask_id_number(id_number) if id_number else None,
                insured=f"{product.name if product else line.subject} {line.quantity.normalize():f} {unit}",
                persons=0,
                premium_fen=line.premium_fen,
                household_share_fen=line.farmer_share_fen,
            )
        )
    return lines


def post_notice(session: Session, user: User, policy_no: str, village_code: str, posted_on: date) -> EnrolmentNotice:
    """Records that the village's list was posted; the objection window follows from the product's terms. Posting
    again (after a correction) restarts the window."""
    policy = get_policy(session, user, policy_no)
    _require_noticer(user)
    if policy.status != PolicyStatus.draft:
        raise Conflict("只有待出单的保单需要承保公示 (only a draft policy is noticed)", code="not_draft")
    code = _village_in_county(session, village_code, policy.county_code, "village_code").code
    lines = notice_lines(session, policy, code)
    if not lines:
        raise Invalid(
            f"村 {code} 没有参保农户 (no household of this village is on the policy)",
            code="village_not_on_policy",
            field="village_code",
        )
    version = session.get(ProductVersion, policy.product_version_id)
    assert version is not None
    until = posted_on + timedelta(days=cover_terms(version).notice_objection_days)
    notice = session.exec(
        select(EnrolmentNotice).where(EnrolmentNotice.policy_id == policy.id, EnrolmentNotice.village_code == code)
    ).first()
    before = None
    if notice is None:
        notice = EnrolmentNotice(
            policy_id=policy.id or 0,
            village_code=code,
            posted_on=posted_on,
            objection_until=until,
            posted_by=user.username,
        )
    else:
        before = {"posted_on": notice.posted_on, "objection_until": notice.objection_until}
        notice.posted_on, notice.objection_until, notice.posted_by = posted_on, until, user.username
    notice.households = len(lines)
    notice.members = sum(line.persons for line in lines)
    session.add(notice)
    session.flush()
    outbox.request_notice(session.connection(), policy.id or 0, code, "notice_posted")
    audit.record(
        session,
        Actor.of(user),
        "post_notice",
        "enrolment_notice",
        notice.id,
        before=before,
        after={
            "policy": policy.policy_no,
            "village": code,
            "posted_on": posted_on,
            "objection_until": until,
            "households": notice.households,
        },
    )
    session.commit()
    return notice


def get_notice(session: Session, user: User, notice_id: int) -> tuple[EnrolmentNotice, Policy]:
    notice = session.get(EnrolmentNotice, notice_id)
    policy = session.get(Policy, notice.policy_id) if notice else None
    if notice is None or policy is None or not may_see_policy(user, policy):
        raise NotFound("公示不存在 (no such notice)", code="notice_not_found", field="notice_id")
    return notice, policy


def open_objection_counts(session: Session, policy: Policy) -> dict[int, int]:
    """Open objections per notice of the policy, in one query (pages and the API show them per village)."""
    rows = session.exec(
        select(NoticeObjection.notice_id, func.count())
        .join(EnrolmentNotice, col(EnrolmentNotice.id) == NoticeObjection.notice_id)
        .where(EnrolmentNotice.policy_id == policy.id, NoticeObjection.status == ObjectionStatus.open)
        .group_by(col(NoticeObjection.notice_id))
    ).all()
    return dict(rows)


def village_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    return {d.code: d.name for d in session.exec(select(Division).where(col(Division.code).in_(wanted)))}


def list_objections(session: Session, notice: EnrolmentNotice) -> list[NoticeObjection]:
    return list(
        session.exec(
            select(NoticeObjection).where(NoticeObjection.notice_id == notice.id).order_by(col(NoticeObjection.id))
        ).all()
    )


def record_objection(session: Session, user: User, notice_id: int, data: ObjectionCreate) -> NoticeObjection:
    notice, policy = get_notice(session, user, notice_id)
    _require_noticer(user)
    if policy.status != PolicyStatus.draft:
        raise Conflict("保单已出单或撤销，公示异议已结束 (the policy is no longer being noticed)", code="not_draft")
    if data.raised_on < notice.posted_on or data.raised_on > notice.objection_until:
        raise Invalid(
            f"异议须在公示期内提出（{notice.posted_on}至{notice.objection_until}）(outside the objection window)",
            code="outside_objection_window",
            field="raised_on",
        )
    household = _household_by_no(session, data.household_no, "household_no")
    if household.id not in {line.household_id for line in notice_lines(session, policy, notice.village_code)}:
        raise Invalid("该户不在本村公示名单中 (the household is not on this notice)", field="household_no")
    if data.member_id is not None:
        member = session.get(Member, data.member_id)
        if member is None or member.household_id != household.id:
            raise Invalid("该成员不属于此户 (the member is not of this household)", field="member_id")
    objection = NoticeObjection(
        notice_id=notice.id or 0,
        household_id=household.id or 0,
        member_id=data.member_id,
        raised_on=data.raised_on,
        raised_by=data.raised_by,
        reason=data.reason,
        recorded_by=user.username,
    )
    session.add(objection)
    session.flush()
    audit.record(
        session,
        Actor.of(user),
        "record_objection",
        "notice_objection",
        objection.id,
        after=data.model_dump(mode="json"),
    )
    session.commit()
    return objection


def resolve_objection(session: Session, user: User, objection_id: int, data: ObjectionResolve) -> NoticeObjection:
    """An upheld objection takes the member (or the whole household) off the policy before it is issued."""
    objection = session.get(NoticeObjection, objection_id)
    if objection is None:
        raise NotFound("异议不存在 (no such objection)", code="objection_not_found", field="objection_id")
    notice, policy = get_notice(session, user, objection.notice_id)
    _require_noticer(user)
    if objection.status != ObjectionStatus.open:
        raise Conflict("该异议已处理 (already resolved)", code="objection_resolved")
    objection.status = ObjectionStatus.upheld if data.upheld else ObjectionStatus.dismissed
    objection.resolution = data.resolution
    objection.resolved_by = user.username
    objection.resolved_at = utcnow()
    session.add(objection)
    removed = 0
    if data.upheld and policy.status == PolicyStatus.draft:
        connection = session.connection()
        if policy.kind == ProductKind.industry:
            objects = InsuredObject.__table__
            result = connection.execute(
                objects.update()
                .where(
                    objects.c.policy_id == policy.id,
                    objects.c.household_id == objection.household_id,
                    objects.c.village_code == notice.village_code,
                )
                .values(status=CoverStatus.cancelled.value, end_reason="objection_upheld")
            )
            removed = result.rowcount or 0
            _set_industry_totals(policy, (o for o, _ in list_objects(session, policy)))
        else:
            coverage, member = Coverage.__table__, Member.__table__
            who = (
                sa.select(member.c.id).where(member.c.id == objection.member_id)
                if objection.member_id is not None
                else sa.select(member.c.id).where(member.c.household_id == objection.household_id)
            )
            result = connection.execute(
                coverage.update()
                .where(
                    coverage.c.policy_id == policy.id,
                    coverage.c.member_id.in_(who),
                    coverage.c.status != CoverStatus.cancelled.value,
                )
                .values(status=CoverStatus.cancelled.value, end_reason="objection_upheld")
            )
            removed = result.rowcount or 0
            version = session.get(ProductVersion, policy.product_version_id)
            assert version is not None
            _apply_totals(policy, version, _policy_totals(connection, policy))
        session.add(policy)
    audit.record(
        session,
        Actor.of(user),
        "resolve_objection",
        "notice_objection",
        objection.id,
        after={"upheld": data.upheld, "resolution": data.resolution, "lines_removed": removed},
    )
    session.commit()
    return objection


def _set_industry_totals(policy: Policy, lines: Iterable[InsuredObject]) -> None:
    """An industry policy's totals are the sums of its live lines (each already split to the fen)."""
    live = [o for o in lines if o.status != CoverStatus.cancelled]
    policy.households_count = len({o.household_id for o in live})
    policy.premium_fen = sum(o.premium_fen for o in live)
    policy.subsidy_central_fen = sum(o.subsidy_central_fen for o in live)
    policy.subsidy_provincial_fen = sum(o.subsidy_provincial_fen for o in live)
    policy.subsidy_county_fen = sum(o.subsidy_county_fen for o in live)
    policy.farmer_share_fen = sum(o.farmer_share_fen for o in live)


# --- what a household is covered for ------------------------------------------------------------------------------


def _benefit_terms(benefit: ProductBenefit) -> eligibility.BenefitTerms:
    return eligibility.BenefitTerms(
        code=benefit.code,
        name=benefit.name,
        perils=frozenset(benefit.perils),
        sum_insured_fen=benefit.sum_insured_fen,
        deductible_fen=benefit.deductible_fen,
        reimbursement_bp=benefit.reimbursement_bp,
        per_event_limit_fen=benefit.per_event_limit_fen,
        annual_limit_fen=benefit.annual_limit_fen,
        waiting_days=benefit.waiting_days,
        waiting_perils=frozenset(benefit.waiting_perils),
    )


def _benefits_by_version(
    session: Session, version_ids: Iterable[int]
) -> dict[int, tuple[eligibility.BenefitTerms, ...]]:
    ids = sorted(set(version_ids))
    found: dict[int, list[eligibility.BenefitTerms]] = {i: [] for i in ids}
    for benefit in session.exec(
        select(ProductBenefit).where(col(ProductBenefit.version_id).in_(ids)).order_by(col(ProductBenefit.id))
    ):
        found[benefit.version_id].append(_benefit_terms(benefit))
    return {k: tuple(v) for k, v in found.items()}


def member_cover_lines(session: Session, member_id: int) -> list[eligibility.CoverLine]:
    rows = session.exec(
        select(Coverage, Policy)
        .join(Policy, col(Policy.id) == Coverage.policy_id)
        .where(Coverage.member_id == member_id)
    ).all()
    benefits = _benefits_by_version(session, [p.product_version_id for _, p in rows])
    return [_cover_line(policy, cover, benefits[policy.product_version_id]) for cover, policy in rows]


def _cover_line(
    policy: Policy,
    line: Coverage | InsuredObject,
    benefits: tuple[eligibility.BenefitTerms, ...],
    units: Decimal = Decimal(1),
) -> eligibility.CoverLine:
    return eligibility.CoverLine(
        policy_no=policy.policy_no,
        # Issued once is in force for the days it covered: a cancellation ends the lines, it does not void them.
        policy_in_force=policy.issued_at is not None,
        cover_start=line.cover_start,
        cover_end=line.cover_end,
        cancelled=line.status == CoverStatus.cancelled,
        waiting_waived=line.waiting_waived,
        benefits=benefits,
        units=units,
    )


def get_member(session: Session, user: User, member_id: int) -> Member:
    member = session.get(Member, member_id)
    household = session.get(Household, member.household_id) if member else None
    if member is None or household is None or not can_see_division(user, household.village_code):
        raise NotFound("人员不存在或不在您的辖区内 (no such member)", code="member_not_found", field="member_id")
    return member


def member_cover(session: Session, user: User, member_id: int, peril: str, on: date) -> eligibility.CoverAnswer:
    """The one answer claims rely on: covered or not for the peril on the date, by which policy and benefit, and
    what is left of the annual limit (nothing is paid yet: claims will pass what they paid)."""
    get_member(session, user, member_id)
    return eligibility.cover_for(member_cover_lines(session, member_id), peril, on, {})


def object_cover(session: Session, user: User, object_id: int, peril: str, on: date) -> eligibility.CoverAnswer:
    line = session.get(InsuredObject, object_id)
    policy = session.get(Policy, line.policy_id) if line else None
    if line is None or policy is None or not may_see_policy(user, policy):
        raise NotFound("保险标的不存在 (no such insured object)", code="object_not_found", field="object_id")
    benefits = _benefits_by_version(session, [policy.product_version_id])[policy.product_version_id]
    return eligibility.cover_for([_cover_line(policy, line, benefits, Decimal(line.quantity))], peril, on, {})


@dataclass(frozen=True)
class MemberCoverRow:
    member: Member
    coverage: Coverage
    policy: Policy
    insurer_name: str
    product_name: str


def household_cover(
    session: Session, household: Household
) -> tuple[list[MemberCoverRow], list[tuple[InsuredObject, Policy]]]:
    """Every cover of a household's members and insured objects, newest policy first."""
    rows = session.exec(
        select(Member, Coverage, Policy, Insurer.short_name, Product.name)
        .join(Coverage, col(Coverage.member_id) == Member.id)
        .join(Policy, col(Policy.id) == Coverage.policy_id)
        .join(Insurer, col(Insurer.id) == Policy.insurer_id)
        .join(Product, col(Product.code) == Policy.product_code)
        .where(Member.household_id == household.id)
        .order_by(col(Policy.period_start).desc(), Member.relation != HEAD_RELATION, col(Member.birth_date))
    ).all()
    objects = session.exec(
        select(InsuredObject, Policy)
        .join(Policy, col(Policy.id) == InsuredObject.policy_id)
        .where(InsuredObject.household_id == household.id)
        .order_by(col(Policy.period_start).desc())
    ).all()
    return (
        [MemberCoverRow(m, c, p, insurer, product) for m, c, p, insurer, product in rows],
        [(o, p) for o, p in objects],
    )


def list_conflicts(session: Session, policy: Policy, limit: int = CONFLICT_SAMPLE) -> list[tuple[Member, str]]:
    rows = session.exec(
        select(Member, Policy.policy_no)
        .join(CoverConflict, col(CoverConflict.member_id) == Member.id)
        .join(Policy, col(Policy.id) == CoverConflict.other_policy_id)
        .where(CoverConflict.policy_id == policy.id, CoverConflict.status == "open")
        .order_by(col(CoverConflict.id))
        .limit(limit)
    ).all()
    return [(m, no) for m, no in rows]


def household_numbers(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return dict(session.exec(select(Household.id, Household.household_no).where(col(Household.id).in_(wanted))).all())


def policy_numbers(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return dict(session.exec(select(Policy.id, Policy.policy_no).where(col(Policy.id).in_(wanted))).all())


def insurer_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {i.id or 0: i.short_name for i in session.exec(select(Insurer).where(col(Insurer.id).in_(wanted)))}


def policy_village_summary(session: Session, policy: Policy) -> list[dict[str, Any]]:
    """Per village: households and members on the policy, its notice and the notice's open objections."""
    connection = session.connection()
    notices = {n.village_code: n for n in list_notices(session, policy)}
    open_counts = open_objection_counts(session, policy)
    if policy.kind == ProductKind.family:
        member, household, coverage = Member.__table__, Household.__table__, Coverage.__table__
        rows = connection.execute(
            sa.select(household.c.village_code, sa.func.count(sa.distinct(household.c.id)), sa.func.count())
            .select_from(
                coverage.join(member, member.c.id == coverage.c.member_id).join(
                    household, household.c.id == member.c.household_id
                )
            )
            .where(coverage.c.policy_id == policy.id, coverage.c.status != CoverStatus.cancelled.value)
            .group_by(household.c.village_code)
            .order_by(household.c.village_code)
        ).all()
    else:
        objects = InsuredObject.__table__
        rows = connection.execute(
            sa.select(objects.c.village_code, sa.func.count(sa.distinct(objects.c.household_id)), sa.literal(0))
            .where(objects.c.policy_id == policy.id, objects.c.status != CoverStatus.cancelled.value)
            .group_by(objects.c.village_code)
            .order_by(objects.c.village_code)
        ).all()
    names = village_names(session, [r[0] for r in rows])
    return [
        {
            "village_code": code,
            "village_name": names.get(code, ""),
            "households": households,
            "members": members,
            "notice": notices.get(code),
            "objections_open": open_counts.get(notices[code].id or 0, 0) if code in notices else None,
        }
        for code, households, members in rows
    ]
