"""Fixtures: every database test runs on a real SQLite file and a real PostgreSQL; Redis is real too."""

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table, column, exists, func, literal_column, select, text
from sqlalchemy import table as sa_table
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel

from core.audit import Actor
from core.db import make_engine, new_session
from core.migrate import upgrade
from core.settings import Settings
from insurance.register import service as register_service
from main import create_app
from tests import infra

ROOT = Path(__file__).resolve().parent.parent
# The tests check who may log in, not how hard a password is to crack: new hashes are cheap here (a hash keeps its own
# parameters, so verification is the same code). Set in the environment, so CLI and worker processes inherit it.
os.environ.setdefault("PASSWORD_HASH_MEMORY_KIB", "1024")
os.environ.setdefault("PASSWORD_HASH_TIME_COST", "1")
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
    """The backend's engine, reset to the seeded state before each test (see `reset_database`)."""
    if database_url not in _engines:
        _engines[database_url] = make_engine(database_url)
    engine = _engines[database_url]
    reset_database(engine)
    yield engine


def reset_database(engine: Engine) -> None:
    """Brings the database to the state each test starts from: every table empty, identities restarted, the
    divisions seeded (with the seed's audit row). The first call per database does exactly that; later calls only
    undo what changed since (`SeededState`), which leaves the same rows, ids and sequences."""
    key = engine.url.render_as_string(hide_password=False)
    state = _seeded.get(key)
    if state is None:
        _empty_and_seed(engine)
        _seeded[key] = SeededState.capture(engine)
    else:
        state.restore(engine)


_seeded: dict[str, "SeededState"] = {}


def _empty_and_seed(engine: Engine) -> None:
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


@dataclass
class SeededState:
    """A database right after `_empty_and_seed`: every table's rows in their physical order, and the identity
    counters (PostgreSQL's sequences, SQLite's sqlite_sequence).

    `restore` finds the tables a test changed, empties them and every table whose foreign keys point at them, puts
    the seeded rows back in their order and the counters back, and leaves the other tables alone. A table changed if
    it has rows where none were seeded or, for a seeded table (divisions, audit_log), if its rows differ: on SQLite
    the rows themselves in rowid order; on PostgreSQL their count and newest xmin (any write, even rewriting a row
    with the same values, makes a row version with a newer transaction id)."""

    rows: dict[str, list[dict[str, Any]]]
    marks: dict[str, Any]
    counters: list[tuple[Any, ...]]
    sequences: list[str] = field(default_factory=list)

    @classmethod
    def capture(cls, engine: Engine) -> "SeededState":
        postgres = engine.dialect.name == "postgresql"
        order = text("ctid" if postgres else "rowid")
        with engine.connect() as connection:
            rows = {
                t.name: [dict(r) for r in connection.execute(select(t).order_by(order)).mappings()]
                for t in SQLModel.metadata.sorted_tables
            }
            sequences = _owned_sequences(connection) if postgres else []
            state = cls(rows, {}, [], sequences)
            state.marks = state._marks(connection)
            state.counters = state._counters(connection)
        return state

    def restore(self, engine: Engine) -> None:
        tables = SQLModel.metadata.sorted_tables  # parents first
        with engine.begin() as connection:
            marks = self._marks(connection)
            changed = {name for name, mark in marks.items() if mark != self.marks[name]}
            changed = _with_referencing(changed, tables)
            if changed:
                cleared = [t for t in tables if t.name in changed]
                if engine.dialect.name == "postgresql":
                    connection.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in cleared)))
                else:
                    for table in reversed(cleared):
                        connection.execute(table.delete())
                for table in cleared:
                    if self.rows[table.name]:
                        connection.execute(table.insert(), self.rows[table.name])
            if self._counters(connection) != self.counters:
                self._restore_counters(connection)
            if changed:
                self.marks = self._marks(connection)

    def _marks(self, connection: Connection) -> dict[str, list[Any]]:
        """Per table, what tells a change: for an unseeded table whether it has a row, for a seeded one its rows
        (PostgreSQL: their count and newest xmin). All but SQLite's seeded rows are read in one query."""
        postgres = connection.dialect.name == "postgresql"
        checks: list[tuple[str, Any]] = []
        marks: dict[str, list[Any]] = {}
        for table in SQLModel.metadata.sorted_tables:
            if not self.rows[table.name]:
                checks.append((table.name, exists().select_from(table)))
            elif postgres:
                checks.append((table.name, select(func.count()).select_from(table).scalar_subquery()))
                newest = func.max(literal_column("xmin::text::bigint"))
                checks.append((table.name, select(newest).select_from(table).scalar_subquery()))
            else:
                marks[table.name] = [tuple(r) for r in connection.execute(select(table).order_by(text("rowid")))]
        values = connection.execute(select(*(check for _, check in checks))).one()
        for (name, _), value in zip(checks, values, strict=True):
            marks.setdefault(name, []).append(value)
        return marks

    def _counters(self, connection: Connection) -> list[tuple[Any, ...]]:
        if connection.dialect.name != "postgresql":
            if not _has_sqlite_sequence(connection):
                return []
            return [tuple(r) for r in connection.execute(text("SELECT name, seq FROM sqlite_sequence ORDER BY rowid"))]
        if not self.sequences:
            return []
        reads = []
        for name in self.sequences:
            sequence = sa_table(name, column("last_value"), column("is_called"))
            reads += [select(sequence.c.last_value).scalar_subquery(), select(sequence.c.is_called).scalar_subquery()]
        values = connection.execute(select(*reads)).one()
        return [(name, values[2 * i], values[2 * i + 1]) for i, name in enumerate(self.sequences)]

    def _restore_counters(self, connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            for name, last_value, is_called in self.counters:
                setval = text("SELECT setval(CAST(:name AS regclass), :value, :called)")
                connection.execute(setval, {"name": f'"{name}"', "value": last_value, "called": is_called})
        else:
            connection.execute(text("DELETE FROM sqlite_sequence"))
            insert = text("INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)")
            connection.execute(insert, [{"name": name, "seq": seq} for name, seq in self.counters])


def _owned_sequences(connection: Connection) -> list[str]:
    """The sequences of the tables' identity and serial columns (those TRUNCATE ... RESTART IDENTITY restarts)."""
    sql = (
        "SELECT s.relname FROM pg_class s "
        "JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.deptype IN ('a', 'i') "
        "JOIN pg_class t ON t.oid = d.refobjid "
        "WHERE s.relkind = 'S' AND t.relname = ANY(:names) ORDER BY s.relname"
    )
    names = [t.name for t in SQLModel.metadata.sorted_tables]
    return list(connection.execute(text(sql), {"names": names}).scalars())


def _with_referencing(names: set[str], tables: list[Table]) -> set[str]:
    """The tables named and every table whose foreign keys lead to one of them (they must be emptied too)."""
    names = set(names)
    grown = True
    while grown:
        grown = False
        for table in tables:
            if table.name not in names and any(fk.column.table.name in names for fk in table.foreign_keys):
                names.add(table.name)
                grown = True
    return names


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
