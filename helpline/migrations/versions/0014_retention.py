"""Retention: anonymous facts per contact (backfilled for the contacts already ended), survey
answers as counts, a lease table for jobs one process runs at a time, and marks of what
retention erased.

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from helpline.domain.retention import contact_fact, wrapup_fact

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None
_WRAPUP_COLUMNS = ("categories", "contacted_by", "age_band", "gender", "platforms", "actions")


def upgrade() -> None:
    op.create_table(
        "contact_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(32), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("skill", sa.String(32), nullable=False),
        sa.Column("arrived_hour", sa.DateTime(timezone=False), nullable=False),
        sa.Column("ended_hour", sa.DateTime(timezone=False), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("end_reason", sa.String(32), nullable=False),
        sa.Column("wait_s", sa.Integer(), nullable=True),
        sa.Column("handle_s", sa.Integer(), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=True),
        sa.Column("contacted_by", sa.String(32), nullable=True),
        sa.Column("age_band", sa.String(32), nullable=True),
        sa.Column("gender", sa.String(32), nullable=True),
        sa.Column("platforms", sa.JSON(), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="SET NULL",
                                name="fk_contact_facts_contact_id_contacts"),
        sa.PrimaryKeyConstraint("id", name="pk_contact_facts"),
        sa.UniqueConstraint("contact_id", name="uq_contact_facts_contact_id"),
    )
    op.create_index("ix_contact_facts_arrived_hour", "contact_facts", ["arrived_hour"])
    op.create_table(
        "survey_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("question", sa.String(16), nullable=False),
        sa.Column("answer", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "question", "answer", name="pk_survey_counts"),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=False), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=False), nullable=True))
        batch.create_index("ix_contacts_ended_at", ["ended_at"])
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=False), nullable=True))
    _backfill()


def _backfill() -> None:
    """A fact for every contact already ended, with its wrap-up's categories (never its note)."""
    when = sa.DateTime(timezone=False)
    contacts = sa.table("contacts", *(sa.column(n) for n in ("id", "channel", "skill", "end_reason",
                                                             "wait_s", "talk_s")),
                        *(sa.column(n, when) for n in ("created_at", "first_assigned_at", "ended_at")))
    wrapups = sa.table("wrapups", sa.column("contact_id"), sa.column("contacted_by"),
                       sa.column("age_band"), sa.column("gender"),
                       *(sa.column(n, sa.JSON()) for n in ("categories", "platforms", "outcomes")))
    query = (sa.select(contacts, *(c for c in wrapups.c if c.name != "contact_id"))
             .select_from(contacts.outerjoin(wrapups, wrapups.c.contact_id == contacts.c.id))
             .where(contacts.c.ended_at.is_not(None)))
    values = []
    for r in op.get_bind().execute(query).mappings():
        fact = {**contact_fact(r), "contact_id": r["id"], **dict.fromkeys(_WRAPUP_COLUMNS)}
        if r["contacted_by"] is not None:
            fact.update(wrapup_fact(r))
        fact["arrived_hour"] = fact["arrived_hour"].replace(tzinfo=None)
        fact["ended_hour"] = fact["ended_hour"].replace(tzinfo=None)
        values.append(fact)
    if values:
        facts = sa.table("contact_facts", sa.column("contact_id"), sa.column("channel"),
                         sa.column("skill"), sa.column("arrived_hour", when), sa.column("ended_hour", when),
                         sa.column("outcome"), sa.column("end_reason"), sa.column("wait_s"),
                         sa.column("handle_s"), sa.column("contacted_by"), sa.column("age_band"),
                         sa.column("gender"),
                         *(sa.column(n, sa.JSON(none_as_null=True)) for n in ("categories", "platforms", "actions")))
        op.bulk_insert(facts, values)


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("erased_at")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index("ix_contacts_ended_at")
        batch.drop_column("erased_at")
    op.drop_table("leases")
    op.drop_table("survey_counts")
    op.drop_index("ix_contact_facts_arrived_hour", "contact_facts")
    op.drop_table("contact_facts")
