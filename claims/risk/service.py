"""Raising and refreshing risk flags in the caller's transaction, and the county office's work on them.

Raising: `raise_for_claims` (filing, assessment, decisions), `raise_for_import` (a settlement import, at the end of
its transaction) and `flag_uncovered_households` (after a coverage recount) never commit: the flag lands or
vanishes with the fact that raised it. They work in bulk: the households and years the facts touch, then a few
queries (chunked `IN` lists) for their claims, members, households and flags, whatever the number of claims.

Working: `follow_up`, `resolve`, `dismiss` are one use case = one commit each, with an event row and an audit
record. Only the county office of the flag's county acts; the province office reads every county (read only: the
county confirms the category); insurers and the admin see no flag (404, empty lists). Resolving may record the
monitoring category the county confirmed, on the flag only: the register is written by the roster import alone.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, cast, false
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select

from claims.models import Claim
from claims.risk import rules
from claims.risk.errors import RiskCode, RiskConflictError, RiskForbiddenError, RiskInvalidError, RiskNotFoundError
from claims.risk.models import RiskFlag, RiskFlagEvent
from claims.risk.rules import RiskAction, RiskReason, RiskStatus, RiskThresholds
from claims.risk.schemas import DismissCreate, FollowUpCreate, ResolveCreate
from core import audit
from core.audit import Actor
from core.auth import county_prefix
from core.db import insert_rows, insert_rows_with_ids, one_of, utcnow
from core.models import AuditLog, Role, User
from core.settings import Settings, get_settings
from insurance.cover import catalogue, eligibility
from insurance.cover.models import Coverage, CoverStatus, Policy, PolicyStatus, ProductKind, ProductVersion
from insurance.register.models import Household, Member, MemberStatus

CHUNK = 2_000  # ids per IN list: well inside SQLite's and PostgreSQL's bound-parameter limits
SYSTEM = Actor.system("risk")


def thresholds_of(settings: Settings) -> RiskThresholds:
    return RiskThresholds(
        medical_oop_fen=settings.risk_medical_oop_yuan * rules.YUAN,
        disaster_loss_fen=settings.risk_disaster_loss_yuan * rules.YUAN,
        working_age_min=settings.risk_working_age_min,
        working_age_max=settings.risk_working_age_max,
    )


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = sorted(set(values))
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# --- raising ------------------------------------------------------------------------------------------------------


@dataclass
class _Existing:
    """A household's flags of one reason and year: the open one, and what the closed ones considered."""

    open: RiskFlag | None = None
    consumed: frozenset[str] = frozenset()


def _existing(session: Session, household_ids: set[int], reasons: Sequence[RiskReason]) -> dict[tuple, _Existing]:
    found: dict[tuple, _Existing] = defaultdict(_Existing)
    for chunk in _chunks(household_ids):
        query = select(RiskFlag).where(col(RiskFlag.household_id).in_(chunk), col(RiskFlag.reason).in_(reasons))
        for flag in session.exec(query):
            key = (flag.household_id, flag.reason, flag.year)
            if flag.status in rules.OPEN_STATUSES:
                found[key].open = flag
            else:
                found[key].consumed = found[key].consumed | set(flag.basis)
    return found


def _households(session: Session, household_ids: set[int]) -> dict[int, Household]:
    found: dict[int, Household] = {}
    for chunk in _chunks(household_ids):
        found.update((h.id or 0, h) for h in session.exec(select(Household).where(col(Household.id).in_(chunk))))
    return found


Places = dict[int, tuple[str, str]]  # household id -> (county code, village code): where a flag is shown


def _places(session: Session, household_ids: set[int]) -> Places:
    """Where each household's flags are shown; read with its row locked (in id order, so two transactions never
    wait on each other in a circle): a second transaction judging the same household waits for the first's commit
    and then finds its flag open, to refresh, instead of raising a second one against the unique index (a 500).
    SQLite needs no lock: its writers begin IMMEDIATE, one at a time."""
    found: Places = {}
    for chunk in _chunks(sorted(household_ids)):
        query = select(Household.id, Household.county_code, Household.village_code)
        query = query.where(one_of(session, Household.id, chunk)).order_by(col(Household.id)).with_for_update()
        found.update((h, (c, v)) for h, c, v in session.exec(query))
    return found


def _apply(
    session: Session,
    actor: Actor,
    judged: list[tuple[int, int, rules.Finding, _Existing]],
    places: Places,
) -> list[RiskFlag]:
    """Raises the new flags and refreshes the open ones whose figures moved, each with its event and audit. The new
    flags, their events and audit records go in as bulk inserts (an import raises thousands at once); the flags
    raised are returned as written, not attached to the session."""
    raised: list[dict[str, Any]] = []
    refreshed: list[tuple[RiskFlag, dict[str, Any], list[str]]] = []
    now = utcnow()
    for household_id, year, finding, existing in judged:
        open_state = (existing.open.figures, existing.open.basis) if existing.open else None
        decision = rules.outcome(finding, open_state)
        if decision == rules.Outcome.raise_new:
            county, village = places[household_id]
            raised.append(
                {
                    "household_id": household_id,
                    "county_code": county,
                    "village_code": village,
                    "reason": finding.reason,
                    "year": year,
                    "status": RiskStatus.new,
                    "figures": finding.figures,
                    "basis": list(finding.basis),
                    "raised_by": actor.name,
                    "raised_at": now,
                    "updated_at": now,
                }
            )
        elif decision == rules.Outcome.refresh and existing.open is not None:
            flag = existing.open
            before = (dict(flag.figures), list(flag.basis))
            flag.figures, flag.basis, flag.updated_at = finding.figures, list(finding.basis), now
            session.add(flag)
            refreshed.append((flag, *before))
    flags = [
        RiskFlag(**values, id=given)
        for values, given in zip(raised, insert_rows_with_ids(session, RiskFlag.__table__, raised), strict=True)
    ]
    events: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    for flag in flags:
        details = {"figures": flag.figures, "basis": flag.basis}
        events.append(_event_values(flag, actor, RiskAction.raise_flag, None, now, details))
        after = {"reason": flag.reason, "year": flag.year, "figures": flag.figures, "basis": flag.basis}
        records.append(audit.entry_values(actor, "raise_risk_flag", "risk_flag", flag.id, at=now, after=after))
    for flag, figures, basis in refreshed:
        details = {"figures": flag.figures, "basis": flag.basis, "before": {"figures": figures, "basis": basis}}
        events.append(_event_values(flag, actor, RiskAction.refresh, flag.status, now, details))
        records.append(
            audit.entry_values(
                actor,
                "refresh_risk_flag",
                "risk_flag",
                flag.id,
                at=now,
                before={"figures": figures, "basis": basis},
                after={"figures": flag.figures, "basis": flag.basis},
            )
        )
    insert_rows(session, RiskFlagEvent.__table__, events)
    insert_rows(session, AuditLog.__table__, records)
    return [*flags, *(f for f, _, _ in refreshed)]


def _event_values(
    flag: RiskFlag, actor: Actor, action: RiskAction, from_status: RiskStatus | None, at: Any, details: dict[str, Any]
) -> dict[str, Any]:
    """_event's row for a bulk insert."""
    return {
        "flag_id": flag.id or 0,
        "action": action.value,
        "from_status": from_status,
        "to_status": flag.status,
        "note": None,
        "details": details,
        "actor": actor.name,
        "actor_user_id": actor.user_id,
        "at": at,
    }


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


def _claim_facts(session: Session, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], list[rules.ClaimFact]]:
    """The facts of every claim of the households and years named, in a query per chunk of households (and one
    per chunk of members for the birth dates of deaths and disabilities)."""
    not_covered = cast(Claim.assessment, String).contains(f'"{rules.NOT_COVERED}"')
    rows: list[Any] = []
    for chunk in _chunks(h for h, _ in pairs):
        query = select(
            Claim.claim_no,
            Claim.claim_type,
            Claim.status,
            Claim.incident_date,
            Claim.household_pays_fen,
            Claim.claimed_fen,
            Claim.facts,
            not_covered,
            Claim.member_id,
            Claim.household_id,
        ).where(one_of(session, Claim.household_id, chunk))
        rows += [r for r in session.exec(query) if (r[9], r[3].year) in pairs]
    people = {r[8] for r in rows if r[8] is not None and (r[1] in rules.DEATHS or r[1] == rules.DISABILITY)}
    births: dict[int, date] = {}
    for chunk in _chunks(people):
        births.update(session.exec(select(Member.id, Member.birth_date).where(col(Member.id).in_(chunk))).all())
    facts: dict[tuple[int, int], list[rules.ClaimFact]] = defaultdict(list)
    for no, kind, status, day, pays, claimed, raw, uncovered, member, household in rows:
        facts[(household, day.year)].append(
            rules.ClaimFact(
                claim_no=no,
                claim_type=str(kind),
                status=str(status),
                incident_date=day,
                household_pays_fen=pays,
                claimed_fen=claimed or 0,
                facts=raw or {},
                reasons=(rules.NOT_COVERED,) if uncovered else (),
                member_id=member,
                birth_date=births.get(member) if member is not None else None,
            )
        )
    return facts


def _judge_claims(
    session: Session, pairs: set[tuple[int, int]], actor: Actor, thresholds: RiskThresholds | None
) -> list[RiskFlag]:
    if not pairs:
        return []
    limits = thresholds or thresholds_of(get_settings())
    households = {h for h, _ in pairs}
    places = _places(session, households)  # first: the lock, before anything this judges is read
    facts = _claim_facts(session, pairs)
    existing = _existing(session, households, rules.CLAIM_REASONS)
    judged = []
    for household_id, year in sorted(pairs):
        mine = facts.get((household_id, year), [])
        by_pool: dict[frozenset[str], dict[RiskReason, rules.Finding]] = {}  # the triggers once per pool of facts
        for reason in rules.CLAIM_REASONS:
            state = existing.get((household_id, reason, year)) or _Existing()
            if state.consumed not in by_pool:
                by_pool[state.consumed] = rules.judge_claims(rules.pool(mine, state.consumed), limits)
            judged.append((household_id, year, by_pool[state.consumed][reason], state))
    return _apply(session, actor, judged, places)


def raise_for_claims(
    session: Session, claim_ids: Iterable[int], *, actor: Actor, thresholds: RiskThresholds | None = None
) -> list[RiskFlag]:
    """Judges the households and years of these claims again: raises what now fires, refreshes what is open and
    moved. In the caller's transaction (flushed, never committed). Thresholds default to the settings'."""
    pairs: set[tuple[int, int]] = set()
    for chunk in _chunks(i for i in claim_ids if i):
        query = select(Claim.household_id, Claim.incident_date).where(col(Claim.id).in_(chunk))
        pairs |= {(h, day.year) for h, day in session.exec(query)}
    return _judge_claims(session, pairs, actor, thresholds)


def raise_for_claim(session: Session, claim: Claim, *, actor: Actor) -> list[RiskFlag]:
    """One claim's step (filed, assessed, decided...): judged as `raise_for_claims` does, unless no trigger reads its
    type (accidental medical), when it can change no flag and costs no query."""
    if claim.claim_type not in rules.JUDGED_TYPES:
        return []
    return raise_for_claims(session, [claim.id or 0], actor=actor)


def raise_for_import(
    session: Session, import_id: int | None, *, actor: Actor, thresholds: RiskThresholds | None = None
) -> list[RiskFlag]:
    """The same for every claim a settlement import created, found by its import id (one query for them all)."""
    if import_id is None:
        return []
    query = select(Claim.household_id, Claim.incident_date).where(Claim.settlement_import_id == import_id).distinct()
    pairs = {(h, day.year) for h, day in session.exec(query)}
    return _judge_claims(session, pairs, actor, thresholds)


def _family_terms(session: Session, counties: set[str], year: int) -> dict[str, eligibility.CoverTerms]:
    """Each county's terms of the year from its family policy's product version (the latest issued, else any);
    a county without one has the catalogue's defaults."""
    query = (
        select(Policy.county_code, ProductVersion)
        .join(ProductVersion, col(ProductVersion.id) == Policy.product_version_id)
        .where(col(Policy.county_code).in_(sorted(counties)), Policy.year == year, Policy.kind == ProductKind.family)
        .where(Policy.status != PolicyStatus.cancelled)
        .order_by(col(Policy.issued_at).is_(None).desc(), col(Policy.id))
    )
    return {county: catalogue.cover_terms(version) for county, version in session.exec(query)}


def flag_uncovered_households(
    session: Session,
    *,
    on: date,
    household_ids: Iterable[int] | None = None,
    village_codes: Iterable[str] | None = None,
    actor: Actor = SYSTEM,
) -> list[RiskFlag]:
    """Raises `eligible_uncovered` for the households named (or of the villages named) whose eligible active
    members have no family cover in force on `on` on an issued policy; refreshes the open ones. In the caller's
    transaction: meant to run after a coverage recount."""
    households: dict[int, Household] = {}
    if household_ids is not None:
        households.update(_households(session, set(household_ids)))
    for chunk in _chunks(village_codes or ()):
        households.update(
            (h.id or 0, h) for h in session.exec(select(Household).where(col(Household.village_code).in_(chunk)))
        )
    households = {k: h for k, h in households.items() if h.removed_on is None or h.removed_on > on}
    if not households:
        return []
    terms = _family_terms(session, {h.county_code for h in households.values()}, on.year)
    eligible_households = {
        k
        for k, h in households.items()
        if eligibility.household_eligible(
            exit_year=h.exit_year,
            monitor_category=h.monitor_category,
            policy_year=on.year,
            cover_after_exit_years=terms.get(h.county_code, eligibility.CoverTerms()).cover_after_exit_years,
        )
    }
    members: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(eligible_households):
        query = select(Member.id, Member.household_id).where(
            col(Member.household_id).in_(chunk), Member.status == MemberStatus.active
        )
        for member_id, household_id in session.exec(query):
            members[household_id].append(member_id)
    covered: set[int] = set()
    for chunk in _chunks(m for ids in members.values() for m in ids):
        query = (
            select(Coverage.member_id)
            .join(Policy, col(Policy.id) == Coverage.policy_id)
            .where(col(Coverage.member_id).in_(chunk), Coverage.status != CoverStatus.cancelled)
            .where(col(Coverage.cover_start) <= on, col(Coverage.cover_end) >= on)
            .where(Policy.status == PolicyStatus.issued, Policy.kind == ProductKind.family)
        )
        covered.update(session.exec(query))
    reason = RiskReason.eligible_uncovered
    existing = _existing(session, set(households), (reason,))
    judged = []
    for household_id in sorted(households):
        state = existing.get((household_id, reason, on.year)) or _Existing()
        eligible = members.get(household_id, [])
        uncovered = [m for m in eligible if m not in covered and f"member:{m}" not in state.consumed]
        judged.append((household_id, on.year, rules.eligible_uncovered(eligible, uncovered), state))
    return _apply(session, actor, judged, {k: (h.county_code, h.village_code) for k, h in households.items()})


def flag_after_recount(connection: Connection, village_codes: list[str], today: date) -> None:
    """The coverage recount's listener (claims.wiring registers it): after an enrolment, an issue, a cancellation, an
    upheld objection or a roster import, flags the households of the recounted villages left uncovered, in the same
    transaction. Only where the county's family policy for the day is issued: before that, every household of a
    county being enrolled is uncovered, and the gap belongs to the enrolment, not to a household's risk. Only the
    households with an active member outside an issued cover, and those already flagged, are judged."""
    counties = sorted({code[:6] for code in village_codes})
    with Session(bind=connection) as session:
        in_force = set(
            session.exec(
                select(Policy.county_code).where(
                    Policy.kind == ProductKind.family,
                    Policy.status == PolicyStatus.issued,
                    col(Policy.county_code).in_(counties),
                    col(Policy.period_start) <= today,
                    col(Policy.period_end) >= today,
                )
            )
        )
        villages = [code for code in village_codes if code[:6] in in_force]
        if not villages:
            return
        in_cover = (
            select(Coverage.member_id)
            .join(Policy, col(Policy.id) == Coverage.policy_id)
            .where(
                Coverage.member_id == Member.id,
                Coverage.status != CoverStatus.cancelled,
                col(Coverage.cover_start) <= today,
                col(Coverage.cover_end) >= today,
                Policy.status == PolicyStatus.issued,
                Policy.kind == ProductKind.family,
            )
            .exists()
        )
        candidates: set[int] = set()
        for chunk in _chunks(villages):
            candidates.update(
                session.exec(
                    select(Member.household_id)
                    .join(Household, col(Household.id) == Member.household_id)
                    .where(col(Household.village_code).in_(chunk), Member.status == MemberStatus.active, ~in_cover)
                    .distinct()
                )
            )
            candidates.update(
                session.exec(
                    select(RiskFlag.household_id)
                    .join(Household, col(Household.id) == RiskFlag.household_id)
                    .where(
                        col(Household.village_code).in_(chunk),
                        RiskFlag.reason == RiskReason.eligible_uncovered,
                        RiskFlag.year == today.year,
                        col(RiskFlag.status).in_(rules.OPEN_STATUSES),
                    )
                )
            )
        if candidates:
            flag_uncovered_households(session, on=today, household_ids=candidates)
            session.flush()


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
    """The village-code prefix of a division: a county's 6 digits, a township's 9, a village's 12; a 12-digit county
    or township code (zero-padded, as the divisions API writes it) counts as its short form."""
    if len(code) == 12 and code.endswith("000000"):
        return code[:6]
    if len(code) == 12 and code.endswith("000"):
        return code[:9]
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
    session.commit()
    return flag


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
