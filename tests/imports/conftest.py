"""Fixtures of the import tests."""

import pytest
from sqlalchemy.engine import Engine


@pytest.fixture
def postgres(engine: Engine) -> Engine:
    """The engine of a test parametrized for PostgreSQL alone (the bulk paths exist only there)."""
    assert engine.dialect.name == "postgresql"
    return engine
