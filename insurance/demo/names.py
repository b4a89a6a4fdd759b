"""Names, ages and places of the synthetic rosters: weighted tables; townships and villages named from codes alone.

`insurance.demo.roster` draws from these tables; names with a leading underscore are shared inside the package only.
"""

import csv
import math
import random
import zlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from insurance.register.roster import HOUSEHOLD_TYPES, POVERTY_CAUSES

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
DIVISIONS_CSV = Path(__file__).resolve().parent.parent / "register" / "data" / "divisions_hunan.csv"

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
