"""The PostgreSQL pool pings a connection only after it sat idle, and reconnects when the server dropped it."""

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core import db
from tests import infra


@pytest.fixture
def pg_engine(postgres_server: infra.PostgresServer) -> Iterator[Engine]:
    engine = db.make_engine(postgres_server.create_database())
    yield engine
    engine.dispose()


def _pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records each ping the pool sends (the dialect's own ping still runs)."""
    seen: list[object] = []
    ping = engine.dialect.do_ping

    def recorded(dbapi_connection: object) -> bool:
        seen.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", recorded)
    return seen


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_just_handed_back_is_used_without_a_ping(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _pings(pg_engine, monkeypatch)
    first = _backend_pid(pg_engine)  # a new connection: pinged once
    second = _backend_pid(pg_engine)  # the same one, handed back a moment ago

    assert (second, len(pings)) == (first, 1)


def test_a_connection_the_server_dropped_while_idle_is_replaced_at_checkout(
    pg_engine: Engine, postgres_server: infra.PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(pg_engine)
    with psycopg.connect(postgres_server.admin_conninfo, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # the dropped one has now been idle "long enough"

    second = _backend_pid(pg_engine)

    assert second != first
