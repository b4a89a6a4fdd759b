"""Who may be enrolled, from when to when, and whether a cover answers for a peril on a date (pure rules).

The service loads the facts (policies, benefits, amounts already paid) and passes "today" in; nothing here reads
the clock or the database, so claims can rely on one answer and tests can pin every edge (domain.md §5).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from insurance.cover.premiums import round_fen

DAY = timedelta(days=1)


class MovedOutCover(StrEnum):
    """What a move out of the register does to a running cover (domain.md leaves the choice to the programme)."""

    period_end = "period_end"  # like an exit from poverty: the cover runs to the end of the policy year
    move_date = "move_date"  # the cover ends on the day of the move


@dataclass(frozen=True)
class CoverTerms:
    """The programme's terms that decide enrolment dates; kept per product version, changeable by an admin."""

    new_member_grace_days: int = 60
    cover_after_exit_years: int = 0
    moved_out_cover: MovedOutCover = MovedOutCover.period_end
    notice_objection_days: int = 7


def household_eligible(
    *, exit_year: int | None, monitor_category: str | None, policy_year: int, cover_after_exit_years: int
) -> bool:
    """A household that exited poverty keeps cover to the end of its exit year plus `cover_after_exit_years`;
    a household under return-to-poverty monitoring is eligible whatever its exit year."""
    if monitor_category:
        return True
    return exit_year is None or policy_year <= exit_year + cover_after_exit_years


def latest_eligible_exit_year(policy_year: int, cover_after_exit_years: int) -> int:
    """The same rule as a bound for SQL: households with `exit_year` below this are out (unless monitored)."""
    return policy_year - cover_after_exit_years


@dataclass(frozen=True)
class EnrolmentStart:
    cover_start: date
    waiting_waived: bool  # a new member enrolled within the grace period has no waiting period
    reason: str  # "period_start" | "new_member" | "mid_year"


def enrolment_start(
    *, period_start: date, period_end: date, registered_on: date, enrolled_on: date, terms: CoverTerms
) -> EnrolmentStart | None:
    """When a member's cover starts (domain.md §5), or None when the period is over before it could.

    Enrolled before the period starts: from the first day. A member who joined the register during the period and
    is enrolled within the grace days: from the day after registration, without waiting period. Anyone else enrolled
    mid-year: from the day after enrolment.
    """
    if enrolled_on < period_start:
        start = EnrolmentStart(period_start, False, "period_start")
    elif registered_on >= period_start and (enrolled_on - registered_on).days <= terms.new_member_grace_days:
        start = EnrolmentStart(max(period_start, registered_on + DAY), True, "new_member")
    else:
        start = EnrolmentStart(enrolled_on + DAY, False, "mid_year")
    return start if start.cover_start <= period_end else None


def cover_end_after_status(
    *, status: str, status_date: date | None, cover_start: date, period_end: date, terms: CoverTerms
) -> date:
    """The last covered day once the register says a member died, moved out or left the register.

    Death: the day of death is still covered, the cover ends with it. Moved out: per the programme's choice.
    Removed from the register (exit, or absent from a newer roster): to the end of the period, like an exit.
    """
    ends_on_the_day = status == "deceased" or (
        status == "moved_out" and terms.moved_out_cover == MovedOutCover.move_date
    )
    end = status_date if ends_on_the_day and status_date is not None else period_end
    return max(min(end, period_end), cover_start - DAY)


# --- does a cover answer for a peril on a date ---------------------------------------------------------------


@dataclass(frozen=True)
class BenefitTerms:
    code: str
    name: str
    perils: frozenset[str]
    sum_insured_fen: int  # per unit (person, head, mu)
    deductible_fen: int = 0
    reimbursement_bp: int = 10_000
    per_event_limit_fen: int | None = None
    annual_limit_fen: int | None = None
    waiting_days: int = 0
    waiting_perils: frozenset[str] = frozenset()  # perils the waiting period applies to; empty = all of the benefit


@dataclass(frozen=True)
class CoverLine:
    """One person's (or insured object's) place on one policy."""

    policy_no: str
    policy_in_force: bool  # issued and not cancelled
    cover_start: date
    cover_end: date
    cancelled: bool
    waiting_waived: bool
    benefits: tuple[BenefitTerms, ...]
    units: Decimal = Decimal(1)  # heads or mu on the line; 1 for a person


class CoverReason(StrEnum):
    covered = "covered"
    no_cover = "no_cover"
    policy_not_in_force = "policy_not_in_force"
    cancelled = "cancelled"
    not_started = "not_started"
    ended = "ended"
    peril_not_covered = "peril_not_covered"
    waiting_period = "waiting_period"
    limit_exhausted = "limit_exhausted"


COVER_REASON_LABELS: dict[CoverReason, str] = {
    CoverReason.covered: "在保障范围内",
    CoverReason.no_cover: "无有效保单",
    CoverReason.policy_not_in_force: "保单尚未生效（未出单）",
    CoverReason.cancelled: "保障已撤销",
    CoverReason.not_started: "保障尚未开始",
    CoverReason.ended: "保障已终止",
    CoverReason.peril_not_covered: "该风险不在保障责任内",
    CoverReason.waiting_period: "处于等待期（观察期）内",
    CoverReason.limit_exhausted: "年度限额已用完",
}

# Most specific first: when nothing covers, the answer explains the closest miss.
_REASON_RANK = [
    CoverReason.limit_exhausted,
    CoverReason.waiting_period,
    CoverReason.peril_not_covered,
    CoverReason.ended,
    CoverReason.not_started,
    CoverReason.cancelled,
    CoverReason.policy_not_in_force,
    CoverReason.no_cover,
]


@dataclass(frozen=True)
class CoverAnswer:
    covered: bool
    reason: CoverReason
    policy_no: str | None = None
    benefit_code: str | None = None
    benefit_name: str | None = None
    sum_insured_fen: int | None = None
    deductible_fen: int | None = None
    reimbursement_bp: int | None = None
    per_event_limit_fen: int | None = None
    annual_limit_fen: int | None = None
    annual_left_fen: int | None = None
    waiting_until: date | None = None  # last day of the waiting period, when one applies
    also_covered_by: tuple[str, ...] = field(default=())

    @property
    def reason_label(self) -> str:
        return COVER_REASON_LABELS[self.reason]


def waiting_until(line: CoverLine, benefit: BenefitTerms, peril: str) -> date | None:
    if line.waiting_waived or benefit.waiting_days <= 0:
        return None
    if benefit.waiting_perils and peril not in benefit.waiting_perils:
        return None
    return line.cover_start + timedelta(days=benefit.waiting_days - 1)


def _answer_line(line: CoverLine, peril: str, on: date, used: Mapping[tuple[str, str], int]) -> CoverAnswer:
    if line.cancelled:
        return CoverAnswer(False, CoverReason.cancelled, line.policy_no)
    if not line.policy_in_force:
        return CoverAnswer(False, CoverReason.policy_not_in_force, line.policy_no)
    if on < line.cover_start:
        return CoverAnswer(False, CoverReason.not_started, line.policy_no)
    if on > line.cover_end:
        return CoverAnswer(False, CoverReason.ended, line.policy_no)
    benefit = next((b for b in line.benefits if peril in b.perils), None)
    if benefit is None:
        return CoverAnswer(False, CoverReason.peril_not_covered, line.policy_no)
    sum_insured = round_fen(line.units * benefit.sum_insured_fen)
    annual = None if benefit.annual_limit_fen is None else round_fen(line.units * benefit.annual_limit_fen)
    left = None if annual is None else max(0, annual - used.get((line.policy_no, benefit.code), 0))
    last_waiting_day = waiting_until(line, benefit, peril)
    details = {
        "policy_no": line.policy_no,
        "benefit_code": benefit.code,
        "benefit_name": benefit.name,
        "sum_insured_fen": sum_insured,
        "deductible_fen": benefit.deductible_fen,
        "reimbursement_bp": benefit.reimbursement_bp,
        "per_event_limit_fen": benefit.per_event_limit_fen,
        "annual_limit_fen": annual,
        "annual_left_fen": left,
        "waiting_until": last_waiting_day,
    }
    if last_waiting_day is not None and on <= last_waiting_day:
        return CoverAnswer(False, CoverReason.waiting_period, **details)
    if left == 0:
        return CoverAnswer(False, CoverReason.limit_exhausted, **details)
    return CoverAnswer(True, CoverReason.covered, **details)


def cover_for(
    lines: Sequence[CoverLine], peril: str, on: date, used: Mapping[tuple[str, str], int] | None = None
) -> CoverAnswer:
    """Is this person (or insured object) covered for `peril` on `on`, under which policy and benefit, and how much
    of the annual limit is left (`used` maps (policy_no, benefit_code) to what was paid in the policy year)?

    Lines are tried by cover start; the first that covers answers, and any other that also covers is named in
    `also_covered_by` (double cover, for review). With no cover, the closest miss explains why.
    """
    used = used or {}
    answers = [_answer_line(line, peril, on, used) for line in sorted(lines, key=lambda item: item.cover_start)]
    covering = [a for a in answers if a.covered]
    if covering:
        first = covering[0]
        others = tuple(a.policy_no for a in covering[1:] if a.policy_no)
        return CoverAnswer(**{**first.__dict__, "also_covered_by": others})
    if not answers:
        return CoverAnswer(False, CoverReason.no_cover)
    return min(answers, key=lambda a: _REASON_RANK.index(a.reason))


def periods_overlap(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    return a_start <= b_end and b_start <= a_end
