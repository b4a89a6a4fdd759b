"""Checking one roster record (花名册 row): every column's rules and fixable forms, and the fast path for a line that
is already valid and in stored form. Pure: no web, no database.
"""

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from core.masking import mask_ids_in_text
from insurance.register.identifiers import ID_CHECK_CHARS, MIN_BIRTH_DATE, validate_id_number
from insurance.register.roster import COLUMNS, HOUSEHOLD_TYPES, POVERTY_CAUSES, RELATIONS, HeaderMap, LineCheck

# --- checking one record ------------------------------------------------------------------------------------------

PHONE_PREFIXES = frozenset("3456789")
# What the register's columns hold (insurance/models.py); longer values are refused, never cut.
MAX_LENGTHS = {
    "household_no": 32,
    "relation": 10,
    "name": 50,
    "ethnicity": 20,
    "county": 100,
    "township": 100,
    "village": 100,
}
MEMBER_STATUSES: dict[str, str] = {
    "": "active",
    "正常": "active",
    "在册": "active",
    "死亡": "deceased",
    "已故": "deceased",
    "迁出": "moved_out",
    "已迁出": "moved_out",
}
SEX_LABELS = {"男": "male", "女": "female"}

# The normalised record as it is staged, in this order.
STAGE_FIELDS: tuple[str, ...] = (
    "row_no",
    "household_no",
    "id_number",
    "id_number_legacy",
    "name",
    "sex",
    "birth_date",
    "relation",
    "relation_code",
    "ethnicity",
    "village_code",
    "county_name",
    "township_name",
    "village_name",
    "poverty_attribute",
    "main_cause",
    "phone",
    "exit_year",
    "member_status",
    "status_date",
    "normalised",
)


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a record is refused: the column (its key), a stable code, a message a county clerk understands."""

    column: str
    code: str
    message: str
    value: str | None


@dataclass(frozen=True, slots=True)
class Fix:
    column: str
    code: str
    value: str
    fixed: str


@dataclass(slots=True)
class Checked:
    row_no: int
    household_no: str
    relation: str
    id_number: str | None  # the normalised number, when its form was valid (even if the row is refused)
    values: tuple[object, ...] | None  # STAGE_FIELDS, when accepted
    problem: Problem | None
    fixes: list[Fix] = field(default_factory=list)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def check_record(
    row_no: int, cells: Sequence[str], header: HeaderMap, *, today: date, known_counties: frozenset[str]
) -> Checked:
    """Normalises one record and finds its first problem; household-wide rules are checked afterwards."""
    pos = header.positions
    width = len(cells)

    def cell(key: str) -> str:
        index = pos.get(key)
        return cells[index] if index is not None and index < width else ""

    if width < header.min_width:
        household_no = cell("household_no").strip()
        relation = cell("relation").strip()
        first = next(c for c in COLUMNS if pos[c.key] >= width)
        # The ID may still be there: a person listed in a short row must not count as gone from the register.
        listed = validate_id_number(cell("id_number"), today=today).value if pos["id_number"] < width else None
        return Checked(
            row_no,
            household_no[: MAX_LENGTHS["household_no"]],
            relation[: MAX_LENGTHS["relation"]],
            listed,
            None,
            Problem(
                first.key,
                "too_few_fields",
                f"该行只有{width}个字段，缺少“{header.header_of(first.key)}”等列",
                None,
            ),
        )
    (
        raw_household,
        raw_name,
        raw_id,
        raw_relation,
        raw_sex,
        raw_birth,
        raw_ethnicity,
        raw_village_code,
        raw_county,
        raw_township,
        raw_village,
        raw_type,
        raw_cause,
        raw_phone,
        raw_exit,
    ) = [cells[i] for i in header.required_index]
    household_no = raw_household.strip()
    relation = raw_relation.strip()
    fixes: list[Fix] = []

    def refuse(key: str, code: str, message: str, value: str | None, id_number: str | None = None) -> Checked:
        # A message quotes the cell, and a cell of another column may hold an ID number (a row shifted by one
        # column): the message is stored masked, so no reader of it (page, API, export, log) sees the number.
        return Checked(
            row_no,
            household_no[: MAX_LENGTHS["household_no"]],
            relation[: MAX_LENGTHS["relation"]],
            id_number,
            None,
            Problem(key, code, mask_ids_in_text(message)[:480], value),
            fixes,
        )

    id_result = validate_id_number(raw_id, today=today)
    id_number = id_result.value

    if not (len(household_no) == 16 and household_no.isascii() and household_no.isdigit()):
        return refuse(
            "household_no",
            "bad_household_no",
            f"户编号“{household_no}”应为16位数字",
            household_no,
            id_number,
        )
    name = "".join(raw_name.split())
    if not name:
        return refuse("name", "missing_name", "姓名为空", raw_name, id_number)
    if name != raw_name:
        fixes.append(Fix("name", "name_with_spaces", raw_name, name))
    if id_result.problem is not None:
        return refuse("id_number", id_result.problem.code, id_result.problem.message, raw_id)
    if id_result.fixes:
        fixes.append(Fix("id_number", id_result.fixes[-1], raw_id, id_number or ""))
    if relation not in RELATIONS:
        return refuse(
            "relation",
            "bad_relation",
            f"与户主关系“{relation}”不是规定的关系（户主、配偶、之子、之女、之孙子、之孙女、之父、之母、其他） "
            "(unknown relation)",
            relation,
            id_number,
        )
    sex_text = raw_sex.strip()
    sex = SEX_LABELS.get(sex_text)
    if sex is None:
        return refuse("sex", "bad_sex", f"性别“{sex_text}”应为男或女 (sex must be 男 or 女)", sex_text, id_number)
    if (sex == "male") != id_result.is_male:
        return refuse(
            "sex",
            "sex_mismatch",
            f"性别“{sex_text}”与证件号码不符（证件号码为{'男' if id_result.is_male else '女'}） "
            "(sex does not match the ID)",
            sex_text,
            id_number,
        )
    birth_text = raw_birth.strip()
    birth = _date(birth_text)
    if birth is None:
        return refuse(
            "birth_date",
            "bad_birth_date_format",
            f"出生日期“{birth_text}”应为 YYYY-MM-DD 格式的有效日期",
            birth_text,
            id_number,
        )
    if birth != id_result.birth_date:
        return refuse(
            "birth_date",
            "birth_date_mismatch",
            f"出生日期 {birth_text} 与证件号码中的 {id_result.birth_date} 不符",
            birth_text,
            id_number,
        )
    ethnicity = raw_ethnicity.strip()
    if not ethnicity:
        return refuse("ethnicity", "missing_value", "民族为空", "", id_number)
    village_code = raw_village_code.strip()
    if not (len(village_code) == 12 and village_code.isascii() and village_code.isdigit()):
        return refuse(
            "village_code",
            "bad_village_code",
            f"行政区划代码“{village_code}”应为12位数字",
            village_code,
            id_number,
        )
    if village_code[:6] not in known_counties:
        return refuse(
            "village_code",
            "unknown_village_code",
            f"行政区划代码 {village_code} 不属于任何已知的县（{village_code[:6]}）",
            village_code,
            id_number,
        )
    if village_code[9:] == "000" or village_code[6:9] == "000":
        return refuse(
            "village_code",
            "bad_village_code",
            f"行政区划代码 {village_code} 不是村级代码",
            village_code,
            id_number,
        )
    if not household_no.startswith(village_code):
        return refuse(
            "household_no",
            "household_village_mismatch",
            f"户编号 {household_no} 的前12位与行政区划代码 {village_code} 不一致 "
            "(household number does not start with the village code)",
            household_no,
            id_number,
        )
    county_name, township_name, village_name = raw_county.strip(), raw_township.strip(), raw_village.strip()
    for key, value in (("county", county_name), ("township", township_name), ("village", village_name)):
        if not value:
            return refuse(key, "missing_value", f"“{header.header_of(key)}”为空", "", id_number)
    type_text = raw_type.strip()
    attribute = HOUSEHOLD_TYPES.get(type_text)
    if attribute is None:
        return refuse(
            "household_type",
            "bad_household_type",
            f"贫困户属性“{type_text}”应为一般贫困户、低保贫困户或特困供养贫困户",
            type_text,
            id_number,
        )
    cause_text = raw_cause.strip()
    cause = POVERTY_CAUSES.get(cause_text)
    if cause is None:
        return refuse(
            "poverty_cause",
            "bad_poverty_cause",
            f"致贫原因“{cause_text}”不是规定的原因",
            cause_text,
            id_number,
        )
    phone = raw_phone.strip()
    if phone and not (
        len(phone) == 11 and phone.isascii() and phone.isdigit() and phone[0] == "1" and phone[1] in PHONE_PREFIXES
    ):
        return refuse(
            "phone",
            "bad_phone",
            f"联系电话“{phone}”应为13至19开头的11位手机号码，或留空",
            phone,
            id_number,
        )
    exit_text = raw_exit.strip()
    exit_year: int | None = None
    if exit_text:
        if not (
            len(exit_text) == 4 and exit_text.isascii() and exit_text.isdigit() and 2013 <= int(exit_text) <= today.year
        ):
            return refuse(
                "exit_year",
                "bad_exit_year",
                f"脱贫年度“{exit_text}”应为2013年至今的年份，或留空",
                exit_text,
                id_number,
            )
        exit_year = int(exit_text)
    status_text = cell("member_status").strip()
    member_status = MEMBER_STATUSES.get(status_text)
    if member_status is None:
        return refuse(
            "member_status",
            "bad_member_status",
            f"人员状态“{status_text}”应为正常、死亡或迁出 (status must be 正常, 死亡 or 迁出)",
            status_text,
            id_number,
        )
    status_date: date | None = None
    if member_status != "active":
        status_date_text = cell("status_date").strip()
        status_date = _date(status_date_text)
        if status_date is None or status_date > today or status_date < birth:
            return refuse(
                "status_date",
                "bad_status_date",
                f"状态变动日期“{status_date_text}”应为出生之后、今天之前的日期",
                status_date_text,
                id_number,
            )
    for key, value in (
        ("name", name),
        ("ethnicity", ethnicity),
        ("county", county_name),
        ("township", township_name),
        ("village", village_name),
    ):
        if len(value) > MAX_LENGTHS[key]:
            return refuse(
                key,
                "value_too_long",
                f"“{header.header_of(key)}”超过 {MAX_LENGTHS[key]} 个字",
                value[:50],
                id_number,
            )
    values = (
        row_no,
        household_no,
        id_number,
        id_result.legacy,
        name,
        sex,
        birth,
        relation,
        RELATIONS[relation],
        ethnicity,
        village_code,
        county_name,
        township_name,
        village_name,
        attribute,
        cause,
        phone or None,
        exit_year,
        member_status,
        status_date,
        bool(fixes),
    )
    return Checked(row_no, household_no, relation, id_number, values, None, fixes)


# --- the fast path: a line already valid and in stored form -----------------------------------------------------

_PLAIN = r'[^\s,"\\\x00]'  # needs no stripping, no CSV quoting, no COPY escaping (\s is what str.split() splits on)
_ANY_CELL = r'[^,"\r\n\x00]*'  # an ignored cell, unquoted
_ODD_DIGITS = frozenset("13579")
_CACHE_LIMIT = 100_000  # distinct birth dates and village codes remembered; a province has some 40,000 and 17,000


def _one_of(labels: Iterable[str]) -> str:
    return "(" + "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True) if label) + ")"


def canonical_line_check(header: HeaderMap, *, today: date, known_counties: frozenset[str]) -> LineCheck:
    """The import's fast path: accepts a CSV line that check_record would accept exactly as written.

    Nearly every line of a real roster is already valid and canonical, and checking it cell by cell dominates an
    import of a province. One regex over the whole line (digits, labels, lengths, no space, no quote) and a few
    cached checks (ID checksum, birth date, sex, village) accept such a line; anything else, a quote, a space to
    strip, a fix or a refusal, gets None and takes the full path, so every message and fix still comes from
    check_record. Accepted lines give their required cells in COLUMNS order. A closure, for speed.
    """
    patterns = {
        "household_no": "([0-9]{16})",
        "name": f"({_PLAIN}{{1,{MAX_LENGTHS['name']}}})",
        "id_number": "((?:1[1-9]|[2-5][0-9]|6[0-5])[0-9]{15}[0-9X])",  # address code 11..65
        "relation": _one_of(RELATIONS),
        "sex": _one_of(SEX_LABELS),
        "birth_date": "([0-9]{4}-[0-9]{2}-[0-9]{2})",
        "ethnicity": f"({_PLAIN}{{1,{MAX_LENGTHS['ethnicity']}}})",
        "village_code": "([0-9]{12})",
        "county": f"({_PLAIN}{{1,{MAX_LENGTHS['county']}}})",
        "township": f"({_PLAIN}{{1,{MAX_LENGTHS['township']}}})",
        "village": f"({_PLAIN}{{1,{MAX_LENGTHS['village']}}})",
        "household_type": _one_of(HOUSEHOLD_TYPES),
        "poverty_cause": _one_of(POVERTY_CAUSES),
        "phone": f"((?:1[{''.join(sorted(PHONE_PREFIXES))}][0-9]{{9}})?)",
        "exit_year": "([0-9]{4}|)",
        # Only members on the register take the fast path; their status date is ignored.
        "member_status": "(?:" + "|".join(re.escape(k) for k, v in MEMBER_STATUSES.items() if v == "active") + ")",
    }
    by_position = {index: key for key, index in header.positions.items()}
    cells = [patterns.get(by_position.get(i, ""), _ANY_CELL) for i in range(max(by_position) + 1)]
    match = re.compile(",".join(cells) + f"(?:,{_ANY_CELL})*" + r"\r?\n?\Z").match
    # Groups come in the file's column order; the caller wants COLUMNS order.
    in_file = sorted(header.required_index)
    order = tuple(in_file.index(i) + 1 for i in header.required_index)
    in_order = order == tuple(range(1, len(COLUMNS) + 1))
    max_line = csv.field_size_limit()  # a longer line may hold a cell the csv module refuses
    exit_years = frozenset(["", *(str(y) for y in range(2013, today.year + 1))])
    births: dict[str, str] = {}  # "YYYY-MM-DD" -> "YYYYMMDD" when a possible birth date, else ""
    villages: dict[str, bool] = {}

    def birth_digits(text: str) -> str:
        birth = _date(text)
        digits = text.replace("-", "") if birth is not None and MIN_BIRTH_DATE <= birth <= today else ""
        if len(births) < _CACHE_LIMIT:
            births[text] = digits
        return digits

    def village_ok(code: str) -> bool:
        ok = code[:6] in known_counties and code[6:9] != "000" and code[9:] != "000"
        if len(villages) < _CACHE_LIMIT:
            villages[code] = ok
        return ok

    def check(line: str) -> tuple[str, ...] | None:
        found = match(line)
        if found is None or len(line) > max_line:
            return None
        cells: tuple[str, ...] = found.groups() if in_order else found.group(*order)
        id_number = cells[2]
        # GB 11643: the weights are 2**(17-i) mod 11 and 13 = 2 (mod 11), so the weighted sum is 2 * int(base 13).
        if ID_CHECK_CHARS[2 * int(id_number[:17], 13) % 11] != id_number[17]:
            return None
        birth = cells[5]
        digits = births.get(birth)
        if digits is None:
            digits = birth_digits(birth)
        if digits != id_number[6:14] or (cells[4] == "男") != (id_number[16] in _ODD_DIGITS):
            return None
        village_code = cells[7]
        valid = villages.get(village_code)
        if valid is None:
            valid = village_ok(village_code)
        if not valid or not cells[0].startswith(village_code) or cells[14] not in exit_years:
            return None
        return cells

    return check


def canonical_values(row_no: int, cells: Sequence[str]) -> tuple[object, ...]:
    """The values check_record returns (STAGE_FIELDS) for the cells of a line canonical_line_check accepted."""
    household_no, name, id_number, relation, sex, birth, ethnicity, village_code, county, township, village = cells[:11]
    household_type, cause, phone, exit_year = cells[11:]
    return (
        row_no,
        household_no,
        id_number,
        None,
        name,
        SEX_LABELS[sex],
        date.fromisoformat(birth),
        relation,
        RELATIONS[relation],
        ethnicity,
        village_code,
        county,
        township,
        village,
        HOUSEHOLD_TYPES[household_type],
        POVERTY_CAUSES[cause],
        phone or None,
        int(exit_year) if exit_year else None,
        "active",
        None,
        False,
    )
