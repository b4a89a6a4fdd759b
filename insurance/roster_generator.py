"""The project's own synthetic rosters of registered poor households (花名册), in the sample files' form.

Why it exists: the demo (`make run`), the benchmark (4.45 million members) and the tests all need rosters
that look like the ones in shared/data (README "Columns"), but far larger than the samples and with a known
answer key for every defect kind. Real rosters cannot be used: they carry real ID numbers.

What it guarantees (and the tests check):

- Rows are tuples of 15 strings in `COLUMNS` order, exactly as a roster CSV holds them.
- ID numbers have the GB 11643 form and check character, agree with 性别 and 出生日期, and are unique in the
  whole output (4.45 million members checked), WITHOUT a set of the IDs issued.
  Uniqueness is by construction: an ID is county + birth date + sequence + check, and the address code is
  always the household's county. Counties are generated one after the other, each in one contiguous run, so
  one counter per (birth date, sex) for the current county (an `array` of ~88,000 small ints, reset per
  county) says how many IDs that bucket has issued. The k-th person of a bucket takes the k-th value of a
  fixed rotation of the 500 odd (men) or 499 even (women) sequence numbers, so two people of one bucket can
  never share a sequence. A full bucket moves the person one day (the age margins below allow it); beyond
  that the generator refuses rather than repeat an ID. Memory is therefore bounded by the number of days,
  not by the number of members. Limits per county: ~999 IDs per birth date (~36 million members), and its
  10-25 townships x 799 village numbers (201..999) x 30-150 households, i.e. about 2-5 million members; the
  default 18 counties thus hold the province's 4.45 million several times over.
- Ages agree with relations (README "Households"): every gap in days is kept 2 days clear of the ends of its
  interval of whole years, so 1-day moves of both members can never break the rule.
- Deterministic for a seed. Names of townships and villages depend only on their codes (never on the seed),
  so the same code always carries the same names in every roster this module writes.

It is a pure module: the standard library only, and openpyxl inside `write_xlsx`.
"""

import csv
import itertools
import math
import random
import unicodedata
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from insurance.register.identifiers import ID_CHECK_CHARS, ID_WEIGHTS, id_check_char
from insurance.register.roster import COLUMNS, HEAD_RELATION, HOUSEHOLD_TYPES, POVERTY_CAUSES, RELATIONS

ROSTER_DATE = date(2020, 6, 30)
# The 18 counties of shared/data/README.md ("Counties"): Xiangxi (4331xx) and Huaihua (4312xx) poverty counties.
DEFAULT_COUNTIES: tuple[str, ...] = (
    "433101",
    "433122",
    "433123",
    "433124",
    "433125",
    "433126",
    "433127",
    "433130",
    "431221",
    "431222",
    "431223",
    "431224",
    "431225",
    "431226",
    "431227",
    "431228",
    "431229",
    "431230",
)
ETHNICITIES: tuple[str, ...] = ("汉族", "苗族", "土家族", "侗族", "瑶族")
# Given-name characters that GB2312 (and for 𠮷, 䶮 even GBK) lacks: they prove that GB18030 round-trips.
RARE_CHARACTERS = "𠮷䶮赟堃昇喆玥镕旻珺祎垚"
RARE_NAME_RATE = 1 / 200
DIVISIONS_CSV = Path(__file__).resolve().parent / "data" / "divisions_hunan.csv"

_DATE_EPOCH = date(1900, 1, 1)  # day 0 of the date tables; GB 11643 validators refuse earlier births
_MAX_AGE_YEARS = 100
_SEQ_CAPACITY = (499, 500)  # even 002..998 for women, odd 001..999 for men (000 is avoided as implausible)
_NAME_POOL_BITS = 12  # 4,096 given names per sex, drawn with one getrandbits call per member

# ---------------------------------------------------------------------------------------------------------------
# Weighted tables: one getrandbits() call and one index per draw, which is what keeps the generator fast.


def _table(weights: dict[str, float], bits: int = 10) -> tuple[str, ...]:
    """Expands weights into a table of 2**bits entries, so a draw is `table[getrandbits(bits)]` (~50 ns)."""
    size = 1 << bits
    total = sum(weights.values())
    out: list[str] = []
    acc = 0.0
    for key, weight in weights.items():
        acc += weight
        out.extend([key] * (round(acc / total * size) - len(out)))
    return tuple(out)


_HOUSEHOLD_TYPE_WEIGHTS = {"一般贫困户": 70, "低保贫困户": 25, "特困供养贫困户": 5}
_CAUSE_WEIGHTS = {
    "因病": 30,
    "因残": 14,
    "因学": 8,
    "因灾": 4,
    "缺土地": 3,
    "缺水": 2,
    "缺技术": 12,
    "缺劳力": 10,
    "缺资金": 11,
    "交通条件落后": 3,
    "自身发展动力不足": 3,
}
assert set(_HOUSEHOLD_TYPE_WEIGHTS) == set(HOUSEHOLD_TYPES)
assert set(_CAUSE_WEIGHTS) == set(POVERTY_CAUSES) - {"其他"}  # 其他 is a valid code but never the generated cause
_HOUSEHOLD_TYPE_TABLE = _table(_HOUSEHOLD_TYPE_WEIGHTS)
_CAUSE_TABLE = _table(_CAUSE_WEIGHTS)
# Sizes 1..7, mean ~2.96, shaped like roster_small.csv (62/76/64/50/27/17/4 of 300).
_SIZE_TABLE = tuple(int(s) for s in _table({"1": 20, "2": 25, "3": 21, "4": 17, "5": 9, "6": 6, "7": 2}))
_ETHNICITY_TABLES = {
    "4331": _table({"土家族": 38, "苗族": 36, "汉族": 24, "侗族": 1, "瑶族": 1}),  # Xiangxi
    "4312": _table({"汉族": 50, "侗族": 25, "苗族": 20, "土家族": 3, "瑶族": 2}),  # Huaihua
    "": _table({"汉族": 90, "苗族": 4, "土家族": 3, "侗族": 2, "瑶族": 1}),
}
assert all(set(t) <= set(ETHNICITIES) for t in _ETHNICITY_TABLES.values())


def _head_age_weight(age: int) -> float:
    """Heads of poor households are mostly 40-70 (older villagers stayed while the young left for work)."""
    for upper, weight in ((30, 1.0), (40, 3.0), (50, 5.0), (70, 6.0), (80, 4.0)):
        if age < upper:
            return weight
    return 1.5


_HEAD_AGE_TABLE = tuple(int(a) for a in _table({str(age): _head_age_weight(age) for age in range(22, 93)}))
_EXIT_YEAR_WEIGHTS = {"": 8, "2014": 4, "2015": 10, "2016": 18, "2017": 18, "2018": 20, "2019": 15, "2020": 7}

_SURNAMES = _table(
    {
        **dict.fromkeys("杨石吴彭田龙覃", 8),
        **dict.fromkeys("张陈李刘向欧鲁黄麻滕", 5),
        **dict.fromkeys("胡罗颜廖舒邓王龚朱唐林熊韩潘徐何谭粟", 3),
        **dict.fromkeys("邹宋时隆许瞿肖文蒋易贺周符谢梁米陆郑汪姚冯段蒲孙夏冉戴曾金尹曹郭万宁姜", 1.5),
        "欧阳": 0.5,
        "上官": 0.2,
    },
    bits=11,
)
_GIVEN_CHARS = (  # (female, male)
    "芳英兰梅秀娟琴丽霞凤珍莲桃菊花群玲萍燕红艳琳敏静婷娇莉雪璐萱涵欣怡梦瑶诗琪彤颖慧娜倩丹紫雨心可妍馨春银满香爱素杏",
    "伟强军华明勇杰涛斌鹏辉波刚平文武建国志宏俊峰林海山云龙生"
    "福贵来长发金保和胜昌德光清宇浩轩睿晨博豪子家泽锋成荣松元万喜顺",
)


def _given_name_pool(female: bool) -> tuple[str, ...]:
    """4,096 given names of one sex, about 1 in 200 with a rare character, fixed for every run of the program."""
    rng = random.Random(f"given-names-{int(female)}")
    chars = _GIVEN_CHARS[0 if female else 1]
    size = 1 << _NAME_POOL_BITS
    names = [rng.choice(chars) if rng.random() < 0.25 else rng.choice(chars) + rng.choice(chars) for _ in range(size)]
    for index in rng.sample(range(size), round(size * RARE_NAME_RATE)):
        rare = rng.choice(RARE_CHARACTERS)
        other = rng.choice(chars)
        names[index] = (rare, other + rare, rare + other)[rng.randrange(3)]
    return tuple(names)


# Index 1 = male, 0 = female, like the ID's 17th digit parity.
_GIVEN_NAMES = (_given_name_pool(female=True), _given_name_pool(female=False))
_SEX = ("女", "男")


def _words(text: str) -> tuple[str, ...]:
    """Space-separated word lists: easier to read and edit than long literals of Chinese strings."""
    return tuple(text.split())


# Place names: stems invented from common Xiangxi/Huaihua place-name parts; combined, they are fictitious.
_TOWNSHIP_STEMS = _words(
    "木江坪 仙人湾 借母溪 凉伞 土桥 岩头寨 平茶 思蒙 谭家寨 连山 三锹 碧涌 芙蓉 藕团 马鞍 龙潭 杉木 里耶 大堡子 高坪 "
    "晃州 白沙 清水 石门 茶洞 河溪 矮寨 排碧 麻栗场 吉卫 补抽 民乐 长乐 洗车河 红岩溪 两岔 石堤 泽家 塔卧 砂坝 万坪 "
    "大坪 潭溪 官庄 桥江 黄溪口 龙门 安坪 托口 岩门 高村 兰里 新店坪 铜湾 花桥 双溪 江口 坪村 水田 大龙"
)
_VILLAGE_PREFIXES = _words(
    "黄家 石 竹 牛角 鸡公 枇杷 岩 马 龙 白 桐油 茶 杨家 张家 李家 唐家 彭家 向家 田家 吴家 大 小 高 新 老 上 下 中 "
    "东 西 南 北 青 红 金 银 桃 柳 松 枫"
)
_VILLAGE_SUFFIXES = _words("坝 冲 田 坨 湾 坪 岭 溪 坡 寨 洞 界 场 垭 园 塘 山 桥 井 庄")
_VILLAGE_NAMES = tuple(
    sorted(
        {p + s + "村" for p in _VILLAGE_PREFIXES for s in _VILLAGE_SUFFIXES}
        | {n + "村" for n in _words("民主 和平 光明 红旗 新建 团结 胜利 前进 建设 幸福 联合 永兴")}
    )
)
assert len(_VILLAGE_NAMES) >= 799  # village numbers 201..999: every village of a township gets its own name
# The one real village of the samples (README): 十八洞村, 双龙镇, 花垣县. Kept so that the same code never
# carries two different names across the sample files and the generated rosters.
_PINNED_TOWNSHIPS = {"433124104": "双龙镇"}
_PINNED_VILLAGES = {"433124104204": "十八洞村"}


@lru_cache(maxsize=1)
def county_names() -> dict[str, str]:
    """Current county-level divisions of divisions_hunan.csv (level=county, no valid_to): 6-digit code -> name."""
    with DIVISIONS_CSV.open(encoding="utf-8", newline="") as f:
        return {
            row["code"][:6]: row["name"]
            for row in csv.DictReader(f)
            if row["level"] == "county" and not row["valid_to"]
        }


def _code_random(code: str) -> random.Random:
    """A Random seeded by a code alone (crc32, not hash(): str hashes change per process)."""
    return random.Random(zlib.crc32(code.encode("ascii")))


@dataclass(frozen=True)
class _CountyPlan:
    code: str
    name: str
    townships: tuple[tuple[str, str], ...]  # (9-digit township code, name), 镇 first (101..), then 乡 (201..)


@lru_cache(maxsize=64)
def _county_plan(code: str) -> _CountyPlan:
    """10-25 townships per county; names depend on the county code only."""
    rng = _code_random(code)
    count = 10 + rng.randrange(16)
    towns = max(5, count * 55 // 100)
    stems = rng.sample(_TOWNSHIP_STEMS, count)
    ethnic = ("苗族乡", "土家族乡") if code.startswith("4331") else ("苗族乡", "侗族乡", "瑶族乡")
    townships: list[tuple[str, str]] = []
    for i, stem in enumerate(stems):
        if i < towns:
            tcode, suffix = f"{code}{101 + i:03d}", "镇"
        else:
            tcode = f"{code}{201 + i - towns:03d}"
            suffix = ethnic[rng.randrange(len(ethnic))] if rng.random() < 0.2 else "乡"
        townships.append((tcode, _PINNED_TOWNSHIPS.get(tcode, stem + suffix)))
    return _CountyPlan(code, county_names()[code], tuple(townships))


_VILLAGE_MULTIPLIERS = tuple(m for m in range(1, len(_VILLAGE_NAMES)) if math.gcd(m, len(_VILLAGE_NAMES)) == 1)


def _village_name(township_code: str, number: int) -> str:
    """The name of village `number` (201..999) of a township: an affine permutation of the name list per township.

    m*i + b (mod len) with m coprime to len is a bijection, so the villages of a township never share a name, and
    it costs O(1): no per-township shuffle to compute or keep.
    """
    village_code = f"{township_code}{number:03d}"
    pinned = _PINNED_VILLAGES.get(village_code)
    if pinned:
        return pinned
    mix = zlib.crc32(township_code.encode("ascii"))
    multiplier = _VILLAGE_MULTIPLIERS[mix % len(_VILLAGE_MULTIPLIERS)]
    return _VILLAGE_NAMES[(multiplier * (number - 201) + (mix >> 16)) % len(_VILLAGE_NAMES)]


def village_names(village_code: str) -> tuple[str, str, str]:
    """(county, township, village) names of a 12-digit village code; the same code always gives the same names."""
    plan = _county_plan(village_code[:6])
    township = dict(plan.townships)[village_code[:9]]
    return plan.name, township, _village_name(village_code[:9], int(village_code[9:]))


# ---------------------------------------------------------------------------------------------------------------
# ID pieces, with their weighted sums precomputed: computing id_check_char per member would cost ~3 us per row,
# half the time budget. The fast sums use the same ID_WEIGHTS and ID_CHECK_CHARS; tests compare with id_check_char.


def _weighted(digits: str, weights: Sequence[int]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True))


@dataclass(frozen=True)
class _DateTable:
    """Every day from 1900-01-01 to the roster date: YYYYMMDD, YYYY-MM-DD and the weighted sum of its 8 digits."""

    last: int  # index of the roster date
    compact: tuple[str, ...]
    iso: tuple[str, ...]
    sums: tuple[int, ...]


@lru_cache(maxsize=2)
def _date_table(roster_date: date) -> _DateTable:
    epoch = _DATE_EPOCH.toordinal()
    days = [date.fromordinal(epoch + i) for i in range(roster_date.toordinal() - epoch + 1)]
    compact = tuple(d.strftime("%Y%m%d") for d in days)
    weights = ID_WEIGHTS[6:14]
    return _DateTable(
        last=len(days) - 1,
        compact=compact,
        iso=tuple(d.isoformat() for d in days),
        sums=tuple(_weighted(c, weights) for c in compact),
    )


def _sequence_table(county: str, male: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The sequence numbers of one sex, in a fixed per-county shuffled order, with their weighted sums."""
    values = list(range(1, 1000, 2)) if male else list(range(2, 1000, 2))
    random.Random(f"seq-{county}-{male}").shuffle(values)
    texts = tuple(f"{v:03d}" for v in values)
    return texts, tuple(_weighted(t, ID_WEIGHTS[14:17]) for t in texts)


def _years_lo(years: int) -> int:
    """Fewest days that are surely `years` whole years, plus a 2-day margin for one 1-day move at each end."""
    return years * 365 + years // 4 + 3


def _years_hi(years: int) -> int:
    """Most days that are surely less than `years + 1` whole years, less the same margin."""
    return (years + 1) * 365 + (years + 1) // 4 - 3


_LO18, _LO20, _LO42, _LO60 = _years_lo(18), _years_lo(20), _years_lo(42), _years_lo(60)
_HI38, _HI42, _HI68 = _years_hi(38), _years_hi(42), _years_hi(68)
_SPOUSE_SPREAD = 6 * 365  # spouse within ±6 years of the head ("close in age")

# The relation labels used here must be the register's (roster.RELATIONS); a typo would otherwise go unnoticed.
assert {HEAD_RELATION, "配偶", "之子", "之女", "之孙子", "之孙女", "之父", "之母", "其他"} == set(RELATIONS)


# Relations that carry the family surname (the head's line); spouses, mothers and others have their own.
_FAMILY_SURNAME = frozenset({HEAD_RELATION, "之子", "之女", "之孙子", "之孙女", "之父"})


def _household_members(rng: random.Random, size: int, head_day: int, last: int) -> list[tuple[str, int, int]]:
    """(relation, male 0/1, birth day index) for a household, head first; ages agree with the relations."""
    rand = rng.random
    min_day = last - _years_hi(_MAX_AGE_YEARS - 1)
    head_male = 1 if rand() < 0.78 else 0
    members = [(HEAD_RELATION, head_male, head_day)]
    age = last - head_day
    extra = size - 1
    if extra and rand() < 0.78:
        # Within ±6 years of the head, but an adult and at most 100: the window is cut, not clamped to one day
        # (clamping would pile many spouses onto one birth date).
        low = max(min_day, head_day - _SPOUSE_SPREAD)
        high = min(last - _LO18, head_day + _SPOUSE_SPREAD)
        members.append(("配偶", 1 - head_male, low + int(rand() * (high - low + 1))))
        extra -= 1
    parents: list[str] = []
    can_child = age >= _LO20
    can_grandchild = age >= _LO42
    grand_weight = 4.0 if age >= _LO60 else 1.5
    for _ in range(extra):
        can_parent = len(parents) < 2 and head_day - _LO20 >= min_day
        choices = (
            (6.0 if can_child else 0.0),
            (grand_weight if can_grandchild else 0.0),
            (0.7 if can_parent else 0.0),
            0.4,
        )
        pick = rand() * sum(choices)
        if pick < choices[0]:
            male = 1 if rand() < 0.5 else 0
            gap = _LO20 + int(rand() * (min(_HI42, age) - _LO20 + 1))
            members.append(("之子" if male else "之女", male, head_day + gap))
        elif pick < choices[0] + choices[1]:
            male = 1 if rand() < 0.5 else 0
            gap = _LO42 + int(rand() * (min(_HI68, age) - _LO42 + 1))
            members.append(("之孙子" if male else "之孙女", male, head_day + gap))
        elif pick < choices[0] + choices[1] + choices[2]:
            relation = (
                ("之父" if rand() < 0.5 else "之母") if not parents else ("之母" if parents[0] == "之父" else "之父")
            )
            parents.append(relation)
            low = max(min_day, head_day - _HI38)
            members.append((relation, 1 if relation == "之父" else 0, low + int(rand() * (head_day - _LO20 - low + 1))))
        else:
            members.append(("其他", 1 if rand() < 0.5 else 0, last - int(rand() * 80 * 365.25)))
    return members


def _households(members: int, seed: int, counties: Sequence[str], roster_date: date) -> Iterator[list[tuple[str, ...]]]:
    """Households as lists of row tuples, county after county (the uniqueness of IDs relies on that order)."""
    if members < 0:
        raise ValueError("members must be >= 0")
    if not counties:
        raise ValueError("at least one county is needed")
    if roster_date.year < 2000:
        raise ValueError("roster_date must be in 2000 or later (members are at most 100 years old, born >= 1900)")
    if len(set(counties)) != len(counties):  # a county run twice would restart its ID counters
        raise ValueError(f"a county is listed twice: {list(counties)}")
    known = county_names()
    unknown = [c for c in counties if c not in known]
    if unknown:
        raise ValueError(f"not current county codes of divisions_hunan.csv: {unknown}")
    rng = random.Random(seed)
    rand = rng.random
    bits = rng.getrandbits
    dates = _date_table(roster_date)
    last, compact, iso, date_sums = dates.last, dates.compact, dates.iso, dates.sums
    exit_years = _table({y: w for y, w in _EXIT_YEAR_WEIGHTS.items() if not y or int(y) <= roster_date.year})
    surnames, given, sexes = _SURNAMES, _GIVEN_NAMES, _SEX
    base, remainder = divmod(members, len(counties))
    for index, county in enumerate(counties):
        quota = base + (1 if index < remainder else 0)
        if not quota:
            continue
        plan = _county_plan(county)
        county_sum = _weighted(county, ID_WEIGHTS[:6])
        sequences = (_sequence_table(county, 0), _sequence_table(county, 1))
        salt = zlib.crc32(county.encode("ascii"))
        issued = array("H", bytes(2 * 2 * (last + 1)))  # per (day, sex): IDs issued so far in this county
        ethnicities = _ETHNICITY_TABLES.get(county[:4], _ETHNICITY_TABLES[""])
        townships = plan.townships
        village_index = 0
        while quota > 0:
            township_code, township = townships[village_index % len(townships)]
            number = 201 + village_index // len(townships)
            if number > 999:
                raise ValueError(f"county {county}: more villages than 3-digit village numbers allow")
            village_index += 1
            village_code = f"{township_code}{number:03d}"
            village = _village_name(township_code, number)
            for household_seq in range(1, 30 + int(rand() * 121) + 1):
                if quota <= 0:
                    break
                size = min(_SIZE_TABLE[bits(10)], quota)
                quota -= size
                household_no = f"{village_code}{household_seq:04d}"
                phone = f"1{3 + int(rand() * 7)}{bits(30) % 1_000_000_000:09d}" if rand() < 0.8 else ""
                tail = (
                    village_code,
                    plan.name,
                    township,
                    village,
                    _HOUSEHOLD_TYPE_TABLE[bits(10)],
                    _CAUSE_TABLE[bits(10)],
                    phone,
                    exit_years[bits(10)],
                )
                ethnicity = ethnicities[bits(10)]
                head_years = _HEAD_AGE_TABLE[bits(10)]
                head_day = last - head_years * 365 - head_years // 4 - int(rand() * 365)
                family_surname = surnames[bits(11)]
                rows: list[tuple[str, ...]] = []
                for relation, male, day in _household_members(rng, size, head_day, last):
                    surname = family_surname if relation in _FAMILY_SURNAME else surnames[bits(11)]
                    key = 2 * day + male
                    count = issued[key]
                    capacity = _SEQ_CAPACITY[male]
                    if count >= capacity:  # a full bucket: move one day, inside the age margins
                        for other in (day - 1, day + 1):
                            if 0 <= other <= last and issued[2 * other + male] < capacity:
                                day, key = other, 2 * other + male
                                count = issued[key]
                                break
                        else:
                            raise ValueError(f"county {county}: too many members for unique ID numbers")
                    issued[key] = count + 1
                    texts, sums = sequences[male]
                    slot = (count + day * 131 + salt) % capacity
                    id_number = (
                        county
                        + compact[day]
                        + texts[slot]
                        + ID_CHECK_CHARS[(county_sum + date_sums[day] + sums[slot]) % 11]
                    )
                    rows.append(
                        (
                            household_no,
                            surname + given[male][bits(_NAME_POOL_BITS)],
                            id_number,
                            relation,
                            sexes[male],
                            iso[day],
                            ethnicity if rand() < 0.9 else ethnicities[bits(10)],
                            *tail,
                        )
                    )
                if len(rows) > 1 and rand() < 0.08:  # the head usually, not always, comes first
                    rows.insert(1 + int(rand() * (len(rows) - 1)), rows.pop(0))
                yield rows


def generate_rows(
    members: int,
    *,
    seed: int = 0,
    counties: Sequence[str] | None = None,
    roster_date: date = ROSTER_DATE,
) -> Iterator[tuple[str, ...]]:
    """Yields `members` roster rows (tuples of 15 strings in COLUMNS order), household by household.

    Streams in constant memory: only the current county's counters and the (cached) date table are held.
    The members are shared evenly between the counties (default: the 18 of the data README); each county's
    last household is cut short so that exactly `members` rows come out.
    """
    for household in _households(members, seed, tuple(counties or DEFAULT_COUNTIES), roster_date):
        yield from household


# ---------------------------------------------------------------------------------------------------------------
# Writers.


def _header(english_headers: bool) -> list[str]:
    return [c.key if english_headers else c.header for c in COLUMNS]


def _plain_lines(chunk: list[Sequence[str]]) -> str | None:
    """The chunk as CSV text when no field needs quoting, else None (csv.writer must then do it).

    ",".join is about twice as fast as csv.writer, and generated rows never need quotes. A field needs quoting
    only when it holds a comma, a double quote or a line break (or is the lone field of a row), so a chunk whose
    text has none of those beyond the separators is exactly what csv.writer would write.
    """
    try:
        text = "\r\n".join(map(",".join, chunk)) + "\r\n"
    except TypeError:  # a value that is not a string: let csv.writer format it
        return None
    fields = sum(map(len, chunk))
    if (
        min(map(len, chunk)) < 2
        or '"' in text
        or text.count(",") != fields - len(chunk)
        or text.count("\n") != len(chunk)
        or text.count("\r") != len(chunk)
    ):
        return None
    return text


def write_csv(
    path: str | Path, rows: Iterable[Sequence[str]], *, encoding: str = "utf-8-sig", english_headers: bool = False
) -> int:
    """Writes a roster CSV as the samples are: header row, CRLF records, minimal quoting. Returns the data rows.

    `utf-8-sig` is the "CSV UTF-8" that spreadsheet programs write (with a byte-order mark); pass "gb18030"
    for the legacy form (which round-trips every character, 𠮷 and 䶮 included) or "utf-8" for no mark.
    Rows are written in chunks, so a stream of millions stays in constant memory; a chunk that needs no
    quoting is joined directly, any other goes through csv.writer (same bytes either way).
    """
    written = 0
    with open(path, "w", encoding=encoding, newline="", buffering=1 << 20) as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(_header(english_headers))
        iterator = iter(rows)
        while chunk := list(itertools.islice(iterator, 8192)):
            text = _plain_lines(chunk)
            if text is None:
                writer.writerows(chunk)
            else:
                f.write(text)
            written += len(chunk)
    return written


def write_xlsx(path: str | Path, rows: Iterable[Sequence[str]], *, sheet: str = "花名册") -> int:
    """Writes a one-sheet workbook like roster_small.xlsx. Returns the data rows written.

    Every value is a text cell with number format "@", so an ID or phone number keeps all its digits when a
    clerk opens and saves the file; a blank value is an absent cell. openpyxl's write-only mode streams rows
    to disk; a cell's format can only be set on a WriteOnlyCell, not on a plain value.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)

    def cells(values: Sequence[str]) -> list[object]:
        out: list[object] = []
        for value in values:
            if value == "":
                out.append(None)
                continue
            cell = WriteOnlyCell(worksheet, value=value)
            cell.number_format = "@"
            out.append(cell)
        return out

    worksheet.append(cells(_header(english_headers=False)))
    written = 0
    for row in rows:
        worksheet.append(cells(row))
        written += 1
    workbook.save(path)
    return written


# ---------------------------------------------------------------------------------------------------------------
# Defective rosters with an answer key (shared/data/README.md, "Defective rows").

Decision = Literal["reject", "fixable", "valid_tricky"]

# kind -> (decision, column at fault); too_few_fields names the first missing column instead (None here).
_KIND_SPEC: dict[str, tuple[Decision, str | None]] = {
    "bad_checksum": ("reject", "id_number"),
    "bad_birth_date": ("reject", "id_number"),
    "future_birth_date": ("reject", "id_number"),
    "sex_mismatch": ("reject", "sex"),
    "birth_date_mismatch": ("reject", "birth_date"),
    "duplicate_id_in_file": ("reject", "id_number"),
    "legacy_15_digit_id": ("fixable", "id_number"),
    "lowercase_x": ("fixable", "id_number"),
    "fullwidth_digits": ("fixable", "id_number"),
    "id_with_spaces": ("fixable", "id_number"),
    "excel_scientific": ("reject", "id_number"),
    "unknown_village_code": ("reject", "village_code"),
    "bad_village_code": ("reject", "village_code"),
    "no_head": ("reject", "relation"),
    "two_heads": ("reject", "relation"),
    "missing_name": ("reject", "name"),
    "name_with_spaces": ("fixable", "name"),
    "bad_phone": ("reject", "phone"),
    "bad_relation": ("reject", "relation"),
    "too_few_fields": ("reject", None),
    "embedded_newline_in_quoted_field": ("valid_tricky", "village"),
}
DEFECT_KINDS: tuple[str, ...] = tuple(_KIND_SPEC)
HOUSEHOLD_DEFECT_KINDS = frozenset({"no_head", "two_heads"})
# Row-level instances per kind; every variant the README names appears across the instances.
_ROW_DEFECT_COUNTS = {
    "bad_checksum": 2,
    "bad_birth_date": 3,
    "future_birth_date": 2,
    "sex_mismatch": 2,
    "birth_date_mismatch": 3,
    "duplicate_id_in_file": 2,
    "legacy_15_digit_id": 3,
    "lowercase_x": 2,
    "fullwidth_digits": 2,
    "id_with_spaces": 4,
    "excel_scientific": 2,
    "unknown_village_code": 2,
    "bad_village_code": 7,
    "missing_name": 3,
    "name_with_spaces": 4,
    "bad_phone": 5,
    "bad_relation": 3,
    "too_few_fields": 2,
    "embedded_newline_in_quoted_field": 2,
}
_NO_HEAD_FORMS = ("missing", "其他", "配偶")  # the head's row is missing, or the head is labelled 其他 / 配偶
_TWO_HEADS_HOUSEHOLDS = 2
_COLUMN_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}
_HEADERS = {c.key: c.header for c in COLUMNS}
_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
_UNKNOWN_COUNTY_PREFIXES = ("433199", "431299", "439901", "430099")  # the README's examples: not county codes


@dataclass(frozen=True)
class Expectation:
    """One defective row of the answer key, as roster_bad.answers.json lists it (README "the answer key")."""

    row: int  # 1-based record number, header = 1
    kind: str
    decision: Decision
    column: str  # English alias of the column at fault
    scope: Literal["row", "household"]
    household_no: str
    expected: str | None = None  # the normalised value, for fixable rows only
    duplicate_of_row: int | None = None  # for duplicate_id_in_file: the earlier, good row with the same ID
    value: str | None = None  # the value as written; None when the field is missing
    detail: str = ""

    @property
    def header(self) -> str:
        """The column's Chinese header, as an importer's error names it."""
        return _HEADERS[self.column]


@dataclass
class _Slot:
    """A row under construction, with the defect planned for it (row numbers are known only at the end)."""

    values: list[str]
    household: int
    kind: str | None = None
    column: str | None = None
    value: str | None = None
    expected: str | None = None
    detail: str = ""
    duplicate_of: "_Slot | None" = None
    reserved: bool = False  # the good original of a duplicate: must stay defect-free


@dataclass(frozen=True)
class DefectTotals:
    """The totals of an answer key, named as in roster_bad.answers.json ("totals")."""

    rows: int
    households: int
    good_rows: int
    fixable_rows: int
    valid_tricky_rows: int
    rejected_rows: int
    accepted_rows: int
    accepted_households: int
    physical_lines: int
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def members(self) -> int:
        return self.rows

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "members": self.rows,
            "households": self.households,
            "good_rows": self.good_rows,
            "fixable_rows": self.fixable_rows,
            "valid_tricky_rows": self.valid_tricky_rows,
            "rejected_rows": self.rejected_rows,
            "accepted_rows": self.accepted_rows,
            "accepted_households": self.accepted_households,
            "physical_lines": self.physical_lines,
            "by_kind": dict(self.by_kind),
        }


def excel_display(digits: str) -> str:
    """How a spreadsheet's General format shows a long number: 6 significant digits, e.g. 4.33124E+17."""
    mantissa, exponent = f"{int(digits):.5E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"


def _with_check(first17: str) -> str:
    return first17 + id_check_char(first17)


class _DefectPlanner:
    """Chooses rows for every defect kind and rewrites them as the README describes."""

    def __init__(self, households: list[list[tuple[str, ...]]], seed: int, roster_date: date) -> None:
        self.rng = random.Random(f"defects-{seed}")
        self.roster_date = roster_date
        self.households = [[_Slot(list(r), h) for r in rows] for h, rows in enumerate(households)]
        self.household_kind: dict[int, str] = {}
        self.removed: set[int] = set()  # id() of slots dropped (the missing head rows)
        self.taken = {s.values[2] for hh in self.households for s in hh}
        self.offsets: dict[str, int] = {}

    # -- choosing rows ------------------------------------------------------------------------------------------

    def _free(self, slot: _Slot) -> bool:
        return slot.kind is None and not slot.reserved and slot.household not in self.household_kind

    def pick(self, *, head_ok: bool, where: Callable[[_Slot], bool] | None = None) -> _Slot:
        candidates = [
            s
            for hh in self.households
            for s in hh
            if self._free(s) and (head_ok or s.values[3] != HEAD_RELATION) and (where is None or where(s))
        ]
        if not candidates:
            raise LookupError("no row left for a defect")
        return candidates[self.rng.randrange(len(candidates))]

    def mark(self, slot: _Slot, kind: str, value: str | None, *, expected: str | None = None, detail: str) -> None:
        slot.kind, slot.value, slot.expected, slot.detail = kind, value, expected, detail
        slot.column = _KIND_SPEC[kind][1]

    def new_id(self, first17: str, *, want_x: bool = False) -> str:
        """A valid ID like first17 (same county, date, sex) but unused so far; with want_x, ending in X."""
        male = int(first17[16]) % 2
        for seq in self.rng.sample(range(1 + (1 - male), 1000, 2), 499):
            candidate = _with_check(f"{first17[:14]}{seq:03d}")
            if candidate not in self.taken and (not want_x or candidate.endswith("X")):
                self.taken.add(candidate)
                return candidate
        raise LookupError("no free sequence number")

    # -- household-wide kinds -----------------------------------------------------------------------------------

    def household_defects(self) -> None:
        def eligible(h: int, need_spouse: bool) -> bool:
            rows = self.households[h]
            spouse = any(s.values[3] == "配偶" for s in rows)
            return h not in self.household_kind and len(rows) >= 3 and (spouse or not need_spouse)

        for form in _NO_HEAD_FORMS:
            h = self.rng.choice([h for h in range(1, len(self.households)) if eligible(h, False)])
            self.household_kind[h] = "no_head"
            rows = self.households[h]
            head = next(s for s in rows if s.values[3] == HEAD_RELATION)
            if form == "missing":
                self.removed.add(id(head))
                detail = f"household {head.values[0]} has no 户主 row (the head's row is missing)"
            else:
                head.values[3] = form
                detail = f"household {head.values[0]} has no 户主 (the head is labelled {form})"
            for s in rows:
                self.mark(s, "no_head", s.values[3], detail=detail)
        for _ in range(_TWO_HEADS_HOUSEHOLDS):
            h = self.rng.choice([h for h in range(1, len(self.households)) if eligible(h, True)])
            self.household_kind[h] = "two_heads"
            rows = self.households[h]
            next(s for s in rows if s.values[3] == "配偶").values[3] = HEAD_RELATION
            for s in rows:
                self.mark(
                    s, "two_heads", s.values[3], detail=f"household {s.values[0]} has two 户主 rows (one was 配偶)"
                )

    # -- row kinds ----------------------------------------------------------------------------------------------

    def variant(self, kind: str, n: int, forms: Sequence[str]) -> str:
        """The n-th instance's form: all forms in turn, from a per-seed starting point."""
        offset = self.offsets.setdefault(kind, self.rng.randrange(len(forms)))
        return forms[(offset + n) % len(forms)]

    def row_defect(self, kind: str, n: int) -> None:
        """Makes the n-th instance of a row-level kind (one branch per row of the README's table)."""
        rng = self.rng
        v: list[str]
        if kind == "bad_checksum":
            s = self.pick(head_ok=False)
            v = s.values
            right = v[2][17]
            wrong = rng.choice([c for c in ID_CHECK_CHARS if c != right])
            v[2] = v[2][:17] + wrong
            self.mark(s, kind, v[2], detail=f"check character is {wrong}, should be {right}")
        elif kind == "bad_birth_date":
            s = self.pick(head_ok=False)
            v = s.values
            year = int(v[2][6:10])
            mmdd = self.variant(
                kind, n, ("0230", "0231", "0431", "1301", "0000", "0229", "0931", "1512", "0631", "1131")
            )
            if mmdd == "0229" and (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
                year -= 1  # a common year, so that 29 February does not exist
            v[2] = _with_check(f"{v[2][:6]}{year:04d}{mmdd}{v[2][14:17]}")
            self.mark(s, kind, v[2], detail=f"date in the ID ({v[2][6:14]}) does not exist")
        elif kind == "future_birth_date":
            s = self.pick(head_ok=False)
            v = s.values
            born = date(2051 + rng.randrange(29), 1 + rng.randrange(12), 1 + rng.randrange(28))
            v[2] = self.new_id(f"{v[2][:6]}{born:%Y%m%d}{v[2][14:17]}")
            v[5] = born.isoformat()
            self.mark(s, kind, v[2], detail=f"birth date {born} (in the ID and 出生日期) is in the future")
        elif kind == "sex_mismatch":
            s = self.pick(head_ok=False)
            v = s.values
            says = v[4]
            v[4] = "女" if says == "男" else "男"
            self.mark(s, kind, v[4], detail=f"性别 is {v[4]} but the ID's sequence says {says}")
        elif kind == "birth_date_mismatch":
            s = self.pick(head_ok=False)
            v = s.values
            real = date.fromisoformat(v[5])
            shown = self._shifted(real, self.variant(kind, n, ("days", "months", "years")))
            v[5] = shown.isoformat()
            self.mark(s, kind, v[5], detail=f"出生日期 {shown} but the ID says {real}")
        elif kind == "duplicate_id_in_file":
            later = self.pick(head_ok=False, where=lambda s: s.household > 0)
            earlier = self.pick(head_ok=True, where=lambda s: s.household < later.household)
            earlier.reserved = True
            v = later.values
            v[2], v[4], v[5], v[3] = earlier.values[2], earlier.values[4], earlier.values[5], "其他"
            self.mark(later, kind, v[2], detail="ID already used by an earlier row of another household")
            later.duplicate_of = earlier
        elif kind == "legacy_15_digit_id":
            s = self.pick(head_ok=True, where=lambda s: s.values[5] <= "1983-12-31")
            v = s.values
            full = v[2]
            v[2] = full[:6] + full[8:17]
            assert _with_check(v[2][:6] + "19" + v[2][6:]) == full
            self.mark(s, kind, v[2], expected=full, detail="15-digit ID issued before 1999; upgrade it")
        elif kind == "lowercase_x":
            s = self.pick(head_ok=True)
            v = s.values
            self.taken.discard(v[2])
            valid = self.new_id(v[2][:17], want_x=True)
            v[2] = valid[:17] + "x"
            self.mark(s, kind, v[2], expected=valid, detail="check character written as lowercase x")
        elif kind == "fullwidth_digits":
            s = self.pick(head_ok=True)
            v = s.values
            valid = v[2]
            v[2] = valid.translate(_FULLWIDTH)
            assert unicodedata.normalize("NFKC", v[2]) == valid
            self.mark(s, kind, v[2], expected=valid, detail="ID typed in full-width digits")
        elif kind == "id_with_spaces":
            s = self.pick(head_ok=True)
            v = s.values
            valid = v[2]
            v[2] = self.variant(
                kind,
                n,
                (
                    f" {valid}  ",
                    f"{valid[:6]} {valid[6:14]} {valid[14:]}",
                    f"{valid}\u3000",
                    f"\u3000{valid[:6]}\u3000{valid[6:]} ",
                ),
            )
            self.mark(s, kind, v[2], expected=valid, detail="ID with stray spaces (around it, or grouping its digits)")
        elif kind == "excel_scientific":
            s = self.pick(head_ok=False, where=lambda s: s.values[2].isdigit())
            v = s.values
            v[2] = excel_display(v[2])
            self.mark(s, kind, v[2], detail=f"ID mangled to scientific notation {v[2]}; the digits are lost")
        elif kind == "unknown_village_code":
            s = self.pick(head_ok=False)
            v = s.values
            prefix = self.variant(kind, n, _UNKNOWN_COUNTY_PREFIXES)
            v[7] = prefix + v[7][6:]
            self.mark(s, kind, v[7], detail=f"行政区划代码 {v[7]} is not under any known county ({prefix})")
        elif kind == "bad_village_code":
            s = self.pick(head_ok=False)
            v = s.values
            code = v[7]
            i = code.rfind("1")  # every county code holds a 1, so there is always a digit to mistype
            v[7] = self.variant(
                kind,
                n,
                (
                    code[:11],
                    code + str(rng.randrange(10)),
                    code[:6],
                    code[:9],
                    code.replace("0", "O", 1) if "0" in code else code[:i] + "O" + code[i + 1 :],
                    code[:i] + "l" + code[i + 1 :],
                    excel_display(code),
                ),
            )
            self.mark(s, kind, v[7], detail=f"行政区划代码 {v[7]!r} is not 12 digits")
        elif kind == "missing_name":
            s = self.pick(head_ok=False)
            s.values[1] = self.variant(kind, n, ("", " ", "\u3000", "  "))
            self.mark(s, kind, s.values[1], detail="姓名 is empty")
        elif kind == "name_with_spaces":
            s = self.pick(head_ok=True, where=lambda s: len(s.values[1]) >= 2)
            v = s.values
            name = v[1]
            v[1] = self.variant(kind, n, (" " + name, "\u3000" + name, name[0] + "\u3000" + name[1:], f" {name}\u3000"))
            self.mark(s, kind, v[1], expected=name, detail="姓名 has ASCII or full-width spaces; remove them")
        elif kind == "bad_phone":
            s = self.pick(head_ok=False)
            v = s.values
            phone = v[13] or f"1{3 + rng.randrange(7)}{rng.randrange(10**9):09d}"
            v[13] = self.variant(
                kind,
                n,
                (
                    phone[:10],
                    phone + str(rng.randrange(10)),
                    "12" + phone[2:],
                    "10" + phone[2:],
                    f"{phone[:4]}O{phone[5:]}",
                ),
            )
            self.mark(s, kind, v[13], detail=f"联系电话 {v[13]!r} is not 11 digits starting 13..19")
        elif kind == "bad_relation":
            s = self.pick(head_ok=False)
            s.values[3] = self.variant(kind, n, ("邻居", "朋友", "未知", "寄住人员", "8", "X"))
            self.mark(s, kind, s.values[3], detail=f"与户主关系 {s.values[3]!r} is not a known relation")
        elif kind == "too_few_fields":
            s = self.pick(head_ok=False)
            keep = int(self.variant(kind, n, ("5", "7", "9", "12")))
            del s.values[keep:]
            self.mark(s, kind, None, detail=f"row has {keep} of {len(COLUMNS)} fields")
            s.column = COLUMNS[keep].key
        elif kind == "embedded_newline_in_quoted_field":
            s = self.pick(head_ok=True)
            s.values[10] += "\n"
            self.mark(s, kind, s.values[10], detail="村 ends in a line break inside a quoted field: accept, trim it")
        else:  # pragma: no cover - DEFECT_KINDS and this method must name the same kinds
            raise ValueError(kind)

    def _shifted(self, real: date, unit: str) -> date:
        """A real date that differs from `real` by days, months or years, and is not after the roster date."""
        rng = self.rng
        for _ in range(100):
            if unit == "days":
                shown = real + timedelta(days=rng.choice((-1, 1)) * (1 + rng.randrange(27)))
            elif unit == "months":
                month = (real.month - 1 + rng.choice((-1, 1)) * (1 + rng.randrange(11))) % 12 + 1
                shown = real.replace(month=month, day=min(real.day, 28))
            else:
                shown = real.replace(year=real.year - 1 - rng.randrange(9), day=min(real.day, 28))
            if shown != real and shown <= self.roster_date:
                return shown
        raise LookupError("no shifted date")

    # -- the result ---------------------------------------------------------------------------------------------

    def result(self) -> tuple[list[tuple[str, ...]], list[Expectation]]:
        slots = [s for hh in self.households for s in hh if id(s) not in self.removed]
        numbers = {id(s): i + 2 for i, s in enumerate(slots)}
        expectations = []
        for s in slots:
            if s.kind is None:
                continue
            decision, _ = _KIND_SPEC[s.kind]
            dup_row = numbers[id(s.duplicate_of)] if s.duplicate_of is not None else None
            detail = s.detail if dup_row is None else f"ID already used by row {dup_row} (another household)"
            assert s.column is not None
            expectations.append(
                Expectation(
                    row=numbers[id(s)],
                    kind=s.kind,
                    decision=decision,
                    column=s.column,
                    scope="household" if s.kind in HOUSEHOLD_DEFECT_KINDS else "row",
                    household_no=s.values[0],
                    expected=s.expected,
                    duplicate_of_row=dup_row,
                    value=s.value,
                    detail=detail,
                )
            )
        return [tuple(s.values) for s in slots], expectations


def generate_defective_rows(
    seed: int = 0, *, roster_date: date = ROSTER_DATE
) -> tuple[list[tuple[str, ...]], list[Expectation]]:
    """A small roster (~100 households) with every kind of DEFECT_KINDS, and its answer key.

    Each defective row carries exactly one defect, made as the data README describes; a rejected row is never
    the 户主 row, except for the household-wide kinds (no_head, two_heads), whose every row is listed. The
    rows of too_few_fields are tuples shorter than 15. Write them with write_csv: the embedded line breaks
    are quoted, and the record numbers in the key count records, not lines.
    """
    for members in (300, 400, 600):
        households = list(_households(members, seed, DEFAULT_COUNTIES, roster_date))
        planner = _DefectPlanner(households, seed, roster_date)
        try:
            planner.household_defects()
            for kind, count in _ROW_DEFECT_COUNTS.items():
                for n in range(count):
                    planner.row_defect(kind, n)
        except LookupError:
            continue  # too few suitable rows for this seed: try a larger base roster
        return planner.result()
    raise RuntimeError(f"seed {seed}: could not place every defect kind")


def defective_totals(expectations: Sequence[Expectation], rows: Sequence[Sequence[str]]) -> DefectTotals:
    """The answer key's totals: what an importer that stores the acceptable rows must end with."""
    by_row = {e.row: e for e in expectations}
    decisions = Counter(e.decision for e in by_row.values())
    accepted = [r for i, r in enumerate(rows, start=2) if i not in by_row or by_row[i].decision != "reject"]
    return DefectTotals(
        rows=len(rows),
        households=len({r[0] for r in rows if r}),
        good_rows=len(rows) - len(by_row),
        fixable_rows=decisions["fixable"],
        valid_tricky_rows=decisions["valid_tricky"],
        rejected_rows=decisions["reject"],
        accepted_rows=len(accepted),
        accepted_households=len({r[0] for r in accepted}),
        physical_lines=1 + len(rows) + sum(value.count("\n") for r in rows for value in r),
        by_kind=dict(sorted(Counter(e.kind for e in expectations).items())),
    )
