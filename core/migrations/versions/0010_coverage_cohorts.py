"""coverage cohorts: the office's coverage figures per village and per county

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = "kind, registered_at, left_on, exit_year, monitored, cover_start, cover_end, continued"


def _columns() -> list[sa.Column]:
    return [
        sa.Column("kind", sa.Enum("member", "cover", name="cohortkind", native_enum=False, length=32), nullable=False),
        sa.Column("registered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("exit_year", sa.Integer(), nullable=True),
        sa.Column("monitored", sa.Boolean(), nullable=False),
        sa.Column("cover_start", sa.Date(), nullable=True),
        sa.Column("cover_end", sa.Date(), nullable=True),
        sa.Column("continued", sa.Boolean(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "coverage_cohort",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("village_code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("county_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        *_columns(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("coverage_cohort", schema=None) as batch_op:
        batch_op.create_index("ix_coverage_cohort_village", ["village_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_coverage_cohort_county_code"), ["county_code"], unique=False)
    op.create_table(
        "coverage_cohort_county",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        *_columns(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("coverage_cohort_county", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coverage_cohort_county_county_code"), ["county_code"], unique=False)
    # The cohorts of a register and cover that already exist (frozen here, as insurance.cover.counts counts them: a
    # migration does not call code that may change).
    postgres = op.get_bind().dialect.name == "postgresql"
    member_left = "CASE WHEN m.status = 'active' THEN NULL ELSE COALESCE(m.status_date, DATE '0001-01-01') END"
    if not postgres:
        member_left = member_left.replace("DATE '0001-01-01'", "'0001-01-01'")
    left_on = (
        f"CASE WHEN h.removed_on IS NULL THEN {member_left} "
        f"WHEN ({member_left}) IS NULL OR h.removed_on < ({member_left}) THEN h.removed_on ELSE {member_left} END"
    )
    next_day = "c.cover_end + 1" if postgres else "date(c.cover_end, '+1 day')"
    facts = (
        f"h.village_code, h.county_code, m.created_at AS registered_at, {left_on} AS left_on, h.exit_year, "
        "CASE WHEN h.monitor_category IS NULL THEN FALSE ELSE TRUE END AS monitored"
    )
    in_force = "{p}.kind = 'family' AND {p}.issued_at IS NOT NULL AND {c}.status IN ('active', 'ended')"
    group = "village_code, county_code, kind, registered_at, left_on, exit_year, monitored, cover_start, cover_end, "
    op.execute(
        f"INSERT INTO coverage_cohort (village_code, county_code, {_KEYS}, members) "
        f"SELECT {group}continued, COUNT(*) FROM ("
        f"SELECT {facts}, 'member' AS kind, NULL AS cover_start, NULL AS cover_end, FALSE AS continued "
        "FROM member m JOIN household h ON h.id = m.household_id UNION ALL "
        f"SELECT {facts}, 'cover' AS kind, c.cover_start, c.cover_end, CASE WHEN EXISTS (SELECT 1 FROM coverage c2 "
        f"JOIN policy p2 ON p2.id = c2.policy_id WHERE c2.member_id = c.member_id AND {in_force.format(p='p2', c='c2')} "
        f"AND c2.cover_start = {next_day}) THEN TRUE ELSE FALSE END AS continued "
        "FROM coverage c JOIN policy p ON p.id = c.policy_id JOIN member m ON m.id = c.member_id "
        f"JOIN household h ON h.id = m.household_id WHERE {in_force.format(p='p', c='c')}"
        f") x GROUP BY {group}continued"
    )
    op.execute(
        f"INSERT INTO coverage_cohort_county (county_code, {_KEYS}, members) "
        f"SELECT county_code, {_KEYS}, SUM(members) FROM coverage_cohort GROUP BY county_code, {_KEYS}"
    )


def downgrade() -> None:
    with op.batch_alter_table("coverage_cohort_county", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coverage_cohort_county_county_code"))
    op.drop_table("coverage_cohort_county")
    with op.batch_alter_table("coverage_cohort", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coverage_cohort_county_code"))
        batch_op.drop_index("ix_coverage_cohort_village")
    op.drop_table("coverage_cohort")
