"""The dashboards' claim figures: amounts by type and month, and overdue claims by county, within the caller's
remit (the claims' own `claim_condition`) and the division asked for (a code prefix on the claim's county).

Only the offices read dashboards: an insurer's staff or the admin get 404, like a division outside their remit."""

from collections import defaultdict
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import case
from sqlmodel import Session, col, func, select

from claims.dashboard.errors import DashboardCode, DashboardInvalidError, DashboardNotFoundError
from claims.dashboard.schemas import (
    ClaimsByMonthPublic,
    FlagCountyRow,
    FlagReasonRow,
    OpenFlagsPublic,
    OverduePublic,
    OverdueRow,
    TypeMonths,
)
from claims.models import Claim, ClaimPayment, PaymentStatus
from claims.queries import AGREED, UNDECIDED, claim_condition, claim_summary, due_condition
from claims.risk import labels as risk_labels
from claims.risk import service as risk_service
from claims.risk.models import RiskFlag
from claims.risk.rules import OPEN_STATUSES, RiskReason, RiskStatus
from claims.status import CLAIM_TYPE_LABELS, ClaimStatus, ClaimType
from core.db import PROGRAMME_TZ, local_date
from core.models import Role, User
from insurance.register import service as register_service
from insurance.register.errors import DivisionNotFound
from insurance.register.models import Division, DivisionLevel

OFFICE_ROLES = (Role.province_office, Role.county_office)
DASHBOARD_LEVELS = {DivisionLevel.province: 2, DivisionLevel.prefecture: 4, DivisionLevel.county: 6}
# A decision the household is owed money on: agreed, and later paid or closed (the next issue's states).
AGREED_OR_LATER = (ClaimStatus.approved, ClaimStatus.partly_approved, ClaimStatus.paid, ClaimStatus.closed)
OLDEST_OVERDUE = 20


def dashboard_division(session: Session, user: User, code: str) -> Division:
    """The province, a prefecture or a county within an office user's jurisdiction; below the county the coverage
    pages drill down, and claims are kept per county."""
    if user.role not in OFFICE_ROLES:
        raise DashboardNotFoundError("看板仅供扶贫办查看", code=DashboardCode.not_found, field="code")
    try:
        division = register_service.get_division(session, user, code)
    except DivisionNotFound as error:
        raise DashboardNotFoundError(error.message, code=DashboardCode.not_found, field="code") from error
    if division.level not in DASHBOARD_LEVELS:
        raise DashboardInvalidError(
            "看板按省、市州、县市区查看；乡镇和村的情况请在覆盖情况页面下钻查看",
            code=DashboardCode.level_invalid,
            field="code",
        )
    return division


def _claims_in(user: User, division: Division) -> list[Any]:
    prefix = division.code[: DASHBOARD_LEVELS[division.level]]
    conditions: list[Any] = [col(Claim.county_code).startswith(prefix)]
    remit = claim_condition(user)
    if remit is not None:
        conditions.append(remit)
    return conditions


def claims_by_month(session: Session, user: User, division: Division, year: int) -> ClaimsByMonthPublic:
    """Paid by the day the bank paid; approved by the Beijing day of the decision. Both folded to months here,
    so a decision at 01:00 Beijing time on the 1st counts in its own month, not the previous one (UTC)."""
    if not 2000 <= year <= 2100:
        raise DashboardInvalidError("年度：应在 2000 至 2100 之间", code=DashboardCode.year_invalid, field="year")
    conditions = _claims_in(user, division)
    paid: dict[ClaimType, list[int]] = defaultdict(lambda: [0] * 12)
    approved: dict[ClaimType, list[int]] = defaultdict(lambda: [0] * 12)
    paid_rows = session.exec(
        select(Claim.claim_type, ClaimPayment.paid_on, func.sum(ClaimPayment.amount_fen))
        .join(Claim, col(Claim.id) == ClaimPayment.claim_id)
        .where(
            ClaimPayment.status == PaymentStatus.paid,
            col(ClaimPayment.paid_on) >= date(year, 1, 1),
            col(ClaimPayment.paid_on) <= date(year, 12, 31),
            *conditions,
        )
        .group_by(Claim.claim_type, ClaimPayment.paid_on)
    ).all()
    for claim_type, paid_on, amount in paid_rows:
        paid[ClaimType(claim_type)][paid_on.month - 1] += int(amount or 0)
    # The year's Beijing days as UTC instants.
    start = datetime.combine(date(year, 1, 1), time(), PROGRAMME_TZ).astimezone(UTC)
    end = start + (datetime(year + 1, 1, 1) - datetime(year, 1, 1))
    approved_rows = session.exec(
        select(Claim.claim_type, Claim.decided_at, Claim.payable_fen).where(
            col(Claim.status).in_(AGREED_OR_LATER),
            col(Claim.decided_at) >= start,
            col(Claim.decided_at) < end,
            *conditions,
        )
    ).all()
    for claim_type, decided_at, payable in approved_rows:
        approved[ClaimType(claim_type)][local_date(decided_at).month - 1] += int(payable or 0)
    types = [
        TypeMonths(
            claim_type=claim_type,
            claim_type_label=CLAIM_TYPE_LABELS[claim_type],
            paid_fen=paid[claim_type],
            approved_fen=approved[claim_type],
            paid_total_fen=sum(paid[claim_type]),
            approved_total_fen=sum(approved[claim_type]),
        )
        for claim_type in ClaimType
    ]
    paid_by_month = [sum(t.paid_fen[m] for t in types) for m in range(12)]
    approved_by_month = [sum(t.approved_fen[m] for t in types) for m in range(12)]
    return ClaimsByMonthPublic(
        division_code=division.code,
        division_name=division.name,
        year=year,
        types=types,
        paid_fen_by_month=paid_by_month,
        approved_fen_by_month=approved_by_month,
        paid_total_fen=sum(paid_by_month),
        approved_total_fen=sum(approved_by_month),
    )


def _pending_due_on() -> Any:
    """The due date of the step the claim waits for, as due_condition reads it."""
    return case(
        (col(Claim.status).in_(UNDECIDED), Claim.decision_due_on),
        (Claim.status == ClaimStatus.rejected, Claim.refusal_notice_due_on),
        (col(Claim.status).in_(AGREED), Claim.payment_due_on),
    )


def overdue_claims(session: Session, user: User, division: Division, today: date) -> OverduePublic:
    """The claims whose pending statutory step (decision, refusal notice, payment) is overdue or due within 3 days,
    counted per county, with the most overdue claims listed."""
    conditions = _claims_in(user, division)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for index, due in enumerate(("overdue", "soon")):
        rows = session.exec(
            select(Claim.county_code, func.count())
            .where(due_condition(due, today), *conditions)
            .group_by(Claim.county_code)
        ).all()
        for county_code, count in rows:
            counts[county_code][index] = int(count)
    names = _county_names(session, set(counts))
    by_county = [
        OverdueRow(code=f"{code}000000", name=names.get(code, code), overdue=overdue, due_soon=soon)
        for code, (overdue, soon) in sorted(counts.items())
    ]
    oldest = session.exec(
        select(Claim)
        .where(due_condition("overdue", today), *conditions)
        .order_by(_pending_due_on().asc(), col(Claim.id).asc())
        .limit(OLDEST_OVERDUE)
    ).all()
    return OverduePublic(
        division_code=division.code,
        division_name=division.name,
        on=today,
        overdue=sum(row.overdue for row in by_county),
        due_soon=sum(row.due_soon for row in by_county),
        by_county=by_county,
        oldest=[claim_summary(claim) for claim in oldest],
    )


def _county_names(session: Session, county_codes: set[str]) -> dict[str, str]:
    rows = session.exec(select(Division).where(col(Division.code).in_([f"{c}000000" for c in county_codes])))
    return {d.code[:6]: d.name for d in rows}


def open_flags(session: Session, user: User, division: Division) -> OpenFlagsPublic:
    """The flags the county offices still have to work, counted by reason and status and by county, within the
    flags' own remit (risk.service.scope_flags)."""
    prefix = division.code[: DASHBOARD_LEVELS[division.level]]
    rows = session.exec(
        risk_service.scope_flags(select(RiskFlag.county_code, RiskFlag.reason, RiskFlag.status, func.count()), user)
        .where(col(RiskFlag.county_code).startswith(prefix), col(RiskFlag.status).in_(OPEN_STATUSES))
        .group_by(RiskFlag.county_code, RiskFlag.reason, RiskFlag.status)
    ).all()
    by_reason: dict[RiskReason, list[int]] = {reason: [0, 0] for reason in RiskReason}
    by_county: dict[str, int] = defaultdict(int)
    for county_code, reason, status, count in rows:
        by_reason[RiskReason(reason)][0 if RiskStatus(status) == RiskStatus.new else 1] += int(count)
        by_county[county_code] += int(count)
    names = _county_names(session, set(by_county))
    return OpenFlagsPublic(
        division_code=division.code,
        division_name=division.name,
        open=sum(by_county.values()),
        by_reason=[
            FlagReasonRow(
                reason=reason, reason_label=risk_labels.REASON_LABELS[reason], new=new, following_up=following
            )
            for reason, (new, following) in by_reason.items()
        ],
        by_county=[
            FlagCountyRow(code=f"{code}000000", name=names.get(code, code), open=count)
            for code, count in sorted(by_county.items())
        ],
    )
