"""The county office's work on risk flags, and who sees which (raising them is claims.risk.raising).

Working: `follow_up`, `resolve`, `dismiss` are one use case = one commit each, with an event row and an audit
record. Only the county office of the flag's county acts; the province office reads every county (read only: the
county confirms the category); insurers and the admin see no flag (404, empty lists). Resolving may record the
monitoring category the county confirmed: on the flag, and on the household, which puts it under monitoring.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select

from claims.risk import rules
from claims.risk.errors import RiskCode, RiskConflictError, RiskForbiddenError, RiskInvalidError, RiskNotFoundError
from claims.risk.models import RiskFlag, RiskFlagEvent
from claims.risk.rules import RiskAction, RiskReason, RiskStatus
from claims.risk.schemas import DismissCreate, FollowUpCreate, ResolveCreate
from core import audit
from core.audit import Actor
from core.auth import county_prefix
from core.db import utcnow
from core.models import Role, User
from insurance.cover import counts
from insurance.register.models import Household


def _event(
    flag: RiskFlag,
    actor: Actor,
    action: RiskAction,
    from_status: RiskStatus | None,
    details: dict[str, Any] | None = None,
    note: str | None = None,
) -> RiskFlagEvent:
    return RiskFlagEvent(
        flag_id=flag.id or 0,
        action=action.value,
        from_status=from_status,
        to_status=flag.status,
        note=note,
        details=details,
        actor=actor.name,
        actor_user_id=actor.user_id,
    )


# --- who sees what ------------------------------------------------------------------------------------------------


def flag_condition(user: User) -> ColumnElement[bool] | None:
    """The flags the user may see, or None for all: a county office its county's, the province office all,
    insurers' staff and the admin none."""
    if user.role == Role.county_office:
        return RiskFlag.county_code == (county_prefix(user) or "-")
    if user.role == Role.province_office:
        return None
    return false()


def scope_flags(query: Any, user: User) -> Any:
    condition = flag_condition(user)
    return query if condition is None else query.where(condition)


def get_flag(session: Session, user: User, flag_id: int) -> RiskFlag:
    flag = session.exec(scope_flags(select(RiskFlag).where(RiskFlag.id == flag_id), user)).first()
    if flag is None:
        raise RiskNotFoundError("风险预警不存在或不在您的辖区内", code=RiskCode.flag_not_found, field="flag_id")
    return flag


@dataclass(frozen=True)
class FlagFilter:
    reason: RiskReason | None = None
    status: RiskStatus | None = None
    division: str | None = None  # a county (6), township (9) or village (12) code, or any prefix of them
    year: int | None = None
    open_only: bool = False


def _filtered(query: Any, user: User, where: FlagFilter) -> Any:
    query = scope_flags(query, user)
    if where.reason is not None:
        query = query.where(RiskFlag.reason == where.reason)
    if where.status is not None:
        query = query.where(RiskFlag.status == where.status)
    elif where.open_only:
        query = query.where(col(RiskFlag.status).in_(rules.OPEN_STATUSES))
    if where.year is not None:
        query = query.where(RiskFlag.year == where.year)
    if where.division:
        code = where.division.strip()
        if not code.isdigit() or len(code) > 12:
            raise RiskInvalidError("区划代码须为数字", code=RiskCode.division_invalid, field="division")
        query = query.where(col(RiskFlag.village_code).startswith(division_prefix(code)))
    return query


def division_prefix(code: str) -> str:
    """The village-code prefix of a division (GB/T 2260 levels: province 2 digits, prefecture 4, county 6, township
    9, village 12). A code in its padded form (6 or 12 digits, as the divisions API writes them: 430000000000,
    431200, 433124000000) counts as its short form; a short form (43, 4312) is taken as it is."""
    if len(code) in (6, 9, 12):
        padded = code.ljust(12, "0")
        for level in (2, 4, 6, 9):
            if not padded[level:].strip("0"):
                return padded[:level]
        return padded
    return code


def list_flags(
    session: Session, user: User, where: FlagFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[RiskFlag], int]:
    """A page of the user's flags, newest first, and the count of all that match."""
    rows = session.exec(
        _filtered(select(RiskFlag), user, where).order_by(col(RiskFlag.id).desc()).offset(offset).limit(limit)
    ).all()
    count = session.exec(_filtered(select(func.count()).select_from(RiskFlag), user, where)).one()
    return list(rows), count


def iter_flags(session: Session, user: User, where: FlagFilter, batch: int = 1_000) -> Iterator[RiskFlag]:
    """Every matching flag, a batch at a time (the export)."""
    last = 0
    while True:
        query = _filtered(select(RiskFlag), user, where).where(col(RiskFlag.id) > last)
        rows = session.exec(query.order_by(col(RiskFlag.id)).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id or 0


def list_events(session: Session, flag: RiskFlag) -> list[RiskFlagEvent]:
    query = select(RiskFlagEvent).where(RiskFlagEvent.flag_id == flag.id).order_by(col(RiskFlagEvent.id))
    return list(session.exec(query).all())


def may_act(user: User) -> bool:
    return user.role == Role.county_office


# --- the county's work ----------------------------------------------------------------------------------------------


def _worked_flag(session: Session, user: User, flag_id: int, action: RiskAction) -> tuple[RiskFlag, RiskStatus]:
    flag = get_flag(session, user, flag_id)
    if not may_act(user):
        raise RiskForbiddenError("只有县扶贫办可以处理本县的风险预警，省扶贫办只读", code=RiskCode.forbidden)
    to_status = rules.next_status(flag.status, action)
    if to_status is None:
        raise RiskConflictError(
            "该风险预警的当前状态不允许此操作", code=RiskCode.transition_not_allowed, field="status"
        )
    return flag, to_status


def _step(
    session: Session,
    user: User,
    flag: RiskFlag,
    to_status: RiskStatus,
    action: RiskAction,
    note: str | None,
    details: dict[str, Any] | None = None,
) -> RiskFlagEvent:
    from_status = flag.status
    flag.status, flag.updated_at = to_status, utcnow()
    if to_status in (RiskStatus.resolved, RiskStatus.dismissed):
        flag.closing_note, flag.closed_by, flag.closed_by_user_id, flag.closed_at = (
            note,
            user.username,
            user.id,
            utcnow(),
        )
    session.add(flag)
    event = _event(flag, Actor.of(user), action, from_status, details, note)
    session.add(event)
    return event


def follow_up(session: Session, user: User, flag_id: int, data: FollowUpCreate) -> RiskFlag:
    """The county office follows the household up (a visit, a call): new -> following_up, or another note."""
    flag, to_status = _worked_flag(session, user, flag_id, RiskAction.follow_up)
    before = {"status": flag.status}
    _step(session, user, flag, to_status, RiskAction.follow_up, data.note)
    after = {"status": flag.status, "note": data.note}
    audit.record(session, Actor.of(user), "follow_up_risk_flag", "risk_flag", flag.id, before=before, after=after)
    session.commit()
    return flag


def resolve(session: Session, user: User, flag_id: int, data: ResolveCreate) -> RiskFlag:
    """Closes a followed-up flag, with the monitoring category the county confirmed (or none)."""
    flag, to_status = _worked_flag(session, user, flag_id, RiskAction.resolve)
    before = {"status": flag.status}
    category = data.confirmed_category.value if data.confirmed_category else None
    flag.confirmed_category = category
    _step(session, user, flag, to_status, RiskAction.resolve, data.note, {"confirmed_category": category})
    after = {"status": flag.status, "confirmed_category": category, "note": data.note}
    audit.record(session, Actor.of(user), "resolve_risk_flag", "risk_flag", flag.id, before=before, after=after)
    if category is not None:
        _confirm_category(session, user, flag.household_id, category)
    session.commit()
    return flag


def _confirm_category(session: Session, user: User, household_id: int, category: str) -> None:
    """The county's confirmation puts the household under monitoring on the register (domain.md §1.3: the system
    flags, the county confirms), which makes it eligible for the family cover: its village is recounted in this
    transaction, so the coverage figures and gaps show it at once (and, through the recount, an eligible household
    left uncovered is flagged)."""
    household = session.get(Household, household_id)
    if household is None or household.monitor_category == category:
        return
    before = {"monitor_category": household.monitor_category}
    household.monitor_category = category
    session.add(household)
    audit.record(
        session,
        Actor.of(user),
        "confirm_monitor_category",
        "household",
        household.household_no,
        before=before,
        after={"monitor_category": category},
    )
    session.flush()
    counts.recount(session.connection(), villages=[household.village_code])


def dismiss(session: Session, user: User, flag_id: int, data: DismissCreate) -> RiskFlag:
    """Closes a flag the county finds unfounded; the reason is required (and kept as the closing note)."""
    flag, to_status = _worked_flag(session, user, flag_id, RiskAction.dismiss)
    reason = (data.reason or "").strip()
    if not reason:
        raise RiskInvalidError("排除风险预警须填写原因", code=RiskCode.reason_required, field="reason")
    before = {"status": flag.status}
    _step(session, user, flag, to_status, RiskAction.dismiss, reason)
    after = {"status": flag.status, "note": reason}
    audit.record(session, Actor.of(user), "dismiss_risk_flag", "risk_flag", flag.id, before=before, after=after)
    session.commit()
    return flag
