"""Policies: who sees them, how they are found and numbered, and the family group policy's creation.

Each public writer is one transaction with its audit record; a change to what a household is covered for writes
a certificate request (outbox) in that same transaction.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select, false
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select

from core import audit
from core.audit import Actor
from core.auth import county_prefix, is_insurer
from core.models import Role, User
from insurance.cover.catalogue import benefits_by_version, get_product, version_for
from insurance.cover.errors import (
    CoverCode,
    CoverConflictError,
    CoverForbiddenError,
    CoverInvalidError,
    CoverNotFoundError,
)
from insurance.cover.models import (
    CoverConflict,
    InsurerProduct,
    Policy,
    PolicyStatus,
    Product,
    ProductKind,
    ProductUnit,
)
from insurance.cover.outbox import DocumentKind
from insurance.cover.schemas import (
    GroupPolicyCreate,
)
from insurance.register import scope
from insurance.register.models import Division, DivisionLevel, Household, Insurer, Member

CERTIFICATE = DocumentKind.household_certificate.value
CONFLICT_SAMPLE = 50
# --- policies: who sees them, how they are found ---------------------------------------------------------------


def policy_condition(user: User) -> ColumnElement[bool] | None:
    """The condition on Policy rows the user may see, or None for the whole province: an insurer's staff their
    company's, a county office its county's; the admin none (users and the audit log are its remit)."""
    if is_insurer(user):
        return Policy.insurer_id == (user.insurer_id or -1)
    if user.role == Role.county_office:
        return Policy.county_code == county_prefix(user)
    if user.role == Role.province_office:
        return None
    return false()


def scope_policies(query: Any, user: User) -> Any:
    """The query narrowed to the policies the user may see, in SQL (see policy_condition)."""
    condition = policy_condition(user)
    return query if condition is None else query.where(condition)


def find_visible_policy(session: Session, user: User, policy_id: int | None) -> Policy | None:
    """The policy of an object loaded by id (a notice, a document, an enrolment, an insured object), if the user may
    see it: the same query as every other policy lookup, so the rule lives in policy_condition alone."""
    if policy_id is None:
        return None
    return session.exec(scope_policies(select(Policy).where(Policy.id == policy_id), user)).first()


def get_policy(session: Session, user: User, policy_no: str) -> Policy:
    query = select(Policy).where(Policy.policy_no == policy_no.strip())
    policy = session.exec(scope_policies(query, user)).first()
    if policy is None:
        raise CoverNotFoundError("保单不存在或不在您的权限内", code=CoverCode.policy_not_found, field="policy_no")
    return policy


def insurer_county_codes(insurer_id: int) -> Select[Any]:
    """The counties where the insurer holds a policy of any status (a draft too: it enrols from the register):
    the register its staff may see (insurance.register.scope)."""
    return sa.select(Policy.county_code).where(Policy.insurer_id == insurer_id)


scope.provide_insurer_counties(insurer_county_codes)


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
    query = scope_policies(select(Policy), user)
    count_query = scope_policies(select(func.count()).select_from(Policy), user)
    for condition in conditions:
        query = query.where(condition)
        count_query = count_query.where(condition)
    rows = session.exec(query.order_by(col(Policy.year).desc(), col(Policy.id).desc()).offset(offset).limit(limit))
    return list(rows.all()), session.exec(count_query).one()


def require_insurer(user: User, *, supervisor: bool = False) -> int:
    allowed = (Role.insurer_supervisor,) if supervisor else (Role.insurer_handler, Role.insurer_supervisor)
    if user.role not in allowed or user.insurer_id is None:
        who = "保险公司主管" if supervisor else "保险公司经办人或主管"
        raise CoverForbiddenError(f"只有{who}可以执行此操作")
    return user.insurer_id


def own_policy(session: Session, user: User, policy_no: str, *, supervisor: bool = False) -> Policy:
    """A policy the user's company wrote: 404 outside what they may see (an insurer sees only its own), 403 for a
    role that may see it but not act on it."""
    policy = get_policy(session, user, policy_no)
    require_insurer(user, supervisor=supervisor)
    return policy


def may_notice(user: User) -> bool:
    """Insurers and county offices post enrolment notices and record and resolve objections."""
    return is_insurer(user) or user.role == Role.county_office


def require_noticer(user: User) -> None:
    if not may_notice(user):
        raise CoverForbiddenError(
            "只有保险公司或县扶贫办可以登记公示和异议",
        )


def require_offer(session: Session, insurer_id: int, product: Product) -> None:
    offered = session.get(InsurerProduct, (insurer_id, product.code))
    if offered is None:
        raise CoverInvalidError(
            f"本公司未登记经营产品 {product.name}",
            code=CoverCode.product_not_offered,
            field="product_code",
        )


def policy_period(year: int, start: date | None, end: date | None) -> tuple[date, date]:
    """The policy year by default: 00:00 1 January to 24:00 31 December (domain.md §5)."""
    period_start = start or date(year, 1, 1)
    period_end = end or (date(year, 12, 31) if start is None else _one_year_from(period_start))
    if period_end < period_start:
        raise CoverInvalidError("保险止期早于起期", code=CoverCode.bad_period, field="period_end")
    if (period_end - period_start).days > 366:
        raise CoverInvalidError("保险期间不能超过一年", code=CoverCode.bad_period, field="period_end")
    return period_start, period_end


def _one_year_from(start: date) -> date:
    try:
        return start.replace(year=start.year + 1) - timedelta(days=1)
    except ValueError:  # 29 February
        return date(start.year + 1, 3, 1) - timedelta(days=1)


def next_policy_no(session: Session, prefix: str) -> str:
    taken = session.exec(select(func.count()).select_from(Policy).where(col(Policy.policy_no).startswith(prefix))).one()
    number = taken + 1
    while session.exec(select(Policy.id).where(Policy.policy_no == f"{prefix}{number:05d}")).first() is not None:
        number += 1
    return f"{prefix}{number:05d}"


def check_policy_no(session: Session, policy_no: str) -> None:
    if session.exec(select(Policy.id).where(Policy.policy_no == policy_no)).first() is not None:
        raise CoverConflictError(f"保单号 {policy_no} 已存在", code=CoverCode.policy_no_taken, field="policy_no")


def _current_county(session: Session, code: str) -> Division:
    code = code.strip()
    if not (code.isdigit() and len(code) in (6, 12)):
        raise CoverInvalidError("县级区划代码须为6位数字", field="county_code")
    county = session.get(Division, code[:6].ljust(12, "0"))
    if county is None or county.level != DivisionLevel.county:
        raise CoverInvalidError(f"区划 {code[:6]} 不是已登记的县", code=CoverCode.county_not_found, field="county_code")
    if county.valid_to is not None:
        raise CoverInvalidError(f"区划 {code[:6]} 已撤销", code=CoverCode.county_retired, field="county_code")
    return county


def clashing_policy_ids(session: Session, policy: Policy, *, same_county_only: bool = False) -> list[int]:
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
    benefits = benefits_by_version(session, [policy.product_version_id, *(v for _, v in rows)])
    perils = {v: {p for b in found for p in b.perils} for v, found in benefits.items()}
    mine = perils[policy.product_version_id]
    return [i or 0 for i, version_id in rows if mine & perils[version_id]]


# --- family group policies ---------------------------------------------------------------------------------------


def create_group_policy(session: Session, user: User, data: GroupPolicyCreate) -> Policy:
    policy = new_group_policy(session, user, data)
    session.commit()
    return policy


def new_group_policy(
    session: Session, user: User, data: GroupPolicyCreate, *, renewed_from: Policy | None = None
) -> Policy:
    """Checks, adds and audits a group policy in the caller's transaction."""
    insurer_id = require_insurer(user)
    product = get_product(session, data.product_code)
    if product.kind != ProductKind.family or product.unit != ProductUnit.person:
        raise CoverInvalidError(
            "团体保单只用于按人投保的家庭综合保障",
            field="product_code",
        )
    require_offer(session, insurer_id, product)
    county = _current_county(session, data.county_code)
    version = version_for(session, product, data.year, data.product_version)
    period_start, period_end = policy_period(data.year, data.period_start, data.period_end)
    if period_start.year != data.year:
        raise CoverInvalidError("保险起期须在保险年度内", code=CoverCode.bad_period, field="period_start")
    per_person = data.premium_per_person_fen or version.premium_per_unit_fen or 0
    per_household = (
        data.premium_per_household_fen
        if data.premium_per_household_fen is not None
        else version.premium_per_household_fen
    )
    policy_no = data.policy_no or next_policy_no(session, f"TH{data.year}{county.code[:6]}")
    check_policy_no(session, policy_no)
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
    clashes = clashing_policy_ids(session, policy, same_county_only=True)
    if clashes:
        other = session.get(Policy, clashes[0])
        assert other is not None
        raise CoverConflictError(
            f"{county.name} 已有保险期间重叠的同类保单 {other.policy_no}（{other.period_start}至{other.period_end}）",
            code=CoverCode.overlapping_policy,
            field="period_start",
        )
    session.add(policy)
    session.flush()
    audit.record(session, Actor.of(user), "create", "policy", policy.policy_no, after=policy_facts(policy))
    return policy


def policy_facts(policy: Policy) -> dict[str, Any]:
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


def find_policy(session: Session, policy_no: str) -> Policy | None:
    """For the command line, which acts for the programme as a whole."""
    return session.exec(select(Policy).where(Policy.policy_no == policy_no.strip())).first()


def check_enrollable(policy: Policy) -> None:
    if policy.kind != ProductKind.family:
        raise CoverInvalidError(
            "只有家庭综合保障团体保单按县参保",
            field="policy_no",
        )
    if policy.status == PolicyStatus.cancelled:
        raise CoverConflictError("保单已撤销", code=CoverCode.policy_cancelled, field="policy_no")


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
