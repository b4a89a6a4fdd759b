"""`tehuibao import-roster` prints no full ID number; only the report file it writes for whoever ran it has them."""

import argparse
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from core.cli.coverage import cmd_import_roster
from core.settings import Settings
from tests.conftest import run_cli
from tests.imports.builders import leaky_roster


def test_the_import_output_masks_every_id_number_and_the_report_keeps_them(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    roster = leaky_roster(tmp_path / "r.csv")
    report = tmp_path / "report.csv"
    result = run_cli(
        "import-roster", str(roster.path), "--json", "--report", str(report), env={"DATABASE_URL": database_url}
    )
    assert result.returncode == 0, result.stderr
    assert '"rejected": 3' in result.stdout
    printed = result.stdout + result.stderr
    assert [n for n in roster.full_numbers if n in printed] == []
    assert roster.bad_checksum[:6] + "*********" + roster.bad_checksum[-3:] in printed
    assert roster.bad_checksum in report.read_text(encoding="utf-8-sig")  # the importer's file, to fix its source


def test_an_internal_failure_masks_ids_in_the_exceptions_text(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from insurance.register import roster_import

    def failing(*_: object, **__: object) -> None:
        raise RuntimeError('duplicate key value violates unique constraint "member_id_number_key": 433124198503151237')

    monkeypatch.setattr(roster_import, "run_import", failing)
    roster = leaky_roster(tmp_path / "r.csv")
    args = argparse.Namespace(
        path=str(roster.path), dry_run=False, strict=False, complete=False, report=None, json=False
    )
    assert cmd_import_roster(settings, args) == 1
    err = capsys.readouterr().err
    assert "433124*********237" in err and "433124198503151237" not in err
