"""Migration 0010's fill step (a frozen copy of the cohorts' SQL) counts a register and cover that exist before it
exactly as insurance.cover.counts.recount does, on SQLite and PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.db import make_engine, new_session
from core.migrate import alembic_config, upgrade
from insurance.cover import counts
from tests.conftest import BACKENDS, reset_database
from tests.gaps_story import build_story

COHORTS = "0010"  # the revision that creates the cohort tables and fills them


@pytest.fixture(params=BACKENDS)
def own_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A database of its own, migrated to the head and seeded: this test takes its schema down and up again."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database()
    upgrade(url)
    engine = make_engine(url)
    reset_database(engine)
    yield url, engine
    engine.dispose()


def _cohorts(engine: Engine) -> tuple[dict[tuple, int], dict[tuple, int]]:
    """The stored cohorts, village rows and county rows, as {key: members} (ids and row splits aside)."""
    keys = ", ".join(counts.COHORT_KEYS)
    found = []
    with engine.connect() as connection:
        for table, place in (
            ("coverage_cohort", "village_code, county_code"),
            ("coverage_cohort_county", "county_code"),
        ):
            sql = f"SELECT {place}, {keys}, SUM(members) FROM {table} GROUP BY {place}, {keys}"  # noqa: S608 - constants
            found.append({counts._normal(row[:-1]): int(row[-1]) for row in connection.execute(text(sql))})
    return found[0], found[1]


def test_the_migrations_fill_step_counts_an_existing_register_and_cover_as_the_recount_does(
    own_database: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = own_database
    with new_session(engine) as session:
        build_story(session, engine, tmp_path)  # an import, an enrolment, an issue, deaths, new members, a draft
    kept = _cohorts(engine)  # as the services' recounts left them
    assert sum(kept[0].values()) > 0
    config = alembic_config(url)
    before = ScriptDirectory.from_config(config).get_revision(COHORTS).down_revision
    assert isinstance(before, str)
    command.downgrade(config, before)  # the register and cover as they were before the cohorts
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM coverage")).scalar_one() > 0
    engine.dispose()
    upgrade(url)  # 0010 counts them with its own copy of the SQL
    assert _cohorts(engine) == kept
    with engine.connect() as connection:
        assert counts.check(connection) == []
    with engine.begin() as connection:
        counts.recount_all(connection)
    assert _cohorts(engine) == kept
