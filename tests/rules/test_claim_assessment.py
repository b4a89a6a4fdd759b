"""Worked examples of the assessment per claim type (claims/assessment), with the catalogue's benefits and the
numbers of domain.md §2-§3: the payable amount, the reasons and the explanation's lines."""

from datetime import date
from decimal import Decimal

import pytest

from claims.assessment import (
    AccidentMedicalFacts,
    Assessment,
    Cover,
    CropFacts,
    DeathFacts,
    DisabilityFacts,
    HouseFacts,
    LineKind,
    LivestockFacts,
    MedicalFacts,
    assess,
    cover_from_answer,
    facts_type,
    yuan,
)
from claims.reasons import ReasonCode as R
from claims.status import ClaimType as T
from claims.status import Decision
from insurance.cover.eligibility import CoverAnswer, CoverReason
from tests.rules.claim_facts import benefit, cover

INCIDENT = date(2026, 3, 1)
REPORTED = date(2026, 3, 5)


def run(claim_type: T, facts: object, the_cover: Cover, incident: date = INCIDENT) -> Assessment:
    result = assess(claim_type, facts, the_cover, incident, REPORTED)  # type: ignore[arg-type]
    assert sum(line.amount_fen for line in result.lines) == result.payable_fen
    return result


def kinds(result: Assessment) -> list[tuple[LineKind, int]]:
    return [(line.kind, line.amount_fen) for line in result.lines]


# --- supplementary medical (domain.md §3.4: deductible 0, 85 %, 100,000 yuan a year) ------------------------------

SHEET = MedicalFacts(
    total_cost_fen=5_000_000, in_policy_fen=4_000_000, bmi_paid_fen=2_400_000, ci_paid_fen=600_000,
    assistance_paid_fen=300_000,
)  # fmt: skip


def test_supplementary_medical_follows_the_settlement_sheet_formula() -> None:
    result = run(T.supplementary_medical, SHEET, cover("th_supp_medical"))
    # base = 40,000 - 24,000 - 6,000 = 10,000 yuan; x 85 % = 8,500
    assert result.payable_fen == 850_000
    assert kinds(result) == [
        (LineKind.claimed, 5_000_000),
        (LineKind.excluded, -1_000_000),
        (LineKind.other_payer, -2_400_000),
        (LineKind.other_payer, -600_000),
        (LineKind.ratio, -150_000),
    ]
    assert result.reasons == (R.payable,)
    # 50,000 - 24,000 - 6,000 - 3,000 (assistance) - 8,500 (this cover)
    assert result.household_pays_fen == 850_000
    assert result.suggested_decision == Decision.approve


@pytest.mark.parametrize(
    ("base_fen", "payable_fen"),
    [(12_345, 10_493), (12_347, 10_495), (12_350, 10_498), (10, 9), (1, 1), (0, 0)],  # 10,497.5 -> 10,498 half up
)
def test_the_ratio_is_rounded_half_up_once(base_fen: int, payable_fen: int) -> None:
    facts = MedicalFacts(total_cost_fen=base_fen, in_policy_fen=base_fen, bmi_paid_fen=0)
    assert run(T.supplementary_medical, facts, cover("th_supp_medical")).payable_fen == payable_fen


def test_the_annual_limit_says_what_was_used_and_what_was_left() -> None:
    result = run(T.supplementary_medical, SHEET, cover("th_supp_medical", used=9_500_000))
    assert result.payable_fen == 500_000  # 100,000 - 95,000 left of 8,500
    limit = result.lines[-1]
    assert (limit.kind, limit.amount_fen, limit.reason) == (LineKind.annual_limit, -350_000, R.annual_limit)
    assert limit.detail == "年度限额¥100,000.00，本年已用¥95,000.00，剩余¥5,000.00"
    assert result.reasons == (R.payable, R.annual_limit)
    assert result.household_pays_fen == 5_000_000 - 2_400_000 - 600_000 - 300_000 - 500_000


def test_an_exhausted_annual_limit_pays_nothing_with_that_reason() -> None:
    result = run(T.supplementary_medical, SHEET, cover("th_supp_medical", used=10_000_000))
    assert (result.payable_fen, result.reasons) == (0, (R.annual_limit,))
    assert result.suggested_decision == Decision.reject


def test_a_stay_in_the_waiting_period_is_assessed_at_0_and_shows_what_the_household_pays() -> None:
    waiting = cover("th_supp_medical", start=date(2026, 2, 10), waiting_ends=date(2026, 3, 11))
    result = run(T.supplementary_medical, SHEET, waiting)
    assert (result.payable_fen, result.reasons) == (0, (R.waiting_period,))
    assert kinds(result) == [(LineKind.claimed, 5_000_000), (LineKind.not_covered, -5_000_000)]
    assert "2026-03-11" in result.lines[-1].detail
    assert result.household_pays_fen == 5_000_000 - 2_400_000 - 600_000 - 300_000
    after = run(T.supplementary_medical, SHEET, waiting, incident=date(2026, 3, 12))
    assert after.payable_fen == 850_000


def test_no_cover_on_the_incident_date_is_not_covered_with_the_answer_s_words() -> None:
    lapsed = Cover(benefit("th_supp_medical"), in_force_on_incident=False, detail_if_not="出险日保障已终止")
    result = run(T.supplementary_medical, SHEET, lapsed)
    assert (result.payable_fen, result.main_reason) == (0, R.not_covered)
    assert result.lines[-1].detail == "出险日保障已终止"
    never = run(T.supplementary_medical, SHEET, Cover(None, in_force_on_incident=False))
    assert never.reasons == (R.not_covered,)


def test_an_incident_outside_the_cover_period_is_not_covered_even_if_the_answer_said_in_force() -> None:
    result = run(T.supplementary_medical, SHEET, cover("th_supp_medical", start=date(2026, 4, 1)))
    assert result.reasons == (R.not_covered,)


def test_nothing_is_left_when_basic_and_critical_illness_insurance_paid_the_in_policy_amount() -> None:
    facts = MedicalFacts(total_cost_fen=900_000, in_policy_fen=700_000, bmi_paid_fen=500_000, ci_paid_fen=250_000)
    result = run(T.supplementary_medical, facts, cover("th_supp_medical"))
    assert (result.payable_fen, result.reasons, result.household_pays_fen) == (0, (R.nothing_payable,), 150_000)


def test_settlement_figures_that_cannot_be_are_a_programming_error() -> None:
    with pytest.raises(ValueError):
        MedicalFacts(total_cost_fen=100, in_policy_fen=200, bmi_paid_fen=0)
    with pytest.raises(ValueError):
        MedicalFacts(total_cost_fen=100, in_policy_fen=100, bmi_paid_fen=-1)


# --- accidental medical: (cost - 100 yuan) x 80 %, 2,000 a time and a year ---------------------------------------


@pytest.mark.parametrize(
    ("cost", "used", "payable", "reasons"),
    [
        (110_000, 0, 80_000, (R.payable, R.deductible)),  # (1,100 - 100) x 80 %
        (300_000, 0, 200_000, (R.payable, R.deductible, R.per_event_limit)),  # 2,320 capped at 2,000
        (8_000, 0, 0, (R.deductible,)),  # under the deductible
        (110_000, 150_000, 50_000, (R.payable, R.deductible, R.annual_limit)),  # 500 left of the year's 2,000
    ],
)
def test_accidental_medical(cost: int, used: int, payable: int, reasons: tuple[R, ...]) -> None:
    result = run(T.accidental_medical, AccidentMedicalFacts(cost), cover("th_accident_medical", used=used))
    assert (result.payable_fen, result.reasons) == (payable, reasons)


# --- death and disability ------------------------------------------------------------------------------------------


def test_accidental_death_pays_the_sum_insured_less_what_the_year_already_paid() -> None:
    assert run(T.accidental_death, DeathFacts(INCIDENT), cover("th_accident")).payable_fen == 2_000_000
    after_disability = run(T.accidental_death, DeathFacts(INCIDENT), cover("th_accident", used=1_200_000))
    assert (after_disability.payable_fen, after_disability.reasons) == (800_000, (R.payable, R.annual_limit))


@pytest.mark.parametrize(
    ("grades", "paid", "payable"),
    [
        ((1,), 0, 2_000_000),
        ((10,), 0, 200_000),
        ((7, 3, 9), 0, 1_600_000),  # the most severe of one incident decides: grade 3, 80 %
        ((3,), 1_200_000, 400_000),  # grade 5 (60 %) paid earlier this year is subtracted
    ],
)
def test_accidental_disability_by_grade(grades: tuple[int, ...], paid: int, payable: int) -> None:
    the_cover = cover("th_accident", used=paid, disability_paid=paid)
    result = run(T.accidental_disability, DisabilityFacts(grades), the_cover)
    assert result.payable_fen == payable
    assert f"{min(grades)}级" in result.lines[1].label


@pytest.mark.parametrize("grades", [(), (0,), (11,), (3, 12)])
def test_a_disability_grade_outside_1_to_10_is_refused(grades: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        DisabilityFacts(grades)


def test_death_by_illness_in_the_30_day_waiting_period_pays_nothing() -> None:
    waiting = cover("th_illness_death", start=date(2026, 3, 10), waiting_ends=date(2026, 4, 8))
    last_day = run(T.illness_death, DeathFacts(date(2026, 4, 8)), waiting, incident=date(2026, 4, 8))
    assert (last_day.payable_fen, last_day.reasons) == (0, (R.waiting_period,))
    next_day = run(T.illness_death, DeathFacts(date(2026, 4, 9)), waiting, incident=date(2026, 4, 9))
    assert (next_day.payable_fen, next_day.reasons) == (500_000, (R.payable,))


# --- farm house: 4,000 yuan a room, at most 20,000 a household -----------------------------------------------------


@pytest.mark.parametrize(
    ("rooms", "verified", "used", "payable", "reasons"),
    [
        (3, True, 0, 1_200_000, (R.payable,)),
        (6, True, 0, 2_000_000, (R.payable, R.per_event_limit)),
        (3, False, 0, 0, (R.documents_missing,)),
        (3, True, 1_200_000, 800_000, (R.payable, R.annual_limit)),
    ],
)
def test_house_collapse(rooms: int, verified: bool, used: int, payable: int, reasons: tuple[R, ...]) -> None:
    result = run(T.house_collapse, HouseFacts(rooms, verified), cover("th_house", used=used))
    assert (result.payable_fen, result.reasons) == (payable, reasons)
    assert result.lines[0].detail == f"倒塌{rooms}间 × ¥4,000.00/间"


# --- livestock: heads x 1,000 yuan a sow, ear tags on the policy ----------------------------------------------------

TAGS = frozenset({"430102-0001", "430102-0002", "430102-0003", "430102-0004"})


def sows(*tags: str, **kwargs: object) -> LivestockFacts:
    return LivestockFacts(peril=str(kwargs.pop("peril", "flood")), ear_tags=tags, insured_tags=TAGS, **kwargs)  # type: ignore[arg-type]


def test_livestock_heads_times_the_sum_per_head() -> None:
    result = run(T.livestock_loss, sows("430102-0001", "430102-0002", "430102-0003"), cover("agri_sow", units=4))
    assert (result.payable_fen, result.reasons) == (300_000, (R.payable,))


def test_a_head_whose_ear_tag_is_not_on_the_policy_is_not_insured_and_the_rest_is_partly_approved() -> None:
    facts = sows("430102-0001", "430102-0002", "430102-0003", "999999-0009", "430102-0001")
    result = run(T.livestock_loss, facts, cover("agri_sow", units=4))
    assert result.payable_fen == 300_000
    assert result.reasons == (R.payable, R.object_not_insured)
    assert "999999-0009" in result.lines[1].detail and "重复耳标1个" in result.lines[0].detail
    assert result.suggested_decision == Decision.approve_partly


def test_a_culled_head_pays_the_sum_insured_less_the_culling_subsidy() -> None:
    facts = sows("430102-0001", "430102-0002", peril="culling", culled_tags=TAGS, culling_subsidy_per_head_fen=80_000)
    result = run(T.livestock_loss, facts, cover("agri_sow", units=4))
    assert result.payable_fen == 2 * (100_000 - 80_000)
    assert result.lines[-1].kind == LineKind.subsidy


def test_the_epidemic_waiting_period_stops_disease_but_not_flood() -> None:
    waiting = cover("agri_sow", units=4, start=date(2026, 2, 20), waiting_ends=date(2026, 3, 11))
    epidemic = run(T.livestock_loss, sows("430102-0001", peril="epidemic"), waiting)
    assert (epidemic.payable_fen, epidemic.reasons) == (0, (R.waiting_period,))
    flood = run(T.livestock_loss, sows("430102-0001", peril="flood"), waiting)
    assert flood.payable_fen == 100_000


def test_livestock_without_harmless_disposal_pays_nothing_until_the_record_is_there() -> None:
    result = run(T.livestock_loss, sows("430102-0001", harmless_disposal=False), cover("agri_sow", units=4))
    assert (result.payable_fen, result.reasons) == (0, (R.documents_missing,))


def test_a_peril_the_benefit_does_not_name_is_not_covered() -> None:
    result = run(T.livestock_loss, sows("430102-0001", peril="theft"), cover("agri_sow", units=4))
    assert result.reasons == (R.peril_not_covered,)


# --- crops: area x sum per mu (by stage) x loss degree; under 20 % nothing, from 80 % everything -------------------


@pytest.mark.parametrize(
    ("code", "area", "loss_bp", "stage", "payable", "reasons"),
    [
        ("agri_rice_mid", "3.5", 4_500, "tillering", 44_100, (R.payable,)),  # 3.5 x 280 x 45 %
        ("agri_rice_mid", "3.5", 4_500, "seedling", 37_800, (R.payable,)),  # 3.5 x 240 x 45 %
        ("agri_rice_mid", "3.5", 1_999, "maturity", 0, (R.deductible,)),  # under the franchise
        ("agri_rice_mid", "3.5", 2_000, "maturity", 22_400, (R.payable,)),  # at the franchise: proportional
        ("agri_rice_mid", "3.5", 8_000, "maturity", 112_000, (R.payable,)),  # total loss: 3.5 x 320
        ("agri_rice_mid", "6", 5_000, "maturity", 80_000, (R.payable, R.object_not_insured)),  # 5 mu insured
        ("agri_citrus", "1.25", 3_000, None, 75_000, (R.payable,)),  # no stage sums: 2,000 a mu
        ("agri_rice_early", "0.33", 3_333, "tillering", 3_080, (R.payable,)),  # 30.7944 -> 30.80 half up, once
    ],
)
def test_crop_loss(code: str, area: str, loss_bp: int, stage: str | None, payable: int, reasons: tuple[R, ...]) -> None:
    result = run(T.crop_loss, CropFacts("flood", Decimal(area), loss_bp, stage), cover(code, units=5))
    assert (result.payable_fen, result.reasons) == (payable, reasons)


def test_a_total_loss_is_explained_by_a_line_of_0() -> None:
    result = run(T.crop_loss, CropFacts("hail", Decimal(2), 9_000, "maturity"), cover("agri_rice_late", units=5))
    assert result.lines[-1].amount_fen == 0 and result.lines[-1].label == "按全损赔付"


def test_a_product_with_stage_sums_needs_the_stage() -> None:
    with pytest.raises(ValueError):
        run(T.crop_loss, CropFacts("flood", Decimal(2), 5_000), cover("agri_rice_mid", units=5))


# --- assess(): the late report, the facts' type, the cover answer -------------------------------------------------


def test_a_late_report_is_a_warning_and_pays_the_same() -> None:
    incident, reported = date(2023, 5, 10), date(2025, 5, 11)
    the_cover = cover("th_accident_medical", start=date(2023, 1, 1), end=date(2023, 12, 31))
    on_time = assess(T.accidental_medical, AccidentMedicalFacts(110_000), the_cover, incident, date(2025, 5, 10))
    late = assess(T.accidental_medical, AccidentMedicalFacts(110_000), the_cover, incident, reported)
    assert late.payable_fen == on_time.payable_fen == 80_000
    assert late.reasons == (*on_time.reasons, R.late_report)
    assert late.lines[-1].amount_fen == 0 and "2025-05-10" in late.lines[-1].detail
    assert sum(line.amount_fen for line in late.lines) == late.payable_fen


def test_assess_refuses_facts_of_another_claim_type() -> None:
    with pytest.raises(TypeError):
        assess(T.house_collapse, DeathFacts(INCIDENT), cover("th_house"), INCIDENT, REPORTED)
    assert facts_type(T.crop_loss) is CropFacts


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        (CoverReason.no_cover, R.not_covered),
        (CoverReason.cancelled, R.not_covered),
        (CoverReason.ended, R.not_covered),
        (CoverReason.not_started, R.not_covered),
        (CoverReason.policy_not_in_force, R.not_covered),
        (CoverReason.peril_not_covered, R.peril_not_covered),
        (CoverReason.waiting_period, R.waiting_period),
    ],
)
def test_insurance_s_cover_answer_becomes_the_reason_of_a_0_assessment(reason: CoverReason, code: R) -> None:
    the_cover = cover_from_answer(CoverAnswer(False, reason), benefit("th_supp_medical"))
    assert run(T.supplementary_medical, SHEET, the_cover).reasons == (code,)


def test_an_exhausted_limit_in_the_cover_answer_is_in_force_and_shown_as_the_annual_limit() -> None:
    answer = CoverAnswer(False, CoverReason.limit_exhausted, annual_left_fen=0)
    the_cover = cover_from_answer(answer, benefit("th_supp_medical"), used_this_year_fen=10_000_000)
    assert run(T.supplementary_medical, SHEET, the_cover).reasons == (R.annual_limit,)


def test_yuan_is_the_display_form() -> None:
    assert (yuan(123_456), yuan(5), yuan(0), yuan(-1_000)) == ("¥1,234.56", "¥0.05", "¥0.00", "-¥10.00")
