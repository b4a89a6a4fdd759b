"""register of poor households and roster imports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:57:44.059090
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roster_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("file_format", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("encoding", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("stored_path", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("county_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("queued", "running", "done", "failed", name="importstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("strict", sa.Boolean(), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("normalised", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("moved", sa.Integer(), nullable=False),
        sa.Column("deceased", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("households_incomplete", sa.Integer(), nullable=False),
        sa.Column("villages_created", sa.Integer(), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("roster_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_import_sha256"), ["sha256"], unique=False)

    op.create_table(
        "household",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_no", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("village_code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("county_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column(
            "poverty_attribute",
            sa.Enum(
                "ordinary",
                "subsistence_allowance",
                "destitute_support",
                name="povertyattribute",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("main_cause", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("exit_year", sa.Integer(), nullable=True),
        sa.Column("monitor_category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("is_incomplete", sa.Boolean(), nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("last_import_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["last_import_id"],
            ["roster_import.id"],
        ),
        sa.ForeignKeyConstraint(
            ["village_code"],
            ["division.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("household_no"),
    )
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_household_county_code"), ["county_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_household_village_code"), ["village_code"], unique=False)

    op.create_table(
        "roster_import_issue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("column", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("household_no", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["roster_import.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("roster_import_issue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_import_issue_import_id"), ["import_id"], unique=False)

    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_number", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("id_number_legacy", sqlmodel.sql.sqltypes.AutoString(length=15), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("sex", sa.Enum("male", "female", name="sex", native_enum=False, length=32), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("relation", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("relation_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("ethnicity", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "deceased", "moved_out", "removed", name="memberstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("status_date", sa.Date(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("id_number"),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_household_id"), ["household_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_household_id"))

    op.drop_table("member")
    with op.batch_alter_table("roster_import_issue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_import_issue_import_id"))

    op.drop_table("roster_import_issue")
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_household_village_code"))
        batch_op.drop_index(batch_op.f("ix_household_county_code"))

    op.drop_table("household")
    with op.batch_alter_table("roster_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_import_sha256"))

    op.drop_table("roster_import")
