"""Offers: a contact offered to one counsellor who must accept in time (offer mode,
and warm transfers).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("offered_to", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("offer_expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("offer_skill", sa.String(32), nullable=True))
        batch.create_foreign_key("fk_contacts_offered_to_counsellors", "counsellors", ["offered_to"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_constraint("fk_contacts_offered_to_counsellors", type_="foreignkey")
        batch.drop_column("offer_skill")
        batch.drop_column("offer_expires_at")
        batch.drop_column("offered_to")
