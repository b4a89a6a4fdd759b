"""What a certificate states: a JSON statement built from the register and the policy, and its canonical bytes.

The statement's SHA-256 is signed into the QR code; the PDF is rendered from the stored statement alone, so rendering
a version twice gives the same document.
"""

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from core.masking import mask_id_number
from insurance.cover import catalogue, notices
from insurance.cover.models import (
    UNIT_LABELS,
    Coverage,
    CoverStatus,
    InsuredObject,
    Policy,
    Product,
    ProductBenefit,
    ProductKind,
    ProductVersion,
)
from insurance.register.models import Division, Household, Insurer, Member
from insurance.register.roster import HEAD_RELATION

CERTIFICATE_CODE = "C"
NOTICE_CODE = "N"
DIGEST_CHARS = 32  # 128 bits of SHA-256 in the signed code: enough against a second preimage, and a smaller QR
PER_UNIT = {k: f"每{v}" for k, v in UNIT_LABELS.items()}  # 每人, 每户, 每头, ...


def canonical(statement: dict[str, Any]) -> bytes:
    return json.dumps(statement, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def certificate_no(policy_no: str, household_no: str) -> str:
    return f"{policy_no}-{household_no}"


# --- what a certificate states ------------------------------------------------------------------------------------


def place_names(session: Session, village_codes: Iterable[str]) -> dict[str, str]:
    """'county township village' for each village, from the division tree, in two queries."""
    codes = set(village_codes)
    if not codes:
        return {}
    villages = session.exec(select(Division).where(col(Division.code).in_(codes))).all()
    parents: set[str] = set()
    for village in villages:
        if village.parent_code:
            parents.add(village.parent_code)
            parents.add(village.code[:6] + "000000")
    names = {d.code: d.name for d in session.exec(select(Division).where(col(Division.code).in_(parents))).all()}
    return {
        v.code: " ".join(n for n in (names.get(v.code[:6] + "000000"), names.get(v.parent_code or ""), v.name) if n)
        for v in villages
    }


def policy_header(session: Session, policy: Policy) -> dict[str, Any]:
    insurer = session.get(Insurer, policy.insurer_id)
    product = session.get(Product, policy.product_code)
    assert insurer is not None and product is not None
    return {
        "policy_no": policy.policy_no,
        "product": product.name,
        "insurer": insurer.name,
        "hotline": insurer.hotline or "",
        "period_start": policy.period_start.isoformat(),
        "period_end": policy.period_end.isoformat(),
        "policyholder": policy.policyholder,
    }


def statements(
    session: Session, policy: Policy, *, village_code: str | None = None, household_ids: Iterable[int] | None = None
) -> dict[int, dict[str, Any]]:
    """The statement of every household on the policy in one village, or of the given households (a household
    without live cover on the policy is absent: its certificate is revoked). A handful of queries for a village."""
    if (village_code is None) == (household_ids is None):
        raise ValueError("give a village or households")
    header = policy_header(session, policy)
    households_where = (
        Household.village_code == village_code
        if village_code is not None
        else col(Household.id).in_(list(household_ids or []))
    )
    if policy.kind == ProductKind.family:
        lines = _family_lines(session, policy, households_where)
    else:
        lines = _industry_lines(session, policy, households_where)
    if not lines:
        return {}
    households = {h.id: h for h in session.exec(select(Household).where(col(Household.id).in_(list(lines)))).all()}
    heads = dict(
        session.exec(
            select(Member.household_id, Member.name).where(
                col(Member.household_id).in_(list(lines)), Member.relation == HEAD_RELATION
            )
        ).all()
    )
    places = place_names(session, {h.village_code for h in households.values()})
    result: dict[int, dict[str, Any]] = {}
    for household_id, body in lines.items():
        household = households[household_id]
        result[household_id] = {
            **header,
            **body,
            "certificate_no": certificate_no(policy.policy_no, household.household_no),
            "household_no": household.household_no,
            "village_code": household.village_code,
            "address": places.get(household.village_code, household.village_code),
            "head": heads.get(household_id, ""),
        }
    return result


def _family_lines(session: Session, policy: Policy, households_where: Any) -> dict[int, dict[str, Any]]:
    version = session.get(ProductVersion, policy.product_version_id)
    assert version is not None
    benefits = session.exec(
        select(ProductBenefit).where(ProductBenefit.version_id == version.id).order_by(col(ProductBenefit.id))
    ).all()
    covers = [
        {
            "benefit": b.name,
            "unit": PER_UNIT.get(b.unit, b.unit),
            "sum_insured_fen": b.sum_insured_fen,
            "note": _benefit_note(b),
        }
        for b in benefits
    ]
    shares = catalogue.subsidy_shares(version)
    rows = session.exec(
        select(Member, Coverage)
        .join(Coverage, col(Coverage.member_id) == Member.id)
        .join(Household, col(Household.id) == Member.household_id)
        .where(Coverage.policy_id == policy.id, Coverage.status != CoverStatus.cancelled, households_where)
        .order_by(col(Member.household_id), col(Member.relation) != HEAD_RELATION, col(Member.id))
    ).all()
    members: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for member, cover in rows:
        members[member.household_id].append(
            {
                "name": member.name,
                "id_masked": mask_id_number(member.id_number),
                "relation": member.relation,
                "cover_start": cover.cover_start.isoformat(),
                "cover_end": cover.cover_end.isoformat(),
                "ended": cover.status == CoverStatus.ended,
                "end_reason": cover.end_reason or "",
            }
        )
    lines = {}
    for household_id, people in members.items():
        premium, share = notices.household_premium(policy, shares, len(people))
        lines[household_id] = {
            "kind": "family",
            "members": people,
            "covers": covers,
            "premium_fen": premium,
            "household_share_fen": share,
        }
    return lines


def _benefit_note(benefit: ProductBenefit) -> str:
    parts = []
    if benefit.deductible_fen:
        parts.append(f"免赔 {benefit.deductible_fen // 100} 元")
    if benefit.reimbursement_bp != 10_000:
        parts.append(f"赔付 {benefit.reimbursement_bp / 100:g}%")
    per_room = benefit.extra.get("per_room_fen") if isinstance(benefit.extra, dict) else None
    if per_room:
        parts.append(f"每间 {int(per_room) // 100} 元")
    if benefit.waiting_days:
        parts.append(f"等待期 {benefit.waiting_days} 天")
    return "，".join(parts)


def _industry_lines(session: Session, policy: Policy, households_where: Any) -> dict[int, dict[str, Any]]:
    product = session.get(Product, policy.product_code)
    assert product is not None
    rows = session.exec(
        select(InsuredObject)
        .join(Household, col(Household.id) == InsuredObject.household_id)
        .where(InsuredObject.policy_id == policy.id, InsuredObject.status != CoverStatus.cancelled, households_where)
        .order_by(col(InsuredObject.household_id), col(InsuredObject.id))
    ).all()
    objects: dict[int, list[InsuredObject]] = defaultdict(list)
    for row in rows:
        objects[row.household_id].append(row)
    return {
        household_id: {
            "kind": "industry",
            "objects": [
                {
                    "subject": product.name,
                    "quantity": f"{line.quantity.normalize():f}",
                    "unit": UNIT_LABELS.get(line.unit, line.unit),
                    "season": line.season,
                    "sum_insured_fen": line.sum_insured_fen,
                    "cover_start": line.cover_start.isoformat(),
                    "cover_end": line.cover_end.isoformat(),
                    "ended": line.status == CoverStatus.ended,
                    "ear_tags": list(line.ear_tags or []),
                }
                for line in lines
            ],
            "premium_fen": sum(line.premium_fen for line in lines),
            "household_share_fen": sum(line.farmer_share_fen for line in lines),
        }
        for household_id, lines in objects.items()
    }
