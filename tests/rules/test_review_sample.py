"""The review sample's pure rules: the random draw's rate, the risk thresholds and the 10-peer minimum."""

import random
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from claims.rules.review import (
    MIN_PEERS,
    RANDOM_SAMPLE,
    REASON_ABOVE_THRESHOLD,
    REASON_RANDOM,
    REASON_UNUSUAL,
    RISK_SAMPLE,
    ReviewPick,
    SamplePolicy,
    drawn_at_random,
    peer_window_start,
    risk_reason,
    select_reviews,
    unusual_amount,
)

DRAWS = 4000


@settings(max_examples=20, deadline=None)
@given(percent=st.integers(min_value=0, max_value=100), seed=st.integers(min_value=0, max_value=2**32))
def test_random_sample_rate_is_near_the_percent(percent: int, seed: int) -> None:
    rng = random.Random(seed)
    hits = sum(drawn_at_random(percent, rng) for _ in range(DRAWS))
    # within 5 standard deviations of n*p (p(1-p) <= 1/4, so sd <= sqrt(DRAWS)/2 ~ 32); exact at 0 and 100
    assert abs(hits * 100 - percent * DRAWS) <= 5 * 32 * 100


def test_random_sample_at_zero_never_and_at_hundred_always() -> None:
    rng = random.Random(7)
    assert not any(drawn_at_random(0, rng) for _ in range(500))
    assert all(drawn_at_random(100, rng) for _ in range(500))


def test_random_sample_is_not_the_first_decisions() -> None:
    """Different seeds pick different decisions: the sample is drawn, not the oldest n."""
    rngs = [random.Random(1), random.Random(2)]
    picked = [[i for i in range(400) if drawn_at_random(5, rng)] for rng in rngs]
    assert picked[0] != picked[1]
    assert all(p and p != list(range(len(p))) for p in picked)


def test_amount_above_the_risk_threshold_is_a_risk_at_one_fen_above() -> None:
    assert risk_reason(1_000_001, risk_fen=1_000_000, peer_amounts=[]) == REASON_ABOVE_THRESHOLD
    assert risk_reason(1_000_000, risk_fen=1_000_000, peer_amounts=[]) is None


def test_unusual_amount_needs_more_than_one_and_a_half_times_the_average() -> None:
    peers = [10_000] * MIN_PEERS
    assert not unusual_amount(15_000, peers)
    assert unusual_amount(15_001, peers)


def test_unusual_amount_needs_at_least_ten_peers() -> None:
    assert not unusual_amount(1_000_000, [10_000] * (MIN_PEERS - 1))
    assert unusual_amount(1_000_000, [10_000] * MIN_PEERS)


@given(peers=st.lists(st.integers(min_value=1, max_value=10**9), min_size=MIN_PEERS, max_size=40))
def test_unusual_amount_matches_the_exact_average(peers: list[int]) -> None:
    from fractions import Fraction

    limit = Fraction(3, 2) * Fraction(sum(peers), len(peers))
    for amount in (int(limit) - 1, int(limit), int(limit) + 1):
        assert unusual_amount(amount, peers) == (amount > limit)


def test_select_reviews_gives_both_rows_for_a_risky_claim_drawn_at_random() -> None:
    policy = SamplePolicy(percent=100, risk_fen=1_000_000)
    picks = select_reviews(2_000_000, policy=policy, peer_amounts=[], rng=random.Random(1))
    assert picks == [ReviewPick(RANDOM_SAMPLE, REASON_RANDOM), ReviewPick(RISK_SAMPLE, REASON_ABOVE_THRESHOLD)]


def test_select_reviews_unusual_amount_below_the_threshold() -> None:
    policy = SamplePolicy(percent=0, risk_fen=1_000_000)
    picks = select_reviews(50_000, policy=policy, peer_amounts=[10_000] * MIN_PEERS, rng=random.Random(1))
    assert picks == [ReviewPick(RISK_SAMPLE, REASON_UNUSUAL)]


def test_a_rejection_is_never_an_unusual_amount() -> None:
    assert risk_reason(0, risk_fen=0, peer_amounts=[0] * MIN_PEERS) is None


def test_peer_window_is_twelve_months_back() -> None:
    assert peer_window_start(date(2026, 12, 7)) == date(2025, 12, 7)
    assert peer_window_start(date(2028, 2, 29)) == date(2027, 2, 28)
