"""The one migration chain builds exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import claims.models  # the claims tables
import claims.risk.models  # noqa: F401 - the risk flag tables
import core.documents
import core.models  # noqa: F401 - registers the tables
import insurance.certificates.models
import insurance.cover.models
import insurance.register.models  # noqa: F401


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_database_is_at_the_newest_revision(database_url: str, engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    from core.migrate import alembic_config, current_heads

    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    assert current_heads(database_url) == heads and len(heads) == 1
