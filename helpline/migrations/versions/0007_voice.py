"""The phone channel: who called (a keyed hash, never the number), the carrier's live
call, call durations, where each counsellor takes calls, and blocked callers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("caller_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("carrier_ref", sa.String(64), nullable=True))
        batch.add_column(sa.Column("wait_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("talk_s", sa.Integer(), nullable=True))
        batch.create_index("ix_contacts_caller_key", ["caller_key"])
        batch.create_index("ix_contacts_carrier_ref", ["carrier_ref"], unique=True)
    with op.batch_alter_table("counsellors") as batch:
        batch.add_column(sa.Column("voice_endpoint", sa.String(120), nullable=True))
    op.create_table(
        "caller_blocks",
        sa.Column("caller_key", sa.String(64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=False), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["counsellors.id"], ondelete="SET NULL",
                                name="fk_caller_blocks_created_by_counsellors"),
        sa.PrimaryKeyConstraint("caller_key", name="pk_caller_blocks"),
    )


def downgrade() -> None:
    op.drop_table("caller_blocks")
    with op.batch_alter_table("counsellors") as batch:
        batch.drop_column("voice_endpoint")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index("ix_contacts_carrier_ref")
        batch.drop_index("ix_contacts_caller_key")
        batch.drop_column("talk_s")
        batch.drop_column("wait_s")
        batch.drop_column("carrier_ref")
        batch.drop_column("caller_key")
