"""Claims' namespaces in the one table of labels (core.labels): claim types and states, the reason codes, the
checklist's documents, the filing checks, reviews, payments and settlement imports, the audit objects claims
write, and the claim fields forms, errors and the audit log name. Imported by claims.wiring, so every composition
root (main, worker, the CLI) knows them before a page or an export asks."""

from claims.checklist import DOCUMENT_LABELS
from claims.models import (
    CHECK_KIND_LABELS,
    CHECK_SEVERITY_LABELS,
    PAYMENT_KIND_LABELS,
    PAYMENT_STATUS_LABELS,
    REVIEW_KIND_LABELS,
    REVIEW_OUTCOME_LABELS,
)
from claims.reasons import REASON_LABELS
from claims.status import CLAIM_ACTION_LABELS, CLAIM_STATUS_LABELS, CLAIM_TYPE_LABELS, DECISION_LABELS
from core import labels

CLAIM_TYPE = "claim_type"
CLAIM_STATUS = "claim_status"
CLAIM_REASON = "claim_reason"
CLAIM_DOCUMENT = "claim_document"  # a checklist document's code (`invoices`, `death_certificate`)
CHECK_KIND = "claim_check_kind"
CHECK_SEVERITY = "claim_check_severity"
REVIEW_KIND = "claim_review_kind"
REVIEW_OUTCOME = "claim_review_outcome"
REVIEW_REASON = "claim_review_reason"  # why a decision was picked for review (claim_review.reason)
PAYMENT_KIND = "claim_payment_kind"
PAYMENT_STATUS = "claim_payment_status"
IMPORT_STATUS = "settlement_import_status"
DECISION = "claim_decision"  # approve, approve_partly, reject (a pending decision's)

labels.register(CLAIM_TYPE, CLAIM_TYPE_LABELS)
labels.register(CLAIM_STATUS, CLAIM_STATUS_LABELS)
labels.register(CLAIM_REASON, REASON_LABELS)
labels.register(CLAIM_DOCUMENT, DOCUMENT_LABELS)
labels.register(CHECK_KIND, CHECK_KIND_LABELS)
labels.register(CHECK_SEVERITY, CHECK_SEVERITY_LABELS)
labels.register(DECISION, DECISION_LABELS)
labels.register(REVIEW_KIND, REVIEW_KIND_LABELS)
labels.register(REVIEW_OUTCOME, REVIEW_OUTCOME_LABELS)
labels.register(
    REVIEW_REASON,
    {
        "above_approval_amount": "超过复核审批金额",
        "death_rejection": "身故案件拒赔",
        "random": "随机抽中",
        "amount_above_threshold": "赔付金额超过风险阈值",
        "unusual_amount": "赔付金额明显高于同类案件",
    },
)
labels.register(PAYMENT_KIND, PAYMENT_KIND_LABELS)
labels.register(PAYMENT_STATUS, PAYMENT_STATUS_LABELS)
labels.register(IMPORT_STATUS, {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"})

labels.register(
    labels.ENTITY,
    {
        "claim": "理赔案件",
        "claim_document": "理赔材料",
        "claim_check": "报案筛查提示",
        "claim_review": "理赔复核",
        "claim_callback": "客户回访",
        "claim_payment": "赔款支付",
        "settlement_import": "一站式结算单导入",
    },
)
# A status transition is audited under its action (claims/status.py); the other records claims keep come after.
labels.register(labels.AUDIT_ACTION, CLAIM_ACTION_LABELS)
labels.register(
    labels.AUDIT_ACTION,
    {
        "remove_document": "撤回理赔材料",
        "override_check": "放行筛查提示",
        "record_callback": "登记回访",
        "record_review": "登记复核结果",
        "file": "报案",
        "upload_document": "上传理赔材料",
    },
)
labels.register(
    labels.FIELD,
    {
        "claim_id": "理赔案件",
        "claim_no": "案件号",
        "household": "参保户",  # the filing form's chosen household (?household=户编号)
        # the facts of a claim type the shared field labels do not name (flags and lists of its facts dataclass)
        "hospital_stay": "住院治疗",
        "village_verified": "村委会已核实",
        "culled_tags": "强制扑杀耳标号",
        "culling_subsidy_per_head_fen": "每头扑杀补助",
        "harmless_disposal": "无害化处理",
        "stage": "生长期",
        "severity": "提示级别",
        "claim_type": "理赔类型",
        "version": "版本号",
        "policy_id": "保单",
        "benefit_code": "保险责任",
        "insured_object_id": "保险标的",
        "claimant_name": "申请人姓名",
        "claimant_relation": "申请人与被保险人关系",
        "claimant_phone": "申请人电话",
        "incident_date": "出险日期",
        "incident_place": "出险地点",
        "reported_on": "报案日期",
        "documents_complete_on": "材料齐全日期",
        "decision_due_on": "核定截止日期",
        "refusal_notice_due_on": "拒赔通知截止日期",
        "payment_due_on": "赔款支付截止日期",
        "facts": "案件事实",
        "main_diagnosis": "主要诊断",
        "settlement_no": "结算单号",
        "settlement_import_id": "结算单导入批次",
        "invoice_no": "发票号",
        "claimed_fen": "申请金额",
        "payable_fen": "核定赔付金额",
        "household_pays_fen": "个人自付金额",
        "assessment": "理算说明",
        "decision_reason": "决定原因",
        "decision_text": "决定说明",
        "decided_by": "决定人",
        "second_approver": "复核审批人",
        "pending_decision": "待复核的决定",
        "pending_amount_fen": "待复核的赔付金额",
        "pending_reason": "待复核的拒赔原因",
        "pending_by": "首次决定人",
        "pending_at": "首次决定时间",
        "filed_by": "报案经办人",
        "assessed_by": "理算人",
        "from_status": "原状态",
        "to_status": "新状态",
        "reasons": "原因代码",
        "filename": "文件名",
        "content_type": "文件类型",
        "size_bytes": "文件大小（字节）",
        "document_code": "材料类别",
        "override_reason": "放行原因",
        "reached": "是否联系上",
        "household_said": "回访内容",
        "reviewer": "复核人",
        "review_id": "复核记录",
        "review_kind": "复核类型",
        "review_reason": "抽查原因",
        "review_outcome": "复核结果",
        "amount_fen": "金额",
        "payee_name": "收款人",
        "account_masked": "收款账号",
        "paid_on": "支付日期",
        "refused": "拒绝行数",
        "claims_created": "新建案件数",
        "grade": "伤残等级",
        "grades": "伤残等级",
        "invoice_nos": "发票号",
        "decision": "审批决定",
        "agree": "是否同意",
        "check_id": "筛查提示",
        "mine": "仅看本人经办",
        "due": "到期情况",
        "checks": "报案筛查提示",
        "documents": "理赔材料",
        "total_cost_fen": "医疗总费用",
        "in_policy_fen": "政策范围内费用",
        "bmi_paid_fen": "基本医保支付",
        "ci_paid_fen": "大病保险支付",
        "assistance_paid_fen": "医疗救助支付",
        "medical_cost_fen": "医疗费用",
        "died_on": "死亡日期",
        "rooms_collapsed": "倒塌间数",
        "area_mu": "受灾面积（亩）",
        "loss_bp": "损失程度",
    },
)
labels.register_values(
    {
        "claim_type": CLAIM_TYPE,
        "claim.status": CLAIM_STATUS,
        "from_status": CLAIM_STATUS,
        "to_status": CLAIM_STATUS,
        "decision_reason": CLAIM_REASON,
        "pending_reason": CLAIM_REASON,
        "pending_decision": DECISION,
        "reasons": CLAIM_REASON,
        "document_code": CLAIM_DOCUMENT,
        "claim_document.code": CLAIM_DOCUMENT,
        "claim_check.kind": CHECK_KIND,
        "claim_check.severity": CHECK_SEVERITY,
        "claim_review.kind": REVIEW_KIND,
        "claim_review.outcome": REVIEW_OUTCOME,
        "claim_review.reason": REVIEW_REASON,
        "claim.review_kind": REVIEW_KIND,
        "claim.review_outcome": REVIEW_OUTCOME,
        "claim.review_reason": REVIEW_REASON,
        "claim_payment.kind": PAYMENT_KIND,
        "claim_payment.status": PAYMENT_STATUS,
        "settlement_import.status": IMPORT_STATUS,
    }
)
