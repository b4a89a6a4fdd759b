"""The one migration chain builds exactly the schema the models describe, on SQLite and PostgreSQL."""

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Table, create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import claims.models  # the claims tables
import claims.risk.models  # noqa: F401 - the risk flag tables
import core.documents
import core.models  # noqa: F401 - registers the tables
import insurance.certificates.models
import insurance.cover.models
import insurance.register.models  # noqa: F401
from core.migrate import alembic_config, upgrade
from tests.conftest import BACKENDS


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_database_is_at_the_newest_revision(database_url: str, engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    from core.migrate import alembic_config, current_heads

    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    assert current_heads(database_url) == heads and len(heads) == 1


# --- 0009: the pending decision moves from the assessment JSON to its own columns, and back ----------------------

_PENDING = {"decision": "approve_partly", "amount_fen": 340_000, "reason": None, "note": "金额较大，请复核"}


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of its own, so the test may walk the chain up and down."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'walk.db'}"
    return request.getfixturevalue("postgres_server").create_database()


def _claim_row(connection: Connection, claim_no: str, assessment: dict[str, Any], status: str) -> None:
    """A bare claim row at revision 0008: its policy and household need not exist for what 0009 moves."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET session_replication_role = replica"))  # no foreign keys for this bare row
    values = {
        "claim_no": claim_no,
        "claim_type": "supplementary_medical",
        "status": status,
        "version": 3,
        "insurer_id": 1,
        "county_code": "433124",
        "policy_id": 1,
        "benefit_code": "supplementary_medical",
        "household_id": 1,
        "claimant_name": "张三",
        "claimant_relation": "本人",
        "incident_date": date(2026, 3, 1),
        "peril": "hospitalisation",
        "reported_on": date(2026, 3, 5),
        "facts": {},
        "claimed_fen": 500_000,
        "assessment": assessment,
        "decision_text": assessment.get("decision", {}).get("note"),
        "decided_by": "picc-supervisor",
        "decided_by_user_id": 7,
        "decided_at": datetime(2026, 3, 20, 2, 0, tzinfo=UTC),
        "filed_by": "picc-handler",
        "created_at": datetime(2026, 3, 5, tzinfo=UTC),
        "updated_at": datetime(2026, 3, 20, tzinfo=UTC),
    }
    table = Table("claim", MetaData(), autoload_with=connection)
    claim_id = connection.execute(table.insert().values(**values)).inserted_primary_key[0]
    events = Table("claim_event", MetaData(), autoload_with=connection)
    connection.execute(  # a row referencing the claim: the migration must not drop and copy the claim table
        events.insert().values(
            claim_id=claim_id,
            to_status=status,
            action="file",
            reasons=[],
            version=1,
            actor="picc-handler",
            at=datetime(2026, 3, 5, tzinfo=UTC),
        )
    )


def test_0009_moves_the_pending_decision_to_its_columns_and_back(fresh_url: str) -> None:
    upgrade(fresh_url, "0008")
    engine = create_engine(fresh_url)  # not make_engine: SQLite without its foreign-key pragma, for the bare row
    lines = {"lines": [{"code": "payable", "fen": 400_000}], "reasons": ["payable"]}
    with engine.begin() as connection:
        users = Table("app_user", MetaData(), autoload_with=connection)
        connection.execute(
            users.insert().values(
                id=7,
                username="picc-supervisor",
                display_name="复核主管",
                password_hash="-",
                role="insurer_supervisor",
                is_active=True,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        _claim_row(connection, "LP2026433124000001", {**lines, "decision": _PENDING}, "awaiting_second_approval")
        _claim_row(connection, "LP2026433124000002", lines, "assessed")
    upgrade(fresh_url, "0009")
    query = text(
        "SELECT claim_no, assessment, pending_decision, pending_amount_fen, pending_reason, pending_by,"
        " pending_at FROM claim ORDER BY claim_no"
    )
    with engine.connect() as connection:
        waiting, assessed = connection.execute(query).all()
    as_json = lambda v: json.loads(v) if isinstance(v, str) else v  # noqa: E731 - SQLite hands JSON back as text
    assert as_json(waiting.assessment) == lines and as_json(assessed.assessment) == lines
    assert (waiting.pending_decision, waiting.pending_amount_fen, waiting.pending_reason) == (
        "approve_partly",
        340_000,
        None,
    )
    assert waiting.pending_by == "picc-supervisor"
    assert waiting.pending_at is not None
    assert assessed.pending_decision is None and assessed.pending_by is None

    command.downgrade(alembic_config(fresh_url), "0008")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT claim_no, assessment FROM claim ORDER BY claim_no")).all()
    assert as_json(rows[0].assessment) == {**lines, "decision": _PENDING}
    assert as_json(rows[1].assessment) == lines
    engine.dispose()
