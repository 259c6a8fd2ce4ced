"""Contacts refused because the line was closed, counted per hour (UTC) and channel: nothing
else about them is kept. And an index that holds all the statistics read of a fact's
timing, so that a year of them is counted without reading the rows.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refusal_counts",
        sa.Column("hour", sa.DateTime(timezone=False), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "channel", name="pk_refusal_counts"),
    )
    op.create_index("ix_contact_facts_timing", "contact_facts",
                    ["arrived_hour", "channel", "outcome", "wait_s", "handle_s"])


def downgrade() -> None:
    op.drop_index("ix_contact_facts_timing", "contact_facts")
    op.drop_table("refusal_counts")
