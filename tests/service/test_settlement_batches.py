"""The settlement import works a few thousand rows at a time (claims.settlement_batch); its outcome must not depend
on where the chunks break: the annual limit counts the earlier rows of the file across chunk boundaries, claim
numbers follow the rows, and a later file naming settlements already imported creates nothing for them."""

from pathlib import Path

from sqlalchemy.engine import Engine

from claims.settlement_import import SettlementOptions, SettlementOutcome, run_settlement_import
from core.audit import Actor
from core.db import local_today
from tests.cli import test_import_settlements_cli as cli_tests
from tests.cli.test_import_settlements_cli import Setting, every_case, write
from tests.cover_builders import fetch, scalar

setting = cli_tests.setting  # the fixture: an issued 2026 policy of 12 members


def _run(engine: Engine, path: Path, insurer_id: int, **options: object) -> SettlementOutcome:
    return run_settlement_import(
        engine,
        path,
        SettlementOptions(
            insurer_id=insurer_id, actor=Actor.system("test"), today=local_today(), filename=path.name, **options
        ),
    )


def _insurer(engine: Engine, uscc: str) -> int:
    return int(scalar(engine, "SELECT id FROM insurer WHERE uscc = :uscc", uscc=uscc))


def _shape(outcome: SettlementOutcome) -> dict:
    summary = outcome.summary()
    summary.pop("import_id")
    return summary


def test_the_outcome_is_the_same_whatever_the_chunk_size(setting: Setting, engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "sheet.csv", every_case(setting))
    insurer_id = _insurer(engine, setting.uscc)
    whole = _run(engine, path, insurer_id, dry_run=True)
    for rows in (1, 2, 5):
        assert _shape(_run(engine, path, insurer_id, dry_run=True, chunk_rows=rows)) == _shape(whole), rows
    assert scalar(engine, "SELECT COUNT(*) FROM claim") == 0


def test_one_row_per_chunk_still_counts_the_annual_limit_of_earlier_rows(
    setting: Setting, engine: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path / "sheet.csv", every_case(setting))
    insurer_id = _insurer(engine, setting.uscc)
    outcome = _run(engine, path, insurer_id, chunk_rows=1)
    claims = {c.row: c for c in outcome.claims}
    assert claims[5].payable_fen == 7_650_000
    assert claims[6].payable_fen == 10_000_000 - 7_650_000 and "annual_limit" in claims[6].reasons
    numbers = [c.claim_no for c in sorted(outcome.claims, key=lambda c: c.row)]
    for year in {n[2:6] for n in numbers}:  # numbered by the admission's year, in row order within it
        of_year = [n for n in numbers if n[2:6] == year]
        assert of_year == sorted(of_year)
    assert len(set(numbers)) == 5
    stored = fetch(engine, "SELECT claim_no, version, status FROM claim ORDER BY id")
    assert [r.claim_no for r in stored] == numbers and {(r.version, r.status) for r in stored} == {(3, "assessed")}
    events = fetch(engine, "SELECT action, version FROM claim_event ORDER BY claim_id, version")
    assert [(e.action, e.version) for e in events[:3]] == [("file", 1), ("complete_documents", 2), ("assess", 3)]
    assert len(events) == 15
    assert scalar(engine, "SELECT COUNT(*) FROM audit_log WHERE entity_type = 'claim'") == 10

    later = write(tmp_path / "later.csv", every_case(setting)[:2] + every_case(setting)[3:5])
    again = _run(engine, later, insurer_id, chunk_rows=3)
    assert again.claims_created == 0 and {e.code for e in again.errors} == {"duplicate_settlement"}
    assert claims[2].claim_no in next(e.message for e in again.errors if e.row == 2)
    assert scalar(engine, "SELECT COUNT(*) FROM claim") == 5
