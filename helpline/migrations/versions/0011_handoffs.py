"""Hand-offs to partners, their delivery outbox, the append-only audit log and legal holds.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_REFUSE = "audit records are append-only"


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(16), nullable=False),
        sa.Column("contact_id", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(40), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("excerpts", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("review_needed", sa.Boolean(), nullable=False),
        sa.Column("partner_reference", sa.String(100), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("decision_on", sa.Date(), nullable=True),
        sa.Column("last_error", sa.String(40), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name="fk_handoffs_contact_id_contacts"),
        sa.ForeignKeyConstraint(["author_id"], ["counsellors.id"], name="fk_handoffs_author_id_counsellors"),
        sa.ForeignKeyConstraint(["approver_id"], ["counsellors.id"],
                                name="fk_handoffs_approver_id_counsellors"),
        sa.PrimaryKeyConstraint("id", name="pk_handoffs"),
        sa.UniqueConstraint("reference", name="uq_handoffs_reference"),
    )
    op.create_index("ix_handoffs_state", "handoffs", ["state"])
    op.create_table(
        "handoff_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=False), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=False), nullable=True),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"], name="fk_handoff_outbox_handoff_id_handoffs"),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_outbox"),
        sa.UniqueConstraint("handoff_id", name="uq_handoff_outbox_handoff_id"),
        sa.UniqueConstraint("idempotency_key", name="uq_handoff_outbox_idempotency_key"),
    )
    op.create_index("ix_handoff_outbox_due_at", "handoff_outbox", ["due_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.String(32), nullable=True),
        sa.Column("detail", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_table(
        "legal_holds",
        sa.Column("contact_id", sa.String(32), nullable=False),
        sa.Column("since", sa.DateTime(timezone=False), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("released_by", sa.Integer(), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name="fk_legal_holds_contact_id_contacts"),
        sa.PrimaryKeyConstraint("contact_id", name="pk_legal_holds"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log
                BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("legal_holds")
    op.drop_table("audit_log")
    op.drop_index("ix_handoff_outbox_due_at", "handoff_outbox")
    op.drop_table("handoff_outbox")
    op.drop_index("ix_handoffs_state", "handoffs")
    op.drop_table("handoffs")
