"""Medical claims: supplementary medical from the one-stop settlement sheet (domain.md §3.4) and accidental
medical (the rider: cost less 100 yuan, 80 %, per-event and annual limits). Pure."""

from dataclasses import dataclass
from datetime import date

from claims.assessment.cover import Cover, apply_limits, check_cover
from claims.assessment.explanation import Assessment, Ledger, LineKind
from claims.assessment.money import apply_bp, percent, yuan
from claims.reasons import ReasonCode

HOSPITALISATION = "hospitalisation"
ACCIDENT_MEDICAL = "accident_medical"


@dataclass(frozen=True)
class MedicalFacts:
    """The settlement sheet's figures for one hospital stay, in fen, taken as they are (never recomputed)."""

    total_cost_fen: int  # 医疗总费用
    in_policy_fen: int  # 政策范围内费用
    bmi_paid_fen: int  # 基本医保支付
    ci_paid_fen: int = 0  # 大病保险支付
    assistance_paid_fen: int = 0  # 医疗救助支付 (paid after this cover: it does not reduce it)

    def __post_init__(self) -> None:
        amounts = (self.total_cost_fen, self.in_policy_fen, self.bmi_paid_fen, self.ci_paid_fen)
        if min(*amounts, self.assistance_paid_fen) < 0 or self.in_policy_fen > self.total_cost_fen:
            raise ValueError("settlement amounts must not be negative, and in-policy at most the total")


@dataclass(frozen=True)
class AccidentMedicalFacts:
    medical_cost_fen: int  # the accident's medical cost on the invoices

    def __post_init__(self) -> None:
        if self.medical_cost_fen < 0:
            raise ValueError("medical cost below 0")


def household_pays(facts: MedicalFacts, payable_fen: int) -> int:
    """What the stay leaves to the household: total - BMI - CI - medical assistance - this cover, never below 0."""
    paid = facts.bmi_paid_fen + facts.ci_paid_fen + facts.assistance_paid_fen + payable_fen
    return max(0, facts.total_cost_fen - paid)


def assess_supplementary_medical(facts: MedicalFacts, cover: Cover, incident_date: date) -> Assessment:
    """domain.md §3.4: base = max(0, in-policy - BMI - CI); payable = (base - deductible) x ratio, half up once;
    then the per-event limit (if any) and what is left of the annual limit."""
    ledger = Ledger(facts.total_cost_fen, "医疗总费用", "一站式结算单所列医疗总费用")
    if benefit := check_cover(ledger, cover, HOSPITALISATION, incident_date):
        ledger.deduct(
            facts.total_cost_fen - facts.in_policy_fen,
            LineKind.excluded,
            "政策范围外费用",
            "丙类及自费项目不属于补充医疗保障范围",
        )
        ledger.deduct(facts.bmi_paid_fen, LineKind.other_payer, "基本医保已支付", "按结算单所列金额扣除")
        ledger.deduct(facts.ci_paid_fen, LineKind.other_payer, "大病保险已支付", "按结算单所列金额扣除")
        _deductible_and_ratio(ledger, benefit.deductible_fen, benefit.reimbursement_bp)
        apply_limits(ledger, cover, benefit.per_event_limit_fen)
    result = ledger.result()
    return Assessment(
        result.payable_fen, result.claimed_fen, result.lines, result.reasons, household_pays(facts, result.payable_fen)
    )


def assess_accidental_medical(facts: AccidentMedicalFacts, cover: Cover, incident_date: date) -> Assessment:
    """(cost - deductible) x ratio, half up once, within the per-event and the annual limit."""
    ledger = Ledger(facts.medical_cost_fen, "意外医疗费用", "医疗收费票据合计")
    if benefit := check_cover(ledger, cover, ACCIDENT_MEDICAL, incident_date):
        _deductible_and_ratio(ledger, benefit.deductible_fen, benefit.reimbursement_bp)
        apply_limits(ledger, cover, benefit.per_event_limit_fen)
    return ledger.result()


def _deductible_and_ratio(ledger: Ledger, deductible_fen: int, ratio_bp: int) -> None:
    ledger.deduct(
        deductible_fen, LineKind.deductible, "扣除免赔额", f"免赔额{yuan(deductible_fen)}", ReasonCode.deductible
    )
    base = ledger.running_fen
    ledger.reduce_to(
        apply_bp(base, ratio_bp),
        LineKind.ratio,
        f"按{percent(ratio_bp)}比例赔付",
        f"{yuan(base)} × {percent(ratio_bp)}，四舍五入到分",
    )
