"""Counsellors, sessions, contacts and messages: the anonymous chat loop.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counsellors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(80), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("max_chats", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_since", sa.DateTime(), nullable=False),
        sa.Column("last_assigned_at", sa.DateTime(), nullable=True),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_counsellors"),
        sa.UniqueConstraint("username", name="uq_counsellors_username"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["counsellor_id"], ["counsellors.id"], ondelete="CASCADE",
                                name="fk_sessions_counsellor_id_counsellors"),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("counsellor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(), nullable=False),
        sa.Column("first_assigned_at", sa.DateTime(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("visitor_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["counsellor_id"], ["counsellors.id"],
                                name="fk_contacts_counsellor_id_counsellors"),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
    )
    op.create_index("ix_contacts_state_enqueued_at", "contacts", ["state", "enqueued_at"])
    op.create_index("ix_contacts_counsellor_id_state", "contacts", ["counsellor_id", "state"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE",
                                name="fk_messages_contact_id_contacts"),
        sa.ForeignKeyConstraint(["counsellor_id"], ["counsellors.id"],
                                name="fk_messages_counsellor_id_counsellors"),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint("contact_id", "seq", name="uq_messages_contact_id_seq"),
        sa.UniqueConstraint("contact_id", "client_id", name="uq_messages_contact_id_client_id"),
    )


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_index("ix_contacts_counsellor_id_state", table_name="contacts")
    op.drop_index("ix_contacts_state_enqueued_at", table_name="contacts")
    op.drop_table("contacts")
    op.drop_table("sessions")
    op.drop_table("counsellors")
