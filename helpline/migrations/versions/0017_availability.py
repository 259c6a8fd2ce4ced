"""When counsellors could take contacts: spans of availability, for the staffing planner.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "availability_spans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("max_chats", sa.Integer(), nullable=False),
        sa.Column("max_voice", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_availability_spans"),
    )
    op.create_index("ix_availability_spans_started_at", "availability_spans", ["started_at"])
    op.create_index("ix_availability_spans_counsellor_id", "availability_spans", ["counsellor_id"])


def downgrade() -> None:
    op.drop_index("ix_availability_spans_counsellor_id", "availability_spans")
    op.drop_index("ix_availability_spans_started_at", "availability_spans")
    op.drop_table("availability_spans")
