"""document requests name any subject: subject_id for kinds without household or policy (a claim's notice)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("document_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_document_request_subject", ["kind", "subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document_request", schema=None) as batch_op:
        batch_op.drop_index("ix_document_request_subject")
        batch_op.drop_column("subject_id")
