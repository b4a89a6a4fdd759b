"""enrolment notices keep the reason a posting was recorded late

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrolment_notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("late_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enrolment_notice", schema=None) as batch_op:
        batch_op.drop_column("late_reason")
