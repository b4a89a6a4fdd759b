"""Filing a claim (报案) on behalf of a household, with the checks at filing, and overriding a check.

The policy is the handler's company's policy covering the member (or holding the insured object); the benefit is
the one of its product version that names the peril. The facts are checked and kept as the facts dataclass's
fields (amounts in fen). Checks found at filing are `claim_check` rows: a warning is shown, a block stops the
claim at `complete_documents` until a supervisor overrides it with a reason (audited).

Why a duplicate settlement number is refused outright rather than a block: `claim.settlement_no` is unique (one
claim per hospital stay), so the second claim cannot be stored at all.
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from claims import queries
from claims.assessment.dispatch import CLAIM_TYPE_PERILS
from claims.clocks import is_late_report, report_deadline
from claims.errors import ClaimCode, ClaimInvalidError, ClaimNotFoundError
from claims.models import (
    CheckKind,
    CheckSeverity,
    Claim,
    ClaimCheck,
    ClaimCounter,
    ClaimInvoice,
    claim_no_for,
)
from claims.risk import raising as risk_raising
from claims.schemas import ClaimCreate, OverrideCreate
from claims.status import INITIAL_STATUS, ClaimStatus, ClaimType
from claims.workflow import record_event
from core import audit
from core.audit import Actor
from core.db import keep, utcnow
from core.models import User
from insurance.cover.models import Coverage, CoverStatus, InsuredObject, Policy, ProductBenefit
from insurance.register import service as register_service
from insurance.register.models import Member

LIVE = (ClaimStatus.withdrawn,)  # a withdrawn claim is no duplicate of a new one
MAX_FEN = 10**12


# --- the facts --------------------------------------------------------------------------------------------------


def _fen(raw: dict[str, Any], key: str, *, required: bool = True) -> int:
    """An amount in integer fen; a fraction of a fen is a yuan amount of more than 2 decimals."""
    field = f"facts.{key}"
    value = raw.get(key)
    if value is None:
        if required:
            raise ClaimInvalidError("请填写该金额（单位：分）", code=ClaimCode.amount_invalid, field=field)
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ClaimInvalidError("金额须为整数（单位：分）", code=ClaimCode.amount_invalid, field=field)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ClaimInvalidError("金额须为整数（单位：分）", code=ClaimCode.amount_invalid, field=field) from None
    if amount != amount.to_integral_value():
        raise ClaimInvalidError("金额最多保留两位小数（元），即须为整数分", code=ClaimCode.amount_invalid, field=field)
    if amount < 0 or amount > MAX_FEN:
        raise ClaimInvalidError("金额不能为负数或超出范围", code=ClaimCode.amount_invalid, field=field)
    return int(amount)


def _int(raw: dict[str, Any], key: str, *, low: int, high: int, code: ClaimCode = ClaimCode.facts_invalid) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ClaimInvalidError(f"须为 {low} 到 {high} 之间的整数", code=code, field=f"facts.{key}")
    return value


def _date(raw: dict[str, Any], key: str) -> str:
    try:
        return date.fromisoformat(str(raw.get(key))).isoformat()
    except ValueError:
        raise ClaimInvalidError("日期格式须为 YYYY-MM-DD", code=ClaimCode.facts_invalid, field=f"facts.{key}") from None


def _tags(raw: dict[str, Any], key: str) -> list[str]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        raise ClaimInvalidError("耳标号须为文字列表", code=ClaimCode.facts_invalid, field=f"facts.{key}")
    return [t.strip() for t in value]


def parse_facts(claim_type: ClaimType, raw: dict[str, Any], incident_date: date) -> dict[str, Any]:
    """The type's facts, checked, as stored in `claim.facts` (the facts dataclass's field names, fen amounts)."""
    if claim_type == ClaimType.supplementary_medical:
        facts = {
            k: _fen(raw, k, required=k in ("total_cost_fen", "in_policy_fen", "bmi_paid_fen"))
            for k in ("total_cost_fen", "in_policy_fen", "bmi_paid_fen", "ci_paid_fen", "assistance_paid_fen")
        }
        if facts["in_policy_fen"] > facts["total_cost_fen"]:
            raise ClaimInvalidError(
                "政策范围内费用不能大于医疗总费用", code=ClaimCode.amount_invalid, field="facts.in_policy_fen"
            )
        if facts["bmi_paid_fen"] + facts["ci_paid_fen"] > facts["in_policy_fen"]:
            raise ClaimInvalidError(
                "基本医保与大病保险支付之和不能大于政策范围内费用",
                code=ClaimCode.amount_invalid,
                field="facts.bmi_paid_fen",
            )
        return facts
    if claim_type == ClaimType.accidental_medical:
        return {
            "medical_cost_fen": _fen(raw, "medical_cost_fen"),
            "bmi_paid_fen": _fen(raw, "bmi_paid_fen", required=False),
            "hospital_stay": bool(raw.get("hospital_stay", False)),
        }
    if claim_type in (ClaimType.accidental_death, ClaimType.illness_death):
        died_on = _date(raw, "died_on")
        if date.fromisoformat(died_on) < incident_date:
            raise ClaimInvalidError("死亡日期不能早于出险日期", code=ClaimCode.facts_invalid, field="facts.died_on")
        return {"died_on": died_on}
    if claim_type == ClaimType.accidental_disability:
        grades = raw.get("grades", [raw["grade"]] if "grade" in raw else None)
        if not isinstance(grades, list) or not grades:
            raise ClaimInvalidError("请填写伤残等级（1-10 级）", code=ClaimCode.grade_invalid, field="facts.grades")
        for grade in grades:
            if isinstance(grade, bool) or not isinstance(grade, int) or not 1 <= grade <= 10:
                raise ClaimInvalidError("伤残等级须为 1 到 10 级", code=ClaimCode.grade_invalid, field="facts.grades")
        return {"grades": grades}
    if claim_type == ClaimType.house_collapse:
        return {
            "rooms_collapsed": _int(raw, "rooms_collapsed", low=1, high=50),
            "village_verified": bool(raw.get("village_verified", False)),
        }
    if claim_type == ClaimType.livestock_loss:
        tags = _tags(raw, "ear_tags")
        if not tags:
            raise ClaimInvalidError(
                "请填写死亡或扑杀牲畜的耳标号", code=ClaimCode.facts_invalid, field="facts.ear_tags"
            )
        culled = _tags(raw, "culled_tags")
        return {
            "ear_tags": tags,
            "culled_tags": culled,
            "culling_subsidy_per_head_fen": _fen(raw, "culling_subsidy_per_head_fen", required=False),
            "harmless_disposal": bool(raw.get("harmless_disposal", True)),
        }
    try:
        area = Decimal(str(raw.get("area_mu")))
    except InvalidOperation:
        area = Decimal(-1)
    if not area.is_finite() or area <= 0 or area != area.quantize(Decimal("0.01")):
        raise ClaimInvalidError(
            "受灾面积须为正数（亩），最多两位小数", code=ClaimCode.facts_invalid, field="facts.area_mu"
        )
    return {
        "area_mu": str(area),
        "loss_bp": _int(raw, "loss_bp", low=0, high=10_000),
        "stage": raw.get("stage") or None,
    }


def claimed_of(claim_type: ClaimType, facts: dict[str, Any]) -> int:
    """The amount claimed, where the facts state it (the others are the sum insured, known at assessment)."""
    if claim_type == ClaimType.supplementary_medical:
        return facts["total_cost_fen"]
    if claim_type == ClaimType.accidental_medical:
        return facts["medical_cost_fen"]
    return 0


# --- what is claimed for ------------------------------------------------------------------------------------------


def _member(session: Session, user: User, data: ClaimCreate) -> Member:
    """The member by id or ID number, within the user's register (404 otherwise, like every other lookup)."""
    if data.member_id is not None:
        return register_service.get_member(session, user, data.member_id)
    if data.id_number:
        found = register_service.find_member_by_id_number(session, user, data.id_number)
        if found is not None:
            return found
        raise ClaimNotFoundError("人员不存在或不在您的辖区内", code=ClaimCode.member_not_found, field="id_number")
    raise ClaimInvalidError("请填写被保险人（人员编号或证件号码）", code=ClaimCode.member_not_found, field="member_id")


def _member_policy(
    session: Session, insurer_id: int, member: Member, data: ClaimCreate
) -> tuple[Policy, Coverage | None]:
    """The handler's company's policy covering the member: the one in force on the incident date, else the latest
    (the check `outside_cover_period` then says so). None of the company's: 422 member_not_covered."""
    rows = session.exec(
        select(Coverage, Policy)
        .join(Policy, col(Policy.id) == Coverage.policy_id)
        .where(Coverage.member_id == member.id, Policy.insurer_id == insurer_id, col(Policy.issued_at).is_not(None))
        .order_by(col(Policy.period_start).desc())
    ).all()
    field = "member_id" if data.member_id is not None else "id_number"
    if not rows:
        raise ClaimInvalidError(
            "该人员未参加本公司承保的保单，不能由本公司受理理赔", code=ClaimCode.member_not_covered, field=field
        )
    for coverage, policy in rows:
        if (
            coverage.status != CoverStatus.cancelled
            and coverage.cover_start <= data.incident_date <= coverage.cover_end
        ):
            return policy, coverage
    return rows[0][1], None


def _benefit(session: Session, policy: Policy, peril: str) -> ProductBenefit:
    benefits = session.exec(select(ProductBenefit).where(ProductBenefit.version_id == policy.product_version_id))
    for benefit in benefits:
        if peril in (benefit.perils or []):
            return benefit
    raise ClaimInvalidError("保单的保险责任不包括该风险", code=ClaimCode.peril_not_covered, field="peril")


def next_claim_no(session: Session, year: int, county_code: str) -> str:
    """The next number of the county and year, in one upsert of its counter row: the first filing of a county and
    year creates the row, and two first filings at once queue on the same key (locked until the commit) rather
    than one of them failing on the primary key."""
    counter = ClaimCounter.__table__
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(counter).values(year=year, county_code=county_code, last=1)
    statement = statement.on_conflict_do_update(
        index_elements=[counter.c.year, counter.c.county_code], set_={"last": counter.c.last + 1}
    ).returning(counter.c.last)
    return claim_no_for(year, county_code, session.execute(statement).scalar_one())


# --- checks at filing ---------------------------------------------------------------------------------------------


def _others(claim: Claim) -> Any:
    return select(Claim.id).where(col(Claim.status).not_in(LIVE), Claim.id != claim.id)


def _checks(
    session: Session, claim: Claim, member: Member | None, coverage: Coverage | None, data: ClaimCreate, obj: Any
) -> list[ClaimCheck]:
    found: list[tuple[CheckKind, CheckSeverity, str, int | None]] = []
    for invoice_no in data.invoice_nos:
        other = session.exec(
            select(ClaimInvoice.claim_id)
            .join(Claim, col(Claim.id) == ClaimInvoice.claim_id)
            .where(ClaimInvoice.invoice_no == invoice_no.strip(), col(Claim.status).not_in(LIVE))
            .where(ClaimInvoice.claim_id != claim.id)
        ).first()
        if other is not None:
            found.append(
                (CheckKind.duplicate_invoice, CheckSeverity.block, f"发票号{invoice_no}已在其他案件中报销", other)
            )
    if member is not None:
        other = session.exec(
            _others(claim).where(
                Claim.member_id == member.id, Claim.peril == claim.peril, Claim.incident_date == claim.incident_date
            )
        ).first()
        if other is not None:
            message = "同一被保险人、同一风险、同一出险日期已有理赔案件"
            found.append((CheckKind.same_member_peril_date, CheckSeverity.block, message, other))
        if member.status == "deceased" and member.status_date and claim.incident_date > member.status_date:
            message = (
                f"出险日期{claim.incident_date.isoformat()}在户籍登记的死亡日期{member.status_date.isoformat()}之后"
            )
            found.append((CheckKind.incident_after_death, CheckSeverity.block, message, None))
        if coverage is None:
            message = f"出险日期{claim.incident_date.isoformat()}不在该人员任何保险期间内"
            found.append((CheckKind.outside_cover_period, CheckSeverity.block, message, None))
    if obj is not None:
        unknown = [t for t in claim.facts.get("ear_tags", []) if t not in set(obj.ear_tags or [])]
        if unknown:
            message = f"耳标号{'、'.join(unknown[:10])}不在保单的保险标的清单上"
            found.append((CheckKind.object_not_on_policy, CheckSeverity.warn, message, None))
        if not obj.cover_start <= claim.incident_date <= obj.cover_end or obj.status == CoverStatus.cancelled:
            message = f"出险日期{claim.incident_date.isoformat()}不在该保险标的的保险期间内"
            found.append((CheckKind.outside_cover_period, CheckSeverity.block, message, None))
    if is_late_report(claim.incident_date, claim.reported_on, claim.claim_type):
        deadline = report_deadline(claim.incident_date, claim.claim_type).isoformat()
        message = f"报案日期超过《保险法》第二十六条规定的期限（至{deadline}），仅作提示"
        found.append((CheckKind.late_report, CheckSeverity.warn, message, None))
    return [
        ClaimCheck(claim_id=claim.id or 0, kind=kind, severity=severity, message=message, other_claim_id=other)
        for kind, severity, message, other in found
    ]


# --- the use cases ------------------------------------------------------------------------------------------------


def file_claim(session: Session, user: User, data: ClaimCreate, *, today: date) -> Claim:
    """Files a claim in status `filed`, its checks, its invoice numbers, the event None -> filed and the audit."""
    insurer_id = queries.require_handler(user)
    if data.incident_date > today:
        raise ClaimInvalidError("出险日期不能晚于今天", code=ClaimCode.incident_in_future, field="incident_date")
    facts = parse_facts(data.claim_type, data.facts, data.incident_date)
    member: Member | None = None
    coverage: Coverage | None = None
    obj: InsuredObject | None = None
    if data.claim_type in (ClaimType.livestock_loss, ClaimType.crop_loss):
        if data.insured_object_id is None:
            raise ClaimInvalidError("请选择保险标的", code=ClaimCode.object_not_found, field="insured_object_id")
        obj = session.get(InsuredObject, data.insured_object_id)
        policy = session.get(Policy, obj.policy_id) if obj else None
        if obj is None or policy is None or policy.insurer_id != insurer_id:
            raise ClaimNotFoundError("保险标的不存在", code=ClaimCode.object_not_found, field="insured_object_id")
        household_id = obj.household_id
        peril = (data.peril or "").strip()
        if not peril:
            raise ClaimInvalidError("请填写出险原因", code=ClaimCode.peril_not_covered, field="peril")
    else:
        member = _member(session, user, data)
        policy, coverage = _member_policy(session, insurer_id, member, data)
        household_id = member.household_id
        peril = (data.peril or CLAIM_TYPE_PERILS[data.claim_type]).strip()
    keep(session, policy)  # the answer names its number after the commit
    benefit = _benefit(session, policy, peril)
    if data.settlement_no:
        taken = session.exec(select(Claim.claim_no).where(Claim.settlement_no == data.settlement_no.strip())).first()
        if taken is not None:
            raise ClaimInvalidError(
                f"结算单号{data.settlement_no}已在案件{taken}中受理（每次住院只能理赔一次）",
                code=ClaimCode.duplicate_settlement,
                field="settlement_no",
            )
    claim = Claim(
        claim_no=next_claim_no(session, data.incident_date.year, policy.county_code),
        claim_type=data.claim_type,
        status=INITIAL_STATUS,
        insurer_id=insurer_id,
        county_code=policy.county_code,
        policy_id=policy.id or 0,
        benefit_code=benefit.code,
        member_id=member.id if member else None,
        household_id=household_id,
        insured_object_id=obj.id if obj else None,
        claimant_name=data.claimant_name.strip(),
        claimant_relation=data.claimant_relation.strip(),
        claimant_phone=data.claimant_phone,
        incident_date=data.incident_date,
        incident_place=data.incident_place,
        peril=peril,
        reported_on=today,
        facts=facts,
        main_diagnosis=data.main_diagnosis,
        settlement_no=data.settlement_no.strip() if data.settlement_no else None,
        claimed_fen=claimed_of(data.claim_type, facts),
        filed_by=user.username,
        filed_by_user_id=user.id,
    )
    session.add(claim)
    session.flush()
    checks = _checks(session, claim, member, coverage, data, obj)
    session.add_all(checks)
    session.flush()  # their ids, for the answer's list of checks
    queries.remember_checks(session, claim.id or 0, checks)
    session.add_all(ClaimInvoice(claim_id=claim.id or 0, invoice_no=n.strip()) for n in data.invoice_nos)
    record_event(session, claim.id or 0, None, claim.status, "file", claim.version, Actor.of(user))
    after = {
        "claim_type": claim.claim_type,
        "status": claim.status,
        "policy_id": claim.policy_id,
        "benefit_code": claim.benefit_code,
        "incident_date": claim.incident_date,
        "claimed_fen": claim.claimed_fen,
        "checks": [c.kind.value for c in checks],
    }
    audit.record(session, Actor.of(user), "file", "claim", claim.claim_no, after=after)
    risk_raising.raise_for_claim(session, claim, actor=Actor.of(user))
    session.commit()
    return claim


def override_check(session: Session, user: User, claim_no: str, check_id: int, data: OverrideCreate) -> ClaimCheck:
    """A supervisor lets a check pass with a reason (audited): the claim may then go on."""
    claim = queries.get_claim(session, user, claim_no)
    queries.require_supervisor(user)
    check = session.get(ClaimCheck, check_id)
    if check is None or check.claim_id != claim.id:
        raise ClaimNotFoundError("筛查提示不存在", code=ClaimCode.claim_not_found, field="check_id")
    if check.overridden_at is not None:
        raise ClaimInvalidError("该筛查提示已放行", code=ClaimCode.invalid, field="check_id")
    queries.forget_reads(session, claim.id or 0)
    check.override_reason = data.reason.strip()
    check.overridden_by, check.overridden_by_user_id, check.overridden_at = user.username, user.id, utcnow()
    session.add(check)
    audit.record(
        session,
        Actor.of(user),
        "override_check",
        "claim_check",
        check.id,
        before={"claim_no": claim.claim_no, "kind": check.kind, "severity": check.severity},
        after={"override_reason": check.override_reason},
    )
    session.commit()
    return check
