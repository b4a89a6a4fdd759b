"""Alembic environment: the metadata of every domain package, batch mode so SQLite can alter tables."""

from alembic import context
from sqlmodel import SQLModel

import claims.models  # the claims tables
import claims.risk.models  # noqa: F401 - the risk flag tables
import core.documents
import core.models  # noqa: F401 - registers the tables
import insurance.certificates.models
import insurance.cover.models
import insurance.register.models  # noqa: F401
from core.db import get_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    engine = get_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
