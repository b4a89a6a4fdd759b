"""Who may be enrolled, from when to when, and whether a cover answers on a date (domain.md §5): pure rules."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insurance.cover.eligibility import (
    COVER_REASON_LABELS,
    BenefitTerms,
    CoverLine,
    CoverReason,
    CoverTerms,
    MovedOutCover,
    cover_end_after_status,
    cover_for,
    enrolment_start,
    household_eligible,
    latest_eligible_exit_year,
    periods_overlap,
    waiting_until,
)

PERIOD_START = date(2026, 1, 1)
PERIOD_END = date(2026, 12, 31)
TERMS = CoverTerms()
DAY = timedelta(days=1)

# --- household eligibility ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exit_year", "monitor_category", "policy_year", "after_exit_years", "eligible"),
    [
        (None, None, 2026, 0, True),  # still registered as poor
        (2026, None, 2026, 0, True),  # exited this year: covered to the end of the policy year
        (2025, None, 2026, 0, False),  # exited last year, no years of grace
        (2025, None, 2026, 1, True),
        (2024, None, 2026, 2, True),
        (2024, None, 2026, 1, False),
        (2020, "边缘易致贫户", 2026, 0, True),  # monitored households are eligible whatever their exit year
        (2020, "突发严重困难户", 2026, 0, True),
        (2020, "", 2026, 0, False),  # an empty category is no monitoring
    ],
)
def test_household_eligible_by_exit_year_grace_years_and_monitoring(
    exit_year: int | None, monitor_category: str | None, policy_year: int, after_exit_years: int, eligible: bool
) -> None:
    assert (
        household_eligible(
            exit_year=exit_year,
            monitor_category=monitor_category,
            policy_year=policy_year,
            cover_after_exit_years=after_exit_years,
        )
        is eligible
    )


@given(st.integers(2000, 2050), st.integers(2000, 2050), st.integers(0, 10))
def test_latest_eligible_exit_year_is_the_same_rule_as_household_eligible(
    exit_year: int, policy_year: int, after_exit_years: int
) -> None:
    eligible = household_eligible(
        exit_year=exit_year, monitor_category=None, policy_year=policy_year, cover_after_exit_years=after_exit_years
    )
    assert eligible is (exit_year >= latest_eligible_exit_year(policy_year, after_exit_years))


# --- enrolment start ------------------------------------------------------------------------------------------

REGISTERED = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("registered_on", "enrolled_on", "cover_start", "waived", "reason"),
    [
        (date(2010, 1, 1), date(2025, 12, 20), PERIOD_START, False, "period_start"),
        (date(2010, 1, 1), date(2025, 12, 31), PERIOD_START, False, "period_start"),
        # new member registered during the period, enrolled within the 60 grace days: the day after registration
        (REGISTERED, REGISTERED, REGISTERED + DAY, True, "new_member"),
        (REGISTERED, REGISTERED + timedelta(days=59), REGISTERED + DAY, True, "new_member"),
        (REGISTERED, REGISTERED + timedelta(days=60), REGISTERED + DAY, True, "new_member"),
        (PERIOD_START, PERIOD_START + timedelta(days=10), PERIOD_START + DAY, True, "new_member"),
        # one day too late: like anyone else enrolled mid-year, from the day after enrolment, with waiting period
        (REGISTERED, REGISTERED + timedelta(days=61), REGISTERED + timedelta(days=62), False, "mid_year"),
        # registered before the period (a new household member missed at renewal), enrolled mid-year
        (date(2020, 5, 1), date(2026, 6, 15), date(2026, 6, 16), False, "mid_year"),
        (date(2020, 5, 1), PERIOD_START, PERIOD_START + DAY, False, "mid_year"),
        # registered in December, enrolled in January: not a new member of this period (current rule)
        (date(2025, 12, 20), date(2026, 1, 10), date(2026, 1, 11), False, "mid_year"),
        # a new member enrolled on the last day still gets cover back to the day after registration
        (date(2026, 11, 15), PERIOD_END, date(2026, 11, 16), True, "new_member"),
    ],
)
def test_enrolment_start_by_registration_and_enrolment_dates(
    registered_on: date, enrolled_on: date, cover_start: date, waived: bool, reason: str
) -> None:
    start = enrolment_start(
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        registered_on=registered_on,
        enrolled_on=enrolled_on,
        terms=TERMS,
    )
    assert start is not None
    assert (start.cover_start, start.waiting_waived, start.reason) == (cover_start, waived, reason)


@pytest.mark.parametrize(
    ("registered_on", "enrolled_on"),
    [
        (date(2020, 5, 1), PERIOD_END),  # cover would start on 1 January of the next year
        (PERIOD_END, PERIOD_END),  # registered and enrolled on the last day
        (REGISTERED, date(2027, 1, 5)),  # enrolled after the period
    ],
)
def test_enrolment_on_the_last_day_of_the_period_gives_no_cover(registered_on: date, enrolled_on: date) -> None:
    start = enrolment_start(
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        registered_on=registered_on,
        enrolled_on=enrolled_on,
        terms=TERMS,
    )
    assert start is None


@pytest.mark.parametrize(("days_after", "reason"), [(30, "new_member"), (31, "mid_year")])
def test_grace_days_come_from_the_terms(days_after: int, reason: str) -> None:
    start = enrolment_start(
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        registered_on=REGISTERED,
        enrolled_on=REGISTERED + timedelta(days=days_after),
        terms=CoverTerms(new_member_grace_days=30),
    )
    assert start is not None and start.reason == reason


dates_2025_2027 = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))


@settings(max_examples=200)
@given(dates_2025_2027, dates_2025_2027, st.integers(0, 120))
def test_cover_never_starts_outside_the_period_nor_before_the_day_after_registration_or_enrolment(
    registered_on: date, enrolled_on: date, grace_days: int
) -> None:
    start = enrolment_start(
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        registered_on=registered_on,
        enrolled_on=enrolled_on,
        terms=CoverTerms(new_member_grace_days=grace_days),
    )
    if start is None:
        return
    assert PERIOD_START <= start.cover_start <= PERIOD_END
    if start.waiting_waived:
        assert start.cover_start == registered_on + DAY
    elif start.reason == "mid_year":
        assert start.cover_start == enrolled_on + DAY
    else:
        assert start.cover_start == PERIOD_START and enrolled_on < PERIOD_START


# --- end of cover after a change in the register --------------------------------------------------------------

MOVE_DATE_TERMS = CoverTerms(moved_out_cover=MovedOutCover.move_date)


@pytest.mark.parametrize(
    ("status", "status_date", "cover_start", "terms", "cover_end"),
    [
        ("deceased", date(2026, 6, 15), PERIOD_START, TERMS, date(2026, 6, 15)),  # the day of death is covered
        ("deceased", PERIOD_START, PERIOD_START, TERMS, PERIOD_START),
        ("deceased", date(2027, 2, 1), PERIOD_START, TERMS, PERIOD_END),  # never beyond the period
        ("deceased", date(2025, 12, 20), PERIOD_START, TERMS, date(2025, 12, 31)),  # died before cover: empty
        ("deceased", date(2026, 6, 30), date(2026, 7, 1), TERMS, date(2026, 6, 30)),  # mid-year start: empty
        ("moved_out", date(2026, 6, 15), PERIOD_START, TERMS, PERIOD_END),  # default: like an exit
        ("moved_out", date(2026, 6, 15), PERIOD_START, MOVE_DATE_TERMS, date(2026, 6, 15)),
        ("moved_out", date(2025, 11, 1), PERIOD_START, MOVE_DATE_TERMS, date(2025, 12, 31)),
        ("removed", date(2026, 6, 15), PERIOD_START, TERMS, PERIOD_END),
        ("removed", date(2026, 6, 15), PERIOD_START, MOVE_DATE_TERMS, PERIOD_END),
    ],
)
def test_cover_end_after_death_move_or_removal(
    status: str, status_date: date, cover_start: date, terms: CoverTerms, cover_end: date
) -> None:
    assert (
        cover_end_after_status(
            status=status, status_date=status_date, cover_start=cover_start, period_end=PERIOD_END, terms=terms
        )
        == cover_end
    )


def test_a_death_without_a_date_leaves_the_cover_to_the_period_end() -> None:
    end = cover_end_after_status(
        status="deceased", status_date=None, cover_start=PERIOD_START, period_end=PERIOD_END, terms=TERMS
    )
    assert end == PERIOD_END


# --- does a cover answer ----------------------------------------------------------------------------------------

ACCIDENT = BenefitTerms("accident_death", "意外身故", frozenset({"accident_death"}), 5_000_000)
ILLNESS = BenefitTerms("illness_death", "疾病身故", frozenset({"illness_death"}), 2_000_000, waiting_days=30)
MEDICAL = BenefitTerms(
    "supp_medical",
    "补充医疗",
    frozenset({"illness_medical", "accident_medical"}),
    3_000_000,
    deductible_fen=100_000,
    reimbursement_bp=8_000,
    annual_limit_fen=3_000_000,
    waiting_days=30,
    waiting_perils=frozenset({"illness_medical"}),
)
SOW_DISEASE = BenefitTerms(
    "sow_death", "能繁母猪死亡", frozenset({"disease", "accident"}), 100_000, annual_limit_fen=100_000, waiting_days=20
)
PERSON = CoverLine(
    policy_no="TH2026-0001",
    policy_in_force=True,
    cover_start=PERIOD_START,
    cover_end=PERIOD_END,
    cancelled=False,
    waiting_waived=False,
    benefits=(ACCIDENT, ILLNESS, MEDICAL),
)
SOWS = CoverLine(
    policy_no="TH2026-0100",
    policy_in_force=True,
    cover_start=PERIOD_START,
    cover_end=PERIOD_END,
    cancelled=False,
    waiting_waived=True,  # renewal
    benefits=(SOW_DISEASE,),
    units=Decimal(10),
)


@pytest.mark.parametrize(
    ("on", "reason"),
    [
        (PERIOD_START - DAY, CoverReason.not_started),
        (PERIOD_START, CoverReason.covered),
        (PERIOD_END, CoverReason.covered),
        (PERIOD_END + DAY, CoverReason.ended),
    ],
)
def test_cover_runs_from_the_first_to_the_last_day_inclusive(on: date, reason: CoverReason) -> None:
    answer = cover_for([PERSON], "accident_death", on)
    assert answer.reason == reason
    assert answer.covered is (reason == CoverReason.covered)
    assert answer.policy_no == PERSON.policy_no


def test_the_day_of_death_is_covered_and_the_day_after_is_not() -> None:
    died = date(2026, 6, 15)
    cover_end = cover_end_after_status(
        status="deceased", status_date=died, cover_start=PERIOD_START, period_end=PERIOD_END, terms=TERMS
    )
    line = replace(PERSON, cover_end=cover_end)
    assert cover_for([line], "accident_death", died).covered
    assert cover_for([line], "accident_death", died + DAY).reason == CoverReason.ended


@pytest.mark.parametrize(
    ("on", "reason"),
    [
        (PERIOD_START, CoverReason.waiting_period),
        (date(2026, 1, 30), CoverReason.waiting_period),  # the 30th day is the last day of waiting
        (date(2026, 1, 31), CoverReason.covered),
    ],
)
def test_illness_has_a_30_day_waiting_period_from_cover_start(on: date, reason: CoverReason) -> None:
    answer = cover_for([PERSON], "illness_death", on)
    assert answer.reason == reason
    assert answer.waiting_until == date(2026, 1, 30)
    assert answer.benefit_code == "illness_death"


def test_a_waived_waiting_period_covers_illness_from_the_first_day() -> None:
    answer = cover_for([replace(PERSON, waiting_waived=True)], "illness_death", PERIOD_START)
    assert answer.covered and answer.waiting_until is None


def test_accident_has_no_waiting_period() -> None:
    answer = cover_for([PERSON], "accident_death", PERIOD_START)
    assert answer.covered and answer.waiting_until is None
    assert answer.sum_insured_fen == 5_000_000


def test_waiting_perils_restrict_the_waiting_period_to_the_listed_perils() -> None:
    on = date(2026, 1, 15)
    illness = cover_for([PERSON], "illness_medical", on)
    accident = cover_for([PERSON], "accident_medical", on)
    assert illness.reason == CoverReason.waiting_period and illness.waiting_until == date(2026, 1, 30)
    assert accident.covered and accident.waiting_until is None
    assert (accident.benefit_code, accident.deductible_fen, accident.reimbursement_bp) == (
        "supp_medical",
        100_000,
        8_000,
    )


def test_waiting_until_counts_the_waiting_days_from_cover_start() -> None:
    mid_year = replace(PERSON, cover_start=date(2026, 6, 16))
    assert waiting_until(mid_year, ILLNESS, "illness_death") == date(2026, 7, 15)
    assert waiting_until(replace(SOWS, waiting_waived=False), SOW_DISEASE, "disease") == date(2026, 1, 20)
    assert waiting_until(SOWS, SOW_DISEASE, "disease") is None  # renewal
    assert waiting_until(PERSON, ACCIDENT, "accident_death") is None
    assert waiting_until(PERSON, MEDICAL, "accident_medical") is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (replace(PERSON, cancelled=True), CoverReason.cancelled),
        (replace(PERSON, policy_in_force=False), CoverReason.policy_not_in_force),  # a draft, not issued
        (replace(PERSON, policy_in_force=False, cancelled=True), CoverReason.cancelled),
    ],
)
def test_a_cancelled_or_unissued_policy_does_not_cover(line: CoverLine, reason: CoverReason) -> None:
    answer = cover_for([line], "accident_death", date(2026, 6, 1))
    assert not answer.covered and answer.reason == reason


def test_a_peril_outside_every_benefit_is_not_covered() -> None:
    answer = cover_for([PERSON], "drought", date(2026, 6, 1))
    assert not answer.covered and answer.reason == CoverReason.peril_not_covered
    assert answer.reason_label == "该风险不在保障责任内"


def test_no_lines_means_no_cover() -> None:
    answer = cover_for([], "accident_death", date(2026, 6, 1))
    assert not answer.covered and answer.reason == CoverReason.no_cover and answer.policy_no is None


@pytest.mark.parametrize(
    ("used", "covered", "left"),
    [
        ({}, True, 3_000_000),
        ({("TH2026-0001", "supp_medical"): 1_200_000}, True, 1_800_000),
        ({("TH2026-0001", "supp_medical"): 2_999_999}, True, 1),
        ({("TH2026-0001", "supp_medical"): 3_000_000}, False, 0),
        ({("TH2026-0001", "supp_medical"): 3_500_000}, False, 0),
        ({("TH2026-0002", "supp_medical"): 3_000_000, ("TH2026-0001", "illness_death"): 3_000_000}, True, 3_000_000),
    ],
)
def test_annual_limit_left_is_the_limit_less_what_this_policy_and_benefit_paid(
    used: dict[tuple[str, str], int], covered: bool, left: int
) -> None:
    answer = cover_for([PERSON], "accident_medical", date(2026, 6, 1), used)
    assert answer.covered is covered
    assert answer.reason == (CoverReason.covered if covered else CoverReason.limit_exhausted)
    assert answer.annual_limit_fen == 3_000_000
    assert answer.annual_left_fen == left


def test_a_benefit_without_annual_limit_has_nothing_left_to_count() -> None:
    answer = cover_for([PERSON], "accident_death", date(2026, 6, 1), {("TH2026-0001", "accident_death"): 10**9})
    assert answer.covered and answer.annual_limit_fen is None and answer.annual_left_fen is None


@pytest.mark.parametrize(
    ("units", "sum_insured", "annual"),
    [(Decimal(10), 1_000_000, 1_000_000), (Decimal(1), 100_000, 100_000), (Decimal("2.555"), 255_500, 255_500)],
)
def test_units_on_the_line_scale_sum_insured_and_annual_limit(units: Decimal, sum_insured: int, annual: int) -> None:
    answer = cover_for(
        [replace(SOWS, units=units)], "disease", date(2026, 3, 1), {("TH2026-0100", "sow_death"): 50_000}
    )
    assert answer.covered
    assert (answer.sum_insured_fen, answer.annual_limit_fen, answer.annual_left_fen) == (
        sum_insured,
        annual,
        annual - 50_000,
    )


def test_area_units_are_rounded_half_up_to_the_fen() -> None:
    rice = BenefitTerms("rice", "水稻", frozenset({"flood"}), 33_333, annual_limit_fen=33_333)
    line = replace(SOWS, benefits=(rice,), units=Decimal("1.55"))  # 1.55 x 333.33 yuan = 516.6615 yuan
    answer = cover_for([line], "flood", date(2026, 7, 1))
    assert (answer.sum_insured_fen, answer.annual_limit_fen) == (51_666, 51_666)


def test_double_cover_is_answered_by_the_earliest_line_and_names_the_other() -> None:
    early = PERSON
    late = replace(PERSON, policy_no="TH2026-0777", cover_start=date(2026, 3, 1))
    answer = cover_for([late, early], "accident_death", date(2026, 6, 1))
    assert answer.covered and answer.policy_no == early.policy_no
    assert answer.also_covered_by == ("TH2026-0777",)


def test_a_line_that_does_not_cover_is_not_named_as_double_cover() -> None:
    cancelled = replace(PERSON, policy_no="TH2026-0777", cancelled=True, cover_start=date(2025, 6, 1))
    answer = cover_for([cancelled, PERSON], "accident_death", date(2026, 6, 1))
    assert answer.covered and answer.policy_no == PERSON.policy_no and answer.also_covered_by == ()


@pytest.mark.parametrize(
    ("other", "reason", "policy_no"),
    [
        # a later policy that has not started vs. this one in its waiting period: the waiting period explains best
        (replace(PERSON, policy_no="LATE", cover_start=date(2026, 9, 1)), CoverReason.waiting_period, "TH2026-0001"),
        (replace(PERSON, policy_no="OLD", cover_end=date(2025, 12, 31)), CoverReason.waiting_period, "TH2026-0001"),
        (replace(PERSON, policy_no="DRAFT", policy_in_force=False), CoverReason.waiting_period, "TH2026-0001"),
    ],
)
def test_when_nothing_covers_the_closest_miss_is_given(other: CoverLine, reason: CoverReason, policy_no: str) -> None:
    answer = cover_for([other, PERSON], "illness_death", date(2026, 1, 15))
    assert not answer.covered
    assert (answer.reason, answer.policy_no) == (reason, policy_no)


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ([replace(PERSON, cancelled=True), replace(PERSON, cover_start=date(2026, 9, 1))], CoverReason.not_started),
        (
            [replace(PERSON, cover_end=date(2026, 3, 1)), replace(PERSON, cover_start=date(2026, 9, 1))],
            CoverReason.ended,
        ),
        ([replace(PERSON, policy_in_force=False), replace(PERSON, cancelled=True)], CoverReason.cancelled),
    ],
)
def test_closest_miss_ranks_ended_over_not_started_over_cancelled_over_draft(
    lines: list[CoverLine], reason: CoverReason
) -> None:
    assert cover_for(lines, "accident_death", date(2026, 6, 1)).reason == reason


def test_every_reason_has_a_label_for_the_clerk() -> None:
    assert set(COVER_REASON_LABELS) == set(CoverReason)
    assert cover_for([PERSON], "illness_death", PERIOD_START).reason_label == "处于等待期（观察期）内"


POLICY_NOS = ["P1", "P2", "P3", "P4"]


@st.composite
def cover_lines(draw: st.DrawFn) -> CoverLine:
    start = draw(st.dates(min_value=date(2025, 11, 1), max_value=PERIOD_END))
    return CoverLine(
        policy_no=draw(st.sampled_from(POLICY_NOS)),
        policy_in_force=draw(st.sampled_from([True, True, True, False])),
        cover_start=start,
        cover_end=start + timedelta(days=draw(st.integers(-5, 400))),  # may be empty (end before start)
        cancelled=draw(st.sampled_from([False, False, False, True])),
        waiting_waived=draw(st.booleans()),
        benefits=tuple(
            draw(st.lists(st.sampled_from([ACCIDENT, ILLNESS, MEDICAL, SOW_DISEASE]), min_size=1, max_size=3))
        ),
        units=draw(st.sampled_from([Decimal(1), Decimal(10), Decimal("2.35")])),
    )


perils = st.sampled_from(["accident_death", "illness_death", "illness_medical", "accident_medical", "disease", "hail"])


@settings(max_examples=200)
@given(
    st.lists(cover_lines(), min_size=1, max_size=4, unique_by=lambda line: line.policy_no),
    perils,
    st.integers(-10, 400),
    st.dictionaries(
        st.tuples(st.sampled_from(POLICY_NOS), st.sampled_from(["supp_medical", "sow_death"])), st.integers(0, 10**7)
    ),
)
def test_a_covered_answer_always_lies_within_an_issued_line_past_its_waiting_period(
    lines: list[CoverLine], peril: str, days_after_first_start: int, used: dict[tuple[str, str], int]
) -> None:
    on = lines[0].cover_start + timedelta(days=days_after_first_start)
    answer = cover_for(lines, peril, on, used)
    assert answer.covered is (answer.reason == CoverReason.covered)
    assert answer.reason != CoverReason.no_cover
    if not answer.covered:
        return
    line = next(line for line in lines if line.policy_no == answer.policy_no)
    assert line.cover_start <= on <= line.cover_end
    assert line.policy_in_force and not line.cancelled
    assert answer.waiting_until is None or on > answer.waiting_until
    assert answer.annual_left_fen is None or answer.annual_left_fen > 0
    assert any(peril in benefit.perils for benefit in line.benefits)


# --- periods ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ((date(2026, 1, 1), date(2026, 12, 31)), (date(2026, 12, 31), date(2027, 12, 31)), True),  # one shared day
        ((date(2026, 1, 1), date(2026, 12, 31)), (date(2027, 1, 1), date(2027, 12, 31)), False),  # adjacent years
        ((date(2026, 1, 1), date(2026, 12, 31)), (date(2026, 3, 1), date(2026, 3, 31)), True),  # contained
        ((date(2026, 3, 1), date(2026, 3, 1)), (date(2026, 3, 1), date(2026, 3, 1)), True),  # the same single day
        ((date(2026, 1, 1), date(2026, 2, 1)), (date(2026, 5, 1), date(2026, 6, 1)), False),
    ],
)
def test_periods_overlap_when_they_share_at_least_one_day(
    a: tuple[date, date], b: tuple[date, date], overlap: bool
) -> None:
    assert periods_overlap(*a, *b) is overlap
    assert periods_overlap(*b, *a) is overlap


@given(dates_2025_2027, st.integers(0, 60), dates_2025_2027, st.integers(0, 60))
def test_periods_overlap_exactly_when_some_day_lies_in_both(
    a_start: date, a_days: int, b_start: date, b_days: int
) -> None:
    a_end, b_end = a_start + timedelta(days=a_days), b_start + timedelta(days=b_days)
    a_set = {a_start + timedelta(days=i) for i in range(a_days + 1)}
    b_set = {b_start + timedelta(days=i) for i in range(b_days + 1)}
    assert periods_overlap(a_start, a_end, b_start, b_end) is bool(a_set & b_set)
