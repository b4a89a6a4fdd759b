"""Why an eligible member has no cover on a date, and why a member is not a gap at all (pure rules).

The service turns each fact below into a condition of its SQL and asks `GAP_PRECEDENCE` for their order, so the
list, its filter and its count follow one precedence: the first reason whose fact holds names the gap, the most
specific first (an unresolved double cover explains more than "never enrolled").
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from insurance.cover.eligibility import household_eligible


class GapReason(StrEnum):
    double_cover_conflict = "double_cover_conflict"  # left off the year's policy for another's cover, unresolved
    policy_not_issued = "policy_not_issued"  # on the year's policy, still in draft (or its cover not started yet)
    cancelled = "cancelled"  # taken off by an upheld objection, or the policy was cancelled
    lapsed = "lapsed"  # an issued cover ended before the date
    household_incomplete = "household_incomplete"  # a row of the household was refused by an import
    registered_after_enrolment = "registered_after_enrolment"  # joined the register after the last enrolment run
    never_enrolled = "never_enrolled"  # no policy for the county and year, or not put on it


GAP_PRECEDENCE: tuple[GapReason, ...] = tuple(GapReason)

GAP_REASON_LABELS: dict[str, str] = {
    "double_cover_conflict": "重复投保待核",
    "policy_not_issued": "保单未出单",
    "cancelled": "参保已撤销",
    "lapsed": "保障已到期",
    "household_incomplete": "户信息不完整",
    "registered_after_enrolment": "参保后新纳入",
    "never_enrolled": "未参保",
}


class NotEligibleReason(StrEnum):
    not_eligible = "not_eligible"  # on the register, but the household's exit year puts it out of the programme
    deceased = "deceased"
    moved_out = "moved_out"


NOT_ELIGIBLE_REASON_LABELS: dict[str, str] = {
    "not_eligible": "不符合参保条件",
    "deceased": "已故",
    "moved_out": "已迁出",
}


@dataclass(frozen=True)
class GapFacts:
    """What the rows say about one eligible member without cover on the date, one flag per GapReason."""

    double_cover_conflict: bool = False
    policy_not_issued: bool = False
    cancelled: bool = False
    lapsed: bool = False
    household_incomplete: bool = False
    registered_after_enrolment: bool = False


def gap_reason(facts: GapFacts) -> GapReason:
    """The first reason in GAP_PRECEDENCE whose fact holds; never_enrolled when none does."""
    for reason in GAP_PRECEDENCE:
        if reason is GapReason.never_enrolled or getattr(facts, reason.value):
            return reason
    return GapReason.never_enrolled


def eligible_on(*, exit_year: int | None, monitored: bool, on: date, cover_after_exit_years: int) -> bool:
    """Eligible for the family cover of the year `on` falls in: insurance's rule, for that year."""
    return household_eligible(
        exit_year=exit_year,
        monitor_category="monitored" if monitored else None,
        policy_year=on.year,
        cover_after_exit_years=cover_after_exit_years,
    )


def on_register(*, registered_on: date, left_on: date | None, on: date) -> bool:
    """Registered by the end of `on` and not yet off the register (left_on is the first day off it)."""
    return registered_on <= on and (left_on is None or on < left_on)


def not_eligible_reason(*, status: str, status_date: date | None, on: date) -> NotEligibleReason:
    """For a member who is not a gap on `on`: dead or moved out by then, else not eligible."""
    if status == "deceased" and (status_date is None or status_date <= on):
        return NotEligibleReason.deceased
    if status == "moved_out" and (status_date is None or status_date <= on):
        return NotEligibleReason.moved_out
    return NotEligibleReason.not_eligible
