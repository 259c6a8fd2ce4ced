"""A chat remembers who sent it, while it is live, only as a keyed hash of the sender's
address (so that a supervisor can block them for a while, as a caller); erased when it ends.

Revision ID: 0015
Revises: 0012
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("sender_key", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("sender_key")
