"""The anonymous end-of-chat survey.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("contact_id", sa.String(32), nullable=False),
        sa.Column("helpful", sa.String(3), nullable=True),
        sa.Column("again", sa.String(3), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE",
                                name="fk_surveys_contact_id_contacts"),
        sa.PrimaryKeyConstraint("contact_id", name="pk_surveys"),
    )


def downgrade() -> None:
    op.drop_table("surveys")
