"""Reading a roster of poor households (花名册): columns, encodings, formats and the header. Pure: no web, no
database. The checks of each record are in roster_checks.py. Other files read the roster's way (claims' settlement
sheets) open_sheet with their own SheetLayout."""

import codecs
import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from pathlib import Path


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
# An ID already used by an earlier accepted row: the message before and after that row's number. It never quotes the
# ID itself (the value column holds it, masked for every reader but the importing office's report file).
DUPLICATE_ID_PARTS = ("证件号码与第 ", " 行重复")
# A household without exactly one head is refused whole: (code, message before and after its household number).
HEAD_PROBLEMS: dict[str, tuple[str, str]] = {
    "no_head": ("户 ", " 没有户主，整户未导入"),
    "two_heads": ("户 ", " 有多个户主，整户未导入"),
}

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

# --- reading the file: format, encoding, header ----------------------------------------------------------------


XLSX_MAGIC = b"PK\x03\x04"
UTF8_BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class SheetLayout:
    """The columns of one kind of file read as a roster is read (the roster, claims' settlement sheets): the same
    encodings, formats and header rules, only the columns differ."""

    columns: tuple[Column, ...]  # required, in their canonical order
    optional: tuple[Column, ...] = ()
    sheet_name: str | None = None  # the worksheet a workbook is read from when it has one of this name, else the first
    by_header: dict[str, Column] = field(init=False, repr=False, compare=False)
    by_alias: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        known = (*self.columns, *self.optional)
        object.__setattr__(self, "by_header", {c.header: c for c in known})
        object.__setattr__(self, "by_alias", {c.key: c for c in known})


ROSTER = SheetLayout(COLUMNS, OPTIONAL_COLUMNS, "花名册")
_BY_HEADER = ROSTER.by_header
_BY_ALIAS = ROSTER.by_alias
REQUIRED_COUNT = len(COLUMNS)


class RosterUnreadable(Exception):
    """The file as a whole cannot be imported (not a roster, unreadable, a required column missing)."""

    def __init__(self, code: str, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.column = code, message, column


def detect_format(head: bytes) -> str:
    return "xlsx" if head.startswith(XLSX_MAGIC) else "csv"


def detect_encoding(path: Path, chunk_size: int = 1 << 20) -> str:
    """UTF-8 when the file starts with its BOM or decodes as strict UTF-8 throughout; otherwise GB18030.

    Reads the whole file once, in chunks (constant memory), because a GB18030 byte may first appear late.
    """
    with path.open("rb") as handle:
        first = handle.read(chunk_size)
        if first.startswith(UTF8_BOM):
            return "utf-8-sig"
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        chunk = first
        try:
            while chunk:
                decoder.decode(chunk)
                chunk = handle.read(chunk_size)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


@dataclass
class HeaderMap:
    """Where each known column stands in the file, and how the file wrote its headers."""

    positions: dict[str, int]  # column key -> index in the record
    headers: dict[str, str]  # column key -> header as written in the file
    extra: list[str]  # unknown headers, reported and ignored
    language: str  # "chinese" | "english"
    required_index: tuple[int, ...]  # where the COLUMNS stand, in their order (the hot path indexes directly)
    min_width: int  # a record shorter than this lacks a required cell
    layout: SheetLayout = ROSTER

    def header_of(self, key: str) -> str:
        return self.headers.get(key) or self.layout.by_alias[key].header


def column_of(header: str | None) -> Column | None:
    """The known column a header names, as map_header reads it (the Chinese header, or the English alias in any
    case); None for an unknown one. The report keeps the header as written; readers ask which column it was."""
    if not header:
        return None
    text = header.replace("\ufeff", "").strip()
    return _BY_HEADER.get(text) or _BY_ALIAS.get(text.lower())


def map_header(cells: list[str], layout: SheetLayout = ROSTER) -> HeaderMap:
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    extra: list[str] = []
    chinese = english = 0
    for index, raw in enumerate(cells):
        text = raw.replace("\ufeff", "").strip()
        column = layout.by_header.get(text)
        if column is not None:
            chinese += 1
        else:
            column = layout.by_alias.get(text.lower())
            english += column is not None
        if column is None:
            if text:
                extra.append(text)
            continue
        if column.key in positions:
            raise RosterUnreadable("duplicate_column", f"表头“{text}”出现了两次", text)
        positions[column.key] = index
        headers[column.key] = text
    missing = [c for c in layout.columns if c.key not in positions]
    if missing:
        names = "、".join(c.header for c in missing)
        raise RosterUnreadable(
            "missing_column",
            f"缺少必需的列：{names}",
            missing[0].header,
        )
    required_index = tuple(positions[c.key] for c in layout.columns)  # every one is there: checked above
    language = "english" if english > chinese else "chinese"
    return HeaderMap(positions, headers, extra, language, required_index, max(required_index) + 1, layout)


LineCheck = Callable[[str], tuple[str, ...] | None]  # a whole CSV line -> its canonical cells, or None
Records = Iterator[tuple[int, Sequence[str], bool]]  # (row number, cells, canonical)


@dataclass
class RosterFile:
    """An opened roster: its records, numbered as the spreadsheet numbers them.

    read(check) yields (row number, cells, canonical). A record is canonical when check (canonical_line_check)
    accepted its CSV line: cells are then the required cells in COLUMNS order, valid and in stored form already.
    Any other record is the list of its cells as the file has them, for check_record.
    """

    path: Path
    file_format: str
    encoding: str | None
    header: HeaderMap
    read: Callable[[LineCheck | None], Records]
    size_bytes: int
    position: Callable[[], int]  # bytes consumed so far, for progress
    close: Callable[[], None]  # for a caller that reads only the header; read() closes the file when done


def open_roster(path: Path) -> RosterFile:
    return open_sheet(path, ROSTER)


XlsxText = Callable[[object], str]  # a workbook cell's value -> the text a CSV file would hold


def open_sheet(path: Path, layout: SheetLayout, xlsx_text: XlsxText | None = None) -> RosterFile:
    """Opens a file of the layout's columns, CSV or XLSX; xlsx_text reads a workbook's cells (the roster's rule by
    default: a kind of sheet with amounts reads its number cells its own way)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head:
        raise RosterUnreadable("empty_file", "文件是空的")
    if detect_format(head) == "xlsx":
        return _open_xlsx(path, size, layout, xlsx_text or xlsx_cell_text)
    return _open_csv(path, size, layout)


def _open_csv(path: Path, size: int, layout: SheetLayout) -> RosterFile:
    encoding = detect_encoding(path)
    raw = path.open("rb")
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    # strict: an unmatched quote is an error, not a field that silently swallows the rest of the file.
    reader = csv.reader(text, strict=True)
    try:
        first = next(reader)
    except StopIteration:
        raw.close()
        raise RosterUnreadable("empty_file", "文件是空的") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raw.close()
        raise _unreadable(1, exc) from None
    try:
        header = map_header(first, layout)
    except RosterUnreadable:
        raw.close()
        raise

    def records(check: LineCheck | None) -> Records:
        # A line the check accepts is one whole record (it holds no quote); any other line starts a record that
        # the csv module reads, taking further lines when a quoted cell spans them.
        number = 1  # the last record read
        try:
            for line in text:
                cells = check(line) if check is not None else None
                if cells is not None:
                    number += 1
                    yield number, cells, True
                    continue
                record = next(csv.reader(chain((line,), text), strict=True))
                number += 1
                if record and any(c.strip() for c in record):
                    yield number, record, False
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _unreadable(number + 1, exc) from None
        finally:
            raw.close()

    return RosterFile(path, "csv", encoding, header, records, size, raw.tell, raw.close)


def _unreadable(row: int, exc: Exception) -> RosterUnreadable:
    if isinstance(exc, UnicodeDecodeError):
        return RosterUnreadable("bad_encoding", f"第 {row} 行附近的字节既不是 UTF-8 也不是 GB18030")
    return RosterUnreadable("bad_csv", f"第 {row} 行附近的CSV格式有误（引号不配对？），文件未导入")


def xlsx_cell_text(value: object) -> str:
    """A workbook cell as the roster reads it: the text Excel shows, a date as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, float):
        # A number cell: Excel kept 15 significant digits, as it displays them (4.33124E+17 for an ID).
        return f"{value:.5E}" if value >= 1e15 else repr(value).removesuffix(".0")
    if isinstance(value, int):
        return f"{value:.5E}" if value >= 10**15 else str(value)
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value)


def _open_xlsx(path: Path, size: int, layout: SheetLayout, xlsx_text: XlsxText) -> RosterFile:
    from openpyxl import load_workbook  # only the XLSX path needs it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to open means an unusable workbook
        raise RosterUnreadable("not_xlsx", f"无法打开XLSX工作簿: {exc}") from None
    name = layout.sheet_name
    sheet = workbook[name] if name is not None and name in workbook.sheetnames else workbook.worksheets[0]
    declared_rows = sheet.max_row or 1
    sheet.reset_dimensions()  # a <dimension> that understates the sheet must not cut it short
    rows = sheet.iter_rows()
    consumed = 0
    try:
        first = next(rows)
    except StopIteration:
        workbook.close()
        raise RosterUnreadable("empty_file", "工作表是空的") from None
    header_cells = [xlsx_cell_text(c.value) for c in first]
    try:
        header = map_header(header_cells, layout)
    except RosterUnreadable:
        workbook.close()
        raise
    width = len(header_cells)

    def records(check: LineCheck | None) -> Records:  # a workbook has no CSV lines: every record is checked whole
        nonlocal consumed
        try:
            for cells in rows:
                values = [xlsx_text(c.value) for c in cells]
                numbered = next((c.row for c in cells if getattr(c, "row", None)), None)
                if numbered is None or not any(v.strip() for v in values):
                    continue
                if len(values) < width:  # a blank value is an absent cell: pad, never "too few fields"
                    values.extend([""] * (width - len(values)))
                consumed = numbered
                yield numbered, values, False
        finally:
            workbook.close()

    return RosterFile(
        path,
        "xlsx",
        None,
        header,
        records,
        size,
        lambda: min(size, int(size * consumed / declared_rows)),
        workbook.close,
    )
