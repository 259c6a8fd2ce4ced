"""Routing: a contact's skill, priority and transfer target; a counsellor's skills
and voice capacity.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ALL_SKILLS = '["general", "psychological", "legal", "technical"]'


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("skill", sa.String(32), nullable=False, server_default="general"))
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="2"))
        batch.add_column(sa.Column("target_counsellor_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("handover_note", sa.Text(), nullable=True))
        batch.create_foreign_key("fk_contacts_target_counsellor_id_counsellors", "counsellors",
                                 ["target_counsellor_id"], ["id"])
        batch.drop_index("ix_contacts_state_enqueued_at")
        batch.create_index("ix_contacts_state_priority_enqueued_at", ["state", "priority", "enqueued_at"])
    with op.batch_alter_table("counsellors") as batch:
        batch.add_column(sa.Column("skills", sa.JSON(), nullable=False, server_default=ALL_SKILLS))
        batch.add_column(sa.Column("max_voice", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("counsellors") as batch:
        batch.drop_column("max_voice")
        batch.drop_column("skills")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index("ix_contacts_state_priority_enqueued_at")
        batch.create_index("ix_contacts_state_enqueued_at", ["state", "enqueued_at"])
        batch.drop_constraint("fk_contacts_target_counsellor_id_counsellors", type_="foreignkey")
        batch.drop_column("handover_note")
        batch.drop_column("target_counsellor_id")
        batch.drop_column("priority")
        batch.drop_column("skill")
