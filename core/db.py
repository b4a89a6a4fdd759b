"""Engine and sessions. One use case = one service function = one commit; jobs and the CLI use session_scope."""

import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

_engines: dict[str, Engine] = {}


def utcnow() -> datetime:
    """Aware UTC: timestamps are stored in UTC on every backend (SQLModel's UTCDateTime)."""
    return datetime.now(UTC)


# China keeps one zone without daylight saving; a fixed offset needs no tz database on the machine.
PROGRAMME_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_today() -> date:
    """The programme's calendar day (Beijing time): cover starts and ends on local dates, not UTC ones."""
    return datetime.now(PROGRAMME_TZ).date()


def local_date(moment: datetime) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(PROGRAMME_TZ).date()


def enum_type(enum_cls: type[StrEnum]) -> sa.Enum:
    """A StrEnum stored as its string value in a VARCHAR (no native PostgreSQL enum to migrate)."""
    return sa.Enum(
        enum_cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e], validate_strings=True
    )


def make_engine(url: str) -> Engine:
    """The engine of a process. On PostgreSQL its pool holds DB_POOL_SIZE connections (+ DB_MAX_OVERFLOW at a
    peak): every web process and worker has its own, so their sum must stay under the server's max_connections."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "postgresql":
        from core.settings import get_settings

        settings = get_settings()
        # Pinged when idle, not on every checkout: see _ping_if_idle.
        kwargs.update(pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow, pool_pre_ping=False)
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    elif parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "checkin", _checked_in)
        event.listen(engine, "checkout", partial(_ping_if_idle, engine.dialect))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


PING_AFTER_IDLE_SECONDS = 5.0
_CHECKED_IN_AT = "checked_in_at"


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_CHECKED_IN_AT] = time.monotonic()


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A pooled connection idle for a while is pinged before use; one just handed back is not.

    Why: `pool_pre_ping` costs a round trip on every checkout, a tenth of a busy API's requests' work, and the
    connections of a busy pool are seconds old at most. A server restarted while connections sat idle (the usual
    case: a restart at night, a failover) is found by the ping and the pool reconnects, as with pre-ping. One that
    restarts under load fails the statements in flight once; SQLAlchemy then sees the disconnect and recycles every
    older connection of the pool, so the next requests get fresh ones."""
    last = record.info.get(_CHECKED_IN_AT)
    if last is not None and time.monotonic() - last < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)  # what pre-ping runs: outside any transaction
    except Exception as exc:
        # The documented way to have the pool drop this connection and check out (or open) another.
        raise sa.exc.DisconnectionError(str(exc)) from exc


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT and transactional DDL;
    # SQLAlchemy's documented recipe: let the driver autocommit and emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))


def for_writing(engine: Engine) -> Engine:
    """The engine for a unit of work that will write after reading. On SQLite its transactions begin IMMEDIATE: a
    deferred one that read first cannot turn into a writer once another connection (a worker) has committed, and
    fails at once with "database is locked" instead of waiting its turn. PostgreSQL needs nothing."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process, so the pool is shared."""
    if url is None:
        from core.settings import get_settings

        url = get_settings().effective_database_url
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


SETTINGS_KEY = "settings"  # session.info: the Settings of a web request's session (documents are sent on its commit)


def new_session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def keep(session: Session, *objects: object) -> None:
    """Holds loaded objects for the session's life. Its identity map keeps only weak references: an object nobody
    holds is dropped at once, and `session.get` asks the database again for what a query has just loaded."""
    session.info.setdefault("kept", []).extend(objects)


def read_without_transaction(session: Session) -> None:
    """The reads that follow a use case's commit (a step's answer) run without a transaction of their own on
    PostgreSQL: each sees what is committed, and the BEGIN and ROLLBACK round trips around them are saved. Only
    between transactions: inside one it changes nothing. SQLite reads a local file, nothing to save there."""
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session for a job or a CLI command: commits on success, rolls back on any exception."""
    session = new_session(engine or get_engine())
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def one_of(session: Session, column: Any, values: Iterable[Any]) -> sa.ColumnElement[bool]:
    """`column IN values` for a long list (a bulk import asks for thousands of keys at once). On PostgreSQL
    `column = ANY(:array)`: one parameter, where an IN list renders and parses a placeholder per value on every
    execution; elsewhere the IN list itself."""
    items = list(values)
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(items)
    return column == sa.any_(sa.bindparam(None, items, type_=postgresql.ARRAY(column.type)))


def insert_rows(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Many rows of one table in the session's transaction, as fast as the backend allows: PostgreSQL's COPY (each
    value through its column type's bind processing, as an INSERT would store it), else one executemany. Every row
    names the same columns; no defaults are filled in and nothing is returned."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return
    columns = [c for c in table.columns if c.name in rows[0]]
    keys = [c.name for c in columns]
    processors = [_copy_processor(c, dialect) for c in columns]
    converted = [(i, p) for i, p in enumerate(processors) if p is not None]
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            values = [row[key] for key in keys]
            for index, process in converted:
                values[index] = process(values[index])
            copy.write_row(values)


def _copy_processor(column: sa.Column, dialect: Any) -> Any:
    """How a value goes into COPY: a JSON column as its json.dumps text (what the psycopg driver's Json wrapper
    writes, without the wrapper and an adapter lookup per value), anything else through its type's bind processing."""
    kind = column.type
    if not isinstance(kind, sa.JSON):
        return kind.dialect_impl(dialect).bind_processor(dialect)
    dumps = getattr(dialect, "_json_serializer", None) or json.dumps

    def process(value: Any) -> str | None:  # SQLAlchemy's JSON bind processing, the text instead of the wrapper
        if value is None:
            return None if kind.none_as_null else dumps(None)
        if value is kind.NULL:
            return dumps(None)
        return None if isinstance(value, sa.sql.elements.Null) else dumps(value)

    return process


def insert_rows_with_ids(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    """insert_rows for a table whose rows must be referred to at once (their events, their flags): the new ids, in
    the rows' order. On PostgreSQL the ids are drawn from the table's sequence in one query and written with COPY;
    elsewhere one executemany with RETURNING, in the parameters' order."""
    if not rows:
        return []
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        return [int(i) for i in connection.execute(statement, rows).scalars()]
    draw = sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
    ids = sorted(int(i) for i in connection.execute(draw, {"table": table.name, "n": len(rows)}).scalars())
    insert_rows(session, table, [{**row, "id": given} for row, given in zip(rows, ids, strict=True)])
    return ids
