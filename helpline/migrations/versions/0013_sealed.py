"""Sealed at rest: message texts, wrap-up notes, handover notes and hand-offs are stored
encrypted, each row beside the id of the data key that sealed it (NULL: clear text, as
every row written before this revision is; `helpline keys rotate` seals them).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = (  # table, key id column
    ("messages", "key_id"),
    ("wrapups", "note_key_id"),
    ("contacts", "handover_note_key_id"),
    ("handoffs", "key_id"),
)


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.String(16), nullable=True))


def downgrade() -> None:
    # Only a database holding clear text goes back: sealed rows would be unreadable.
    bind = op.get_bind()
    for table, column in COLUMNS:
        key_id: sa.ColumnClause[str] = sa.column(column)
        query = sa.select(sa.func.count()).select_from(sa.table(table, key_id)).where(key_id.is_not(None))
        sealed = bind.execute(query).scalar()
        if sealed:
            raise RuntimeError(f"{table} holds {sealed} sealed row(s): no downgrade below 0013")
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
