"""Retention's statements: what is due of each kind (counted, or removed one batch at a
time), and the leases that let one process at a time run a job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, not_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from ..domain.retention import Cutoffs, Kind, survey_counts
from .tables import (
    Contact,
    ContactFact,
    Handoff,
    Lease,
    LegalHold,
    Message,
    Survey,
    SurveyCount,
    Wrapup,
)


def _not_held(contact_id: Any) -> ColumnElement[bool]:
    return not_(exists().where(LegalHold.contact_id == contact_id, LegalHold.released_at.is_(None)))


def _ended_before(cutoff: datetime) -> ColumnElement[bool]:
    return and_(Contact.ended_at.is_not(None), Contact.ended_at < cutoff, _not_held(Contact.id))


class RetentionRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # --- what is due --------------------------------------------------------------------

    def _due_messages(self, c: Cutoffs) -> Any:
        return (select(Message.id).join(Contact, Contact.id == Message.contact_id)
                .where(_ended_before(c.messages)))

    def _due_erasures(self, c: Cutoffs) -> Any:
        return select(Contact.id).where(_ended_before(c.messages), Contact.erased_at.is_(None))

    def _due_caller_keys(self, c: Cutoffs) -> Any:
        return select(Contact.id).where(_ended_before(c.caller_keys), Contact.caller_key.is_not(None))

    def _due_surveys(self, c: Cutoffs) -> Any:
        return select(Survey.contact_id).where(Survey.answered_on < c.surveys, _not_held(Survey.contact_id))

    def _due_handoffs(self, c: Cutoffs) -> Any:
        return (select(Handoff.id).join(Contact, Contact.id == Handoff.contact_id)
                .where(_ended_before(c.handoffs), Handoff.erased_at.is_(None)))

    def _due_contacts(self, c: Cutoffs) -> Any:
        """Every term has passed and nothing refers to it: no hand-off, no hold (even released:
        its record of who released it and why stays), no survey left to count."""
        return select(Contact.id).where(
            _ended_before(c.contacts),
            not_(exists().where(Handoff.contact_id == Contact.id)),
            not_(exists().where(LegalHold.contact_id == Contact.id)),
            not_(exists().where(Survey.contact_id == Contact.id, Survey.answered_on >= c.surveys)),
        )

    async def count(self, kind: Kind, c: Cutoffs) -> int:
        """How many rows of this kind are due now (messages: messages; surveys: answers;
        hand-offs: hand-offs; the others: contacts)."""
        due = {
            Kind.MESSAGES: self._due_messages, Kind.NOTES: self._due_erasures,
            Kind.CALLER_KEYS: self._due_caller_keys,
            Kind.SURVEYS: self._due_surveys, Kind.HANDOFFS: self._due_handoffs,
            Kind.CONTACTS: self._due_contacts,
        }[kind](c)
        return int((await self.conn.execute(select(func.count()).select_from(due.subquery()))).scalar_one())

    # --- one batch of each kind ------------------------------------------------------------

    async def purge(self, kind: Kind, c: Cutoffs, limit: int) -> int:
        """Remove at most ``limit`` rows of this kind that are due. How many went."""
        match kind:
            case Kind.MESSAGES:
                return await self._messages(c, limit)
            case Kind.NOTES:
                return await self._notes(c, limit)
            case Kind.CALLER_KEYS:
                ids = await self._ids(self._due_caller_keys(c), limit)
                await self.conn.execute(update(Contact).where(Contact.id.in_(ids)).values(caller_key=None))
                return len(ids)
            case Kind.SURVEYS:
                return await self._surveys(c, limit)
            case Kind.HANDOFFS:
                ids = await self._ids(self._due_handoffs(c), limit)
                await self.conn.execute(update(Handoff).where(Handoff.id.in_(ids))
                                        .values(payload={}, excerpts=[], key_id=None, erased_at=c.now))
                return len(ids)
            case Kind.CONTACTS:
                ids = await self._ids(self._due_contacts(c), limit)
                if ids:
                    await self.conn.execute(update(ContactFact).where(ContactFact.contact_id.in_(ids))
                                            .values(contact_id=None))
                    for table in (Message, Wrapup, Survey):
                        await self.conn.execute(delete(table).where(table.contact_id.in_(ids)))
                    await self.conn.execute(delete(Contact).where(Contact.id.in_(ids)))
                return len(ids)

    async def _ids(self, query: Any, limit: int) -> list[Any]:
        return [r[0] for r in await self.conn.execute(query.limit(limit))]

    async def _messages(self, c: Cutoffs, limit: int) -> int:
        ids = await self._ids(self._due_messages(c), limit)
        await self.conn.execute(delete(Message).where(Message.id.in_(ids)))
        return len(ids)

    async def _notes(self, c: Cutoffs, limit: int) -> int:
        """The contact's free text: its wrap-up (the lists live on in its facts), its handover
        note, its pre-chat answers, the hash of the visitor's token; marked erased."""
        ids = await self._ids(self._due_erasures(c), limit)
        await self.conn.execute(delete(Wrapup).where(Wrapup.contact_id.in_(ids)))
        await self.conn.execute(update(Contact).where(Contact.id.in_(ids)).values(
            handover_note=None, handover_note_key_id=None, token_hash="", profile={}, erased_at=c.now))
        return len(ids)

    async def _surveys(self, c: Cutoffs, limit: int) -> int:
        rows = (await self.conn.execute(
            select(Survey.contact_id, Survey.answered_on, Survey.helpful, Survey.again)
            .where(Survey.contact_id.in_(self._due_surveys(c).limit(limit).scalar_subquery()))
        )).mappings().all()
        if not rows:
            return 0
        insert_ = postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert
        for (day, question, answer), n in sorted(survey_counts(rows).items()):
            statement = insert_(SurveyCount).values(day=day, question=question, answer=answer, n=n)
            await self.conn.execute(statement.on_conflict_do_update(
                index_elements=["day", "question", "answer"], set_={"n": SurveyCount.n + n}))
        await self.conn.execute(delete(Survey).where(Survey.contact_id.in_([r["contact_id"] for r in rows])))
        return len(rows)


class LeaseRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def take(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take (or extend) the lease if it is free, ran out, or is already ours. A row that
        does not exist yet is inserted; of two inserts at once, the database keeps one (the
        other's transaction fails with Duplicate)."""
        free = or_(Lease.until < now, Lease.holder == holder)
        taken = await self.conn.execute(
            update(Lease).where(Lease.name == name, free).values(holder=holder, until=until))
        if taken.rowcount:
            return True
        if (await self.conn.execute(select(Lease.name).where(Lease.name == name))).first():
            return False
        await self.conn.execute(insert(Lease).values(name=name, holder=holder, until=until))
        return True

    async def give_back(self, name: str, holder: str) -> None:
        await self.conn.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
