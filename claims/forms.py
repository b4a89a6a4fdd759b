"""The filing form's fields as the claims API takes them: yuan typed by a person to fen, exactly (never through a
float), lists split on the separators people type, and each claim type's facts. Pure of the web: the pages call it."""

from decimal import Decimal, InvalidOperation
from typing import Any

from claims.errors import ClaimCode, ClaimInvalidError
from claims.status import ClaimType
from core import labels as core_labels
from core import money
from core.money import YuanProblem

# The filing form's yuan fields (form name, fact key in fen), per claim type.
YUAN_FACTS: dict[ClaimType, tuple[tuple[str, str], ...]] = {
    ClaimType.supplementary_medical: (
        ("total_cost_yuan", "total_cost_fen"),
        ("in_policy_yuan", "in_policy_fen"),
        ("bmi_paid_yuan", "bmi_paid_fen"),
        ("ci_paid_yuan", "ci_paid_fen"),
        ("assistance_paid_yuan", "assistance_paid_fen"),
    ),
    ClaimType.accidental_medical: (
        ("medical_cost_yuan", "medical_cost_fen"),
        ("accident_bmi_paid_yuan", "bmi_paid_fen"),
    ),
    ClaimType.livestock_loss: (("culling_subsidy_yuan", "culling_subsidy_per_head_fen"),),
}


def yuan_to_fen(text: str, field: str) -> int | None:
    """A yuan amount typed by a person (`1,234.56`, `¥300`, full-width digits), exactly to the fen; empty is None.
    The refusal names the field in Chinese, since the form shows one message for all its amounts."""
    if not text.strip():
        return None
    fen, problem = money.parse_yuan(text, separators=True)
    if problem == YuanProblem.invalid:
        raise ClaimInvalidError("金额格式不正确，请填写数字（元）", code=ClaimCode.amount_invalid, field=field)
    if fen is None:
        name = core_labels.label(core_labels.FIELD, field.removeprefix("facts."))
        raise ClaimInvalidError(
            f"{name}：金额须为不小于 0 的数字，最多两位小数（元）", code=ClaimCode.amount_invalid, field=field
        )
    return fen


def tag_list(text: str) -> list[str]:
    return [t for t in text.replace("，", ",").replace("、", ",").replace("\n", ",").replace(" ", ",").split(",") if t]


def facts_from_form(claim_type: ClaimType, form: dict[str, str]) -> dict[str, Any]:
    """The type's facts as ClaimCreate takes them, from the form's fields (yuan amounts to fen, lists split)."""
    facts: dict[str, Any] = {}
    for name, key in YUAN_FACTS.get(claim_type, ()):
        fen = yuan_to_fen(form.get(name, ""), f"facts.{key}")
        if fen is not None:
            facts[key] = fen
    if claim_type == ClaimType.accidental_medical:
        facts["hospital_stay"] = form.get("hospital_stay") == "1"
    elif claim_type in (ClaimType.accidental_death, ClaimType.illness_death):
        facts["died_on"] = form.get("died_on", "").strip() or None
    elif claim_type == ClaimType.accidental_disability:
        grades = tag_list(form.get("grades", ""))
        if not all(g.isdigit() for g in grades):
            raise ClaimInvalidError("伤残等级须为 1 到 10 级", code=ClaimCode.grade_invalid, field="facts.grades")
        facts["grades"] = [int(g) for g in grades]
    elif claim_type == ClaimType.house_collapse:
        facts["rooms_collapsed"] = form.get("rooms_collapsed", "").strip() or None
        facts["village_verified"] = form.get("village_verified") == "1"
    elif claim_type == ClaimType.livestock_loss:
        facts["ear_tags"] = tag_list(form.get("ear_tags", ""))
        facts["culled_tags"] = tag_list(form.get("culled_tags", ""))
        facts["harmless_disposal"] = form.get("harmless_disposal", "1") == "1"
    elif claim_type == ClaimType.crop_loss:
        facts["area_mu"] = form.get("area_mu", "").strip()
        percent = form.get("loss_percent", "").strip()
        try:
            facts["loss_bp"] = int(Decimal(percent) * 100) if percent else None
        except InvalidOperation:
            raise ClaimInvalidError(
                "损失程度须为 0 到 100 的数字（%）", code=ClaimCode.facts_invalid, field="facts.loss_bp"
            ) from None
        facts["stage"] = form.get("stage", "").strip() or None
    return {k: v for k, v in facts.items() if v is not None}
