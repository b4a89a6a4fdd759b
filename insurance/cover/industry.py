"""Industry policies: insured objects (heads, mu) per household, their premiums and totals."""

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from core import audit
from core.audit import Actor
from core.models import User
from insurance.cover import premiums
from insurance.cover.catalogue import get_product, subsidy_shares, version_for
from insurance.cover.errors import CoverCode, CoverConflictError, CoverInvalidError
from insurance.cover.models import (
    CoverStatus,
    InsuredObject,
    Policy,
    PolicyStatus,
    Product,
    ProductKind,
    ProductUnit,
)
from insurance.cover.policies import (
    check_policy_no,
    next_policy_no,
    policy_facts,
    policy_period,
    require_insurer,
    require_offer,
)
from insurance.cover.schemas import (
    IndustryPolicyCreate,
)
from insurance.register import service as register_service
from insurance.register.models import Division, DivisionLevel, Household, Member
from insurance.register.roster import HEAD_RELATION

# --- industry policies ------------------------------------------------------------------------------------------


def household_by_no(session: Session, household_no: str, field: str) -> Household:
    household = register_service.find_household(session, household_no)
    if household is None:
        raise CoverInvalidError(
            f"户编号 {household_no} 不在建档立卡名册中",
            code=CoverCode.household_not_found,
            field=field,
        )
    if household.removed_on is not None:
        raise CoverInvalidError(f"户 {household_no} 已移出名册", code=CoverCode.household_removed, field=field)
    return household


def village_in_county(session: Session, code: str, county_code: str, field: str) -> Division:
    """A village (not a township or county) of the given county: where an object lies or a notice is posted."""
    village = session.get(Division, code.strip())
    if village is None or village.level != DivisionLevel.village or not village.code.startswith(county_code):
        raise CoverInvalidError(f"{code} 不是本县的村", code=CoverCode.bad_village, field=field)
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
    insurer_id = require_insurer(user)
    product = get_product(session, data.product_code)
    if product.kind != ProductKind.industry:
        raise CoverInvalidError(
            "产业保险须选择种植或养殖险产品",
            field="product_code",
        )
    require_offer(session, insurer_id, product)
    version = version_for(session, product, data.year, data.product_version)
    period_start, period_end = policy_period(data.year, data.period_start, data.period_end)
    season = data.season or _default_season(product, data.year)
    assert version.sum_insured_fen is not None and version.rate_bp is not None  # checked when the version was made
    shares = subsidy_shares(version)
    cooperative_uscc = None
    if data.cooperative_uscc:
        cooperative_uscc = register_service.valid_uscc(data.cooperative_uscc, field="cooperative_uscc")
        if not data.cooperative_name:
            raise CoverInvalidError("请填写合作社名称", field="cooperative_name")
    elif len({o.household_no.strip() for o in data.objects}) > 1:
        raise CoverInvalidError(
            "多户投保须由合作社统一投保",
            field="cooperative_uscc",
        )
    lines: list[InsuredObject] = []
    seen: set[tuple[int, str]] = set()
    tags_seen: set[str] = set()
    county: str | None = None
    for index, item in enumerate(data.objects):
        field = f"objects.{index}"
        household = household_by_no(session, item.household_no, f"{field}.household_no")
        if product.unit == ProductUnit.head and item.quantity != item.quantity.to_integral_value():
            raise CoverInvalidError("头数须为整数", field=f"{field}.quantity")
        ear_tags = _check_ear_tags(product, item.ear_tags, item.quantity, tags_seen, f"{field}.ear_tags")
        village = village_in_county(
            session, item.village_code or household.village_code, household.county_code, f"{field}.village_code"
        ).code
        if county is None:
            county = household.county_code
        elif county != household.county_code:
            raise CoverInvalidError(
                "一张保单的标的须在同一县",
                field=f"{field}.household_no",
            )
        key = (household.id or 0, village)
        if key in seen:
            raise CoverInvalidError("同一农户同一村的标的重复", field=field)
        seen.add(key)
        other = _double_insured(
            session, household.id or 0, product.subject or "", village, season, period_start, period_end
        )
        if other is not None:
            raise CoverConflictError(
                f"户 {household.household_no} 的{product.name}（{season}）已由保单 {other.policy_no} 承保"
                f"（{other.period_start}至{other.period_end}）",
                code=CoverCode.double_cover,
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
                ear_tags=ear_tags,
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
    policy_no = data.policy_no or next_policy_no(session, f"NY{data.year}{county}")
    check_policy_no(session, policy_no)
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
    set_industry_totals(policy, lines)
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
        after={**policy_facts(policy), "objects": [_object_facts(o) for o in lines]},
    )
    session.commit()
    return policy


def _check_ear_tags(product: Product, tags: list[str], quantity: Decimal, seen: set[str], field: str) -> list[str]:
    """Ear tags name the heads one by one: only livestock has them, none twice on a policy, and when given there is
    one for each head insured (a claim for a dead animal is matched by its tag)."""
    cleaned = [t.strip() for t in tags if t.strip()]
    if not cleaned:
        return []
    if product.unit != ProductUnit.head:
        raise CoverInvalidError("种植险标的不填耳标号", field=field)
    for tag in cleaned:
        if tag in seen:
            raise CoverInvalidError(f"耳标号 {tag} 重复", field=field)
        seen.add(tag)
    if len(cleaned) != quantity:
        raise CoverInvalidError(f"耳标号 {len(cleaned)} 个，与投保头数 {quantity.normalize():f} 不符", field=field)
    return cleaned


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


def set_industry_totals(policy: Policy, lines: Iterable[InsuredObject]) -> None:
    """An industry policy's totals are the sums of its live lines (each already split to the fen)."""
    live = [o for o in lines if o.status != CoverStatus.cancelled]
    policy.households_count = len({o.household_id for o in live})
    policy.premium_fen = sum(o.premium_fen for o in live)
    policy.subsidy_central_fen = sum(o.subsidy_central_fen for o in live)
    policy.subsidy_provincial_fen = sum(o.subsidy_provincial_fen for o in live)
    policy.subsidy_county_fen = sum(o.subsidy_county_fen for o in live)
    policy.farmer_share_fen = sum(o.farmer_share_fen for o in live)
