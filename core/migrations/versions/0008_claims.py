"""claims: claims with their documents, history, filing checks, reviews, call-backs, invoices and numbering;
one-stop settlement imports; payments (empty until the next issue)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claim_counter",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("county_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", "county_code"),
    )
    op.create_table(
        "settlement_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("file_format", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("encoding", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("stored_path", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("insurer_id", sa.Integer(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("queued", "running", "done", "failed", name="importstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("claims_created", sa.Integer(), nullable=False),
        sa.Column("payable_fen", sa.BigInteger(), nullable=False),
        sa.Column("household_pays_fen", sa.BigInteger(), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["insurer_id"],
            ["insurer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    with op.batch_alter_table("settlement_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_settlement_import_insurer_id"), ["insurer_id"], unique=False)

    op.create_table(
        "settlement_import_issue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("column", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("settlement_no", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["settlement_import.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("settlement_import_issue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_settlement_import_issue_import_id"), ["import_id"], unique=False)

    op.create_table(
        "claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_no", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column(
            "claim_type",
            sa.Enum(
                "supplementary_medical",
                "accidental_medical",
                "accidental_death",
                "accidental_disability",
                "illness_death",
                "house_collapse",
                "livestock_loss",
                "crop_loss",
                name="claimtype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "filed",
                "returned",
                "documents_complete",
                "assessed",
                "awaiting_second_approval",
                "approved",
                "partly_approved",
                "rejected",
                "withdrawn",
                "paid",
                "closed",
                name="claimstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("insurer_id", sa.Integer(), nullable=False),
        sa.Column("county_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("benefit_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("insured_object_id", sa.Integer(), nullable=True),
        sa.Column("claimant_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("claimant_relation", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("claimant_phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("incident_date", sa.Date(), nullable=False),
        sa.Column("incident_place", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("peril", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("documents_complete_on", sa.Date(), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("main_diagnosis", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("settlement_no", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("settlement_import_id", sa.Integer(), nullable=True),
        sa.Column("claimed_fen", sa.BigInteger(), nullable=False),
        sa.Column("payable_fen", sa.BigInteger(), nullable=True),
        sa.Column("household_pays_fen", sa.BigInteger(), nullable=True),
        sa.Column("assessment", sa.JSON(), nullable=True),
        sa.Column("assessed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("assessed_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("assessed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("decision_text", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("decided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("second_approver", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("second_approver_user_id", sa.Integer(), nullable=True),
        sa.Column("second_approved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("decision_due_on", sa.Date(), nullable=True),
        sa.Column("refusal_notice_due_on", sa.Date(), nullable=True),
        sa.Column("payment_due_on", sa.Date(), nullable=True),
        sa.Column("filed_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("filed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessed_by_user_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["filed_by_user_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
        ),
        sa.ForeignKeyConstraint(
            ["insured_object_id"],
            ["insured_object.id"],
        ),
        sa.ForeignKeyConstraint(
            ["insurer_id"],
            ["insurer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policy.id"],
        ),
        sa.ForeignKeyConstraint(
            ["second_approver_user_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["settlement_import_id"],
            ["settlement_import.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("claim_no"),
        sa.UniqueConstraint("settlement_no"),
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index("ix_claim_county_status", ["county_code", "status"], unique=False)
        batch_op.create_index("ix_claim_filer_status", ["filed_by_user_id", "status"], unique=False)
        batch_op.create_index("ix_claim_household_benefit", ["household_id", "benefit_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_insured_object_id"), ["insured_object_id"], unique=False)
        batch_op.create_index("ix_claim_insurer_decision_due", ["insurer_id", "decision_due_on"], unique=False)
        batch_op.create_index("ix_claim_insurer_payment_due", ["insurer_id", "payment_due_on"], unique=False)
        batch_op.create_index("ix_claim_insurer_refusal_due", ["insurer_id", "refusal_notice_due_on"], unique=False)
        batch_op.create_index("ix_claim_insurer_status", ["insurer_id", "status"], unique=False)
        batch_op.create_index("ix_claim_member_benefit", ["member_id", "benefit_code"], unique=False)
        batch_op.create_index("ix_claim_member_peril_date", ["member_id", "peril", "incident_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_policy_id"), ["policy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_settlement_import_id"), ["settlement_import_id"], unique=False)

    op.create_table(
        "claim_callback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("household_said", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("called_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("called_by_user_id", sa.Integer(), nullable=True),
        sa.Column("called_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["called_by_user_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_callback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_callback_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "claim_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "duplicate_settlement",
                "duplicate_invoice",
                "same_member_peril_date",
                "incident_after_death",
                "object_not_on_policy",
                "outside_cover_period",
                "late_report",
                name="checkkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "severity", sa.Enum("warn", "block", name="checkseverity", native_enum=False, length=32), nullable=False
        ),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("other_claim_id", sa.Integer(), nullable=True),
        sa.Column("override_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("overridden_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("overridden_by_user_id", sa.Integer(), nullable=True),
        sa.Column("overridden_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.ForeignKeyConstraint(
            ["other_claim_id"],
            ["claim.id"],
        ),
        sa.ForeignKeyConstraint(
            ["overridden_by_user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_check_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "claim_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("store_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("uploaded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("removed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("removed_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_document", schema=None) as batch_op:
        batch_op.create_index("ix_claim_document_claim_code", ["claim_id", "code"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_document_sha256"), ["sha256"], unique=False)

    op.create_table(
        "claim_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "filed",
                "returned",
                "documents_complete",
                "assessed",
                "awaiting_second_approval",
                "approved",
                "partly_approved",
                "rejected",
                "withdrawn",
                "paid",
                "closed",
                name="claimstatus",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "filed",
                "returned",
                "documents_complete",
                "assessed",
                "awaiting_second_approval",
                "approved",
                "partly_approved",
                "rejected",
                "withdrawn",
                "paid",
                "closed",
                name="claimstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_event", schema=None) as batch_op:
        batch_op.create_index("ix_claim_event_claim_at", ["claim_id", "at"], unique=False)

    op.create_table(
        "claim_invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("invoice_no", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_invoice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_invoice_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_invoice_invoice_no"), ["invoice_no"], unique=False)

    op.create_table(
        "claim_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("advance", "final", name="paymentkind", native_enum=False, length=32), nullable=False
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "sent", "paid", "failed", "cancelled", name="paymentstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("payee_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("bank_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("account_masked", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_payment_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index("ix_claim_payment_status_due", ["status", "due_on"], unique=False)

    op.create_table(
        "claim_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("second_approval", "random_sample", "risk_sample", name="reviewkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum("pending", "agreed", "disagreed", name="reviewoutcome", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("reviewer", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("reviewer_user_id", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reviewed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_review_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index("ix_claim_review_kind_outcome", ["kind", "outcome"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("claim_review", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_review_kind_outcome")
        batch_op.drop_index(batch_op.f("ix_claim_review_claim_id"))

    op.drop_table("claim_review")
    with op.batch_alter_table("claim_payment", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_payment_status_due")
        batch_op.drop_index(batch_op.f("ix_claim_payment_claim_id"))

    op.drop_table("claim_payment")
    with op.batch_alter_table("claim_invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_invoice_invoice_no"))
        batch_op.drop_index(batch_op.f("ix_claim_invoice_claim_id"))

    op.drop_table("claim_invoice")
    with op.batch_alter_table("claim_event", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_event_claim_at")

    op.drop_table("claim_event")
    with op.batch_alter_table("claim_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_document_sha256"))
        batch_op.drop_index("ix_claim_document_claim_code")

    op.drop_table("claim_document")
    with op.batch_alter_table("claim_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_check_claim_id"))

    op.drop_table("claim_check")
    with op.batch_alter_table("claim_callback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_callback_claim_id"))

    op.drop_table("claim_callback")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_settlement_import_id"))
        batch_op.drop_index(batch_op.f("ix_claim_policy_id"))
        batch_op.drop_index("ix_claim_member_peril_date")
        batch_op.drop_index("ix_claim_member_benefit")
        batch_op.drop_index("ix_claim_insurer_status")
        batch_op.drop_index("ix_claim_insurer_refusal_due")
        batch_op.drop_index("ix_claim_insurer_payment_due")
        batch_op.drop_index("ix_claim_insurer_decision_due")
        batch_op.drop_index(batch_op.f("ix_claim_insured_object_id"))
        batch_op.drop_index("ix_claim_household_benefit")
        batch_op.drop_index("ix_claim_filer_status")
        batch_op.drop_index("ix_claim_county_status")

    op.drop_table("claim")
    with op.batch_alter_table("settlement_import_issue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_import_issue_import_id"))

    op.drop_table("settlement_import_issue")
    with op.batch_alter_table("settlement_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_import_insurer_id"))

    op.drop_table("settlement_import")
    op.drop_table("claim_counter")
