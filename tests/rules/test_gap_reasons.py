"""The gap reasons' precedence and the eligibility-on-date test (pure, no database)."""

from datetime import date

import pytest

from insurance.gaps.reasons import (
    GAP_PRECEDENCE,
    GapFacts,
    GapReason,
    NotEligibleReason,
    eligible_on,
    gap_reason,
    not_eligible_reason,
    on_register,
)


def test_no_fact_means_never_enrolled() -> None:
    assert gap_reason(GapFacts()) is GapReason.never_enrolled


@pytest.mark.parametrize("reason", [r for r in GAP_PRECEDENCE if r is not GapReason.never_enrolled])
def test_each_fact_alone_names_its_reason_and_beats_every_later_one(reason: GapReason) -> None:
    assert gap_reason(GapFacts(**{reason.value: True})) is reason
    later = GAP_PRECEDENCE[GAP_PRECEDENCE.index(reason) :]
    facts = {r.value: True for r in later if r is not GapReason.never_enrolled}
    assert gap_reason(GapFacts(**facts)) is reason


def test_eligibility_follows_the_year_of_the_date() -> None:
    assert eligible_on(exit_year=None, monitored=False, on=date(2026, 6, 1), cover_after_exit_years=0)
    assert not eligible_on(exit_year=2019, monitored=False, on=date(2026, 6, 1), cover_after_exit_years=0)
    assert eligible_on(exit_year=2019, monitored=True, on=date(2026, 6, 1), cover_after_exit_years=0)
    assert eligible_on(exit_year=2024, monitored=False, on=date(2026, 6, 1), cover_after_exit_years=2)
    assert not eligible_on(exit_year=2024, monitored=False, on=date(2027, 1, 1), cover_after_exit_years=2)


def test_on_the_register_from_registration_until_the_day_before_leaving() -> None:
    registered, left = date(2025, 11, 20), date(2026, 2, 20)
    assert not on_register(registered_on=registered, left_on=left, on=date(2025, 11, 19))
    assert on_register(registered_on=registered, left_on=left, on=date(2026, 2, 19))
    assert not on_register(registered_on=registered, left_on=left, on=left)
    assert on_register(registered_on=registered, left_on=None, on=date(2030, 1, 1))


def test_the_dead_and_moved_are_named_once_their_date_has_come() -> None:
    day = date(2026, 6, 1)
    assert not_eligible_reason(status="deceased", status_date=date(2026, 2, 20), on=day) is NotEligibleReason.deceased
    assert not_eligible_reason(status="moved_out", status_date=day, on=day) is NotEligibleReason.moved_out
    assert (
        not_eligible_reason(status="deceased", status_date=date(2026, 7, 1), on=day) is NotEligibleReason.not_eligible
    )
    assert not_eligible_reason(status="active", status_date=None, on=day) is NotEligibleReason.not_eligible
