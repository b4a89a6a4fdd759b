"""SQLite and a second writer (the worker beside the web app): a unit of work that reads and then writes must wait
its turn, never fail with "database is locked" because the other one committed while it was reading."""

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from core.db import for_writing, make_engine


def _engine(tmp_path: Path):  # noqa: ANN202
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (0)"))
    return engine


def _other_writer_commits(engine) -> threading.Thread:  # noqa: ANN001
    def write() -> None:
        with engine.begin() as connection:
            connection.execute(text("UPDATE t SET n = n + 1"))

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def test_a_plain_transaction_that_read_first_is_refused_once_another_writer_committed(tmp_path: Path) -> None:
    """Why for_writing exists: SQLite cannot turn this reader's old snapshot into a writer."""
    engine = _engine(tmp_path)
    with engine.connect() as connection, connection.begin():
        connection.execute(text("SELECT n FROM t")).scalar_one()
        _other_writer_commits(engine).join()
        with pytest.raises(OperationalError, match="locked"):
            connection.execute(text("UPDATE t SET n = n + 10"))


def test_a_unit_of_work_for_writing_reads_then_writes_while_another_writer_waits_its_turn(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with for_writing(engine).connect() as connection, connection.begin():
        before = connection.execute(text("SELECT n FROM t")).scalar_one()
        other = _other_writer_commits(engine)  # waits for this transaction (busy timeout), then commits
        connection.execute(text("UPDATE t SET n = n + 10"))
    other.join(timeout=30)
    assert not other.is_alive()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM t")).scalar_one() == before + 11
