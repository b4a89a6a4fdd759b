"""Reading a one-stop settlement sheet (一站式结算单, the contract of issue 14): its columns, formats and header, read
the roster's way (insurance.register.roster.open_sheet: UTF-8 with or without BOM or GB18030 told by the bytes, XLSX,
Chinese or English headers, unknown columns reported, a missing required column refusing the file). Pure: no web, no
database. The checks of each row are in settlement_checks.py."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from pathlib import Path

from insurance.register.roster import (
    Column,
    HeaderMap,
    RosterFile,
    RosterUnreadable,
    SheetLayout,
    open_sheet,
    xlsx_cell_text,
)

# The contract's columns, in its order: Chinese header (the default) and English alias.
SETTLEMENT_COLUMNS: tuple[Column, ...] = (
    Column("settlement_no", "结算单号"),
    Column("name", "姓名"),
    Column("id_number", "证件号码"),
    Column("hospital", "医疗机构"),
    Column("admission_date", "入院日期"),
    Column("discharge_date", "出院日期"),
    Column("settled_on", "结算日期"),
    Column("total_cost", "医疗总费用"),
    Column("in_policy_amount", "政策范围内费用"),
    Column("bmi_paid", "基本医保支付"),
    Column("ci_paid", "大病保险支付"),
    Column("assistance_paid", "医疗救助支付"),
    Column("main_diagnosis", "主要诊断"),
)
AMOUNT_COLUMNS: tuple[str, ...] = ("total_cost", "in_policy_amount", "bmi_paid", "ci_paid", "assistance_paid")
DATE_COLUMNS: tuple[str, ...] = ("admission_date", "discharge_date", "settled_on")
# A workbook is read from its sheet of this name, else from its first sheet.
SETTLEMENT_LAYOUT = SheetLayout(SETTLEMENT_COLUMNS, (), "结算单")
LABELS: dict[str, str] = {c.key: c.header for c in SETTLEMENT_COLUMNS}  # messages name a column in Chinese

# Excel keeps and shows a number to 15 significant digits; the XML may carry 17 (0.1+0.2 is stored as
# 0.30000000000000004 and shown as 0.3). A number cell is read as those 15 digits, exactly, from the double's exact
# decimal expansion: never through float arithmetic.
_EXCEL_DIGITS = Context(prec=15, rounding=ROUND_HALF_UP)
# Messages of a file the reader cannot use, where the roster's wording would quote an English library error.
_MESSAGES = {"not_xlsx": "无法打开XLSX工作簿，文件可能已损坏或不是XLSX格式"}


class SettlementSheetUnreadable(RosterUnreadable):
    """The file as a whole cannot be imported: not CSV or XLSX, unreadable bytes, a required column missing. Carries
    the roster's codes (empty_file, not_xlsx, bad_csv, bad_encoding, duplicate_column, missing_column)."""

    @classmethod
    def of(cls, exc: RosterUnreadable) -> "SettlementSheetUnreadable":
        return cls(exc.code, _MESSAGES.get(exc.code, exc.message), exc.column)


def exact_cell_text(value: object) -> str:
    """A workbook cell as the text a CSV file would hold, a number cell exactly as Excel shows it (1234.56 stays
    1234.56, 0.1+0.2 reads 0.3, 5000.0 reads 5000); anything else, and a number of 16 digits or more (digits already
    lost, e.g. an ID number), as the roster reads it."""
    if isinstance(value, float) and abs(value) < 1e15 and value == value:  # a NaN never equals itself
        shown = _EXCEL_DIGITS.plus(Decimal(value)).normalize(_EXCEL_DIGITS)
        return format(shown, "f")
    return xlsx_cell_text(value)


@dataclass
class SettlementSheet:
    """An opened settlement sheet: the file's facts and its rows, streamed once, numbered as the spreadsheet numbers
    them (the header is row 1)."""

    path: Path
    file_format: str  # "csv" | "xlsx"
    encoding: str | None  # "utf-8", "utf-8-sig" or "gb18030" for a CSV file; None for a workbook
    header: HeaderMap  # where each column stands, the headers as written, the extra columns
    size_bytes: int
    _file: RosterFile

    @property
    def extra_columns(self) -> list[str]:
        """Headers of unknown columns, as written: reported and ignored."""
        return self.header.extra

    def rows(self) -> Iterator[tuple[int, Sequence[str]]]:
        """(row number, cells) for every row with a value, in file order; closes the file at the end. Raises
        SettlementSheetUnreadable when the bytes turn unreadable part-way (a CSV quote never closed)."""
        try:
            for number, cells, _canonical in self._file.read(None):
                yield number, cells
        except RosterUnreadable as exc:
            raise SettlementSheetUnreadable.of(exc) from None

    def position(self) -> int:
        """Bytes consumed so far (an estimate for a workbook), for progress."""
        return self._file.position()

    def close(self) -> None:
        self._file.close()


def open_settlement_sheet(path: Path) -> SettlementSheet:
    """Opens the file and reads its header; raises SettlementSheetUnreadable (naming a missing column) when the file
    cannot be imported at all."""
    try:
        opened = open_sheet(path, SETTLEMENT_LAYOUT, exact_cell_text)
    except RosterUnreadable as exc:
        raise SettlementSheetUnreadable.of(exc) from None
    return SettlementSheet(path, opened.file_format, opened.encoding, opened.header, opened.size_bytes, opened)
