"""Assessing a claim (理算): the cover answer of insurance on the incident date, the limits already used this policy
year by the member's (household's, insured object's) other claims of the same benefit, then the pure assessment.

The limits used: the payable amounts of the other claims on the same policy and benefit, of the same member (or the
household, for a household benefit; the object, for an object's), in COUNTS_AGAINST_LIMIT, assessed before this one
(`assessed_at`, then id): so a claim assessed again keeps its place in the order.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, func, select

from claims import queries
from claims.assessment import (
    AccidentMedicalFacts,
    Assessment,
    Benefit,
    CropFacts,
    DeathFacts,
    DisabilityFacts,
    Facts,
    HouseFacts,
    Line,
    LivestockFacts,
    MedicalFacts,
    assess,
    cover_from_answer,
)
from claims.errors import ClaimCode, ClaimInvalidError
from claims.models import Claim
from claims.status import COUNTS_AGAINST_LIMIT, ClaimAction, ClaimType
from claims.workflow import check_version, commit, raise_risk_flags, transition
from core.db import utcnow
from core.models import User
from insurance.cover import answers
from insurance.cover.models import Coverage, InsuredObject, Policy, ProductBenefit, ProductUnit, ProductVersion


def facts_of(claim: Claim, obj: InsuredObject | None) -> Facts:
    """The stored facts as the claim type's dataclass (the livestock's insured tags from the insured object)."""
    raw = claim.facts or {}
    kind = claim.claim_type
    if kind == ClaimType.supplementary_medical:
        return MedicalFacts(**raw)
    if kind == ClaimType.accidental_medical:
        return AccidentMedicalFacts(medical_cost_fen=raw["medical_cost_fen"])
    if kind in (ClaimType.accidental_death, ClaimType.illness_death):
        return DeathFacts(died_on=date.fromisoformat(raw["died_on"]))
    if kind == ClaimType.accidental_disability:
        return DisabilityFacts(grades=tuple(raw["grades"]))
    if kind == ClaimType.house_collapse:
        return HouseFacts(rooms_collapsed=raw["rooms_collapsed"], village_verified=raw["village_verified"])
    if kind == ClaimType.livestock_loss:
        return LivestockFacts(
            peril=claim.peril,
            ear_tags=tuple(raw["ear_tags"]),
            insured_tags=frozenset(obj.ear_tags if obj else ()),
            culled_tags=frozenset(raw.get("culled_tags", ())),
            culling_subsidy_per_head_fen=raw.get("culling_subsidy_per_head_fen", 0),
            harmless_disposal=raw.get("harmless_disposal", True),
        )
    return CropFacts(peril=claim.peril, area_mu=Decimal(raw["area_mu"]), loss_bp=raw["loss_bp"], stage=raw.get("stage"))


def _benefit(session: Session, claim: Claim, policy: Policy) -> tuple[Benefit, ProductBenefit]:
    row = session.exec(
        select(ProductBenefit).where(
            ProductBenefit.version_id == policy.product_version_id, ProductBenefit.code == claim.benefit_code
        )
    ).one()
    version = session.get(ProductVersion, policy.product_version_id)
    terms = version.terms if version else {}
    return Benefit.from_catalogue(row.model_dump(), terms), row


def used_before(session: Session, claim: Claim, unit: ProductUnit, *, claim_type: ClaimType | None = None) -> int:
    """What the other claims of the same policy, benefit and insured (member, household or object) that count
    against the limit were assessed at, among those assessed before this one."""
    query = select(func.coalesce(func.sum(Claim.payable_fen), 0)).where(
        Claim.policy_id == claim.policy_id,
        Claim.benefit_code == claim.benefit_code,
        Claim.id != claim.id,
        col(Claim.status).in_(COUNTS_AGAINST_LIMIT),
        col(Claim.assessed_at).is_not(None),
    )
    if claim.insured_object_id is not None:
        query = query.where(Claim.insured_object_id == claim.insured_object_id)
    elif unit == ProductUnit.household or claim.member_id is None:
        query = query.where(Claim.household_id == claim.household_id)
    else:
        query = query.where(Claim.member_id == claim.member_id)
    if claim_type is not None:
        query = query.where(Claim.claim_type == claim_type)
    if claim.assessed_at is not None:
        query = query.where(
            (col(Claim.assessed_at) < claim.assessed_at)
            | ((Claim.assessed_at == claim.assessed_at) & (col(Claim.id) < (claim.id or 0)))
        )
    return int(session.exec(query).one())


def _line_json(line: Line) -> dict[str, Any]:
    """A line as stored: its fields are plain values, so no deep copy (dataclasses.asdict) is needed; a bulk import
    stores 100,000 explanations."""
    return {
        "kind": line.kind,
        "label": line.label,
        "amount_fen": line.amount_fen,
        "detail": line.detail,
        "reason": line.reason.value if line.reason else None,
    }


def assessment_json(result: Assessment) -> dict[str, Any]:
    return {
        "claimed_fen": result.claimed_fen,
        "payable_fen": result.payable_fen,
        "household_pays_fen": result.household_pays_fen,
        "lines": [_line_json(item) for item in result.lines],
        "total_line": {**_line_json(result.total_line), "reason": None},
        "reasons": [r.value for r in result.reasons],
    }


def assess_claim(session: Session, user: User, claim_no: str, version: int) -> Claim:
    """Computes (or recomputes) the payable amount and its explanation from insurance's answer on the incident
    date; stores the lines, the reasons and, for a hospital stay, what the household pays."""
    claim = queries.get_claim(session, user, claim_no)
    queries.require_handler(user)
    check_version(claim, version)
    policy = session.get(Policy, claim.policy_id)
    if policy is None:  # pragma: no cover - a foreign key
        raise ClaimInvalidError("保单不存在", code=ClaimCode.policy_not_found, field="policy_id")
    benefit, row = _benefit(session, claim, policy)
    obj = session.get(InsuredObject, claim.insured_object_id) if claim.insured_object_id else None
    if obj is not None:
        answer = answers.object_cover(session, user, obj.id or 0, claim.peril, claim.incident_date)
        start, end, units = obj.cover_start, obj.cover_end, Decimal(obj.quantity)
    else:
        answer = answers.member_cover(session, user, claim.member_id or 0, claim.peril, claim.incident_date)
        coverage = session.get(Coverage, (claim.policy_id, claim.member_id))
        start, end = (coverage.cover_start, coverage.cover_end) if coverage else (None, None)
        units = Decimal(1)
    disability = 0
    if claim.claim_type == ClaimType.accidental_disability:
        disability = used_before(session, claim, row.unit, claim_type=ClaimType.accidental_disability)
    cover = cover_from_answer(
        answer,
        benefit,
        used_this_year_fen=used_before(session, claim, row.unit),
        disability_paid_this_year_fen=disability,
        insured_units=units,
        cover_start=start,
        cover_end=end,
    )
    result = assess(claim.claim_type, facts_of(claim, obj), cover, claim.incident_date, claim.reported_on)
    stored = assessment_json(result)
    transition(
        session,
        user,
        claim,
        ClaimAction.assess,
        reasons=stored["reasons"],
        changes={
            "assessment": stored,
            "claimed_fen": result.claimed_fen,
            "payable_fen": result.payable_fen,
            "household_pays_fen": result.household_pays_fen,
            "assessed_at": claim.assessed_at or utcnow(),
            "assessed_by": user.username,
            "assessed_by_user_id": user.id,
        },
    )
    raise_risk_flags(session, user, claim)
    commit(session)
    return claim
