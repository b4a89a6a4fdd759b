"""Engine and sessions. One use case = one service function = one commit; jobs and the CLI use session_scope."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
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
        kwargs.update(pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    elif parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


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
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [
                    value if process is None else process(value)
                    for value, process in zip((row[c.name] for c in columns), processors, strict=True)
                ]
            )
