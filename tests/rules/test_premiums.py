"""Premium arithmetic (domain.md §4): integer fen, half-up rounding once per line, exact subsidy split, capitals."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insurance.cover.premiums import (
    SubsidyShares,
    group_premium,
    line_premium,
    line_sum_insured,
    round_fen,
    split_premium,
    unit_premium_exact,
    yuan_in_capitals,
)

BP = Decimal(10_000)
HALF_FEN = Decimal("0.5")

# --- round_fen ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.5", 1),
        ("1.5", 2),
        ("2.5", 3),
        ("266.5", 267),
        ("267.5", 268),
        ("267.4999", 267),
        ("0.4999", 0),
        ("0", 0),
        ("100000", 100000),
        ("-0.5", -1),  # half away from zero, symmetric for a negative correction
    ],
)
def test_round_fen_rounds_half_up_to_the_whole_fen(amount: str, expected: int) -> None:
    assert round_fen(Decimal(amount)) == expected


@pytest.mark.parametrize(("amount", "half_up", "bankers"), [("0.5", 1, 0), ("2.5", 3, 2), ("266.5", 267, 266)])
def test_round_fen_differs_from_python_round_which_rounds_half_to_even(amount: str, half_up: int, bankers: int) -> None:
    assert round(Decimal(amount)) == bankers
    assert round_fen(Decimal(amount)) == half_up


def test_domain_example_2_675_yuan_is_268_fen_where_float_round_gives_267() -> None:
    assert round(2.675, 2) == 2.67  # the float trap domain.md warns about
    assert round_fen(Decimal("2.675") * 100) == 268


@given(st.decimals(min_value=Decimal(-(10**12)), max_value=Decimal(10**12), places=4))
def test_round_fen_returns_an_int_within_half_a_fen(amount: Decimal) -> None:
    result = round_fen(amount)
    assert type(result) is int
    assert abs(result - amount) <= HALF_FEN


# --- line premium and sum insured -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "sum_insured_fen", "rate_bp", "expected"),
    [
        (1, 100_000, 600, 6_000),  # sow: 1,000 yuan at 6% = 60 yuan
        (10, 100_000, 600, 60_000),
        (1, 32_000, 500, 1_600),  # rice: 320 yuan per mu at 5% = 16 yuan
        (Decimal("2.5"), 32_000, 500, 4_000),
        (Decimal("1.33"), 32_000, 500, 2_128),
        (Decimal("1.07"), 33_300, 450, 1_603),  # 1.07 x 1498.5 = 1603.395
        (Decimal("0.01"), 32_000, 500, 16),
        (1, 5_350, 500, 268),  # 267.5 fen rounds up
        (3, 1_115, 1_000, 335),  # 3 x 111.5 = 334.5 -> 335, rounded once for the line, not 3 x 112 = 336
        (0, 100_000, 600, 0),
    ],
)
def test_line_premium_is_quantity_times_sum_insured_times_rate_rounded_once(
    quantity: Decimal | int, sum_insured_fen: int, rate_bp: int, expected: int
) -> None:
    assert line_premium(quantity, sum_insured_fen=sum_insured_fen, rate_bp=rate_bp) == expected


def test_unit_premium_exact_keeps_the_fraction_of_a_fen() -> None:
    assert unit_premium_exact(1_115, 1_000) == Decimal("111.5")
    assert unit_premium_exact(100_000, 600) == 6_000


@pytest.mark.parametrize(
    ("quantity", "sum_insured_fen", "expected"),
    [(10, 100_000, 1_000_000), (Decimal("2.35"), 32_000, 75_200), (Decimal("1.55"), 33_333, 51_666), (0, 5, 0)],
)
def test_line_sum_insured_is_quantity_times_unit_sum_insured_rounded_half_up(
    quantity: Decimal | int, sum_insured_fen: int, expected: int
) -> None:
    assert line_sum_insured(quantity, sum_insured_fen) == expected


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_float_quantity_is_refused_by_line_premium_and_line_sum_insured(quantity: float) -> None:
    with pytest.raises(TypeError):
        line_premium(quantity, sum_insured_fen=100_000, rate_bp=600)
    with pytest.raises(TypeError):
        line_sum_insured(quantity, 100_000)


def test_a_float_quantity_would_have_broken_half_up_rounding() -> None:
    # why floats are refused: 1.005 is stored as 1.00499999..., so 100.5 fen would come out as 100
    assert Decimal.from_float(1.005) * 100 < Decimal("100.5")
    assert line_sum_insured(Decimal("1.005"), 100) == 101


areas = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000"), places=2)
quantities = st.one_of(st.integers(min_value=0, max_value=100_000), areas)
sums_insured = st.integers(min_value=1, max_value=10_000_000)
rates = st.integers(min_value=1, max_value=10_000)


@given(quantities, sums_insured, rates)
def test_premium_and_sum_insured_are_always_int_fen(quantity: Decimal | int, sum_insured: int, rate: int) -> None:
    assert type(line_premium(quantity, sum_insured_fen=sum_insured, rate_bp=rate)) is int
    assert type(line_sum_insured(quantity, sum_insured)) is int


@settings(max_examples=200)
@given(areas, st.integers(min_value=1, max_value=1_000), sums_insured, rates)
def test_scaling_an_area_scales_the_premium_within_half_a_fen_of_the_exact_amount(
    area: Decimal, k: int, sum_insured: int, rate: int
) -> None:
    exact = k * area * unit_premium_exact(sum_insured, rate)
    assert abs(line_premium(k * area, sum_insured_fen=sum_insured, rate_bp=rate) - exact) <= HALF_FEN


@settings(max_examples=200)
@given(st.integers(min_value=1, max_value=10_000), sums_insured, rates)
def test_k_heads_cost_k_times_one_head_within_half_a_fen_per_head(k: int, sum_insured: int, rate: int) -> None:
    one = line_premium(1, sum_insured_fen=sum_insured, rate_bp=rate)
    many = line_premium(k, sum_insured_fen=sum_insured, rate_bp=rate)
    assert abs(many - k * unit_premium_exact(sum_insured, rate)) <= HALF_FEN
    assert abs(many - k * one) <= k * HALF_FEN
    if unit_premium_exact(sum_insured, rate) == one:
        assert many == k * one


@given(st.integers(min_value=1, max_value=10_000), st.integers(1, 100_000), st.integers(1, 100))
def test_k_heads_cost_exactly_k_times_one_head_when_the_unit_premium_is_whole_fen(
    k: int, sum_insured_yuan: int, rate_percent: int
) -> None:
    sum_insured, rate = sum_insured_yuan * 100, rate_percent * 100  # whole yuan at whole percent: whole fen
    one = line_premium(1, sum_insured_fen=sum_insured, rate_bp=rate)
    assert line_premium(k, sum_insured_fen=sum_insured, rate_bp=rate) == k * one


def test_group_premium_is_fixed_per_person_and_per_household_without_pro_rating() -> None:
    assert group_premium(4, 1, per_person_fen=5_000, per_household_fen=2_000) == 22_000
    assert group_premium(0, 0, per_person_fen=5_000, per_household_fen=2_000) == 0
    assert type(group_premium(3, 2, per_person_fen=1, per_household_fen=1)) is int


# --- subsidy shares and split ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("premium", "shares", "expected"),
    [
        # domain examples: a sow and a mu of rice
        (6_000, (5_000, 2_500, 500, 2_000), (3_000, 1_500, 300, 1_200)),
        (1_600, (4_000, 2_500, 1_000, 2_500), (640, 400, 160, 400)),
        # 400.4 + 250.25 + 100.1 + 250.25: rounded shares make 1000, the farmer takes the missing fen
        (1_001, (4_000, 2_500, 1_000, 2_500), (400, 250, 100, 251)),
        # 400.8 + 250.5 + 100.2 + 250.5: rounded shares make 1003, the farmer gives the extra fen back
        (1_002, (4_000, 2_500, 1_000, 2_500), (401, 251, 100, 250)),
        (1_003, (5_000, 2_500, 500, 2_000), (502, 251, 50, 200)),
        # government pays everything: the county takes (or gives) the remainder
        (1_001, (4_000, 3_500, 2_500, 0), (400, 350, 251, 0)),
        (1_003, (5_000, 3_000, 2_000, 0), (502, 301, 200, 0)),
        # a premium of a few fen: nobody's share goes below zero
        (1, (2_500, 2_500, 2_500, 2_500), (0, 0, 0, 1)),
        (1, (5_000, 5_000, 0, 0), (0, 1, 0, 0)),
        (3, (5_000, 5_000, 0, 0), (1, 2, 0, 0)),
        (0, (5_000, 2_500, 500, 2_000), (0, 0, 0, 0)),
    ],
)
def test_split_premium_rounds_each_share_and_the_sink_takes_the_remainder(
    premium: int, shares: tuple[int, int, int, int], expected: tuple[int, int, int, int]
) -> None:
    split = split_premium(premium, SubsidyShares(*shares))
    assert (split.central_fen, split.provincial_fen, split.county_fen, split.farmer_fen) == expected
    assert split.total_fen == premium
    assert split.government_fen == premium - split.farmer_fen


@st.composite
def subsidy_shares(draw: st.DrawFn) -> SubsidyShares:
    """Four shares in basis points adding up to 10,000; half the time the government pays everything."""
    government_pays_all = draw(st.booleans())
    cuts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=2 if government_pays_all else 3, max_size=3)))
    if government_pays_all:
        cuts = [*cuts[:2], 10_000]
    bounds = [0, *cuts, 10_000]
    return SubsidyShares(*(bounds[i + 1] - bounds[i] for i in range(4)))


premiums_fen = st.one_of(st.integers(0, 100), st.integers(0, 10**12))


@settings(max_examples=200)
@given(premiums_fen, subsidy_shares())
def test_split_parts_are_never_negative_and_add_up_to_the_premium_exactly(premium: int, shares: SubsidyShares) -> None:
    assert not shares.problems()
    split = split_premium(premium, shares)
    parts = (split.central_fen, split.provincial_fen, split.county_fen, split.farmer_fen)
    assert all(type(part) is int and part >= 0 for part in parts)
    assert sum(parts) == premium == split.total_fen


@settings(max_examples=200)
@given(premiums_fen, subsidy_shares())
def test_each_share_is_within_a_fen_of_exact_and_the_sink_absorbs_the_remainder(
    premium: int, shares: SubsidyShares
) -> None:
    split = split_premium(premium, shares)
    parts = (split.central_fen, split.provincial_fen, split.county_fen, split.farmer_fen)
    bps = (shares.central_bp, shares.provincial_bp, shares.county_bp, shares.farmer_bp)
    sink = 3 if shares.farmer_bp > 0 else 2
    for index, (part, bp) in enumerate(zip(parts, bps, strict=True)):
        error = abs(part - Decimal(premium) * bp / BP)
        assert error <= (Decimal("1.5") if index == sink else 1), (index, part, bp)
    if shares.farmer_bp == 0:
        assert split.farmer_fen == 0


@pytest.mark.parametrize(
    ("shares", "fragments"),
    [
        ((5_000, 2_500, 500, 1_999), ["99.99%"]),
        ((5_000, 2_500, 500, 2_001), ["100.01%"]),
        ((-100, 5_100, 2_500, 2_500), ["0 到 100%"]),
        ((12_000, -2_000, 0, 0), ["0 到 100%"]),
        ((-100, 2_500, 2_500, 2_500), ["0 到 100%", "74%"]),
    ],
)
def test_shares_that_do_not_add_up_to_100_percent_or_are_negative_are_reported(
    shares: tuple[int, int, int, int], fragments: list[str]
) -> None:
    problems = SubsidyShares(*shares).problems()
    assert len(problems) == len(fragments)
    for problem, fragment in zip(problems, fragments, strict=True):
        assert fragment in problem


@pytest.mark.parametrize("shares", [(5_000, 2_500, 500, 1_999), (-100, 5_100, 2_500, 2_500), (0, 0, 0, 0)])
def test_split_premium_refuses_invalid_shares(shares: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError, match="100%"):
        split_premium(6_000, SubsidyShares(*shares))


def test_valid_shares_report_no_problem_and_a_negative_premium_is_refused() -> None:
    assert SubsidyShares(10_000, 0, 0, 0).problems() == []
    with pytest.raises(ValueError, match="negative"):
        split_premium(-1, SubsidyShares(5_000, 2_500, 500, 2_000))


# --- amounts in capitals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "expected"),
    [
        (123_456, "壹仟贰佰叁拾肆元伍角陆分"),
        (100, "壹元整"),
        (1_000_500, "壹万零伍元整"),
        (105, "壹元零伍分"),
        (0, "零元整"),
        (11_500, "壹佰壹拾伍元整"),
        (10_000_000_500, "壹亿零伍元整"),
        (20_000_000, "贰拾万元整"),
        (1_010, "壹拾元壹角"),  # ending at 角, 整 may be left out
        (1_000, "壹拾元整"),  # 壹拾, never a bare 拾
        (5, "伍分"),
        (50, "伍角"),
        (55, "伍角伍分"),
        (-100, "负壹元整"),
        # the examples of the PBOC rules for filling in bills (正确填写票据和结算凭证的基本规定)
        (140_950, "壹仟肆佰零玖元伍角"),
        (600_714, "陆仟零柒元壹角肆分"),  # several zeros in a row: one 零
        (1_640_902, "壹万陆仟肆佰零玖元零贰分"),  # 角 is 0 and 分 is not: 零 after 元
        (168_032, "壹仟陆佰捌拾元叁角贰分"),  # 元 digit 0, 角 not 0: the 零 may be left out
        (10_700_053, "壹拾万柒仟元伍角叁分"),  # 万 and 元 digits 0, 千 and 角 not: the 零 may be left out
        (10_010_000, "壹拾万零壹佰元整"),
        (10_100_000, "壹拾万壹仟元整"),
        (101_000_000, "壹佰零壹万元整"),
        (10_000_100_000, "壹亿零壹仟元整"),
        (10_100_000_000, "壹亿零壹佰万元整"),
        (11_000_000_000, "壹亿壹仟万元整"),
        (100_000_000_000_000, "壹万亿元整"),
        (100_010_000_000_000, "壹万零壹亿元整"),
        (123_456_789_012_300, "壹万贰仟叁佰肆拾伍亿陆仟柒佰捌拾玖万零壹佰贰拾叁元整"),
    ],
)
def test_yuan_in_capitals_follows_the_financial_capital_rules(fen: int, expected: str) -> None:
    assert yuan_in_capitals(fen) == expected


_CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = {"拾": 10, "佰": 100, "仟": 1_000}


def _read_integer_capitals(text: str) -> int:
    total = section = number = 0
    for char in text:
        if char in _CAPITAL_DIGITS:
            number = _CAPITAL_DIGITS.index(char)
        elif char in _SMALL_UNITS:
            section += number * _SMALL_UNITS[char]
            number = 0
        elif char == "万":
            section = (section + number) * 10_000
            number = 0
        elif char == "亿":
            total = (total + section + number) * 100_000_000
            section = number = 0
        else:
            raise AssertionError(f"unexpected {char!r} in {text!r}")
    return total + section + number


def _read_capitals(text: str) -> int:
    """An independent reader: 大写 back to fen."""
    yuan_text, has_yuan, rest = text.partition("元")
    if not has_yuan:
        yuan_text, rest = "", text
    fen = _read_integer_capitals(yuan_text) * 100
    rest = rest.removesuffix("整").removeprefix("零")
    if "角" in rest:
        jiao, _, rest = rest.partition("角")
        fen += _CAPITAL_DIGITS.index(jiao) * 10
    if rest:
        assert rest.endswith("分") and len(rest) == 2, text
        fen += _CAPITAL_DIGITS.index(rest[0])
    return fen


@settings(max_examples=200)
@given(st.one_of(st.integers(0, 10_000), st.integers(0, 10**10), st.integers(0, 10**18)))
def test_capitals_read_back_to_the_same_amount_and_are_well_formed(fen: int) -> None:
    text = yuan_in_capitals(fen)
    assert _read_capitals(text) == fen
    if fen == 0:
        return
    assert "零零" not in text
    assert not text.startswith("零")
    for unit in "元万亿角分":
        assert "零" + unit not in text, text
    for unit in "拾佰仟":
        assert all(text[i - 1] in _CAPITAL_DIGITS[1:] for i, char in enumerate(text) if char == unit), text
    assert text.endswith("整") == (fen % 100 == 0)  # 整 after 元 only; an amount ending in 角 or 分 has none
