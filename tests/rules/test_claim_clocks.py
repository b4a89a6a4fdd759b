"""The statutory clocks (claims/clocks.py, Insurance Law Art. 23-26): due dates in calendar days, who the clock
waits on, overdue and due-soon given today."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims.clocks import (
    ClaimDates,
    WaitingOn,
    add_years,
    claim_clocks,
    is_late_report,
    report_deadline,
)
from claims.status import ClaimStatus, ClaimType

S = ClaimStatus
COMPLETE = date(2026, 3, 2)


def test_the_decision_is_due_30_calendar_days_after_the_documents_are_complete() -> None:
    clocks = claim_clocks(S.documents_complete, ClaimDates(documents_complete_on=COMPLETE), date(2026, 3, 2))
    assert clocks.decision_due == date(2026, 4, 1)
    assert clocks.waiting_on == WaitingOn.insurer and clocks.next_due == date(2026, 4, 1)
    assert clocks.days_left == 30 and not clocks.overdue and not clocks.due_soon


@pytest.mark.parametrize(
    ("today", "days_left", "due_soon", "overdue"),
    [
        (date(2026, 3, 28), 4, False, False),
        (date(2026, 3, 29), 3, True, False),
        (date(2026, 4, 1), 0, True, False),  # due today is not yet late
        (date(2026, 4, 2), -1, False, True),
    ],
)
def test_due_soon_and_overdue_around_the_decision_due_date(
    today: date, days_left: int, due_soon: bool, overdue: bool
) -> None:
    clocks = claim_clocks(S.assessed, ClaimDates(documents_complete_on=COMPLETE), today)
    assert (clocks.days_left, clocks.due_soon, clocks.overdue) == (days_left, due_soon, overdue)


def test_a_claim_awaiting_second_approval_waits_on_the_supervisor_against_the_same_decision_date() -> None:
    clocks = claim_clocks(S.awaiting_second_approval, ClaimDates(documents_complete_on=COMPLETE), COMPLETE)
    assert clocks.waiting_on == WaitingOn.second_approval and clocks.next_due == date(2026, 4, 1)


@pytest.mark.parametrize("status", [S.filed, S.returned])
def test_missing_documents_wait_on_the_household_and_no_statutory_clock_runs(status: S) -> None:
    clocks = claim_clocks(status, ClaimDates(), date(2026, 3, 2))
    assert clocks.waiting_on == WaitingOn.household
    assert (clocks.decision_due, clocks.next_due, clocks.overdue, clocks.advance_payment_owed) == (
        None,
        None,
        False,
        False,
    )


def test_a_refusal_notice_is_due_3_days_after_the_rejection_until_it_is_sent() -> None:
    decided = ClaimDates(documents_complete_on=COMPLETE, decided_on=date(2026, 3, 20))
    pending = claim_clocks(S.rejected, decided, date(2026, 3, 24))
    assert pending.refusal_notice_due == date(2026, 3, 23) and pending.overdue
    assert pending.waiting_on == WaitingOn.insurer
    sent = ClaimDates(documents_complete_on=COMPLETE, decided_on=date(2026, 3, 20), refusal_notice_sent_on=COMPLETE)
    done = claim_clocks(S.rejected, sent, date(2026, 3, 24))
    assert done.waiting_on == WaitingOn.nobody and not done.overdue


@pytest.mark.parametrize("status", [S.approved, S.partly_approved])
def test_payment_is_due_10_days_after_the_agreement(status: S) -> None:
    agreed = ClaimDates(documents_complete_on=COMPLETE, decided_on=date(2026, 3, 10), agreed_on=date(2026, 3, 12))
    assert claim_clocks(status, agreed, COMPLETE).payment_due == date(2026, 3, 22)
    decided_only = ClaimDates(documents_complete_on=COMPLETE, decided_on=date(2026, 3, 10))
    assert claim_clocks(status, decided_only, COMPLETE).payment_due == date(2026, 3, 20)


def test_the_advance_payment_flag_rises_on_day_60_while_the_amount_is_not_fixed() -> None:
    dates = ClaimDates(documents_complete_on=COMPLETE)
    assert not claim_clocks(S.assessed, dates, COMPLETE + timedelta(days=59)).advance_payment_owed
    day_60 = claim_clocks(S.assessed, dates, COMPLETE + timedelta(days=60))
    assert day_60.advance_payment_owed and day_60.advance_payment_from == date(2026, 5, 1)
    decided = ClaimDates(documents_complete_on=COMPLETE, decided_on=date(2026, 5, 5))
    assert not claim_clocks(S.approved, decided, COMPLETE + timedelta(days=70)).advance_payment_owed


@pytest.mark.parametrize("status", [S.paid, S.closed, S.withdrawn])
def test_finished_claims_wait_on_nobody(status: S) -> None:
    clocks = claim_clocks(status, ClaimDates(documents_complete_on=COMPLETE), date(2027, 1, 1))
    assert clocks.waiting_on == WaitingOn.nobody and not clocks.overdue and not clocks.due_soon


# --- Art. 26: late reports -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim_type", "incident", "reported", "late"),
    [
        (ClaimType.supplementary_medical, date(2024, 5, 10), date(2026, 5, 10), False),  # the last day of 2 years
        (ClaimType.supplementary_medical, date(2024, 5, 10), date(2026, 5, 11), True),
        (ClaimType.crop_loss, date(2024, 2, 29), date(2026, 2, 28), False),
        (ClaimType.crop_loss, date(2024, 2, 29), date(2026, 3, 1), True),
        (ClaimType.accidental_death, date(2021, 5, 10), date(2026, 5, 10), False),  # death: 5 years
        (ClaimType.illness_death, date(2021, 5, 10), date(2026, 5, 11), True),
    ],
)
def test_a_report_is_late_after_the_art_26_period(
    claim_type: ClaimType, incident: date, reported: date, late: bool
) -> None:
    assert is_late_report(incident, reported, claim_type) is late


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(min_value=0, max_value=9))
def test_add_years_keeps_the_calendar_day_or_the_end_of_february(day: date, years: int) -> None:
    later = add_years(day, years)
    assert later.year == day.year + years and later.month == day.month
    assert later.day == day.day or (day.month, day.day, later.day) == (2, 29, 28)


def test_report_deadline_for_non_life_claims_is_two_years() -> None:
    assert report_deadline(date(2025, 7, 1), ClaimType.house_collapse) == date(2027, 7, 1)
