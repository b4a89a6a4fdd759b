"""Flags as a person reads them: the household's head (ID number masked), the village, the figures as a Chinese
sentence, the labels; and the XLSX export of a filtered list. Reads only: no writes, no commits."""

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from claims.risk import rules
from claims.risk.labels import MONITOR_CATEGORY, RISK_ACTION, RISK_REASON, RISK_STATUS
from claims.risk.models import RiskFlag, RiskFlagEvent
from claims.risk.rules import RiskReason
from claims.risk.schemas import RiskFlagDetail, RiskFlagEventPublic, RiskFlagPublic
from core import labels
from core.masking import mask_id_number
from core.templating import datefmt
from insurance.register.models import Division, Household, Member

HEAD = "02"  # GB/T 4761-2008: 户主
EXPORT_HEADERS = (
    "预警编号",
    "户编号",
    "户主姓名",
    "户主证件号码",
    "村",
    "年度",
    "预警原因",
    "预警数据",
    "关联理赔案件",
    "状态",
    "确认的监测类别",
    "处理说明",
    "预警时间",
    "更新时间",
)


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def summary(reason: RiskReason, figures: dict[str, Any]) -> str:
    """The figures behind a flag as one Chinese sentence."""
    if reason == RiskReason.medical_out_of_pocket:
        amount, threshold = figures.get("amount_fen", 0), figures.get("threshold_fen", 0)
        verb = "达到" if amount >= threshold else "低于"
        text = f"年度个人自付医疗费用{yuan(amount)}，{verb}预警线{yuan(threshold)}"
        if "income_fen" in figures:
            text += f"；占家庭收入{figures['income_share_bp'] / 100:g}%"
        return text
    if reason == RiskReason.disaster_loss:
        amount, threshold = figures.get("amount_fen", 0), figures.get("threshold_fen", 0)
        verb = "达到" if amount >= threshold else "低于"
        return f"年度灾害及养殖种植损失{yuan(amount)}，{verb}预警线{yuan(threshold)}"
    if reason == RiskReason.death_or_severe_disability:
        events = figures.get("events", [])
        deaths = sum(1 for e in events if e.get("kind") == "death")
        disabled = [e for e in events if e.get("kind") == "disability"]
        low, high = figures.get("working_age", [16, 59])
        parts = [f"身故{deaths}人"] if deaths else []
        if disabled:
            grades = "、".join(f"{e['grade']}级" for e in disabled)
            parts.append(f"重度伤残{len(disabled)}人（{grades}）")
        return f"劳动年龄（{low}-{high}周岁）成员" + ("，".join(parts) or "无身故或重度伤残")
    if reason == RiskReason.uncovered_hospital_stay:
        stays, amount = figures.get("stays", 0), figures.get("amount_fen", 0)
        return f"无有效保障住院{stays}次，医疗总费用{yuan(figures.get('total_cost_fen', 0))}，个人自付{yuan(amount)}"
    eligible, uncovered = figures.get("eligible_members", 0), figures.get("uncovered_members", 0)
    return f"符合参保条件的成员{eligible}人，其中{uncovered}人无有效保障"


def _lookups(session: Session, flags: Sequence[RiskFlag]) -> tuple[dict[int, Any], dict[int, Member], dict[str, str]]:
    household_ids = sorted({f.household_id for f in flags})
    households = (
        {h.id: h for h in session.exec(select(Household).where(col(Household.id).in_(household_ids)))}
        if household_ids
        else {}
    )
    heads: dict[int, Member] = {}
    if household_ids:
        query = select(Member).where(col(Member.household_id).in_(household_ids), Member.relation_code == HEAD)
        heads = {m.household_id: m for m in session.exec(query)}
    villages = sorted({f.village_code for f in flags})
    names = dict(session.exec(select(Division.code, Division.name).where(col(Division.code).in_(villages))).all())
    return households, heads, names


def flags_public(session: Session, flags: Sequence[RiskFlag]) -> list[RiskFlagPublic]:
    """The rows of a list, with their households, heads and villages read in three queries for the page."""
    households, heads, names = _lookups(session, flags)
    rows = []
    for flag in flags:
        head = heads.get(flag.household_id)
        household = households.get(flag.household_id)
        rows.append(
            RiskFlagPublic(
                id=flag.id or 0,
                household_id=flag.household_id,
                household_no=household.household_no if household else "",
                head_name=head.name if head else "",
                head_id_number_masked=mask_id_number(head.id_number) if head else "",
                county_code=flag.county_code,
                village_code=flag.village_code,
                village_name=names.get(flag.village_code, ""),
                reason=flag.reason,
                reason_label=labels.label(RISK_REASON, flag.reason),
                year=flag.year,
                status=flag.status,
                status_label=labels.label(RISK_STATUS, flag.status),
                figures=flag.figures,
                summary=summary(flag.reason, flag.figures),
                claim_nos=[b for b in flag.basis if not b.startswith("member:")],
                confirmed_category=flag.confirmed_category,
                confirmed_category_label=labels.label(MONITOR_CATEGORY, flag.confirmed_category),
                closing_note=flag.closing_note,
                raised_at=flag.raised_at,
                updated_at=flag.updated_at,
                closed_by=flag.closed_by,
                closed_at=flag.closed_at,
            )
        )
    return rows


def event_public(event: RiskFlagEvent) -> RiskFlagEventPublic:
    return RiskFlagEventPublic(
        action=event.action,
        action_label=labels.label(RISK_ACTION, event.action),
        from_status=event.from_status,
        to_status=event.to_status,
        note=event.note,
        details=event.details,
        actor=event.actor,
        at=event.at,
    )


def flag_detail(session: Session, flag: RiskFlag, events: Iterable[RiskFlagEvent], *, may_act: bool) -> RiskFlagDetail:
    public = flags_public(session, [flag])[0]
    actions = [a.value for a in rules.allowed_actions(flag.status)] if may_act else []
    return RiskFlagDetail(
        **public.model_dump(), events=[event_public(e) for e in events], allowed_actions=list(dict.fromkeys(actions))
    )


def _cells(row: RiskFlagPublic) -> list[str]:
    village = f"{row.village_name}（{row.village_code}）" if row.village_name else row.village_code
    return [
        str(row.id),
        row.household_no,
        row.head_name,
        row.head_id_number_masked,
        village,
        str(row.year),
        row.reason_label,
        row.summary,
        "、".join(row.claim_nos),
        row.status_label,
        row.confirmed_category_label,
        row.closing_note or "",
        datefmt(row.raised_at),
        datefmt(row.updated_at),
    ]


def write_xlsx(target: Path, session: Session, flags: Iterable[RiskFlag], batch: int = 500) -> int:
    """The flags as an XLSX sheet with Chinese headers (openpyxl's write-only mode, every cell text); the count."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("返贫风险预警")
    sheet.freeze_panes = "A2"
    sheet.append(list(EXPORT_HEADERS))
    count = 0
    pending: list[RiskFlag] = []

    def flush() -> None:
        for row in flags_public(session, pending):
            cells = []
            for value in _cells(row):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "@"
                cells.append(cell)
            sheet.append(cells)
        pending.clear()

    for flag in flags:
        pending.append(flag)
        count += 1
        if len(pending) >= batch:
            flush()
    flush()
    workbook.save(target)
    return count
