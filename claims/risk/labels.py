"""The risk flags' namespaces in the one table of labels (core.labels): reasons, states, steps, the monitoring
categories, the audit actions and object, and the fields of the flag's forms and filters. Imported by claims.wiring."""

from claims.risk.rules import MonitorCategory, RiskAction, RiskReason, RiskStatus
from core import labels

RISK_REASON = "risk_reason"
RISK_STATUS = "risk_status"
RISK_ACTION = "risk_action"
MONITOR_CATEGORY = "monitor_category"

REASON_LABELS = {
    RiskReason.medical_out_of_pocket: "医疗自付费用高",
    RiskReason.disaster_loss: "灾害或养殖种植损失",
    RiskReason.death_or_severe_disability: "劳动力身故或重度伤残",
    RiskReason.uncovered_hospital_stay: "无保障成员住院",
    RiskReason.eligible_uncovered: "符合条件未参保",
}
STATUS_LABELS = {
    RiskStatus.new: "新预警",
    RiskStatus.following_up: "跟进中",
    RiskStatus.resolved: "已处理",
    RiskStatus.dismissed: "已排除",
}
ACTION_LABELS = {
    RiskAction.raise_flag: "系统预警",
    RiskAction.refresh: "数据更新",
    RiskAction.follow_up: "跟进",
    RiskAction.resolve: "处理完毕",
    RiskAction.dismiss: "排除预警",
}
CATEGORY_LABELS = {
    MonitorCategory.unstable_exited: "脱贫不稳定户",
    MonitorCategory.marginal: "边缘易致贫户",
    MonitorCategory.sudden_hardship: "突发严重困难户",
}

labels.register(RISK_REASON, REASON_LABELS)
labels.register(RISK_STATUS, STATUS_LABELS)
labels.register(RISK_ACTION, ACTION_LABELS)
labels.register(MONITOR_CATEGORY, CATEGORY_LABELS)
labels.register(labels.ENTITY, {"risk_flag": "返贫风险预警"})
labels.register(labels.ACTOR, {"system:risk": "系统（返贫风险预警）"})
labels.register(
    labels.AUDIT_ACTION,
    {
        "raise_risk_flag": "产生返贫风险预警",
        "refresh_risk_flag": "更新返贫风险预警数据",
        "follow_up_risk_flag": "跟进返贫风险预警",
        "resolve_risk_flag": "处理完毕返贫风险预警",
        "dismiss_risk_flag": "排除返贫风险预警",
        "confirm_monitor_category": "确认防返贫监测类别",
    },
)
labels.register(
    labels.FIELD,
    {
        "flag_id": "风险预警",
        "division": "行政区划",
        "confirmed_category": "确认的监测类别",
        "monitor_category": "监测类别",
        "figures": "预警数据",
        "basis": "依据",
        "closing_note": "处理说明",
    },
)
labels.register_values(
    {
        "risk_flag.reason": RISK_REASON,
        "risk_flag.status": RISK_STATUS,
        "risk_flag.confirmed_category": MONITOR_CATEGORY,
        "household.monitor_category": MONITOR_CATEGORY,
    }
)
