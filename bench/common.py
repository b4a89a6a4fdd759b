"""What every benchmark needs: a PostgreSQL to run on, and its address in libpq's form for psycopg's COPY."""

import os
from contextlib import ExitStack

from sqlalchemy.engine import make_url


def database_url(stack: ExitStack) -> str:
    """DATABASE_URL when given, else a throwaway database on the server the tests would use (a private one started
    for the run and stopped when the stack closes; the local one with TEST_POSTGRES=local). A private server runs
    with fsync off: give DATABASE_URL for figures comparable with a durable server."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from tests import infra

    server = stack.enter_context(infra.postgres())
    return server.create_database()


def libpq_conninfo(url: str) -> str:
    parsed = make_url(url)
    parts = {
        "dbname": parsed.database,
        "user": parsed.username,
        "password": parsed.password,
        "host": parsed.host or parsed.query.get("host"),
        "port": parsed.port or parsed.query.get("port"),
    }
    return " ".join(f"{k}={v}" for k, v in parts.items() if v)
