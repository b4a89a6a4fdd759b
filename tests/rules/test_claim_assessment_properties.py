"""Properties of the assessment for every claim type (hypothesis): the payable is never negative, never above the
claimed amount or any remaining limit, does not decrease when the claim grows, and the lines add up to it."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from claims.assessment import (
    AccidentMedicalFacts,
    Assessment,
    Cover,
    CropFacts,
    DeathFacts,
    DisabilityFacts,
    Facts,
    HouseFacts,
    LivestockFacts,
    MedicalFacts,
    assess,
)
from claims.assessment.explanation import Ledger, LineKind
from claims.reasons import ReasonCode
from claims.status import ClaimType as T
from tests.rules.claim_facts import benefit, cover

INCIDENT = date(2026, 6, 1)
TAGS = tuple(f"430102-{n:04d}" for n in range(12))
MAX_FEN = 50_000_000


def medical(size: int, knobs: tuple[int, int, int, int]) -> MedicalFacts:
    excluded, bmi, ci, assistance = knobs
    bmi, ci = min(bmi, size), min(ci, max(0, size - min(bmi, size)))
    return MedicalFacts(size + excluded, size, bmi, ci, assistance)


def livestock(size: int, knobs: tuple[int, int, int, int]) -> LivestockFacts:
    insured, culled, subsidy, _ = knobs
    return LivestockFacts(
        peril="epidemic",
        ear_tags=TAGS[: size % (len(TAGS) + 1)],
        insured_tags=frozenset(TAGS[: insured % (len(TAGS) + 1)]),
        culled_tags=frozenset(TAGS[: culled % (len(TAGS) + 1)]),
        culling_subsidy_per_head_fen=subsidy % 150_000,
    )


def crop(size: int, knobs: tuple[int, int, int, int]) -> CropFacts:
    area, _, stage, _ = knobs
    stages = ("seedling", "tillering", "maturity")
    return CropFacts("flood", Decimal(area % 2_000) / 100, size % 10_001, stages[stage % 3])


# claim type -> (benefit code, facts from a growing size and fixed knobs); the size grows the claim.
BUILDERS: dict[T, tuple[str, Callable[[int, tuple[int, int, int, int]], Facts]]] = {
    T.supplementary_medical: ("th_supp_medical", medical),
    T.accidental_medical: ("th_accident_medical", lambda size, _: AccidentMedicalFacts(size)),
    T.accidental_death: ("th_accident", lambda _size, _knobs: DeathFacts(INCIDENT)),
    T.illness_death: ("th_illness_death", lambda _size, _knobs: DeathFacts(INCIDENT)),
    T.accidental_disability: ("th_accident", lambda size, _: DisabilityFacts((10 - min(size, 9),))),  # more severe
    T.house_collapse: ("th_house", lambda size, knobs: HouseFacts(min(size, 12), knobs[0] % 5 != 0)),
    T.livestock_loss: ("agri_sow", livestock),
    T.crop_loss: ("agri_rice_mid", crop),
}

# Their builders wrap the size (rooms, heads, loss degree): monotone in their own tests below.
WRAPPING = frozenset({T.house_collapse, T.livestock_loss, T.crop_loss})
sizes = st.integers(min_value=0, max_value=MAX_FEN)
knobs = st.tuples(*[st.integers(min_value=0, max_value=5_000_000)] * 4)


@st.composite
def covers(draw: st.DrawFn, claim_type: T) -> Cover:
    code = BUILDERS[claim_type][0]
    annual = benefit(code).annual_limit_fen or MAX_FEN
    units = draw(st.integers(min_value=1, max_value=12))
    used = draw(st.integers(min_value=0, max_value=annual * units + 100_000))
    paid = draw(st.integers(min_value=0, max_value=used)) if claim_type == T.accidental_disability else 0
    waiting = draw(st.sampled_from([None, date(2026, 5, 31), date(2026, 6, 1)]))
    return cover(code, used=used, disability_paid=paid, units=units, waiting_ends=waiting)


def check_bounds(result: Assessment, the_cover: Cover) -> None:
    assert 0 <= result.payable_fen <= result.claimed_fen
    assert sum(line.amount_fen for line in result.lines) == result.payable_fen
    assert result.lines[0].kind == LineKind.claimed and result.lines[0].amount_fen == result.claimed_fen
    assert all(line.amount_fen <= 0 for line in result.lines[1:])
    left = the_cover.annual_left_fen
    assert left is None or result.payable_fen <= left
    limit = the_cover.benefit.per_event_limit_fen if the_cover.benefit else None
    if limit is not None and the_cover.benefit and the_cover.benefit.code in ("th_accident", "th_house"):
        assert result.payable_fen <= limit
    assert (result.reasons[0] == ReasonCode.payable) == (result.payable_fen > 0)
    if result.household_pays_fen is not None:
        assert result.household_pays_fen >= 0


@st.composite
def cases(draw: st.DrawFn) -> tuple[T, int, int, tuple[int, int, int, int], Cover]:
    claim_type = draw(st.sampled_from(list(BUILDERS)))
    return claim_type, draw(sizes), draw(sizes), draw(knobs), draw(covers(claim_type))


@settings(max_examples=400, deadline=None)
@given(cases())
def test_the_payable_stays_within_the_claim_and_every_limit_and_grows_with_the_claim(
    case: tuple[T, int, int, tuple[int, int, int, int], Cover],
) -> None:
    claim_type, size, more, fixed, the_cover = case
    smaller, larger = sorted((size, more))
    build = BUILDERS[claim_type][1]
    low = assess(claim_type, build(smaller, fixed), the_cover, INCIDENT, INCIDENT)
    high = assess(claim_type, build(larger, fixed), the_cover, INCIDENT, INCIDENT)
    for result in (low, high):
        check_bounds(result, the_cover)
    if claim_type not in WRAPPING:
        assert low.payable_fen <= high.payable_fen


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(TAGS) - 1), knobs, covers(T.livestock_loss))
def test_one_more_head_never_lowers_the_livestock_payable(
    heads: int, fixed: tuple[int, int, int, int], the_cover: Cover
) -> None:
    low = assess(T.livestock_loss, livestock(heads, fixed), the_cover, INCIDENT, INCIDENT)
    high = assess(T.livestock_loss, livestock(heads + 1, fixed), the_cover, INCIDENT, INCIDENT)
    assert low.payable_fen <= high.payable_fen


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=11), st.booleans(), covers(T.house_collapse))
def test_one_more_room_never_lowers_the_house_payable(rooms: int, verified: bool, the_cover: Cover) -> None:
    low = assess(T.house_collapse, HouseFacts(rooms, verified), the_cover, INCIDENT, INCIDENT)
    high = assess(T.house_collapse, HouseFacts(rooms + 1, verified), the_cover, INCIDENT, INCIDENT)
    assert low.payable_fen <= high.payable_fen


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=9_999), st.integers(min_value=0, max_value=2_000), covers(T.crop_loss))
def test_a_higher_loss_degree_never_lowers_the_crop_payable(loss: int, area: int, the_cover: Cover) -> None:
    facts = [CropFacts("flood", Decimal(area) / 100, degree, "tillering") for degree in (loss, loss + 1)]
    low, high = (assess(T.crop_loss, f, the_cover, INCIDENT, INCIDENT) for f in facts)
    assert low.payable_fen <= high.payable_fen


@given(
    st.integers(min_value=0, max_value=MAX_FEN),
    st.lists(st.tuples(st.sampled_from(["reduce_to", "deduct", "cap"]), st.integers(-MAX_FEN, MAX_FEN)), max_size=8),
)
def test_the_ledger_s_lines_always_add_up_and_never_go_below_0_or_above_the_claim(
    claimed: int, steps: list[tuple[str, int]]
) -> None:
    ledger = Ledger(claimed, "申请金额")
    for operation, amount in steps:
        if operation == "cap":
            ledger.cap(amount, LineKind.per_event_limit, "限额", "")
        else:
            getattr(ledger, operation)(amount, LineKind.ratio, "步骤")
        assert 0 <= ledger.running_fen <= claimed
    result = ledger.result()
    assert sum(line.amount_fen for line in result.lines) == result.payable_fen == ledger.running_fen
