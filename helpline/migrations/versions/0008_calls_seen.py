"""The calls the carrier told us about, by a hash of their id, and whether each is over:
an ended call stays ended whatever webhook arrives after, in any order.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls_seen",
        sa.Column("ref_hash", sa.String(64), nullable=False),
        sa.Column("ended", sa.Boolean(), nullable=False),
        sa.Column("forget_at", sa.DateTime(timezone=False), nullable=False),
        sa.PrimaryKeyConstraint("ref_hash", name="pk_calls_seen"),
    )


def downgrade() -> None:
    op.drop_table("calls_seen")
