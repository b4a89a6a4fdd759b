"""The statutory clocks of a claim (Insurance Law Art. 23-26, domain.md §3.1), in calendar days (pure).

Each claim shows when its decision, refusal notice and payment are due, whether Art. 25's 60-day advance payment
is owed, and whom the clock is waiting on; supervisors list the claims overdue or due within 3 days. "Today" is
passed in, never read here, so the pages, the lists and the tests agree on one answer.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from claims.status import DEATH_CLAIMS, ClaimStatus, ClaimType

DECISION_DAYS = 30  # Art. 23: complex cases decided within 30 days of complete documents
REFUSAL_NOTICE_DAYS = 3  # Art. 24: a written refusal with reasons within 3 days of the decision
PAYMENT_DAYS = 10  # Art. 23: paid within 10 days of the agreement on the amount
ADVANCE_PAYMENT_DAYS = 60  # Art. 25: amount not fixed within 60 days: pay what can be determined first
DUE_SOON_DAYS = 3  # supervisors' list: due today or within the next 3 days
LIMITATION_YEARS = 2  # Art. 26: non-life claims
LIMITATION_YEARS_DEATH = 5  # Art. 26 for life insurance; applied to death benefits (conservative, domain.md §3.1)


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def report_deadline(incident_date: date, claim_type: ClaimType) -> date:
    """The last day of the Art. 26 period, counted from the incident (when the claimant knew of it, at the latest)."""
    years = LIMITATION_YEARS_DEATH if claim_type in DEATH_CLAIMS else LIMITATION_YEARS
    return add_years(incident_date, years)


def is_late_report(incident_date: date, reported_on: date, claim_type: ClaimType) -> bool:
    """Reported after the Art. 26 period: a warning on the claim, never a rejection by itself."""
    return reported_on > report_deadline(incident_date, claim_type)


class WaitingOn(StrEnum):
    household = "household"  # documents missing or returned for correction: no statutory clock runs
    insurer = "insurer"  # to assess and decide, to send a refusal notice, or to pay
    second_approval = "second_approval"  # a supervisor's confirmation
    nobody = "nobody"  # paid, closed, withdrawn, or rejected with its notice sent


WAITING_ON_LABELS: dict[WaitingOn, str] = {
    WaitingOn.household: "等待农户补交材料",
    WaitingOn.insurer: "等待保险机构处理",
    WaitingOn.second_approval: "等待复核审批",
    WaitingOn.nobody: "无待办事项",
}


@dataclass(frozen=True)
class ClaimDates:
    """The dates the clocks run from; after a reopening the service passes the latest round's dates."""

    documents_complete_on: date | None = None
    decided_on: date | None = None
    agreed_on: date | None = None  # agreement on the amount; the decision date when none is recorded
    refusal_notice_sent_on: date | None = None


@dataclass(frozen=True)
class Clocks:
    decision_due: date | None  # documents complete + 30 days
    refusal_notice_due: date | None  # rejection + 3 days
    payment_due: date | None  # agreement + 10 days
    advance_payment_from: date | None  # documents complete + 60 days
    advance_payment_owed: bool  # Art. 25: the amount is still not fixed on that day
    waiting_on: WaitingOn
    next_due: date | None  # the date the pending step is due by (None when nothing statutory is pending)
    days_left: int | None  # next_due - today; negative when overdue
    overdue: bool
    due_soon: bool  # due today or within DUE_SOON_DAYS, not yet overdue


_UNDECIDED = frozenset({ClaimStatus.documents_complete, ClaimStatus.assessed, ClaimStatus.awaiting_second_approval})
_AGREED = frozenset({ClaimStatus.approved, ClaimStatus.partly_approved})


def _plus(day: date | None, days: int) -> date | None:
    return None if day is None else day + timedelta(days=days)


def claim_clocks(status: ClaimStatus, dates: ClaimDates, today: date) -> Clocks:
    """Every due date of a claim in `status`, what is pending now and how it stands on `today`."""
    decision_due = _plus(dates.documents_complete_on, DECISION_DAYS)
    refusal_due = _plus(dates.decided_on, REFUSAL_NOTICE_DAYS) if status == ClaimStatus.rejected else None
    payment_due = _plus(dates.agreed_on or dates.decided_on, PAYMENT_DAYS) if status in _AGREED else None
    advance_from = _plus(dates.documents_complete_on, ADVANCE_PAYMENT_DAYS)
    if status in (ClaimStatus.filed, ClaimStatus.returned):
        waiting_on, next_due = WaitingOn.household, None
    elif status in _UNDECIDED:
        second = status == ClaimStatus.awaiting_second_approval
        waiting_on, next_due = (WaitingOn.second_approval if second else WaitingOn.insurer), decision_due
    elif status == ClaimStatus.rejected and dates.refusal_notice_sent_on is None:
        waiting_on, next_due = WaitingOn.insurer, refusal_due
    elif status in _AGREED:
        waiting_on, next_due = WaitingOn.insurer, payment_due
    else:
        waiting_on, next_due = WaitingOn.nobody, None
    days_left = None if next_due is None else (next_due - today).days
    return Clocks(
        decision_due=decision_due,
        refusal_notice_due=refusal_due,
        payment_due=payment_due,
        advance_payment_from=advance_from,
        advance_payment_owed=status in _UNDECIDED and advance_from is not None and today >= advance_from,
        waiting_on=waiting_on,
        next_due=next_due,
        days_left=days_left,
        overdue=days_left is not None and days_left < 0,
        due_soon=days_left is not None and 0 <= days_left <= DUE_SOON_DAYS,
    )
