"""claims: the first decision awaiting a second approval gets its own columns instead of assessment["decision"]

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 09:00:00

Upgrade moves each claim's pending decision out of the assessment JSON into the new columns (its maker and time are
the claim's decided_by/decided_at, which the first decision set); downgrade puts it back, note included.

Only columns without constraints are added and dropped, so SQLite alters the table in place (ADD/DROP COLUMN,
SQLite >= 3.35) and never copies it: a copy drops the old `claim`, which its documents, events and reviews reference,
and with foreign keys on that drop fails as soon as a claim has any. The maker's user id stays `decided_by_user_id`.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DECISION = sa.Enum("approve", "approve_partly", "reject", name="decision", native_enum=False, length=32)

# The claim's columns as this migration reads and writes them (not the model: it moves on after this revision).
_claim = sa.table(
    "claim",
    sa.column("id", sa.Integer()),
    sa.column("assessment", sa.JSON()),
    sa.column("decision_text", sa.String()),
    sa.column("decided_by", sa.String()),
    sa.column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime()),
    sa.column("pending_decision", sa.String()),
    sa.column("pending_amount_fen", sa.BigInteger()),
    sa.column("pending_reason", sa.String()),
    sa.column("pending_by", sa.String()),
    sa.column("pending_at", sqlmodel.sql.sqltypes.UTCDateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("claim", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("pending_decision", _DECISION, nullable=True))
        batch_op.add_column(sa.Column("pending_amount_fen", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("pending_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column("pending_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column("pending_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_claim.c.id, _claim.c.assessment, _claim.c.decided_by, _claim.c.decided_at).where(
            _claim.c.assessment.is_not(None)
        )
    ).all()
    for row in rows:
        assessment: dict[str, Any] = dict(row.assessment or {})
        pending = assessment.pop("decision", None)
        if not pending:
            continue
        connection.execute(
            _claim.update()
            .where(_claim.c.id == row.id)
            .values(
                assessment=assessment,
                pending_decision=pending.get("decision") or "approve",
                pending_amount_fen=pending.get("amount_fen"),
                pending_reason=pending.get("reason"),
                pending_by=row.decided_by,
                pending_at=row.decided_at,
            )
        )


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            _claim.c.id,
            _claim.c.assessment,
            _claim.c.decision_text,
            _claim.c.pending_decision,
            _claim.c.pending_amount_fen,
            _claim.c.pending_reason,
        ).where(_claim.c.pending_decision.is_not(None))
    ).all()
    for row in rows:
        pending = {
            "decision": row.pending_decision,
            "amount_fen": row.pending_amount_fen,
            "reason": row.pending_reason,
            "note": row.decision_text,
        }
        assessment = {**(row.assessment or {}), "decision": pending}
        connection.execute(_claim.update().where(_claim.c.id == row.id).values(assessment=assessment))
    with op.batch_alter_table("claim", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("pending_at")
        batch_op.drop_column("pending_by")
        batch_op.drop_column("pending_reason")
        batch_op.drop_column("pending_amount_fen")
        batch_op.drop_column("pending_decision")
