"""Raising and refreshing risk flags in the caller's transaction: a flag lands or vanishes with its fact.

`raise_for_claim` (a claim's filing, assessment and decisions), `raise_for_claims`, `raise_for_import` (a settlement
import, at the end of its transaction) and `flag_uncovered_households` (after a coverage recount) never commit. They
work in bulk: the households and years the facts touch, then a few queries (chunked `IN` lists) for their claims,
members, households and flags, whatever the number of claims. The households judged are locked first, so two
transactions judging one household at once take turns.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from claims.models import Claim
from claims.risk import rules
from claims.risk.models import RiskFlag, RiskFlagEvent
from claims.risk.rules import RiskAction, RiskReason, RiskStatus, RiskThresholds
from core import audit
from core.audit import Actor
from core.db import insert_rows, insert_rows_with_ids, one_of, utcnow
from core.models import AuditLog
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


def _claim_facts(session: Session, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], list[rules.ClaimFact]]:
    """The facts of every claim of the households and years named, in a query per chunk of households (and one
    per chunk of members for the birth dates of deaths and disabilities)."""
    reasons = col(Claim.assessment)["reasons"]  # only the assessment's reason codes, not its lines
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
            reasons,
            Claim.member_id,
            Claim.household_id,
            Claim.decision_reason,
        ).where(one_of(session, Claim.household_id, chunk))
        rows += [r for r in session.exec(query) if (r[9], r[3].year) in pairs]
    people = {r[8] for r in rows if r[8] is not None and (r[1] in rules.DEATHS or r[1] == rules.DISABILITY)}
    births: dict[int, date] = {}
    for chunk in _chunks(people):
        births.update(session.exec(select(Member.id, Member.birth_date).where(col(Member.id).in_(chunk))).all())
    facts: dict[tuple[int, int], list[rules.ClaimFact]] = defaultdict(list)
    for no, kind, status, day, pays, claimed, raw, codes, member, household, decision_reason in rows:
        facts[(household, day.year)].append(
            rules.ClaimFact(
                claim_no=no,
                claim_type=str(kind),
                status=str(status),
                incident_date=day,
                household_pays_fen=pays,
                claimed_fen=claimed or 0,
                facts=raw or {},
                reasons=tuple(codes or ()),
                member_id=member,
                birth_date=births.get(member) if member is not None else None,
                decision_reason=decision_reason,
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
    """One claim's step (filed, assessed, decided...): judged as `raise_for_claims` does, from the claim in hand (its
    household and year need no query), unless no trigger reads its type (accidental medical), when it can change no
    flag and costs no query."""
    if claim.claim_type not in rules.JUDGED_TYPES:
        return []
    return _judge_claims(session, {(claim.household_id, claim.incident_date.year)}, actor, None)


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
    transaction. Only where the county's family policy is issued: before, every household of a county being enrolled
    is uncovered, and the gap belongs to the enrolment, not to a household's risk. Judged on the day, where an issued
    policy is in force, and on the first day of an issued policy still to start: the households an issue leaves out
    are flagged when it is issued, for its year, not only once something else touches their village."""
    counties = sorted({code[:6] for code in village_codes})
    with Session(bind=connection) as session:
        days: dict[str, set[date]] = defaultdict(set)
        issued = select(Policy.county_code, Policy.period_start).where(
            Policy.kind == ProductKind.family,
            Policy.status == PolicyStatus.issued,
            col(Policy.county_code).in_(counties),
            col(Policy.period_end) >= today,
        )
        for county, start in session.exec(issued):
            days[county].add(max(start, today))
        by_day: dict[date, list[str]] = defaultdict(list)
        for code in village_codes:
            for day in days.get(code[:6], ()):
                by_day[day].append(code)
        for day, villages in sorted(by_day.items()):
            _flag_villages(session, villages, day)
        session.flush()


def _flag_villages(session: Session, villages: list[str], day: date) -> None:
    """Judges the households of these villages with an active member outside an issued family cover on `day`, and
    those already flagged for its year."""
    in_cover = (
        select(Coverage.member_id)
        .join(Policy, col(Policy.id) == Coverage.policy_id)
        .where(
            Coverage.member_id == Member.id,
            Coverage.status != CoverStatus.cancelled,
            col(Coverage.cover_start) <= day,
            col(Coverage.cover_end) >= day,
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
                    RiskFlag.year == day.year,
                    col(RiskFlag.status).in_(rules.OPEN_STATUSES),
                )
            )
        )
    if candidates:
        flag_uncovered_households(session, on=day, household_ids=candidates)
