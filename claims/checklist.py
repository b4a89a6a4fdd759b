"""The documents a claim needs, per claim type (domain.md §3.2), and what is still missing: the claim page shows the
checklist, and the Art. 22 notice lists everything missing at once from `missing()`. Pure: no web, database or
core imports.

Every claim needs the claim form, the claimant's ID and a bank or social-security card; each type adds its own.
A document may be required only when a fact holds (`when`): the cull order only for culled animals, the BMI
settlement sheet of an accident only when basic medical insurance paid a part. The service passes the conditions
that hold for the claim; without them such a document counts as optional.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from claims.status import ClaimType


class Condition(StrEnum):
    """Facts that make an otherwise optional document required."""

    culled = "culled"  # livestock: the animals were culled by order, not dead of a peril
    bmi_paid = "bmi_paid"  # accidental medical: basic medical insurance paid a part
    hospital_stay = "hospital_stay"  # accidental medical: an in-patient stay, not only out-patient care


@dataclass(frozen=True)
class DocumentSpec:
    """One line of a checklist: `required` documents are always needed, those with `when` only if it holds."""

    code: str
    label: str
    required: bool = True
    when: Condition | None = None

    def needed(self, conditions: Collection[Condition | str]) -> bool:
        return self.required or (self.when is not None and self.when in conditions)


# Every document code with its Chinese label, in the order a checklist shows them.
DOCUMENT_LABELS: dict[str, str] = {
    "claim_form": "理赔申请书",
    "claimant_id": "申请人身份证明",
    "bank_card": "银行卡或社会保障卡（一卡通）",
    "death_certificate": "居民死亡医学证明书",
    "registration_cancellation": "户籍注销证明",
    "accident_proof": "意外事故证明（交通事故认定书或公安机关、村委会出具的证明）",
    "relationship_proof": "与被保险人的关系证明（户口簿）",
    "disability_assessment": "伤残鉴定书（按 JR/T 0083-2013 由具备资质的机构出具）",
    "medical_records": "病历资料",
    "invoices": "医疗收费票据",
    "settlement_sheet": "基本医疗保险结算单（含基本医保、大病保险支付金额）",
    "discharge_summary": "出院小结",
    "itemised_bill": "费用清单",
    "village_verification": "村、乡镇核实证明",
    "disaster_record": "灾情记录",
    "photos": "现场照片",
    "ear_tag_list": "耳标号清单",
    "vet_cause_of_death": "兽医出具的死亡原因证明",
    "harmless_disposal_record": "无害化处理记录",
    "cull_order": "强制扑杀通知书",
    "cull_subsidy_record": "扑杀补贴发放记录",
    "survey_report": "查勘报告（生长期、面积、损失率，附照片或定位）",
    "public_notice_record": "村级公示记录",
}


def _spec(code: str, *, required: bool = True, when: Condition | None = None) -> DocumentSpec:
    return DocumentSpec(code, DOCUMENT_LABELS[code], required=required and when is None, when=when)


_COMMON = (_spec("claim_form"), _spec("claimant_id"), _spec("bank_card"))
_DEATH = (_spec("death_certificate"), _spec("registration_cancellation"))

CHECKLISTS: dict[ClaimType, tuple[DocumentSpec, ...]] = {
    ClaimType.supplementary_medical: (
        *_COMMON,
        _spec("invoices"),
        _spec("settlement_sheet"),  # §3.4: no sheet = incomplete
        _spec("discharge_summary"),
        _spec("itemised_bill"),
    ),
    ClaimType.accidental_medical: (
        *_COMMON,
        _spec("invoices"),
        _spec("itemised_bill"),
        _spec("medical_records"),
        _spec("settlement_sheet", when=Condition.bmi_paid),
        _spec("discharge_summary", when=Condition.hospital_stay),
        _spec("accident_proof", required=False),
    ),
    ClaimType.accidental_death: (
        *_COMMON,
        *_DEATH,
        _spec("accident_proof"),
        _spec("relationship_proof"),
    ),
    ClaimType.illness_death: (
        *_COMMON,
        *_DEATH,
        _spec("relationship_proof"),
        _spec("medical_records", required=False),
    ),
    ClaimType.accidental_disability: (
        *_COMMON,
        _spec("disability_assessment"),
        _spec("medical_records"),
        _spec("accident_proof", required=False),
    ),
    ClaimType.house_collapse: (
        *_COMMON,
        _spec("village_verification"),
        _spec("disaster_record"),
        _spec("photos"),
    ),
    ClaimType.livestock_loss: (
        *_COMMON,
        _spec("ear_tag_list"),
        _spec("vet_cause_of_death"),
        _spec("harmless_disposal_record"),
        _spec("photos"),
        _spec("cull_order", when=Condition.culled),
        _spec("cull_subsidy_record", when=Condition.culled),
    ),
    ClaimType.crop_loss: (
        *_COMMON,
        _spec("survey_report"),
        _spec("public_notice_record"),
        _spec("photos", required=False),
    ),
}


def checklist(claim_type: ClaimType | str) -> tuple[DocumentSpec, ...]:
    """The claim type's documents in the order the page shows them."""
    return CHECKLISTS[ClaimType(claim_type)]


def codes(claim_type: ClaimType | str) -> frozenset[str]:
    """The document codes a claim of this type may be filed under (an upload under another code is refused)."""
    return frozenset(spec.code for spec in checklist(claim_type))


def missing(
    claim_type: ClaimType | str, present_codes: Iterable[str], conditions: Collection[Condition | str] = ()
) -> list[DocumentSpec]:
    """The needed documents with no upload yet, in checklist order: the whole list at once (Art. 22), never one
    at a time. `present_codes` are the codes of the claim's documents (duplicates and unknown codes are fine)."""
    present = set(present_codes)
    return [spec for spec in checklist(claim_type) if spec.needed(conditions) and spec.code not in present]


def is_complete(
    claim_type: ClaimType | str, present_codes: Iterable[str], conditions: Collection[Condition | str] = ()
) -> bool:
    return not missing(claim_type, present_codes, conditions)
