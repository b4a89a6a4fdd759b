"""`tehuibao coverage check`: exit 0 when the kept coverage counts equal a recount from the rows, 1 (with the
differences, and a JSON last line) once a count is corrupted by hand."""

import json
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.conftest import run_cli
from tests.gaps_story import build_story


def test_the_check_passes_on_exact_counts_and_fails_on_a_corrupted_one(
    database_url: str, engine: Engine, session: Session, tmp_path: Path
) -> None:
    build_story(session, engine, tmp_path)
    env = {"DATABASE_URL": database_url}
    equal = run_cli("coverage", "check", "--json", env=env)
    assert equal.returncode == 0, equal.stderr
    assert json.loads(equal.stdout.strip().splitlines()[-1]) == {"equal": True, "differences": []}
    with engine.begin() as connection:
        connection.execute(text("UPDATE coverage_cohort SET members = members - 1 WHERE kind = 'cover'"))
    different = run_cli("coverage", "check", "--json", env=env)
    assert different.returncode == 1, different.stderr
    result = json.loads(different.stdout.strip().splitlines()[-1])
    assert result["equal"] is False and result["differences"]
    assert "存储" in different.stdout
