"""Reading one-stop settlement sheets from files (issue 14's contract): CSV in UTF-8 with or without BOM and in
GB18030, XLSX with number and date cells, Chinese or English headers, unknown columns reported, a missing required
column refusing the file. The files are built here. No database."""

import csv
import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from claims.settlement_checks import NOTE, check_sheet, read_settlement_file
from claims.settlement_sheet import SETTLEMENT_COLUMNS, SettlementSheetUnreadable, open_settlement_sheet
from insurance.register.identifiers import id_check_char

TODAY = date(2026, 3, 1)
HEADERS = [c.header for c in SETTLEMENT_COLUMNS]
KEYS = [c.key for c in SETTLEMENT_COLUMNS]
RARE_NAMES = ["龚䶮", "吉𠮷", "王堃"]


def id_number(serial: int) -> str:
    first17 = f"43312419850315{serial:03d}"
    return first17 + id_check_char(first17)


def row(n: int, name: str = "田丹艳", **cells: object) -> list[object]:
    values: dict[str, object] = {
        "settlement_no": f"JS2026{n:05d}",
        "name": name,
        "id_number": id_number(n),
        "hospital": "花垣县人民医院",
        "admission_date": "2026-01-02",
        "discharge_date": "2026-01-10",
        "settled_on": "2026-01-11",
        "total_cost": "12345.67",
        "in_policy_amount": "10000.00",
        "bmi_paid": "6000",
        "ci_paid": "1500.50",
        "assistance_paid": "800",
        "main_diagnosis": "肺炎 J18.9",
    }
    values.update(cells)
    return [values[k] for k in KEYS]


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8", header: list[str] = HEADERS) -> Path:
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]], header: list[str] = HEADERS, sheet: str | None = None) -> Path:
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    if sheet is not None:  # the sheet the reader must find is not the first
        first.title = "说明"
        first.append(["本文件由医院一站式结算系统导出"])
        target = workbook.create_sheet(sheet)
    else:
        target = first
    target.append(header)
    for values in rows:
        target.append(values)
    workbook.save(path)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_csv_file_is_read_in_each_encoding_with_rare_characters(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "s.csv", [row(n, name) for n, name in enumerate(RARE_NAMES, start=1)], encoding)
    reading = read_settlement_file(path, today=TODAY)
    assert (reading.file_format, reading.encoding, reading.language) == ("csv", encoding, "chinese")
    assert reading.issues == [] and reading.rows == 3
    assert [s.name for s in reading.accepted] == RARE_NAMES
    assert [s.row for s in reading.accepted] == [2, 3, 4]
    first = reading.accepted[0]
    assert (first.total_cost_fen, first.in_policy_fen, first.bmi_paid_fen, first.ci_paid_fen) == (
        1234567,
        1000000,
        600000,
        150050,
    )
    assert first.assistance_paid_fen == 80000 and first.settled_on == date(2026, 1, 11)


def test_a_workbook_reads_number_cells_to_the_exact_fen_and_date_cells_as_dates(tmp_path: Path) -> None:
    amounts = {"total_cost": 1234.56, "in_policy_amount": 0.1 + 0.2, "bmi_paid": 0, "ci_paid": 0.07 * 3}
    dates = {"admission_date": date(2026, 1, 2), "discharge_date": datetime(2026, 1, 9, 16, 30)}
    path = write_xlsx(
        tmp_path / "s.xlsx",
        [row(1, "吉𠮷", **amounts, **dates, assistance_paid=5000), row(2, "王堃", total_cost=12.345)],
        sheet="结算单",
    )
    reading = read_settlement_file(path, today=TODAY)
    assert (reading.file_format, reading.encoding) == ("xlsx", None)
    [settlement] = reading.accepted
    assert (settlement.total_cost_fen, settlement.in_policy_fen, settlement.bmi_paid_fen) == (123456, 30, 0)
    assert (settlement.ci_paid_fen, settlement.assistance_paid_fen) == (21, 500000)
    assert (settlement.admission_date, settlement.discharge_date) == (date(2026, 1, 2), date(2026, 1, 9))
    assert settlement.name == "吉𠮷"
    [refusal] = reading.issues  # a number cell with a third decimal is not rounded into the fen
    assert (refusal.row, refusal.key, refusal.code) == (3, "total_cost", "amount_invalid")
    assert refusal.message == "医疗总费用“12.345”最多保留两位小数"


def test_an_id_number_in_a_number_cell_is_refused_as_lost_digits(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "s.xlsx", [row(1, id_number=float(id_number(1)))])
    [refusal] = read_settlement_file(path, today=TODAY).issues
    assert (refusal.row, refusal.key, refusal.code) == (2, "id_number", "id_invalid")
    assert "科学计数法" in refusal.message


def test_english_headers_in_any_order_with_an_unknown_column_reported(tmp_path: Path) -> None:
    order = list(reversed(KEYS))
    header = [k.upper() if k == "hospital" else k for k in order] + ["remark"]
    rows = [[dict(zip(KEYS, row(1), strict=True))[k] for k in order] + ["备注"]]
    path = write_csv(tmp_path / "s.csv", rows, header=header)
    reading = read_settlement_file(path, today=TODAY)
    assert reading.language == "english" and reading.extra_columns == ["remark"]
    [note] = reading.issues
    assert (note.row, note.column, note.code, note.kind) == (1, "remark", "extra_column", NOTE)
    assert note.message == "未知的列“remark”已忽略"
    [settlement] = reading.accepted
    assert settlement.settlement_no == "JS202600001" and settlement.hospital == "花垣县人民医院"


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_missing_required_column_refuses_the_file_naming_it(tmp_path: Path, suffix: str) -> None:
    header = [h for h in HEADERS if h != "医疗救助支付"]
    rows = [[v for k, v in zip(KEYS, row(1), strict=True) if k != "assistance_paid"]]
    write = write_csv if suffix == "csv" else write_xlsx
    path = write(tmp_path / f"s.{suffix}", rows, header=header)
    with pytest.raises(SettlementSheetUnreadable) as raised:
        open_settlement_sheet(path)
    assert (raised.value.code, raised.value.column) == ("missing_column", "医疗救助支付")
    assert raised.value.message == "缺少必需的列：医疗救助支付"


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "empty_file"), (b"PK\x03\x04 not a workbook", "not_xlsx"), ("姓名,证件号码\n".encode(), "missing_column")],
)
def test_an_unusable_file_is_refused_whole_in_chinese(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "s.bin"
    path.write_bytes(content)
    with pytest.raises(SettlementSheetUnreadable) as raised:
        open_settlement_sheet(path)
    assert raised.value.code == code and not raised.value.message.isascii()
    assert "Error" not in raised.value.message and "zip" not in raised.value.message.lower()


def test_a_file_with_one_row_of_every_refusal_names_each_row_and_column(tmp_path: Path) -> None:
    bad_check = id_number(9)[:17] + ("1" if id_number(9)[17] != "1" else "2")
    rows = [
        row(1),
        row(2, settlement_no=""),
        row(3, id_number=bad_check),
        row(4, discharge_date="2026-13-01"),
        row(5, settled_on="2026-03-02"),
        row(6, bmi_paid="-1"),
        row(7, in_policy_amount="20000"),
        row(1),  # the settlement number of row 2
        row(9, settlement_no="J" * 41),
        row(10, id_number=f" {id_number(10)[:9]} {id_number(10)[9:]} "),  # accepted, fixed
    ]
    path = write_csv(tmp_path / "s.csv", [*rows[:3], [], *rows[3:]], "gb18030")  # a blank line still counts a row
    reading = read_settlement_file(path, today=TODAY)
    assert reading.rows == 10
    found = [(i.row, i.key, i.code, i.kind) for i in reading.issues]
    assert found == [
        (3, "settlement_no", "required", "error"),
        (4, "id_number", "id_invalid", "error"),
        (6, "discharge_date", "date_invalid", "error"),
        (7, "settled_on", "date_in_future", "error"),
        (8, "bmi_paid", "amount_invalid", "error"),
        (9, "in_policy_amount", "amounts_inconsistent", "error"),
        (10, "settlement_no", "duplicate_settlement", "error"),
        (11, "settlement_no", "value_invalid", "error"),
        (12, "id_number", "id_with_spaces", "fixed"),
    ]
    assert reading.issues[6].message == "结算单号“JS202600001”与第 2 行重复"
    assert [s.row for s in reading.accepted] == [2, 12]
    assert reading.accepted[1].id_number == id_number(10)


def test_rows_stream_one_at_a_time(tmp_path: Path) -> None:
    """check_sheet is a generator over the file: the first row is checked before the rest is read."""
    path = write_csv(tmp_path / "s.csv", [row(n) for n in range(1, 2001)])
    sheet = open_settlement_sheet(path)
    rows = check_sheet(sheet, today=TODAY)
    first = next(rows)
    assert first.settlement is not None and first.row == 2
    assert sheet.position() < path.stat().st_size
    assert sum(1 for _ in rows) == 1999
