"""The console: the counsellor's wrap-up of an ended conversation, and canned responses.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wrapups",
        sa.Column("contact_id", sa.String(32), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("contacted_by", sa.String(32), nullable=False),
        sa.Column("age_band", sa.String(32), nullable=False),
        sa.Column("gender", sa.String(32), nullable=True),
        sa.Column("platforms", sa.JSON(), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=False), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE",
                                name="fk_wrapups_contact_id_contacts"),
        sa.ForeignKeyConstraint(["counsellor_id"], ["counsellors.id"], ondelete="SET NULL",
                                name="fk_wrapups_counsellor_id_counsellors"),
        sa.PrimaryKeyConstraint("contact_id", name="pk_wrapups"),
    )
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_canned_responses"),
    )


def downgrade() -> None:
    op.drop_table("canned_responses")
    op.drop_table("wrapups")
