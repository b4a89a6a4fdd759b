"""Insurance's namespaces in the one table of labels (core.labels): its audit actions and objects, the reasons its
documents are asked for, its field names, and the status tables its models define. Imported by insurance.wiring,
so every composition root (main, worker, the CLI) knows them before a page or an export asks."""

from core import labels
from insurance.certificates.models import CERTIFICATE_STATUS_LABELS
from insurance.cover.eligibility import COVER_REASON_LABELS
from insurance.cover.models import (
    COVER_STATUS_LABELS,
    ENROLMENT_STATUS_LABELS,
    OBJECTION_STATUS_LABELS,
    PERIL_LABELS,
    POLICY_STATUS_LABELS,
    PRODUCT_KIND_LABELS,
    UNIT_LABELS,
)
from insurance.cover.outbox import DOCUMENT_KIND_LABELS
from insurance.gaps.reasons import GAP_REASON_LABELS, NOT_ELIGIBLE_REASON_LABELS
from insurance.register.models import DIVISION_LEVEL_LABELS, MEMBER_STATUS_LABELS

POLICY_STATUS = "policy_status"
COVER_STATUS = "cover_status"
COVER_REASON = "cover_reason"
COVER_END_REASON = "cover_end_reason"
ENROLMENT_STATUS = "enrolment_status"
OBJECTION_STATUS = "objection_status"
PERIL = "peril"
PRODUCT_KIND = "product_kind"
UNIT = "unit"
MEMBER_STATUS = "member_status"
DIVISION_LEVEL = "division_level"
CERTIFICATE_STATUS = "certificate_status"
SUBJECT = "subject"  # the species or crop of an industry product (insured_object.subject)
GAP_REASON = "gap_reason"  # why an eligible member has no cover (insurance.gaps)
NOT_ELIGIBLE_REASON = "not_eligible_reason"
SEASON_PART = "season_part"  # the part of a season code after the year (`2026-late`)

labels.register(POLICY_STATUS, POLICY_STATUS_LABELS)
labels.register(COVER_STATUS, COVER_STATUS_LABELS)
labels.register(COVER_REASON, COVER_REASON_LABELS)
labels.register(ENROLMENT_STATUS, ENROLMENT_STATUS_LABELS)
labels.register(OBJECTION_STATUS, OBJECTION_STATUS_LABELS)
labels.register(PERIL, PERIL_LABELS)
labels.register(PRODUCT_KIND, PRODUCT_KIND_LABELS)
labels.register(UNIT, UNIT_LABELS)
labels.register(MEMBER_STATUS, MEMBER_STATUS_LABELS)
labels.register(DIVISION_LEVEL, DIVISION_LEVEL_LABELS)
labels.register(CERTIFICATE_STATUS, CERTIFICATE_STATUS_LABELS)
labels.register(GAP_REASON, GAP_REASON_LABELS)
labels.register(NOT_ELIGIBLE_REASON, NOT_ELIGIBLE_REASON_LABELS)
labels.register(labels.DOCUMENT_KIND, DOCUMENT_KIND_LABELS)
labels.register(
    SUBJECT,
    {
        "sow": "能繁母猪",
        "hog": "育肥猪",
        "cattle": "牛",
        "rice_early": "早稻",
        "rice_mid": "中稻",
        "rice_late": "晚稻",
        "citrus": "柑橘",
        "tea": "茶叶",
        "oil_tea": "油茶",
    },
)
labels.register(SEASON_PART, {"early": "早季", "mid": "中季", "late": "晚季"})

# Why a cover line ended: the register's member statuses, or a decision on the policy or the notice.
labels.register(
    COVER_END_REASON,
    {
        **MEMBER_STATUS_LABELS,
        "policy_cancelled": "保单已撤销",
        "objection_upheld": "公示异议成立",
    },
)

labels.register(
    labels.AUDIT_ACTION,
    {
        "import": "导入",
        "upload": "上传",
        "cancel": "撤销",
        "issue": "出单",
        "renew": "续保",
        "enrol": "批量投保",
        "re_enrol": "重新投保",
        "end_cover": "终止保障",
        "post_notice": "张贴公示",
        "post_notice_late": "补录公示（逾期登记）",
        "queue_enrolment": "提交批量投保",
        "record_objection": "登记异议",
        "resolve_objection": "处理异议",
    },
)
labels.register(
    labels.ENTITY,
    {
        "division": "行政区划",
        "insurer": "保险公司",
        "roster_import": "花名册导入",
        "policy": "保单",
        "product": "保险产品",
        "product_version": "产品版本",
        "coverage": "保障记录",
        "enrolment_notice": "承保公示",
        "notice_objection": "公示异议",
        "household": "贫困户",
        "member": "家庭成员",
    },
)
labels.register(
    labels.DOCUMENT_REASON,
    {
        "enrolled": "批量投保",
        "policy_issued": "保单出单",
        "policy_cancelled": "保单撤销",
        "notice_posted": "公示张贴",
        "objection_upheld": "公示异议成立",
        "register_changed": "户籍信息变更",
        "member_deceased": "成员死亡",
        "member_moved_out": "成员迁出",
        "member_removed": "成员移出名册",
        "reissue": "补发",
    },
)
# What a finished document request notes when it printed nothing (insurance.certificates.kinds).
DOCUMENT_NOTE = "document_note"
labels.register(
    DOCUMENT_NOTE,
    {
        "revoked": "本户已无保障，凭证作废，未打印",
        "no cover": "本户无保障，未打印",
        "unchanged": "凭证内容未变，沿用已打印的版本",
    },
)
labels.register(
    labels.FIELD,
    {
        "code": "代码",  # a division's, a product's or a benefit's: the same name fits all three
        "name": "名称",
        "county_code": "县",
        "village_code": "村",
        "village": "村",
        "division_code": "区划代码",
        "lapsing_days": "到期提醒天数",
        "sort": "排序",
        "list": "名单",
        "year": "年度",
        "on": "日期",
        "policy_no": "保单号",
        "certificate_id": "保险凭证",
        "confirm": "确认",
        "product_code": "产品",
        "product_version": "产品版本",
        "premium_yuan": "每人保费（元）",
        "premium_per_person_fen": "每人保费",
        "premium_per_household_fen": "每户保费",
        "premium_per_unit_fen": "单位保费",
        "premium_fen": "保费",
        "sum_insured_fen": "保险金额",
        "posted_on": "公示张贴日期",
        "late_reason": "逾期登记原因",
        "recorded_on": "登记日期",
        "days_late": "逾期天数",
        "outcome": "处理结果",
        "raised_on": "异议提出日期",
        "raised_by": "异议提出人",
        "reason": "原因",
        "resolution": "处理意见",
        "upheld": "异议是否成立",
        "household_no": "户编号",
        "member_id": "成员",
        "id_number": "证件号码",
        "uscc": "统一社会信用代码",
        "insurer_name": "保险公司",
        "short_name": "简称",
        "hotline": "服务电话",
        "cooperative_name": "合作社名称",
        "cooperative_uscc": "合作社统一社会信用代码",
        "policyholder": "投保人",
        "objects": "保险标的",
        "ear_tags": "耳标号",
        "quantity": "数量",
        "unit": "单位",
        "season": "季别",
        "period_start": "保险期间起",
        "period_end": "保险期间止",
        "note": "备注",
        "dry_run": "仅试算",
        "strict": "严格模式",
        "file": "文件",
        "peril": "风险",
        "status": "状态",
        "county": "县",
        "kind": "类型",
        "q": "查询内容",
        "fmt": "文件格式",
        "import_id": "导入批次",
        "enrolment_id": "投保批次",
        "notice_id": "公示",
        "objection_id": "异议",
        "object_id": "保险标的",
        "errors_only": "仅看错误",
        "retried": "重试份数",
        "enrolled_on": "投保日期",
        "codes": "产品",
        "products": "产品",
        # a product version's terms and benefits (POST /api/products/{code}/versions)
        "year_from": "起始年度",
        "rate_bp": "费率",
        "subsidy_central_bp": "中央补贴比例",
        "subsidy_provincial_bp": "省级补贴比例",
        "subsidy_county_bp": "县级补贴比例",
        "farmer_share_bp": "农户自付比例",
        "terms": "条款",
        "new_member_grace_days": "新增成员宽限天数",
        "cover_after_exit_years": "脱贫后保障年数",
        "moved_out_cover": "迁出成员的保障",
        "notice_objection_days": "公示异议天数",
        "benefits": "保险责任",
        "perils": "承保风险",
        "waiting_perils": "等待期适用的风险",
        "waiting_days": "等待期天数",
        "deductible_fen": "免赔额",
        "reimbursement_bp": "赔付比例",
        "per_event_limit_fen": "每次限额",
        "annual_limit_fen": "年度限额",
        "extra": "附加条件",
    },
)

# The keys insurance writes into its audit records' before/after (core.audit_view shows them by these labels), and
# which of their values are codes of which namespace.
labels.register(
    labels.FIELD,
    {
        "rows": "行数",
        "accepted": "接收行数",
        "normalised": "修正行数",
        "rejected": "拒绝行数",
        "updated": "更新数",
        "unchanged": "未变数",
        "moved": "迁出数",
        "deceased": "死亡数",
        "removed": "移出数",
        "households": "户数",
        "households_incomplete": "信息不全户数",
        "villages_created": "新建村数",
        "applied": "已生效",
        "bytes": "文件大小（字节）",
        "policy": "保单号",
        "objection_until": "异议截止日期",
        "added": "新增人数",
        "households_added": "新增户数",
        "ineligible": "不符合条件人数",
        "double_cover": "重复参保人数",
        "too_late": "逾期人数",
        "members": "人数",
        "certificates_requested": "待生成的保险凭证数",
        "renewed_as": "续保保单号",
        "cover_end": "保障终止日期",
        "lines_removed": "移出的参保记录数",
        "products_added": "新增产品",
        "versions": "产品版本数",
        "product_version_id": "产品版本",
        "period": "保险期间",
        "household_id": "贫困户",
        "subject": "保险标的",
        "farmer_share_fen": "农户自缴保费",
    },
)
labels.register_values(
    {
        "policy.kind": PRODUCT_KIND,
        "policy.status": POLICY_STATUS,
        "coverage.reason": COVER_END_REASON,
        "perils": PERIL,
        "waiting_perils": PERIL,
        "peril": PERIL,
        "unit": UNIT,
    }
)
