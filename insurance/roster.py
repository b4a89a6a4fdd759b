"""Reading a roster of poor households (花名册): columns, encodings, and row checks. Pure: no web, no database."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str  # the English alias, also the internal name
    header: str  # the Chinese header, the default
    required: bool = True


# In this order in every sample file (shared/data/README.md, "Columns").
COLUMNS: tuple[Column, ...] = (
    Column("household_no", "户编号"),
    Column("name", "姓名"),
    Column("id_number", "证件号码"),
    Column("relation", "与户主关系"),
    Column("sex", "性别"),
    Column("birth_date", "出生日期"),
    Column("ethnicity", "民族"),
    Column("village_code", "行政区划代码"),
    Column("county", "县"),
    Column("township", "乡镇"),
    Column("village", "村"),
    Column("household_type", "贫困户属性"),
    Column("poverty_cause", "致贫原因"),
    Column("phone", "联系电话"),
    Column("exit_year", "脱贫年度"),
)

# Optional columns a newer roster may carry, so that deaths and moves out reach the register (design choice).
OPTIONAL_COLUMNS: tuple[Column, ...] = (
    Column("member_status", "人员状态", required=False),
    Column("status_date", "状态变动日期", required=False),
)

RELATIONS: dict[str, str | None] = {
    # label as the register writes it -> GB/T 4761-2008 code; 其他 does not say 97 or 99, so no code.
    "户主": "02",
    "配偶": "10",
    "之子": "20",
    "之女": "30",
    "之孙子": "41",
    "之孙女": "42",
    "之父": "51",
    "之母": "52",
    "其他": None,
}
HEAD_RELATION = "户主"

HOUSEHOLD_TYPES: dict[str, str] = {
    "一般贫困户": "ordinary",
    "低保贫困户": "subsistence_allowance",
    "特困供养贫困户": "destitute_support",
}

POVERTY_CAUSES: dict[str, str] = {
    "因病": "1",
    "因残": "2",
    "因学": "3",
    "因灾": "4",
    "缺土地": "5",
    "缺水": "6",
    "缺技术": "7",
    "缺劳力": "8",
    "缺资金": "9",
    "交通条件落后": "10",
    "自身发展动力不足": "11",
    "其他": "99",
}
