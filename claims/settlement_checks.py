"""Checking the rows of a one-stop settlement sheet (issue 14's contract), one at a time and in file order: the
refusals that need no database (required, id_invalid, date_invalid, date_in_future, amount_invalid,
amounts_inconsistent, duplicate_settlement within the file), the fixable forms normalised and reported as fixed, and
every accepted row typed as a SettlementRow. Pure: no web, no database; "today" is passed in.

The import service refuses the rest against the register (member_unknown, name_mismatch, duplicate_settlement against
claims already imported) from each SettlementRow's normalised id_number, name and settlement_no.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from claims.settlement_sheet import LABELS, SettlementSheet, open_settlement_sheet
from core import money
from core.masking import mask_ids_in_text
from core.money import YuanProblem, fen_to_yuan
from insurance.register.identifiers import masked, validate_id_number
from insurance.register.roster import HeaderMap

# The contract's row refusals. MEMBER_UNKNOWN, NAME_MISMATCH and DUPLICATE_SETTLEMENT against claims already imported
# are the import service's, against the database; the rest are checked here.
REQUIRED = "required"
ID_INVALID = "id_invalid"
DATE_INVALID = "date_invalid"
DATE_IN_FUTURE = "date_in_future"
AMOUNT_INVALID = "amount_invalid"
AMOUNTS_INCONSISTENT = "amounts_inconsistent"
DUPLICATE_SETTLEMENT = "duplicate_settlement"
MEMBER_UNKNOWN = "member_unknown"
NAME_MISMATCH = "name_mismatch"
# Not in the contract's list (design choice, to confirm): a text the database cannot hold (too long), or a settlement
# number a spreadsheet turned into scientific notation (its digits are lost).
VALUE_INVALID = "value_invalid"
# Dates out of order (discharge before admission, settled before discharge) break the date columns' own rule in the
# contract ("not before admission", "not before discharge"), so they are date_invalid, not amounts_inconsistent.
DATE_ORDER = DATE_INVALID
REFUSAL_CODES: tuple[str, ...] = (
    REQUIRED,
    ID_INVALID,
    MEMBER_UNKNOWN,
    NAME_MISMATCH,
    DATE_INVALID,
    DATE_IN_FUTURE,
    AMOUNT_INVALID,
    AMOUNTS_INCONSISTENT,
    DUPLICATE_SETTLEMENT,
    VALUE_INVALID,
)
ERROR, FIXED, NOTE = "error", "fixed", "note"  # an issue's kind: refuses its row, tells a fix, tells a fact

MAX_LENGTHS = {"settlement_no": 40, "name": 50, "hospital": 100, "main_diagnosis": 200}
MAX_YUAN_DIGITS = 8  # at most 99,999,999.99 yuan: more is no hospital stay, and stays far inside a BIGINT of fen
_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]+)?E[+-]?[0-9]+", re.ASCII | re.IGNORECASE)
_VALUE_CHARS = 200  # an issue quotes at most this much of a cell
_MESSAGE_CHARS = 480


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """An accepted row, typed: money in integer fen, dates as dates, the ID number normalised (GB 11643, 18
    characters), the name without whitespace. `row` is the spreadsheet's row number (the header is row 1)."""

    row: int
    settlement_no: str
    name: str
    id_number: str
    hospital: str
    admission_date: date  # the incident date for cover
    discharge_date: date
    settled_on: date
    total_cost_fen: int
    in_policy_fen: int
    bmi_paid_fen: int
    ci_paid_fen: int
    assistance_paid_fen: int
    main_diagnosis: str


@dataclass(frozen=True, slots=True)
class SheetIssue:
    """What the report says of a row: refused (error), a form normalised (fixed) or a fact (note, row 1: an unknown
    column). `column` is the header as the file wrote it; `key` the column's English alias. Neither the message nor
    the value ever holds a full ID number."""

    row: int
    column: str
    code: str
    message: str
    value: str | None
    kind: str = ERROR
    key: str | None = None


@dataclass(frozen=True, slots=True)
class CheckedRow:
    """One row's outcome: the typed row when accepted, else None; its issues (at most one error, the first problem
    in column order, and the fixes of an accepted row)."""

    row: int
    settlement: SettlementRow | None
    issues: tuple[SheetIssue, ...]

    @property
    def refusal(self) -> SheetIssue | None:
        return next((i for i in self.issues if i.kind == ERROR), None)


@dataclass
class SettlementReading:
    """A whole file read and checked, for a dry run or a small file (an import streams check_sheet instead)."""

    file_format: str
    encoding: str | None
    language: str  # which headers the file used: "chinese" | "english"
    extra_columns: list[str]
    rows: int  # rows with a value, the header not counted
    accepted: list[SettlementRow]
    issues: list[SheetIssue]  # the notes of the header first, then each row's in file order


# How the report words each problem of core.money's parser, after the column's name and the quoted cell.
YUAN_REASONS: dict[YuanProblem, str] = {
    YuanProblem.too_large: f"超过上限 {fen_to_yuan(10**MAX_YUAN_DIGITS * 100 - 1)} 元",
    YuanProblem.negative: "不能为负数",
    YuanProblem.decimals: "最多保留两位小数",
    YuanProblem.invalid: "应为以元为单位的金额（如 1234.56）",
}


def read_amount_cell(text: str) -> tuple[int | None, str | None]:
    """An amount cell in yuan -> (integer fen, None), exactly; or (None, the Chinese reason). No grouping
    separators: in a file `1,500.50` may be a decimal comma."""
    fen, problem = money.parse_yuan(text, max_digits=MAX_YUAN_DIGITS)
    return (fen, None) if problem is None else (None, YUAN_REASONS[problem])


def parse_date(text: str) -> date | None:
    """A date written YYYY-MM-DD, or None (a workbook's date cell reads so already)."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def shown(text: str) -> str:
    """A cell as a message or report may quote it: every run that looks like an ID number masked, also one written
    with spaces inside (then the cell is quoted without its whitespace)."""
    masked_text = mask_ids_in_text(text)
    squeezed = "".join(masked_text.split())
    if squeezed != masked_text and mask_ids_in_text(squeezed) != squeezed:
        return mask_ids_in_text(squeezed)
    return masked_text


def header_issues(header: HeaderMap) -> list[SheetIssue]:
    """The unknown columns, reported on row 1 and ignored."""
    return [
        SheetIssue(1, shown(extra[:50]), "extra_column", f"未知的列“{shown(extra[:50])}”已忽略", None, NOTE)
        for extra in header.extra
    ]


class _Refused(Exception):
    """A row's first problem, raised inside SettlementChecker.check to stop at it."""

    def __init__(self, issue: SheetIssue) -> None:
        self.issue = issue


class SettlementChecker:
    """Checks rows in file order, remembering every valid settlement number met so far, the refused rows' too (the
    contract: "a number used earlier in the file"): a later row with one of them is a duplicate naming the earlier
    row, whatever became of that row."""

    def __init__(self, header: HeaderMap, *, today: date) -> None:
        self.header = header
        self.today = today
        self.seen: dict[str, int] = {}  # settlement number -> the row that first carried it
        self._positions = header.positions

    def check(self, row: int, cells: Sequence[str]) -> CheckedRow:
        fixes: list[SheetIssue] = []
        try:
            settlement = self._typed(row, cells, fixes)
        except _Refused as refused:
            if refused.issue.key != "settlement_no":  # the number, read first, was one: the row used it
                self.seen.setdefault(self._text(row, cells, "settlement_no"), row)
            return CheckedRow(row, None, (refused.issue,))
        self.seen.setdefault(settlement.settlement_no, row)
        return CheckedRow(row, settlement, tuple(fixes))

    # --- one row ------------------------------------------------------------------------------------------------

    def _cell(self, cells: Sequence[str], key: str) -> str:
        index = self._positions[key]
        return cells[index] if index < len(cells) else ""  # a short record lacks its last cells: blank

    def _issue(self, row: int, key: str, code: str, message: str, value: str | None, kind: str = ERROR) -> SheetIssue:
        if value is not None:
            value = masked(value) if key == "id_number" else shown(value[:_VALUE_CHARS])
        return SheetIssue(row, self.header.header_of(key), code, shown(message)[:_MESSAGE_CHARS], value, kind, key)

    def _refuse(self, row: int, key: str, code: str, message: str, value: str | None) -> _Refused:
        return _Refused(self._issue(row, key, code, message, value))

    def _text(self, row: int, cells: Sequence[str], key: str, *, squeeze: bool = False) -> str:
        """A required text cell, stripped (squeezed: every whitespace removed, as the register stores names)."""
        raw = self._cell(cells, key)
        text = "".join(raw.split()) if squeeze else raw.strip()
        if not text:
            raise self._refuse(row, key, REQUIRED, f"{LABELS[key]}为空", raw or None)
        if len(text) > MAX_LENGTHS[key]:
            raise self._refuse(row, key, VALUE_INVALID, f"{LABELS[key]}超过 {MAX_LENGTHS[key]} 个字", text)
        return text

    def _date(self, row: int, cells: Sequence[str], key: str) -> date:
        raw = self._cell(cells, key)
        text = raw.strip()
        if not text:
            raise self._refuse(row, key, REQUIRED, f"{LABELS[key]}为空", raw or None)
        value = parse_date(text)
        if value is None:
            message = f"{LABELS[key]}“{shown(text)}”应为 YYYY-MM-DD 格式的有效日期"
            raise self._refuse(row, key, DATE_INVALID, message, text)
        if value > self.today:
            raise self._refuse(
                row, key, DATE_IN_FUTURE, f"{LABELS[key]} {text} 晚于今天（{self.today.isoformat()}）", text
            )
        return value

    def _fen(self, row: int, cells: Sequence[str], key: str) -> int:
        raw = self._cell(cells, key)
        text = raw.strip()
        if not text:
            raise self._refuse(row, key, REQUIRED, f"{LABELS[key]}为空", raw or None)
        fen, reason = read_amount_cell(text)
        if fen is None:
            raise self._refuse(row, key, AMOUNT_INVALID, f"{LABELS[key]}“{shown(text)}”{reason}", text)
        return fen

    def _typed(self, row: int, cells: Sequence[str], fixes: list[SheetIssue]) -> SettlementRow:
        settlement_no = self._text(row, cells, "settlement_no")
        if _SCIENTIFIC.fullmatch(settlement_no):
            raise self._refuse(
                row,
                "settlement_no",
                VALUE_INVALID,
                f"结算单号“{shown(settlement_no)}”被表格软件显示为科学计数法，位数已丢失，请将该列设为文本后重新导出",
                settlement_no,
            )
        raw_name = self._cell(cells, "name")
        name = self._text(row, cells, "name", squeeze=True)
        if name != raw_name:
            message = f"姓名中的空白已去除：“{shown(name)}”"
            fixes.append(self._issue(row, "name", "name_with_spaces", message, name, FIXED))
        id_number = self._id_number(row, cells, fixes)
        hospital = self._text(row, cells, "hospital")
        admission = self._date(row, cells, "admission_date")
        discharge = self._date(row, cells, "discharge_date")
        settled_on = self._date(row, cells, "settled_on")
        total, in_policy, bmi, ci, assistance = (
            self._fen(row, cells, key)
            for key in ("total_cost", "in_policy_amount", "bmi_paid", "ci_paid", "assistance_paid")
        )
        diagnosis = self._text(row, cells, "main_diagnosis")
        if discharge < admission:
            raise self._refuse(
                row, "discharge_date", DATE_ORDER, f"出院日期 {discharge} 早于入院日期 {admission}", str(discharge)
            )
        if settled_on < discharge:
            raise self._refuse(
                row, "settled_on", DATE_ORDER, f"结算日期 {settled_on} 早于出院日期 {discharge}", str(settled_on)
            )
        if in_policy > total:
            raise self._refuse(
                row,
                "in_policy_amount",
                AMOUNTS_INCONSISTENT,
                f"政策范围内费用 {fen_to_yuan(in_policy)} 元大于医疗总费用 {fen_to_yuan(total)} 元",
                fen_to_yuan(in_policy),
            )
        if bmi + ci > in_policy:  # the rule's first term names the row (the sample's answer key does the same)
            raise self._refuse(
                row,
                "bmi_paid",
                AMOUNTS_INCONSISTENT,
                f"基本医保支付与大病保险支付合计 {fen_to_yuan(bmi + ci)} 元"
                f"大于政策范围内费用 {fen_to_yuan(in_policy)} 元",
                fen_to_yuan(bmi),
            )
        earlier = self.seen.get(settlement_no)
        if earlier is not None:
            raise self._refuse(
                row,
                "settlement_no",
                DUPLICATE_SETTLEMENT,
                f"结算单号“{shown(settlement_no)}”与第 {earlier} 行重复",
                settlement_no,
            )
        return SettlementRow(
            row,
            settlement_no,
            name,
            id_number,
            hospital,
            admission,
            discharge,
            settled_on,
            total,
            in_policy,
            bmi,
            ci,
            assistance,
            diagnosis,
        )

    def _id_number(self, row: int, cells: Sequence[str], fixes: list[SheetIssue]) -> str:
        """GB 11643 with the roster's rules: a fixable form (spaces, full-width, lower-case x, 15 digits) is
        normalised and reported as fixed; the message shows the number masked."""
        raw = self._cell(cells, "id_number")
        if not raw.strip():
            raise self._refuse(row, "id_number", REQUIRED, "证件号码为空", raw or None)
        result = validate_id_number(raw, today=self.today)
        if result.problem is not None or result.value is None:
            message = result.problem.message if result.problem is not None else "证件号码无效"
            raise self._refuse(row, "id_number", ID_INVALID, message, raw)
        if result.fixes:
            fixes.append(
                self._issue(
                    row,
                    "id_number",
                    result.fixes[-1],
                    f"“{masked(raw)}”已修正为“{masked(result.value)}”",
                    raw,
                    FIXED,
                )
            )
        return result.value


def check_sheet(sheet: SettlementSheet, *, today: date) -> Iterator[CheckedRow]:
    """Every row of the sheet checked, streamed in file order (the sheet's cells are never all held at once)."""
    checker = SettlementChecker(sheet.header, today=today)
    for row, cells in sheet.rows():
        yield checker.check(row, cells)


def read_settlement_file(path: Path, *, today: date) -> SettlementReading:
    """The whole file read and checked into memory: raises SettlementSheetUnreadable when it cannot be imported."""
    sheet = open_settlement_sheet(path)
    issues = header_issues(sheet.header)
    accepted: list[SettlementRow] = []
    count = 0
    for checked in check_sheet(sheet, today=today):
        count += 1
        issues.extend(checked.issues)
        if checked.settlement is not None:
            accepted.append(checked.settlement)
    return SettlementReading(
        sheet.file_format, sheet.encoding, sheet.header.language, sheet.extra_columns, count, accepted, issues
    )
