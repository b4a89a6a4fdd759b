"""Which decisions are sampled for review (domain.md §3.5): pure, so the rates and thresholds are tested alone.

Random sample: each decision that did not need a second approval is drawn at decision time with probability
`percent` / 100, independently, from an RNG passed in (the service uses `random.SystemRandom`, tests a seeded
`random.Random`). Over a period that is a true random sample of its decisions, not the oldest ones.

Risk sample: the agreed amount above `risk_fen`; or more than 1.5x the average agreed amount of its peers (the
same main diagnosis for a medical claim, the same peril and county for the others, agreed in the last 12 months),
when at least 10 peers exist. The comparison is in integers (2 x amount x n > 3 x sum), so no rounding at all.
"""

import random
from dataclasses import dataclass
from datetime import date

RANDOM_SAMPLE = "random_sample"  # claims.models.ReviewKind values, kept as strings so this module stays pure
RISK_SAMPLE = "risk_sample"
REASON_RANDOM = "random"
REASON_ABOVE_THRESHOLD = "amount_above_threshold"
REASON_UNUSUAL = "unusual_amount"

MIN_PEERS = 10  # fewer peers than this: the average says too little, no "unusual amount" review
PEER_FACTOR_NUM, PEER_FACTOR_DEN = 3, 2  # 1.5x the peers' average
PEER_MONTHS = 12


@dataclass(frozen=True)
class SamplePolicy:
    """The settings of the sample: `claim_review_sample_percent` and `claim_review_risk_yuan` (in fen here)."""

    percent: int
    risk_fen: int


@dataclass(frozen=True)
class ReviewPick:
    """A review to open: its kind (`random_sample` / `risk_sample`) and the REVIEW_REASON code that picked it."""

    kind: str
    reason: str


def drawn_at_random(percent: int, rng: random.Random) -> bool:
    """One draw: true with probability percent/100 (integers only; 0 never, 100 always)."""
    return rng.randrange(100) < percent


def unusual_amount(amount_fen: int, peer_amounts: list[int]) -> bool:
    """Above 1.5x the peers' average, and only with at least MIN_PEERS peers."""
    if len(peer_amounts) < MIN_PEERS:
        return False
    return amount_fen * len(peer_amounts) * PEER_FACTOR_DEN > PEER_FACTOR_NUM * sum(peer_amounts)


def risk_reason(amount_fen: int, *, risk_fen: int, peer_amounts: list[int]) -> str | None:
    """Why the amount is a risk (the first that applies), or None."""
    if amount_fen > risk_fen:
        return REASON_ABOVE_THRESHOLD
    if amount_fen > 0 and unusual_amount(amount_fen, peer_amounts):
        return REASON_UNUSUAL
    return None


def select_reviews(
    amount_fen: int, *, policy: SamplePolicy, peer_amounts: list[int], rng: random.Random
) -> list[ReviewPick]:
    """The reviews a decision gets. The random draw is made for every decision, risky or not, so the random
    sample stays a sample of all decisions; a risky claim drawn at random gets both rows."""
    picks: list[ReviewPick] = []
    if drawn_at_random(policy.percent, rng):
        picks.append(ReviewPick(RANDOM_SAMPLE, REASON_RANDOM))
    reason = risk_reason(amount_fen, risk_fen=policy.risk_fen, peer_amounts=peer_amounts)
    if reason is not None:
        picks.append(ReviewPick(RISK_SAMPLE, reason))
    return picks


def peer_window_start(today: date) -> date:
    """The first day of the last 12 months: the same day a year ago (28 February for 29 February)."""
    try:
        return today.replace(year=today.year - 1)
    except ValueError:
        return today.replace(year=today.year - 1, day=28)
