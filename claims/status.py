"""A claim's states and the transitions allowed between them, as a table (pure: no web, database or core imports).
The services ask `may(from, action)` before they change a claim, and audit every transition from -> to."""

from enum import StrEnum


class ClaimType(StrEnum):
    supplementary_medical = "supplementary_medical"  # hospital stay, peril hospitalisation (one-stop settlement)
    accidental_medical = "accidental_medical"
    accidental_death = "accidental_death"
    accidental_disability = "accidental_disability"
    illness_death = "illness_death"
    house_collapse = "house_collapse"
    livestock_loss = "livestock_loss"  # dead or culled animals, by ear tag
    crop_loss = "crop_loss"


CLAIM_TYPE_LABELS: dict[ClaimType, str] = {
    ClaimType.supplementary_medical: "补充医疗",
    ClaimType.accidental_medical: "意外医疗",
    ClaimType.accidental_death: "意外身故",
    ClaimType.accidental_disability: "意外伤残",
    ClaimType.illness_death: "疾病身故",
    ClaimType.house_collapse: "农房倒塌",
    ClaimType.livestock_loss: "养殖业损失",
    ClaimType.crop_loss: "种植业损失",
}


class ClaimStatus(StrEnum):
    filed = "filed"  # documents still missing (Art. 22: one notice lists them all)
    returned = "returned"  # back with the filer, with coded reasons, to be resubmitted
    documents_complete = "documents_complete"  # the Art. 23 30-day decision clock runs from here
    assessed = "assessed"  # the payable amount and its explanation are computed
    awaiting_second_approval = "awaiting_second_approval"  # above the review threshold: a second supervisor decides
    approved = "approved"
    partly_approved = "partly_approved"
    rejected = "rejected"  # with a reason code; the refusal notice is due within 3 days (Art. 24)
    withdrawn = "withdrawn"
    paid = "paid"  # next issue
    closed = "closed"  # next issue


CLAIM_STATUS_LABELS: dict[ClaimStatus, str] = {
    ClaimStatus.filed: "已报案（材料待补）",
    ClaimStatus.returned: "已退回补正",
    ClaimStatus.documents_complete: "材料齐全",
    ClaimStatus.assessed: "已理算",
    ClaimStatus.awaiting_second_approval: "待复核审批",
    ClaimStatus.approved: "同意赔付",
    ClaimStatus.partly_approved: "部分赔付",
    ClaimStatus.rejected: "拒赔",
    ClaimStatus.withdrawn: "已撤案",
    ClaimStatus.paid: "已支付",
    ClaimStatus.closed: "已结案",
}
