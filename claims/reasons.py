"""The one fixed list of reason codes a claim's explanation, rejection, API and reports use (issue 14), each with
its Chinese label. Pure: imported by the rules, the services and the pages alike."""

from enum import StrEnum


class ReasonCode(StrEnum):
    payable = "payable"
    not_covered = "not_covered"  # no cover in force on the incident date (never enrolled, lapsed, after death...)
    waiting_period = "waiting_period"
    deductible = "deductible"
    annual_limit = "annual_limit"
    per_event_limit = "per_event_limit"
    nothing_payable = "nothing_payable"  # nothing left after the earlier layers
    object_not_insured = "object_not_insured"
    peril_not_covered = "peril_not_covered"
    documents_missing = "documents_missing"
    late_report = "late_report"  # past the Art. 26 period: a warning, never a rejection by itself
    duplicate = "duplicate"
    fraud_suspected = "fraud_suspected"
    other = "other"


REASON_LABELS: dict[ReasonCode, str] = {
    ReasonCode.payable: "可赔付",
    ReasonCode.not_covered: "出险日无有效保障",
    ReasonCode.waiting_period: "出险日处于等待期内",
    ReasonCode.deductible: "扣除免赔额",
    ReasonCode.annual_limit: "受年度赔付限额限制",
    ReasonCode.per_event_limit: "受每次赔付限额限制",
    ReasonCode.nothing_payable: "各项报销后无剩余可赔金额",
    ReasonCode.object_not_insured: "保险标的未投保",
    ReasonCode.peril_not_covered: "事故原因不在保险责任范围内",
    ReasonCode.documents_missing: "理赔材料不全",
    ReasonCode.late_report: "超过法定报案期限",
    ReasonCode.duplicate: "重复报案",
    ReasonCode.fraud_suspected: "疑似欺诈",
    ReasonCode.other: "其他原因",
}
