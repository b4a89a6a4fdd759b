"""The risk-of-falling-back triggers (domain.md §1.3) as pure rules: thresholds at their edges, what counts and what
does not, working age, the re-raise pool, and properties (flag iff the sum reaches the threshold; parts add up)."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from claims.risk import rules
from claims.risk.rules import ClaimFact, Outcome, RiskAction, RiskReason, RiskStatus, RiskThresholds
from claims.status import ClaimType

LIMITS = RiskThresholds()
DAY = date(2026, 5, 10)


def medical(
    no: str, pays: int | None, status: str = "assessed", reasons: tuple[str, ...] = (), decision_reason: str = ""
) -> ClaimFact:
    return ClaimFact(
        no,
        "supplementary_medical",
        status,
        DAY,
        household_pays_fen=pays,
        reasons=reasons,
        decision_reason=decision_reason or None,
    )


def test_medical_out_of_pocket_fires_at_exactly_ten_thousand_yuan_summed_over_the_year() -> None:
    below = rules.medical_out_of_pocket([medical("A", 600_000), medical("B", 399_999)], LIMITS)
    assert not below.fires and below.figures["amount_fen"] == 999_999
    at = rules.medical_out_of_pocket([medical("A", 600_000), medical("B", 400_000)], LIMITS)
    assert at.fires and at.figures == {
        "amount_fen": 1_000_000,
        "threshold_fen": 1_000_000,
        "parts_fen": {"A": 600_000, "B": 400_000},
    }
    assert at.basis == ("A", "B")


def test_withdrawn_unassessed_and_fraud_or_duplicate_rejections_do_not_count_a_rejection_for_cover_does() -> None:
    found = rules.medical_out_of_pocket(
        [
            medical("A", 600_000),
            medical("B", 500_000, status="withdrawn"),
            medical("C", 500_000, status="rejected", decision_reason="fraud_suspected"),
            medical("D", 500_000, status="rejected", decision_reason="duplicate"),
            medical("E", None, status="filed"),
            medical("F", 400_000, status="rejected", decision_reason="waiting_period"),  # the stay was real
        ],
        LIMITS,
    )
    assert found.fires and found.basis == ("A", "F") and found.figures["amount_fen"] == 1_000_000
    deaths = [
        ClaimFact("G", "illness_death", "rejected", DAY, birth_date=date(1980, 1, 1), decision_reason="waiting_period"),
        ClaimFact("H", "accidental_death", "rejected", DAY, birth_date=date(1980, 1, 1), decision_reason="duplicate"),
    ]
    assert rules.death_or_severe_disability(deaths, LIMITS).basis == ("G",)


def test_half_the_households_income_fires_below_the_fixed_threshold_where_income_is_known() -> None:
    facts = [medical("A", 300_000)]
    assert not rules.medical_out_of_pocket(facts, LIMITS).fires
    found = rules.medical_out_of_pocket(facts, LIMITS, income_fen=600_000)
    assert found.fires and found.figures["income_share_bp"] == 5_000
    assert not rules.medical_out_of_pocket(facts, LIMITS, income_fen=600_001).fires


def test_disaster_loss_is_the_claimed_valuation_and_a_crops_loss_degree_applies() -> None:
    house = ClaimFact("H", "house_collapse", "assessed", DAY, claimed_fen=400_000, facts={"rooms_collapsed": 1})
    crop = ClaimFact("C", "crop_loss", "assessed", DAY, claimed_fen=333_333, facts={"loss_bp": 3_000})
    assert rules.loss_fen(crop) == 100_000  # 333,333 x 30 % = 99,999.9, half up
    found = rules.disaster_loss([house, crop], LIMITS)
    assert found.fires and found.figures["amount_fen"] == 500_000 and found.basis == ("C", "H")
    unassessed = ClaimFact("L", "livestock_loss", "filed", DAY, claimed_fen=0, facts={"ear_tags": ["a"]})
    assert not rules.disaster_loss([unassessed], LIMITS).fires and rules.disaster_loss([unassessed], LIMITS).basis == ()


def test_a_death_or_grade_1_to_4_disability_of_a_working_age_member_fires() -> None:
    def person(no: str, kind: str, born: date, **facts: object) -> ClaimFact:
        return ClaimFact(no, kind, "filed", DAY, facts=facts, member_id=7, birth_date=born)

    assert rules.death_or_severe_disability([person("D", "illness_death", date(1980, 1, 1))], LIMITS).fires
    assert rules.death_or_severe_disability(
        [person("G", "accidental_disability", date(1980, 1, 1), grades=[6, 4])], LIMITS
    ).fires
    assert not rules.death_or_severe_disability(
        [person("G", "accidental_disability", date(1980, 1, 1), grades=[5])], LIMITS
    ).fires
    # 16 on the incident date is working age; 15 the day before the birthday is not; 59 is, 60 is not
    assert rules.death_or_severe_disability([person("Y", "accidental_death", date(2010, 5, 10))], LIMITS).fires
    assert not rules.death_or_severe_disability([person("Y", "accidental_death", date(2010, 5, 11))], LIMITS).fires
    assert rules.death_or_severe_disability([person("O", "accidental_death", date(1966, 5, 11))], LIMITS).fires
    assert not rules.death_or_severe_disability([person("O", "accidental_death", date(1966, 5, 10))], LIMITS).fires
    wider = RiskThresholds(working_age_max=64)
    assert rules.death_or_severe_disability([person("O", "accidental_death", date(1966, 5, 10))], wider).fires


def test_an_uncovered_stay_counts_even_when_rejected_but_not_when_withdrawn_or_in_its_waiting_period() -> None:
    rejected = medical("A", 800_000, status="rejected", reasons=("not_covered",), decision_reason="not_covered")
    withdrawn = medical("B", 800_000, status="withdrawn", reasons=("not_covered",))
    waiting = medical("C", 800_000, reasons=("waiting_period",))
    found = rules.uncovered_hospital_stay([rejected, withdrawn, waiting])
    assert found.fires and found.basis == ("A",) and found.figures["stays"] == 1


def test_eligible_uncovered_names_the_members_without_cover() -> None:
    found = rules.eligible_uncovered([1, 2, 3], [3, 9])
    assert found.fires and found.basis == ("member:3",) and found.figures["uncovered_members"] == 1
    assert not rules.eligible_uncovered([1, 2], []).fires


def test_a_closed_flags_facts_leave_the_pool_so_only_new_facts_crossing_on_their_own_raise_again() -> None:
    facts = [medical("A", 1_200_000), medical("B", 100_000)]
    assert not rules.medical_out_of_pocket(rules.pool(facts, ["A"]), LIMITS).fires
    more = [*facts, medical("C", 950_000)]
    assert rules.medical_out_of_pocket(rules.pool(more, ["A"]), LIMITS).basis == ("B", "C")


def test_an_open_flag_is_refreshed_when_its_figures_move_and_left_alone_otherwise() -> None:
    found = rules.medical_out_of_pocket([medical("A", 1_200_000)], LIMITS)
    assert rules.outcome(found, None) == Outcome.raise_new
    assert rules.outcome(found, (found.figures, found.basis)) == Outcome.nothing
    grown = rules.medical_out_of_pocket([medical("A", 1_200_000), medical("B", 1)], LIMITS)
    assert rules.outcome(grown, (found.figures, found.basis)) == Outcome.refresh
    quiet = rules.medical_out_of_pocket([medical("A", 1)], LIMITS)
    assert rules.outcome(quiet, None) == Outcome.nothing


def test_the_county_follows_up_before_resolving_and_may_dismiss_a_new_flag() -> None:
    assert rules.next_status(RiskStatus.new, RiskAction.follow_up) == RiskStatus.following_up
    assert rules.next_status(RiskStatus.new, RiskAction.resolve) is None
    assert rules.next_status(RiskStatus.new, RiskAction.dismiss) == RiskStatus.dismissed
    assert rules.next_status(RiskStatus.following_up, RiskAction.resolve) == RiskStatus.resolved
    for closed in (RiskStatus.resolved, RiskStatus.dismissed):
        assert rules.allowed_actions(closed) == []


amounts = st.lists(st.integers(min_value=0, max_value=2_000_000), max_size=12)


@given(amounts, st.integers(min_value=1, max_value=3_000_000))
def test_medical_flags_iff_the_years_sum_reaches_the_threshold_and_the_parts_add_up(
    pays: list[int], threshold: int
) -> None:
    facts = [medical(f"LP{i:04d}", amount) for i, amount in enumerate(pays)]
    found = rules.medical_out_of_pocket(facts, RiskThresholds(medical_oop_fen=threshold))
    assert found.fires == (sum(pays) >= threshold and bool(pays))
    assert sum(found.figures["parts_fen"].values()) == found.figures["amount_fen"] == sum(pays)
    assert found.reason == RiskReason.medical_out_of_pocket


@given(st.lists(st.tuples(st.integers(0, 1_000_000), st.integers(0, 10_000)), max_size=8))
def test_disaster_losses_add_up_to_the_figure_and_flag_iff_it_reaches_five_thousand_yuan(
    crops: list[tuple[int, int]],
) -> None:
    facts = [
        ClaimFact(f"C{i}", "crop_loss", "assessed", DAY, claimed_fen=value, facts={"loss_bp": bp})
        for i, (value, bp) in enumerate(crops)
    ]
    found = rules.disaster_loss(facts, LIMITS)
    assert sum(found.figures["parts_fen"].values()) == found.figures["amount_fen"]
    assert found.fires == (found.figures["amount_fen"] >= LIMITS.disaster_loss_fen)


UNJUDGED = sorted({t.value for t in ClaimType} - rules.JUDGED_TYPES)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(UNJUDGED),
            st.sampled_from(["filed", "assessed", "approved", "paid"]),
            st.integers(0, 5_000_000),
            st.booleans(),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_claims_of_a_type_no_trigger_reads_change_no_finding(others: list[tuple[str, str, int, bool]]) -> None:
    """Why the workflow may skip judging a step of such a claim (accidental medical): the findings stay the same."""
    assert UNJUDGED == ["accidental_medical"]
    base = [medical("LP0001", 800_000), medical("LP0002", 300_000)]
    extra = [
        ClaimFact(
            f"X{i}",
            kind,
            status,
            DAY,
            household_pays_fen=amount,
            claimed_fen=amount,
            facts={"grades": [1], "died_on": DAY.isoformat(), "loss_bp": 10_000},
            reasons=(rules.NOT_COVERED,) if uncovered else (),
            member_id=i,
            birth_date=date(1980, 1, 1),
        )
        for i, (kind, status, amount, uncovered) in enumerate(others)
    ]
    assert rules.judge_claims([*base, *extra], LIMITS) == rules.judge_claims(base, LIMITS)
