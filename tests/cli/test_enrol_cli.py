"""`tehuibao enrol`: a county enrolled from the command line, idempotently, with a JSON last line."""

import json
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.conftest import run_cli
from tests.cover_builders import make_enrollable_county, make_group_policy


def _last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def test_enrol_command_enrols_the_eligible_once_and_reports_json(
    database_url: str, engine: Engine, session: Session, tmp_path: Path
) -> None:
    county = make_enrollable_county(session, engine, tmp_path, members=300, seed=5)
    with engine.begin() as connection:
        eligible = connection.execute(
            text(
                "SELECT COUNT(*) FROM member m JOIN household h ON h.id = m.household_id "
                "WHERE m.status = 'active' AND (h.exit_year IS NULL OR h.exit_year >= 2027)"
            )
        ).scalar_one()
    policy = make_group_policy(session, county.handler, year=2027)
    env = {"DATABASE_URL": database_url}

    first = run_cli("enrol", policy.policy_no, "--on", "2026-11-25", "--json", env=env)
    assert first.returncode == 0, first.stderr
    result = _last_json(first.stdout)
    assert result["added"] == eligible > 0
    assert result["members"] == eligible
    assert result["premium_fen"] == eligible * 11500 + result["households"] * 1500

    again = run_cli("enrol", policy.policy_no, "--json", env=env)
    assert again.returncode == 0, again.stderr
    assert _last_json(again.stdout)["added"] == 0
    assert _last_json(again.stdout)["already_enrolled"] == eligible


def test_enrol_command_exits_2_for_an_unknown_policy(database_url: str, engine: Engine) -> None:
    result = run_cli("enrol", "NO-SUCH-POLICY", env={"DATABASE_URL": database_url})
    assert result.returncode == 2
    assert "NO-SUCH-POLICY" in result.stderr
