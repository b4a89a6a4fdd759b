"""The `tehuibao import-settlements` contract on SQLite and PostgreSQL: one row of every refusal and every reason,
exit codes 0/2/1, the --json last line, the same file again creating nothing, a dry run writing nothing."""

import csv
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from claims.settlement_import import file_sha256
from claims.settlement_sheet import SETTLEMENT_COLUMNS
from core.db import local_today
from insurance.register.identifiers import id_check_char
from tests.conftest import run_cli
from tests.cover_builders import coverage_rows, fetch, scalar
from tests.document_builders import issued_policy

HEADER = [c.header for c in SETTLEMENT_COLUMNS]
JSON_KEYS = {"rows", "accepted", "refused", "claims_created", "payable_fen", "errors", "claims"}
CLAIM_KEYS = {"row", "settlement_no", "claim_no", "status", "payable_fen", "household_pays_fen", "reasons"}


@dataclass
class Setting:
    env: dict[str, str]
    ids: list[tuple[str, str, date]]  # id number, name, cover start of covered members
    uscc: str


@pytest.fixture
def setting(session: Session, engine: Engine, tmp_path: Path, database_url: str) -> Setting:
    issued = issued_policy(session, engine, tmp_path, members=12)
    rows = [r for r in coverage_rows(engine, issued.policy.policy_no) if r.status == "active"]
    names = {r.id_number: r.name for r in fetch(engine, "SELECT id_number, name FROM member")}
    ids = sorted((r.id_number, names[r.id_number], r.cover_start) for r in rows)
    return Setting({"DATABASE_URL": database_url}, ids, issued.cast.insurer.uscc)


def line(no: str, name: str, id_number: str, admitted: date, total: str = "10000.00", **over: str) -> list[str]:
    cells = {
        "settlement_no": no,
        "name": name,
        "id_number": id_number,
        "hospital": "花垣县人民医院",
        "admission_date": admitted.isoformat(),
        "discharge_date": (admitted + timedelta(days=5)).isoformat(),
        "settled_on": (admitted + timedelta(days=5)).isoformat(),
        "total_cost": total,
        "in_policy_amount": total,
        "bmi_paid": "0",
        "ci_paid": "0",
        "assistance_paid": "0",
        "main_diagnosis": "肺炎 J18.9",
    }
    cells.update(over)
    return [cells[c.key] for c in SETTLEMENT_COLUMNS]


def unknown_id() -> str:
    first17 = "43312419800101999"
    return first17 + id_check_char(first17)


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def every_case(s: Setting) -> list[list[str]]:
    """Rows 2.. : payable, not_covered, waiting_period, annual_limit twice, then one of every refusal."""
    (a, a_name, start), (b, b_name, _), (c, c_name, _) = s.ids[:3]
    paid_on = min(start + timedelta(days=120), local_today() - timedelta(days=10))
    future = (local_today() + timedelta(days=3)).isoformat()
    return [
        line("S01", a_name, a, paid_on),  # 2 payable
        line("S02", b_name, b, start - timedelta(days=20)),  # 3 not covered (before the cover)
        line("S03", b_name, b, start + timedelta(days=3)),  # 4 waiting period
        line("S04", c_name, c, paid_on, total="90000.00"),  # 5 most of the annual limit
        line("S05", c_name, c, paid_on + timedelta(days=1), total="90000.00"),  # 6 the rest: annual_limit
        line("", a_name, a, paid_on),  # 7 required
        line("S07", a_name, a[:17] + ("0" if a[17] != "0" else "1"), paid_on),  # 8 id_invalid
        line("S08", "无此人", unknown_id(), paid_on),  # 9 member_unknown
        line("S09", "别人", a, paid_on),  # 10 name_mismatch
        line("S10", a_name, a, paid_on, admission_date="2026-13-01"),  # 11 date_invalid
        line("S11", a_name, a, paid_on, settled_on=future),  # 12 date_in_future
        line("S12", a_name, a, paid_on, bmi_paid="1.234"),  # 13 amount_invalid
        line("S13", a_name, a, paid_on, in_policy_amount="20000"),  # 14 amounts_inconsistent
        line("S01", a_name, a, paid_on),  # 15 duplicate_settlement (row 2)
    ]


def _json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def test_every_refusal_and_every_reason_in_one_file(setting: Setting, engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "sheet.csv", every_case(setting))
    result = run_cli(
        "import-settlements",
        str(path),
        "--insurer",
        setting.uscc,
        "--json",
        "--report",
        str(tmp_path / "r.csv"),
        env=setting.env,
    )
    assert result.returncode == 0, result.stderr
    body = _json(result.stdout)
    assert body.keys() >= JSON_KEYS
    assert (body["rows"], body["accepted"], body["refused"], body["claims_created"]) == (14, 5, 9, 5)
    refusals = {e["row"]: e["code"] for e in body["errors"]}
    assert refusals == {
        7: "required",
        8: "id_invalid",
        9: "member_unknown",
        10: "name_mismatch",
        11: "date_invalid",
        12: "date_in_future",
        13: "amount_invalid",
        14: "amounts_inconsistent",
        15: "duplicate_settlement",
    }
    assert all(e.keys() == {"row", "column", "code", "message"} for e in body["errors"])
    assert "第 2 行" in next(e["message"] for e in body["errors"] if e["row"] == 15)
    claims = {c["row"]: c for c in body["claims"]}
    assert all(c.keys() >= CLAIM_KEYS for c in body["claims"])
    assert claims[2]["payable_fen"] == 850_000 and claims[2]["household_pays_fen"] == 150_000
    assert "not_covered" in claims[3]["reasons"] and claims[3]["payable_fen"] == 0
    assert "waiting_period" in claims[4]["reasons"] and claims[4]["payable_fen"] == 0
    assert claims[3]["household_pays_fen"] == 1_000_000  # an uncovered stay leaves all of it to the household
    assert claims[5]["payable_fen"] == 7_650_000
    assert "annual_limit" in claims[6]["reasons"] and claims[6]["payable_fen"] == 10_000_000 - 7_650_000
    assert body["payable_fen"] == sum(c["payable_fen"] for c in body["claims"])
    assert {c["status"] for c in body["claims"]} == {"assessed"}
    assert scalar(engine, "SELECT COUNT(*) FROM claim WHERE settlement_import_id IS NOT NULL") == 5
    report = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert setting.ids[0][0] not in report and "member_unknown" in report and "claim_created" in report


def test_the_same_file_again_creates_nothing_and_says_so(setting: Setting, engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "sheet.csv", every_case(setting)[:2])
    args = ("import-settlements", str(path), "--insurer", setting.uscc, "--json")
    first = _json(run_cli(*args, env=setting.env).stdout)
    again = run_cli(*args, env=setting.env)
    assert again.returncode == 0, again.stderr
    body = _json(again.stdout)
    assert body["claims_created"] == 0 and body["already_imported"] == first["import_id"]
    assert {e["code"] for e in body["errors"]} == {"duplicate_settlement"}
    assert "未创建任何案件" in again.stdout
    assert scalar(engine, "SELECT COUNT(*) FROM claim") == 2
    assert scalar(engine, "SELECT COUNT(*) FROM settlement_import") == 1


def test_a_dry_run_writes_nothing(setting: Setting, engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "sheet.csv", every_case(setting)[:1])
    result = run_cli("import-settlements", str(path), "--insurer", setting.uscc, "--dry-run", "--json", env=setting.env)
    assert result.returncode == 0, result.stderr
    assert _json(result.stdout)["accepted"] == 1
    assert scalar(engine, "SELECT COUNT(*) FROM claim") == 0
    assert scalar(engine, "SELECT COUNT(*) FROM settlement_import") == 0


def test_unusable_input_exits_2_and_an_internal_failure_1(setting: Setting, tmp_path: Path) -> None:
    missing = run_cli("import-settlements", str(tmp_path / "none.csv"), "--json", env=setting.env)
    assert missing.returncode == 2 and _json(missing.stdout)["error"]["code"] == "file_not_found"
    no_column = tmp_path / "short.csv"
    no_column.write_text("结算单号,姓名\nS1,张三\n", encoding="utf-8")
    refused = run_cli("import-settlements", str(no_column), "--insurer", setting.uscc, "--json", env=setting.env)
    assert refused.returncode == 2 and _json(refused.stdout)["error"]["code"] == "missing_column"
    path = write(tmp_path / "sheet.csv", every_case(setting)[:1])
    broken = run_cli(
        "import-settlements", str(path), "--insurer", setting.uscc, env={"DATABASE_URL": "sqlite:////nonexistent/x.db"}
    )
    assert broken.returncode == 1 and "导入失败" in broken.stderr


def test_a_file_whose_import_failed_runs_again_on_that_import(setting: Setting, engine: Engine, tmp_path: Path) -> None:
    (a, a_name, start) = setting.ids[0]
    path = write(tmp_path / "sheet.csv", [line("F01", a_name, a, min(start + timedelta(days=120), local_today()))])
    with engine.begin() as connection:  # a web upload of the same bytes whose job failed: nothing of it was kept
        connection.execute(
            text(
                "INSERT INTO settlement_import (filename, sha256, size_bytes, actor, status, message, rows, accepted, "
                "refused, claims_created, payable_fen, household_pays_fen, created_at) VALUES ('sheet.csv', :sha, 1, "
                "'handler', 'failed', '导入失败', 0, 0, 0, 0, 0, 0, CURRENT_TIMESTAMP)"
            ),
            {"sha": file_sha256(path)},
        )
    failed_id = scalar(engine, "SELECT id FROM settlement_import")
    result = run_cli("import-settlements", str(path), "--insurer", setting.uscc, "--json", env=setting.env)
    assert result.returncode == 0, result.stderr
    body = _json(result.stdout)
    assert (body["import_id"], body["already_imported"], body["claims_created"]) == (failed_id, None, 1)
    assert scalar(engine, "SELECT status FROM settlement_import") == "done"
    assert [r.claim_no for r in fetch(engine, "SELECT claim_no FROM claim")] == [body["claims"][0]["claim_no"]]


def test_a_number_used_earlier_in_the_file_is_a_duplicate_even_of_a_refused_row_and_fixes_are_reported(
    setting: Setting, engine: Engine, tmp_path: Path
) -> None:
    (a, a_name, start), (b, b_name, _) = setting.ids[:2]
    day = min(start + timedelta(days=120), local_today() - timedelta(days=10))
    rows = [
        line("D01", a_name, a, day, bmi_paid="1.234"),  # 2 amount_invalid
        line("D01", a_name, a, day + timedelta(days=1)),  # 3 another stay with row 2's number
        line("D02", "别人", b, day),  # 4 name_mismatch (refused against the register)
        line("D02", b_name, b, day + timedelta(days=1)),  # 5 row 4's number again
        line("D03", f"{b_name[0]} {b_name[1:]}", b, day + timedelta(days=2)),  # 6 a name with a space: fixed
    ]
    result = run_cli(
        "import-settlements",
        str(write(tmp_path / "dup.csv", rows)),
        "--insurer",
        setting.uscc,
        "--json",
        env=setting.env,
    )
    assert result.returncode == 0, result.stderr
    body = _json(result.stdout)
    refusals = {e["row"]: (e["code"], e["message"]) for e in body["errors"]}
    assert [refusals[r][0] for r in (2, 3, 4, 5)] == [
        "amount_invalid",
        "duplicate_settlement",
        "name_mismatch",
        "duplicate_settlement",
    ]
    assert "第 2 行" in refusals[3][1] and "第 4 行" in refusals[5][1]
    assert [c["row"] for c in body["claims"]] == [6]
    assert [(f["row"], f["code"]) for f in body["fixed"]] == [(6, "name_with_spaces")]


def test_a_report_that_cannot_be_written_refuses_the_run_before_anything_is_imported(
    setting: Setting, engine: Engine, tmp_path: Path
) -> None:
    (a, a_name, start) = setting.ids[0]
    path = write(tmp_path / "sheet.csv", [line("R01", a_name, a, min(start + timedelta(days=120), local_today()))])
    report = tmp_path / "no-such-folder" / "r.csv"
    result = run_cli(
        "import-settlements", str(path), "--insurer", setting.uscc, "--json", "--report", str(report), env=setting.env
    )
    assert result.returncode == 2
    assert _json(result.stdout)["error"]["code"] == "report_unwritable"
    assert scalar(engine, "SELECT count(*) FROM claim") == 0
