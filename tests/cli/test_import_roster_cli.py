"""The `tehuibao import-roster` contract that other tools rely on: JSON last line, report files, exit status."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.engine import Engine

from insurance.demo.roster import generate_rows, write_csv
from tests.conftest import ROOT, run_cli
from tests.imports.builders import HEADER, register_counts, write_rows
from tests.roster_defects import defective_totals, generate_defective_rows

CONTRACT_KEYS = {
    "rows",
    "accepted",
    "normalised",
    "rejected",
    "created",
    "updated",
    "unchanged",
    "households",
    "errors",
}


def _json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def test_json_output_has_the_contract_keys_and_one_error_per_rejected_row(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    rows, expectations = generate_defective_rows(seed=3)
    totals = defective_totals(expectations, rows)
    path = write_rows(tmp_path / "bad.csv", rows)
    result = run_cli("import-roster", str(path), "--json", env={"DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    body = _json(result.stdout)
    assert body.keys() >= CONTRACT_KEYS
    assert (body["rows"], body["accepted"], body["rejected"]) == (
        totals.rows,
        totals.accepted_rows,
        totals.rejected_rows,
    )
    assert body["households"] == totals.accepted_households and body["created"] == totals.accepted_rows
    rejected_rows = {e.row for e in expectations if e.decision == "reject"}
    assert {e["row"] for e in body["errors"]} == rejected_rows
    assert all({"row", "column", "code", "message"} <= e.keys() for e in body["errors"])
    assert {e["column"] for e in body["errors"]} <= set(HEADER)


def test_reports_are_written_as_csv_and_xlsx(database_url: str, engine: Engine, tmp_path: Path) -> None:
    rows, expectations = generate_defective_rows(seed=4)
    rejected = sum(1 for e in expectations if e.decision == "reject")
    path = write_rows(tmp_path / "bad.csv", rows)
    env = {"DATABASE_URL": database_url}
    assert (
        run_cli("import-roster", str(path), "--dry-run", "--report", str(tmp_path / "r.csv"), env=env).returncode == 0
    )
    assert run_cli("import-roster", str(path), "--report", str(tmp_path / "r.xlsx"), env=env).returncode == 0
    raw = (tmp_path / "r.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        report = list(csv.reader(handle))
    assert report[0][0].startswith("行号")
    assert sum(1 for r in report[1:] if r[3].startswith("拒绝")) == rejected
    sheet = load_workbook(tmp_path / "r.xlsx", read_only=True).active
    assert sum(1 for r in sheet.iter_rows(min_row=2, values_only=True) if str(r[3]).startswith("拒绝")) == rejected


def test_strict_import_with_a_bad_row_writes_nothing(database_url: str, engine: Engine, tmp_path: Path) -> None:
    rows, _ = generate_defective_rows(seed=5)
    result = run_cli(
        "import-roster",
        str(write_rows(tmp_path / "bad.csv", rows)),
        "--strict",
        "--json",
        env={"DATABASE_URL": database_url},
    )
    assert result.returncode == 0
    assert _json(result.stdout)["applied"] is False
    assert register_counts(engine) == (0, 0, 0)


def test_second_import_of_the_same_file_says_nothing_changed(database_url: str, engine: Engine, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "r.csv", list(generate_rows(80, seed=6)))
    env = {"DATABASE_URL": database_url}
    run_cli("import-roster", str(path), env=env)
    result = run_cli("import-roster", str(path), "--json", env=env)
    body = _json(result.stdout)
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 80)
    assert "花名册没有任何变化" in result.stdout


def test_unusable_input_exits_2_naming_the_problem(database_url: str, engine: Engine, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    rows = [r[:1] + r[2:] for r in generate_rows(3, seed=7)]
    no_name = write_rows(tmp_path / "no-name.csv", rows, header=[h for h in HEADER if h != "姓名"])
    result = run_cli("import-roster", str(no_name), "--json", env=env)
    assert result.returncode == 2 and "姓名" in result.stderr
    assert _json(result.stdout)["error"]["column"] == "姓名"
    assert run_cli("import-roster", str(tmp_path / "missing.csv"), env=env).returncode == 2
    (tmp_path / "empty.csv").write_bytes(b"")
    assert run_cli("import-roster", str(tmp_path / "empty.csv"), env=env).returncode == 2
    assert register_counts(engine) == (0, 0, 0)


def test_a_database_error_midway_exits_1_and_leaves_nothing_half_written(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    rows = list(generate_rows(300, seed=8))
    last = rows[-1]
    # A real error from the database in the middle of the merge: the last member is refused by a trigger.
    if engine.dialect.name == "postgresql":
        ddl = [
            "CREATE FUNCTION refuse_member() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.id_number = '{last[2]}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; "
            "END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_member BEFORE INSERT ON member FOR EACH ROW EXECUTE FUNCTION refuse_member()",
        ]
        undo = ["DROP TRIGGER refuse_member ON member", "DROP FUNCTION refuse_member()"]
    else:
        ddl = [
            f"CREATE TRIGGER refuse_member BEFORE INSERT ON member WHEN NEW.id_number = '{last[2]}' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ]
        undo = ["DROP TRIGGER refuse_member"]
    with engine.begin() as connection:
        for statement in ddl:
            connection.exec_driver_sql(statement)
    try:
        result = run_cli("import-roster", str(write_rows(tmp_path / "r.csv", rows)), env={"DATABASE_URL": database_url})
    finally:
        with engine.begin() as connection:
            for statement in undo:
                connection.exec_driver_sql(statement)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "未作任何修改" in result.stderr
    assert register_counts(engine) == (0, 0, 0)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM division WHERE level = 'village'")).scalar_one() == 0
        assert connection.execute(text("SELECT status FROM roster_import")).scalar_one() == "failed"


def test_a_killed_import_leaves_nothing_half_written(database_url: str, engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    # Big enough to be killed mid-way even as PostgreSQL's first load of an empty register (about 10 s per million).
    write_csv(path, generate_rows(400_000, seed=9))
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "tehuibao"), "import-roster", str(path)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill it once it is writing (its import row exists)
        with engine.connect() as connection:
            if connection.execute(text("SELECT COUNT(*) FROM roster_import")).scalar_one():
                break
        time.sleep(0.05)
    time.sleep(1.0)
    assert process.poll() is None, "the import finished before it could be killed: use a larger file"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert register_counts(engine) == (0, 0, 0)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM division WHERE level = 'village'")).scalar_one() == 0
        # Recorded as running, never queued: the sweeper must not hand a command-line import to a worker.
        assert connection.execute(text("SELECT status FROM roster_import")).scalar_one() == "running"
        if engine.dialect.name == "postgresql":  # the first load dropped them inside its transaction: they are back
            constraints = connection.execute(
                text("SELECT conname FROM pg_constraint WHERE conrelid = CAST('member' AS regclass) ORDER BY 1")
            ).scalars()
            assert list(constraints) == ["member_household_id_fkey", "member_id_number_key", "member_pkey"]
