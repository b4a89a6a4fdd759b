"""The report of a settlement import, as CSV (UTF-8 with BOM) or XLSX: the refused rows and notes, then a line per
claim created with its payable amount, what the household pays and the reason codes. ID numbers are masked (the
issues are stored masked)."""

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from claims.models import Claim, SettlementImportIssue
from claims.settlement_import import SettlementOutcome

REPORT_HEADERS = (
    "行号",
    "列",
    "代码",
    "说明",
    "原值",
    "结算单号",
    "理赔案件号",
    "状态",
    "应赔（元）",
    "个人自付（元）",
)


def _yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen // 100}.{fen % 100:02d}"


def outcome_rows(outcome: SettlementOutcome) -> Iterator[list[Any]]:
    """The rows of a run just made (the CLI's report; a dry run's too)."""
    for issue in outcome.issues:
        yield [issue.row, issue.column, issue.code, issue.message, issue.value or "", "", "", "", "", ""]
    for c in outcome.claims:
        reasons = "、".join(c.reasons)
        row = [c.row, "", "claim_created", reasons, "", c.settlement_no, c.claim_no, c.status]
        yield [*row, _yuan(c.payable_fen), _yuan(c.household_pays_fen)]


def stored_rows(session: Session, import_id: int) -> Iterator[list[Any]]:
    """The rows of a stored import (the web's download)."""
    issues = session.exec(
        select(SettlementImportIssue)
        .where(SettlementImportIssue.import_id == import_id)
        .order_by(col(SettlementImportIssue.row), col(SettlementImportIssue.id))
    )
    for i in issues:
        yield [i.row, i.column, i.code, i.message, i.value or "", i.settlement_no or "", "", "", "", ""]
    claims = session.exec(select(Claim).where(Claim.settlement_import_id == import_id).order_by(col(Claim.id)))
    for c in claims:
        reasons = "、".join((c.assessment or {}).get("reasons", []))
        yield [
            "",
            "",
            "claim_created",
            reasons,
            "",
            c.settlement_no or "",
            c.claim_no,
            c.status.value,
            _yuan(c.payable_fen),
            _yuan(c.household_pays_fen),
        ]


def iter_report_csv(rows: Iterable[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(REPORT_HEADERS)
    for row in rows:
        writer.writerow(row)
    yield buffer.getvalue()


def write_report_xlsx(target: Path, rows: Iterable[list[Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("结算单导入报告")
    sheet.append(list(REPORT_HEADERS))
    for values in rows:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.number_format = "@"
            cells.append(cell)
        sheet.append(cells)
    workbook.save(target)


def write_report(path: Path, rows: Iterable[list[Any]]) -> None:
    """CSV, or XLSX when the name ends in .xlsx."""
    if path.suffix.lower() == ".xlsx":
        write_report_xlsx(path, rows)
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        for chunk in iter_report_csv(rows):
            handle.write(chunk)
