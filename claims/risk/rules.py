"""Which facts raise which risk flag, with the figures behind it (pure: no web, database or core imports).

The triggers of domain.md §1.3, per household and calendar year (the year of the incident or admission date):

- `medical_out_of_pocket`: Σ `household_pays_fen` of the household's supplementary-medical claims of the year ≥ the
  threshold (10,000 yuan), or ≥ 50 % of the household's income where known. The register keeps no income today, so
  the service passes none; the rule takes it when it exists. `household_pays_fen` is what the stay leaves to the
  household after the decision (a rejection leaves it all but what the other schemes paid).
- `disaster_loss`: Σ the loss of the household's house-collapse, livestock and crop claims of the year ≥ the
  threshold (5,000 yuan). The loss is what hits the family, not what the insurer pays: the assessment's valuation
  of the claimed facts (rooms x the amount a room, heads x the sum a head, uninsured heads included) before any
  precondition, deduction or limit; for crops the affected area's sum x the loss degree, half up (the first line
  values the area at its full sum). Known from the assessment: a claim filed but not yet assessed counts 0.
- `death_or_severe_disability`: a death (accidental death, death by illness) or a disability of grade 1-4 (the most
  severe grade of the claim decides) of a member of working age on the incident date (16-59 by default: a design
  assumption, configurable).
- `uncovered_hospital_stay`: a supplementary-medical claim assessed `not_covered` (no cover in force that day; a
  stay in its waiting period is covered, later). A rejection is the expected end of such a claim.
- `eligible_uncovered`: eligible members of the household (its exit year and the programme's terms, or under
  monitoring) with no family cover in force: computed by the service from cover, judged here.

Every trigger counts the claims whose event happened (`ClaimFact.happened`): all but the withdrawn ones and those
rejected as a duplicate or a suspected fraud. A rejection for want of cover denies the payment, not the stay, the
loss or the death, which the household then bears alone.

Re-raising: the facts a resolved or dismissed flag already considered (its `basis`: claim numbers, or members for
`eligible_uncovered`) are left out of the pool the next flag of the same household, reason and year is judged on, so
a closed flag comes back only when new facts cross the threshold on their own.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

YUAN = 100  # fen
BP = 10_000


class RiskReason(StrEnum):
    medical_out_of_pocket = "medical_out_of_pocket"
    disaster_loss = "disaster_loss"
    death_or_severe_disability = "death_or_severe_disability"
    uncovered_hospital_stay = "uncovered_hospital_stay"
    eligible_uncovered = "eligible_uncovered"


CLAIM_REASONS = (
    RiskReason.medical_out_of_pocket,
    RiskReason.disaster_loss,
    RiskReason.death_or_severe_disability,
    RiskReason.uncovered_hospital_stay,
)


class RiskStatus(StrEnum):
    new = "new"
    following_up = "following_up"
    resolved = "resolved"
    dismissed = "dismissed"


OPEN_STATUSES = (RiskStatus.new, RiskStatus.following_up)


class RiskAction(StrEnum):
    raise_flag = "raise_flag"  # the system, in the transaction that records the fact
    refresh = "refresh"  # new facts changed the figures or the claims of an open flag
    follow_up = "follow_up"  # the county office visits or calls; may be recorded more than once
    resolve = "resolve"  # may record the confirmed monitoring category
    dismiss = "dismiss"  # a reason is required


class MonitorCategory(StrEnum):
    """domain.md §1.3's three categories the county confirms (the register's `monitor_category` values)."""

    unstable_exited = "unstable_exited"
    marginal = "marginal"
    sudden_hardship = "sudden_hardship"


TRANSITIONS: dict[tuple[RiskStatus, RiskAction], RiskStatus] = {
    (RiskStatus.new, RiskAction.follow_up): RiskStatus.following_up,
    (RiskStatus.following_up, RiskAction.follow_up): RiskStatus.following_up,
    (RiskStatus.following_up, RiskAction.resolve): RiskStatus.resolved,
    (RiskStatus.new, RiskAction.dismiss): RiskStatus.dismissed,
    (RiskStatus.following_up, RiskAction.dismiss): RiskStatus.dismissed,
}


def next_status(status: RiskStatus, action: RiskAction) -> RiskStatus | None:
    """The status after the action, or None when the table does not allow it."""
    return TRANSITIONS.get((status, action))


def allowed_actions(status: RiskStatus) -> list[RiskAction]:
    return [action for (start, action) in TRANSITIONS if start == status]


# --- the thresholds and the facts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskThresholds:
    """The configurable figures (core.settings: RISK_MEDICAL_OOP_YUAN, RISK_DISASTER_LOSS_YUAN, RISK_WORKING_AGE_*)."""

    medical_oop_fen: int = 10_000 * YUAN
    medical_income_share_bp: int = 5_000  # 50 % of the household's income, where known
    disaster_loss_fen: int = 5_000 * YUAN
    working_age_min: int = 16
    working_age_max: int = 59
    severe_grade_max: int = 4  # grades 1-4 of JR/T 0083-2013


# The claim types and statuses as plain strings, so the rules need nothing but these values.
MEDICAL = "supplementary_medical"
DEATHS = frozenset({"accidental_death", "illness_death"})
DISABILITY = "accidental_disability"
DISASTERS = frozenset({"house_collapse", "livestock_loss", "crop_loss"})
# The claim types some trigger reads: a step of a claim of any other type (accidental medical) changes no flag.
JUDGED_TYPES = frozenset({MEDICAL, DISABILITY, *DEATHS, *DISASTERS})
WITHDRAWN = "withdrawn"
REJECTED = "rejected"
DID_NOT_HAPPEN = frozenset({"duplicate", "fraud_suspected"})  # rejections that deny the event, not the cover
NOT_COVERED = "not_covered"


@dataclass(frozen=True)
class ClaimFact:
    """What a claim tells the rules: its type and state, its dates and amounts (fen), and its member's birth date."""

    claim_no: str
    claim_type: str
    status: str
    incident_date: date
    household_pays_fen: int | None = None
    claimed_fen: int = 0  # the assessment's valuation of the claimed facts (0 until assessed for property)
    facts: Mapping[str, Any] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()  # the assessment's reason codes
    member_id: int | None = None
    birth_date: date | None = None

    decision_reason: str | None = None  # a rejection's reason code

    @property
    def happened(self) -> bool:
        """Whether the claim's event counts for the household: not withdrawn, and not rejected as a duplicate or a
        suspected fraud. A claim rejected for want of cover (not covered, waiting period, a peril not insured) still
        tells of a stay, a loss or a death the household lives with, uninsured: those are the risk itself."""
        return self.status != WITHDRAWN and not (self.status == REJECTED and self.decision_reason in DID_NOT_HAPPEN)


@dataclass(frozen=True)
class Finding:
    """A trigger judged on a pool of facts: whether it fires, the figures behind it and the facts it rests on."""

    reason: RiskReason
    fires: bool
    figures: dict[str, Any]
    basis: tuple[str, ...]  # claim numbers (or `member:<id>` for eligible_uncovered), sorted


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def age_on(birth: date, day: date) -> int:
    """Whole years on `day` (a 29 February birthday counts from 1 March in other years)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def loss_fen(fact: ClaimFact) -> int:
    """The loss a property claim states, in fen: its valuation, and for crops that valuation x the loss degree."""
    if fact.claim_type == "crop_loss":
        return round_half_up(Decimal(fact.claimed_fen) * Decimal(int(fact.facts.get("loss_bp", 0))) / BP)
    return fact.claimed_fen


def severe_grade(fact: ClaimFact) -> int | None:
    grades = [g for g in fact.facts.get("grades", []) if isinstance(g, int)]
    return min(grades) if grades else None


# --- the triggers -------------------------------------------------------------------------------------------------


def medical_out_of_pocket(
    facts: Iterable[ClaimFact], thresholds: RiskThresholds, *, income_fen: int | None = None
) -> Finding:
    counted = sorted(
        (f for f in facts if f.claim_type == MEDICAL and f.happened and f.household_pays_fen is not None),
        key=lambda f: f.claim_no,
    )
    total = sum(f.household_pays_fen or 0 for f in counted)
    figures: dict[str, Any] = {
        "amount_fen": total,
        "threshold_fen": thresholds.medical_oop_fen,
        "parts_fen": {f.claim_no: f.household_pays_fen for f in counted},
    }
    fires = bool(counted) and total >= thresholds.medical_oop_fen
    if income_fen is not None and income_fen > 0:
        share_bp = round_half_up(Decimal(total) * BP / Decimal(income_fen))
        figures.update(
            income_fen=income_fen, income_share_bp=share_bp, share_threshold_bp=thresholds.medical_income_share_bp
        )
        fires = fires or (bool(counted) and total * BP >= income_fen * thresholds.medical_income_share_bp)
    return Finding(RiskReason.medical_out_of_pocket, fires, figures, tuple(f.claim_no for f in counted))


def disaster_loss(facts: Iterable[ClaimFact], thresholds: RiskThresholds) -> Finding:
    counted = sorted((f for f in facts if f.claim_type in DISASTERS and f.happened), key=lambda f: f.claim_no)
    parts = {f.claim_no: loss_fen(f) for f in counted}
    total = sum(parts.values())
    figures = {"amount_fen": total, "threshold_fen": thresholds.disaster_loss_fen, "parts_fen": parts}
    fires = total > 0 and total >= thresholds.disaster_loss_fen
    return Finding(RiskReason.disaster_loss, fires, figures, tuple(f.claim_no for f in counted if parts[f.claim_no]))


def death_or_severe_disability(facts: Iterable[ClaimFact], thresholds: RiskThresholds) -> Finding:
    events: list[dict[str, Any]] = []
    for fact in sorted(facts, key=lambda f: f.claim_no):
        if not fact.happened or fact.birth_date is None:
            continue
        age = age_on(fact.birth_date, fact.incident_date)
        if not thresholds.working_age_min <= age <= thresholds.working_age_max:
            continue
        if fact.claim_type in DEATHS:
            events.append({"claim_no": fact.claim_no, "kind": "death", "member_id": fact.member_id, "age": age})
        elif fact.claim_type == DISABILITY:
            grade = severe_grade(fact)
            if grade is not None and grade <= thresholds.severe_grade_max:
                events.append(
                    {
                        "claim_no": fact.claim_no,
                        "kind": "disability",
                        "member_id": fact.member_id,
                        "age": age,
                        "grade": grade,
                    }
                )
    figures = {
        "events": events,
        "working_age": [thresholds.working_age_min, thresholds.working_age_max],
        "grade_threshold": thresholds.severe_grade_max,
    }
    return Finding(RiskReason.death_or_severe_disability, bool(events), figures, tuple(e["claim_no"] for e in events))


def uncovered_hospital_stay(facts: Iterable[ClaimFact]) -> Finding:
    stays = sorted(
        (f for f in facts if f.claim_type == MEDICAL and f.happened and NOT_COVERED in f.reasons),
        key=lambda f: f.claim_no,
    )
    parts = {f.claim_no: f.household_pays_fen or 0 for f in stays}
    figures = {
        "stays": len(stays),
        "amount_fen": sum(parts.values()),
        "total_cost_fen": sum(int(f.facts.get("total_cost_fen", 0)) for f in stays),
        "parts_fen": parts,
    }
    return Finding(RiskReason.uncovered_hospital_stay, bool(stays), figures, tuple(f.claim_no for f in stays))


def eligible_uncovered(eligible_member_ids: Iterable[int], uncovered_member_ids: Iterable[int]) -> Finding:
    """Fires when an eligible member of the household has no family cover in force on the day judged."""
    eligible = sorted(set(eligible_member_ids))
    uncovered = sorted(set(uncovered_member_ids) & set(eligible))
    figures = {"eligible_members": len(eligible), "uncovered_members": len(uncovered), "member_ids": uncovered}
    return Finding(RiskReason.eligible_uncovered, bool(uncovered), figures, tuple(f"member:{m}" for m in uncovered))


def judge_claims(
    facts: Sequence[ClaimFact], thresholds: RiskThresholds, *, income_fen: int | None = None
) -> dict[RiskReason, Finding]:
    """Every claim trigger on one household's facts of one year."""
    return {
        RiskReason.medical_out_of_pocket: medical_out_of_pocket(facts, thresholds, income_fen=income_fen),
        RiskReason.disaster_loss: disaster_loss(facts, thresholds),
        RiskReason.death_or_severe_disability: death_or_severe_disability(facts, thresholds),
        RiskReason.uncovered_hospital_stay: uncovered_hospital_stay(facts),
    }


# --- what to do with a finding ----------------------------------------------------------------------------------


class Outcome(StrEnum):
    raise_new = "raise_new"
    refresh = "refresh"
    nothing = "nothing"


def pool(facts: Iterable[ClaimFact], consumed: Iterable[str]) -> list[ClaimFact]:
    """The facts no resolved or dismissed flag of the same household, reason and year has considered."""
    used = set(consumed)
    return [f for f in facts if f.claim_no not in used]


def outcome(finding: Finding, open_flag: tuple[dict[str, Any], Sequence[str]] | None) -> Outcome:
    """Raise when nothing is open and the trigger fires; refresh an open flag whose figures or basis moved (even
    below the threshold: the county sees it and decides); otherwise nothing."""
    if open_flag is None:
        return Outcome.raise_new if finding.fires else Outcome.nothing
    figures, basis = open_flag
    if dict(figures) != finding.figures or tuple(basis) != finding.basis:
        return Outcome.refresh
    return Outcome.nothing
