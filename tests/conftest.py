"""Fixtures: every database test runs on a real SQLite file and a real PostgreSQL; Redis is real too."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from core.audit import Actor
from core.db import make_engine, new_session
from core.migrate import upgrade
from core.settings import Settings
from insurance.register import service as register_service
from main import create_app
from tests import infra

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[infra.PostgresServer]:
    with infra.postgres() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[infra.RedisServer]:
    server = infra.start_redis()
    yield server
    server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, seeded database per backend, shared by the session's tests (cleaned between them)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def _engines() -> Iterator[dict[str, Engine]]:
    engines: dict[str, Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture
def engine(database_url: str, _engines: dict[str, Engine]) -> Iterator[Engine]:
    """The backend's engine, its tables emptied and re-seeded before each test."""
    if database_url not in _engines:
        _engines[database_url] = make_engine(database_url)
    engine = _engines[database_url]
    reset_database(engine)
    yield engine


def reset_database(engine: Engine) -> None:
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
            if _has_sqlite_sequence(connection):
                connection.execute(text("DELETE FROM sqlite_sequence"))
    with new_session(engine) as session:
        register_service.seed_divisions(session, Actor.system("test"))


def _has_sqlite_sequence(connection) -> bool:  # noqa: ANN001
    return connection.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() is not None


@pytest.fixture
def backend(engine: Engine) -> str:
    return engine.dialect.name


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with new_session(engine) as session:
        yield session


@pytest.fixture
def settings(database_url: str, redis_server: infra.RedisServer, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, redis_url=redis_server.url, var_dir=tmp_path / "var", _env_file=None)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


def run_cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real console script, in its own process, as a user runs it."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "tehuibao"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
    )
