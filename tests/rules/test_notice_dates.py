"""The posting date of an enrolment notice (notices.check_posting_date): never in the future, never before the
village's households were enrolled, and a recording more than the configured days late only with a reason."""

import re
from datetime import date, timedelta

import pytest

from core.errors import Invalid
from insurance.cover.notices import check_posting_date

TODAY = date(2026, 12, 7)
ENROLLED = date(2026, 11, 1)


@pytest.mark.parametrize(
    ("posted_on", "late_days", "late_reason", "delay"),
    [
        (TODAY, 3, None, 0),
        (TODAY - timedelta(days=3), 3, None, 3),  # on the boundary: no reason needed
        (TODAY - timedelta(days=4), 3, "村委会补报", 4),
        (TODAY - timedelta(days=5), 5, None, 5),  # the days come from the setting
        (ENROLLED, 3, "补录", (TODAY - ENROLLED).days),  # the day of enrolment itself
        (TODAY - timedelta(days=1), 0, "当日未及时登记", 1),
    ],
)
def test_a_posting_date_is_accepted_with_its_delay(
    posted_on: date, late_days: int, late_reason: str | None, delay: int
) -> None:
    assert (
        check_posting_date(posted_on, today=TODAY, earliest=ENROLLED, late_days=late_days, late_reason=late_reason)
        == delay
    )


@pytest.mark.parametrize(
    ("posted_on", "late_days", "late_reason", "code", "field"),
    [
        (TODAY + timedelta(days=1), 3, None, "posted_in_future", "posted_on"),
        (date(2030, 1, 1), 3, "理由", "posted_in_future", "posted_on"),
        (ENROLLED - timedelta(days=1), 3, "补录", "posted_before_enrolment", "posted_on"),
        (TODAY - timedelta(days=4), 3, None, "late_reason_required", "late_reason"),  # one day past the boundary
        (TODAY - timedelta(days=11), 3, None, "late_reason_required", "late_reason"),
        (TODAY - timedelta(days=6), 5, None, "late_reason_required", "late_reason"),
    ],
)
def test_a_posting_date_that_would_shorten_or_skip_the_window_is_refused(
    posted_on: date, late_days: int, late_reason: str | None, code: str, field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        check_posting_date(posted_on, today=TODAY, earliest=ENROLLED, late_days=late_days, late_reason=late_reason)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert not re.search("[A-Za-z]", refused.value.message)  # said in Chinese


def test_without_an_enrolment_run_only_the_future_and_the_late_recording_bound_a_posting_date() -> None:
    """An industry policy's list comes from paper forms that may be posted before the policy is typed in."""
    early = ENROLLED - timedelta(days=30)
    assert check_posting_date(early, today=TODAY, earliest=None, late_days=3, late_reason="纸质清单先行张贴") == 66
    with pytest.raises(Invalid) as refused:
        check_posting_date(early, today=TODAY, earliest=None, late_days=3, late_reason=None)
    assert refused.value.code == "late_reason_required"
