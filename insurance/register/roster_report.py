"""The row-level report of a roster import, as CSV (UTF-8 with BOM, so spreadsheet programs read it) or XLSX, and
what each reader may see of its rows."""

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from core.masking import mask_id_number, mask_ids_in_text
from insurance.register.roster import column_of

REPORT_HEADERS = (
    "行号 row",
    "列 column",
    "代码 code",
    "类别 severity",
    "说明 message",
    "原值 value",
    "户编号 household_no",
)
REPORT_KEYS = ("row", "column", "code", "severity", "message", "value", "household_no")
SEVERITY_LABELS = {"error": "拒绝 rejected", "fixed": "已修正 normalised", "note": "提示 note"}


def for_reader(issue: dict[str, Any], *, full_ids: bool) -> dict[str, Any]:
    """An issue as one reader may see it. Only the importing office's report file has full ID numbers (full_ids),
    in the value column, so that the office can correct its source; every other reader (the pages, the API,
    another office's download) gets the value masked as the pages mask it, and any ID-like run in a value or a
    household number masked too (a row shifted by a column puts an ID there). Messages are masked for everyone:
    they are stored masked, and this also covers rows stored before they were."""
    seen = dict(issue)
    seen["message"] = mask_ids_in_text(issue.get("message") or "")
    if not full_ids:
        value = issue.get("value")
        if value:
            column = column_of(issue.get("column"))
            seen["value"] = mask_id_number(value) if column and column.key == "id_number" else mask_ids_in_text(value)
        if issue.get("household_no"):
            seen["household_no"] = mask_ids_in_text(issue["household_no"])
    return seen


def for_readers(issues: Iterable[dict[str, Any]], *, full_ids: bool) -> Iterator[dict[str, Any]]:
    for issue in issues:
        yield for_reader(issue, full_ids=full_ids)


def _cells(issue: dict[str, Any]) -> list[Any]:
    cells = [issue.get(key) for key in REPORT_KEYS]
    cells[3] = SEVERITY_LABELS.get(str(cells[3]), cells[3])
    return ["" if c is None else c for c in cells]


def iter_report_csv(issues: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Streams the report as CSV text chunks, BOM first, for a download that never holds the whole file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(REPORT_HEADERS)
    for count, issue in enumerate(issues, start=1):
        writer.writerow(_cells(issue))
        if count % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_report(path: Path, issues: Iterable[dict[str, Any]]) -> None:
    """CSV, or XLSX when the name ends in .xlsx."""
    if path.suffix.lower() == ".xlsx":
        write_report_xlsx(path, issues)
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        for chunk in iter_report_csv(issues):
            handle.write(chunk)


def write_report_xlsx(target: Path, issues: Iterable[dict[str, Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("导入报告")
    sheet.append(list(REPORT_HEADERS))
    for issue in issues:
        row = []
        for value in _cells(issue):
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.number_format = "@"  # values such as ID numbers stay text, all their digits kept
            row.append(cell)
        sheet.append(row)
    workbook.save(target)
