"""Queries, one repository per table. The atomic rules live in single statements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Row,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from ..crypto import KeyRing
from ..domain.contact import Channel, ContactState, EndReason, end_state_for, states_leading_to
from ..domain.counsellor import CounsellorLoad, Role, Status
from ..domain.messages import Sender
from ..domain.records import (
    ContactRecord,
    CounsellorOnFloor,
    CounsellorRecord,
    MessageRecord,
    QueueEntry,
    WriteTarget,
)
from ..domain.retention import contact_fact, wrapup_fact
from ..domain.routing import GENERAL, Priority, WaitingContact
from ..domain.schedule import Interval, Override, OverrideKind
from .prepared import Prepared
from .tables import (
    AvailabilitySpan,
    CallerBlock,
    CallSeen,
    Contact,
    ContactFact,
    Counsellor,
    Message,
    ScheduleOverride,
    Session,
    Survey,
)

AnyRow = Row[*tuple[Any, ...]]  # a result row, whatever its columns
_OPEN = (ContactState.QUEUED.value, ContactState.ASSIGNED.value)
_NO_OFFER: dict[str, Any] = {"offered_to": None, "offer_expires_at": None, "offer_skill": None}
# The message path uses the tables directly: no ORM statement machinery per message.
CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
MESSAGES: Table = Message.__table__  # type: ignore[assignment]

# The writer's statements, run for every batch of messages (see ``prepared``).
_SET_LAST_SEQ = Prepared(
    update(CONTACTS).where(CONTACTS.c.id == bindparam("b_id")).values(last_seq=bindparam("b_seq"))
)
# The arrivals' and the visitors' sockets' statements, run for every batch of them.
_ADD_CONTACT = Prepared(insert(CONTACTS), [
    "id", "token_hash", "channel", "profile", "skill", "priority", "state", "created_at", "enqueued_at",
    "visitor_seen_at", "last_seq", "visitor_sockets", "sender_key"])
_NONE: ColumnElement[int] = literal_column("0")
_SOCKETS = CONTACTS.c.visitor_sockets + bindparam("b_change", type_=CONTACTS.c.visitor_sockets.type)
_COUNT_SOCKET = Prepared(
    update(CONTACTS).where(CONTACTS.c.id == bindparam("b_id"))
    .values(visitor_sockets=case((_SOCKETS > _NONE, _SOCKETS), else_=_NONE),
            visitor_seen_at=bindparam("b_now", type_=CONTACTS.c.visitor_seen_at.type))
)
_ADD_MESSAGE = Prepared(insert(MESSAGES), ["contact_id", "seq", "sender", "text", "key_id", "sent_at",
                                           "client_id", "counsellor_id", "resource"])


HANDOVER_NOTE = "contact.handover_note"  # what each sealed value is (bound to its ciphertext)
WRAPUP_NOTE = "wrapup.note"


def _message_what(seq: int) -> str:
    return f"message:{seq}"


def _contact(row: AnyRow, keys: KeyRing) -> ContactRecord:
    note = row.handover_note
    return ContactRecord(
        id=row.id,
        token_hash=row.token_hash,
        channel=Channel(row.channel),
        profile=dict(row.profile or {}),
        skill=row.skill,
        priority=Priority(row.priority),
        target_counsellor_id=row.target_counsellor_id,
        handover_note=(None if note is None
                       else keys.open(note, row.handover_note_key_id, row.id, HANDOVER_NOTE)),
        offered_to=row.offered_to,
        offer_expires_at=row.offer_expires_at,
        offer_skill=row.offer_skill,
        state=ContactState(row.state),
        end_reason=row.end_reason,
        counsellor_id=row.counsellor_id,
        created_at=row.created_at,
        enqueued_at=row.enqueued_at,
        first_assigned_at=row.first_assigned_at,
        assigned_at=row.assigned_at,
        ended_at=row.ended_at,
        last_seq=row.last_seq,
        caller_key=row.caller_key,
        carrier_ref=row.carrier_ref,
        sender_key=row.sender_key,
        visitor_sockets=row.visitor_sockets,
        wait_s=row.wait_s,
        talk_s=row.talk_s,
    )


def _waiting(row: AnyRow) -> WaitingContact:
    return WaitingContact(
        row.id, row.enqueued_at, Channel(row.channel), row.skill, Priority(row.priority),
        row.target_counsellor_id, row.target_until,
    )


def _message(row: AnyRow, keys: KeyRing) -> MessageRecord:
    return MessageRecord(
        contact_id=row.contact_id,
        seq=row.seq,
        sender=Sender(row.sender),
        client_id=row.client_id,
        text=keys.open(row.text, row.key_id, row.contact_id, _message_what(row.seq)),
        sent_at=row.sent_at,
        resource=row.resource,
    )


def _counsellor(row: AnyRow) -> CounsellorRecord:
    return CounsellorRecord(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        max_chats=row.max_chats,
        max_voice=row.max_voice,
        skills=frozenset(row.skills or ()),
        status=Status(row.status),
        status_since=row.status_since,
        last_assigned_at=row.last_assigned_at,
        disabled=row.disabled,
        voice_endpoint=row.voice_endpoint,
    )


_CONTACT_COLUMNS = [c for c in Contact.__table__.c]
_WAITING_COLUMNS = [getattr(CONTACTS.c, name) for name in (
    "id", "enqueued_at", "channel", "skill", "priority", "target_counsellor_id", "target_until")]


class ContactRepo:
    def __init__(self, conn: AsyncConnection, keys: KeyRing) -> None:
        self.conn = conn
        self.keys = keys

    def _note(self, contact_id: str, note: str | None) -> dict[str, Any]:
        """The handover note's columns: sealed, or both NULL."""
        if note is None:
            return {"handover_note": None, "handover_note_key_id": None}
        sealed, key_id = self.keys.seal(note, contact_id, HANDOVER_NOTE)
        return {"handover_note": sealed, "handover_note_key_id": key_id}

    async def create(
        self, contact_id: str, token_hash: str, channel: Channel, profile: dict[str, Any],
        now: datetime, *, skill: str = GENERAL, priority: Priority = Priority.NORMAL,
        caller_key: str | None = None, carrier_ref: str | None = None, sender_key: str | None = None,
    ) -> None:
        await self.conn.execute(
            insert(Contact).values(
                id=contact_id, token_hash=token_hash, channel=channel.value, profile=profile,
                skill=skill, priority=int(priority),
                state=ContactState.QUEUED.value, created_at=now, enqueued_at=now,
                visitor_seen_at=now, last_seq=0, caller_key=caller_key, carrier_ref=carrier_ref,
                sender_key=sender_key,
            )
        )

    async def add_many(self, contacts: Sequence[ContactRecord]) -> None:
        """Store contacts that start now (``ContactRecord.arriving``), in one statement."""
        await _ADD_CONTACT.run_many(self.conn, [
            {"id": c.id, "token_hash": c.token_hash, "channel": c.channel.value, "profile": c.profile,
             "skill": c.skill, "priority": int(c.priority), "state": c.state.value,
             "created_at": c.created_at, "enqueued_at": c.enqueued_at, "visitor_seen_at": c.created_at,
             "last_seq": c.last_seq, "visitor_sockets": c.visitor_sockets, "sender_key": c.sender_key}
            for c in contacts
        ])

    async def by_carrier_ref(self, carrier_ref: str) -> ContactRecord | None:
        row = (await self.conn.execute(
            select(*_CONTACT_COLUMNS).where(Contact.carrier_ref == carrier_ref)
        )).first()
        return _contact(row, self.keys) if row else None

    async def add_talk(self, contact_id: str, talk_s: int) -> None:
        """Add one answered leg's length to a call's talk time."""
        await self.conn.execute(
            update(Contact).where(Contact.id == contact_id)
            .values(talk_s=func.coalesce(Contact.talk_s, 0) + talk_s)
        )

    async def call_over(self, contact_id: str, wait_s: int, talk_s: int) -> None:
        """The call ended: keep how long it waited and talked (in its facts too), forget the
        carrier's id."""
        await self.conn.execute(
            update(Contact).where(Contact.id == contact_id)
            .values(carrier_ref=None, wait_s=wait_s, talk_s=talk_s)
        )
        handled = talk_s if talk_s else None
        await self.conn.execute(update(ContactFact).where(ContactFact.contact_id == contact_id)
                                .values(wait_s=wait_s, handle_s=handled))

    async def requeue(self, contact_id: str, counsellor_id: int, now: datetime) -> ContactRecord | None:
        """Put one of this counsellor's contacts back in the queue at its original place."""
        row = (await self.conn.execute(
            update(Contact)
            .where(Contact.id == contact_id, Contact.counsellor_id == counsellor_id,
                   Contact.state == ContactState.ASSIGNED.value)
            .values(state=ContactState.QUEUED.value, counsellor_id=None, assigned_at=None,
                    target_counsellor_id=None, visitor_seen_at=now, **_NO_OFFER)
            .returning(*_CONTACT_COLUMNS)
        )).first()
        return _contact(row, self.keys) if row else None

    async def calls_from(self, caller_key: str, since: datetime) -> int:
        """How many contacts this caller made since ``since``."""
        return int((await self.conn.execute(
            select(func.count()).where(Contact.caller_key == caller_key, Contact.created_at >= since)
        )).scalar_one())

    async def get(self, contact_id: str) -> ContactRecord | None:
        row = (await self.conn.execute(select(*_CONTACT_COLUMNS).where(Contact.id == contact_id))).first()
        return _contact(row, self.keys) if row else None

    async def waiting(self, *, routable: bool = False) -> list[WaitingContact]:
        """Every queued contact, in queue order; ``routable``: only those not already
        offered to someone."""
        c = CONTACTS.c
        conditions = [c.state == ContactState.QUEUED.value]
        if routable:
            conditions.append(c.offered_to.is_(None))
        rows = await self.conn.execute(
            select(*_WAITING_COLUMNS)
            .where(*conditions)
            .order_by(c.priority, c.enqueued_at, c.id)
        )
        return [_waiting(r) for r in rows]

    async def offer(
        self, contact_id: str, counsellor_id: int, expires_at: datetime, *, warm_from: int | None = None,
        skill: str | None = None, note: str | None = None,
    ) -> bool:
        """Offer a contact to a counsellor, if nobody has an offer on it. Queued contacts
        (offer mode), or, for a warm transfer, a contact held by ``warm_from``."""
        c = CONTACTS.c
        if warm_from is None:
            conditions = [c.state == ContactState.QUEUED.value]
            values: dict[str, Any] = {}
        else:
            conditions = [c.state == ContactState.ASSIGNED.value, c.counsellor_id == warm_from]
            values = {"offer_skill": skill, **self._note(contact_id, note)}
        result = await self.conn.execute(
            update(CONTACTS).where(c.id == contact_id, c.offered_to.is_(None), *conditions)
            .values(offered_to=counsellor_id, offer_expires_at=expires_at, **values)
        )
        return result.rowcount == 1

    async def lock_offer(self, contact_id: str) -> ContactRecord | None:
        row = (await self.conn.execute(
            select(*_CONTACT_COLUMNS).where(Contact.id == contact_id).with_for_update()
        )).first()
        return _contact(row, self.keys) if row else None

    async def take_offer(self, contact: ContactRecord, now: datetime) -> None:
        """The offered counsellor accepts: the contact is theirs (from the queue, or from
        the counsellor who transferred it)."""
        assert contact.offered_to is not None
        await self.conn.execute(
            update(CONTACTS).where(CONTACTS.c.id == contact.id).values(
                state=ContactState.ASSIGNED.value, counsellor_id=contact.offered_to, assigned_at=now,
                first_assigned_at=func.coalesce(CONTACTS.c.first_assigned_at, now),
                skill=contact.offer_skill or contact.skill, target_counsellor_id=None,
                offered_to=None, offer_expires_at=None, offer_skill=None,
            )
        )

    async def withdraw_offers(
        self, *, to: int | None = None, expired_before: datetime | None = None
    ) -> list[ContactRecord]:
        """Cancel the offers made to a counsellor, or those past their time. Returns the
        contacts as they were (with ``offered_to`` still set)."""
        c = CONTACTS.c
        conditions: list[ColumnElement[bool]] = [c.offered_to.is_not(None)]
        if to is not None:
            conditions.append(c.offered_to == to)
        if expired_before is not None:
            conditions.append(c.offer_expires_at < expired_before)
        rows = (await self.conn.execute(
            select(*_CONTACT_COLUMNS).where(*conditions).with_for_update()
        )).all()
        if rows:
            await self.conn.execute(
                update(CONTACTS).where(c.id.in_([r.id for r in rows]))
                .values(offered_to=None, offer_expires_at=None, offer_skill=None)
            )
        return [_contact(r, self.keys) for r in rows]

    async def offers_to(self, counsellor_id: int) -> list[ContactRecord]:
        rows = await self.conn.execute(select(*_CONTACT_COLUMNS).where(Contact.offered_to == counsellor_id))
        return [_contact(r, self.keys) for r in rows]

    async def lock_waiting(self, contact_id: str) -> WaitingContact | None:
        """The contact if it is queued, its row locked till commit."""
        c = CONTACTS.c
        row = (await self.conn.execute(
            select(*_WAITING_COLUMNS)
            .where(c.id == contact_id, c.state == ContactState.QUEUED.value)
            .with_for_update()
        )).first()
        return _waiting(row) if row else None

    async def queue_entries(self, *, offset: int = 0, limit: int | None = None) -> list[QueueEntry]:
        """The waiting list for the console: anonymous, in queue order; a page of it with
        ``offset`` and ``limit``."""
        c = CONTACTS.c
        rows = await self.conn.execute(
            select(c.id, c.channel, c.skill, c.priority, c.created_at, c.profile)
            .where(c.state == ContactState.QUEUED.value)
            .order_by(c.priority, c.enqueued_at, c.id)
            .offset(offset).limit(limit)
        )
        return [
            QueueEntry(r.id, Channel(r.channel), r.skill, Priority(r.priority),
                       (r.profile or {}).get("topic"), r.created_at)
            for r in rows
        ]

    async def queue_counts(self) -> list[tuple[Channel, str, Priority, int, datetime]]:
        """How many wait per (channel, skill, priority), and since when the first of each."""
        c = CONTACTS.c
        rows = await self.conn.execute(
            select(c.channel, c.skill, c.priority, func.count().label("n"),
                   func.min(c.created_at).label("since"))
            .where(c.state == ContactState.QUEUED.value)
            .group_by(c.channel, c.skill, c.priority)
        )
        return [(Channel(r.channel), r.skill, Priority(r.priority), int(r.n), r.since) for r in rows]

    async def active_for(self, counsellor_id: int) -> list[ContactRecord]:
        rows = await self.conn.execute(
            select(*_CONTACT_COLUMNS)
            .where(Contact.counsellor_id == counsellor_id, Contact.state == ContactState.ASSIGNED.value)
            .order_by(Contact.assigned_at)
        )
        return [_contact(r, self.keys) for r in rows]

    async def active_counts(self, counsellor_id: int) -> dict[Channel, int]:
        """How many contacts this counsellor holds or is being offered, per channel."""
        counts = dict.fromkeys(Channel, 0)
        for (_, channel), n in (await self.load_counts([counsellor_id])).items():
            counts[Channel(channel)] += n
        return counts

    async def load_counts(self, counsellor_ids: Sequence[int]) -> dict[tuple[int, str], int]:
        """(counsellor, channel) -> contacts held plus contacts offered to them."""
        c = CONTACTS.c
        counts: dict[tuple[int, str], int] = {}
        held = (
            select(c.counsellor_id.label("k"), c.channel, func.count().label("n"))
            .where(c.state == ContactState.ASSIGNED.value, c.counsellor_id.in_(list(counsellor_ids)))
            .group_by(c.counsellor_id, c.channel)
        )
        offered = (
            select(c.offered_to.label("k"), c.channel, func.count().label("n"))
            .where(c.offered_to.in_(list(counsellor_ids)), c.state.in_(_OPEN))
            .group_by(c.offered_to, c.channel)
        )
        for query in (held, offered):
            for r in await self.conn.execute(query):
                counts[(r.k, r.channel)] = counts.get((r.k, r.channel), 0) + int(r.n)
        return counts

    async def raise_priority(self, contact_id: str, priority: Priority) -> bool:
        """Raise (never lower) an open contact's priority. True if it changed."""
        result = await self.conn.execute(
            update(Contact)
            .where(Contact.id == contact_id, Contact.state.in_(_OPEN), Contact.priority > int(priority))
            .values(priority=int(priority))
        )
        return result.rowcount == 1

    async def set_priority(self, contact_id: str, priority: Priority) -> bool:
        result = await self.conn.execute(
            update(Contact).where(Contact.id == contact_id, Contact.state.in_(_OPEN))
            .values(priority=int(priority))
        )
        return result.rowcount == 1

    async def transfer(
        self, contact_id: str, from_counsellor: int, *, skill: str | None, target: int | None,
        target_until: datetime | None, note: str | None,
    ) -> ContactRecord | None:
        """Back to the queue, at its original place, for another skill or a named
        counsellor (until ``target_until``). Only from the counsellor who holds it."""
        values: dict[str, Any] = {"state": ContactState.QUEUED.value, "counsellor_id": None,
                                  "assigned_at": None, "target_counsellor_id": target,
                                  "target_until": target_until, **self._note(contact_id, note), **_NO_OFFER}
        if skill is not None:
            values["skill"] = skill
        row = (await self.conn.execute(
            update(Contact)
            .where(Contact.id == contact_id, Contact.state == ContactState.ASSIGNED.value,
                   Contact.counsellor_id == from_counsellor)
            .values(**values)
            .returning(*_CONTACT_COLUMNS)
        )).first()
        return _contact(row, self.keys) if row else None

    async def redirect(self, contact_id: str, target: int | None, target_until: datetime | None
                       ) -> ContactRecord | None:
        """An open contact back to the queue at its original place, for anyone or for a named
        counsellor, whoever holds it or is offered it. A call being answered or talked is not
        moved (its caller is on the line with someone)."""
        talking = and_(Contact.state == ContactState.ASSIGNED.value, Contact.channel == Channel.CHAT.value)
        movable = or_(Contact.state == ContactState.QUEUED.value, talking)
        row = (await self.conn.execute(
            update(Contact)
            .where(Contact.id == contact_id, movable)
            .values(state=ContactState.QUEUED.value, counsellor_id=None, assigned_at=None,
                    target_counsellor_id=target, target_until=target_until, **_NO_OFFER)
            .returning(*_CONTACT_COLUMNS)
        )).first()
        return _contact(row, self.keys) if row else None

    async def assign(self, contact_id: str, counsellor_id: int, now: datetime) -> bool:
        """Queued -> assigned, only if still queued. True if this call won."""
        result = await self.conn.execute(
            update(Contact)
            .where(Contact.id == contact_id, Contact.state.in_(states_leading_to(ContactState.ASSIGNED)))
            .values(
                state=ContactState.ASSIGNED.value, counsellor_id=counsellor_id, assigned_at=now,
                first_assigned_at=func.coalesce(Contact.first_assigned_at, now),
            )
        )
        return result.rowcount == 1

    async def close(
        self, contact_id: str, reason: EndReason, now: datetime, *, counsellor_id: int | None = None
    ) -> ContactRecord | None:
        """End an open contact (only the assigned counsellor's, if given). None if it was not open."""
        target = end_state_for(reason)
        conditions = [Contact.id == contact_id, Contact.state.in_(states_leading_to(target))]
        if counsellor_id is not None:
            conditions.append(Contact.counsellor_id == counsellor_id)
        row = (await self.conn.execute(
            update(Contact).where(*conditions)
            .values(state=target.value, end_reason=reason.value, ended_at=now, sender_key=None, **_NO_OFFER)
            .returning(*_CONTACT_COLUMNS)
        )).first()
        if row is None:
            return None
        # The statistics' row, in the same transaction: it outlives the transcript.
        await self.conn.execute(insert(ContactFact).values(contact_id=row.id, **contact_fact(row._mapping)))
        return _contact(row, self.keys)

    async def requeue_all_of(self, counsellor_id: int) -> list[ContactRecord]:
        """Put a counsellor's active chats back in the queue, each at its original place.
        (A call goes on over the phone whatever their console does.)"""
        rows = await self.conn.execute(
            update(Contact)
            .where(Contact.counsellor_id == counsellor_id, Contact.state == ContactState.ASSIGNED.value,
                   Contact.channel == Channel.CHAT.value)
            .values(state=ContactState.QUEUED.value, counsellor_id=None, assigned_at=None,
                    target_counsellor_id=None, **_NO_OFFER)
            .returning(*_CONTACT_COLUMNS)
        )
        return [_contact(r, self.keys) for r in rows]

    async def lock_for_writing(self, contact_ids: Sequence[str]) -> dict[str, WriteTarget]:
        """State, counsellor and last seq of these contacts, their rows locked till commit
        (in id order, so two writers never deadlock)."""
        c = CONTACTS.c
        rows = await self.conn.execute(
            select(c.id, c.state, c.counsellor_id, c.last_seq, c.channel)
            .where(c.id.in_(sorted(set(contact_ids))))
            .order_by(c.id)
            .with_for_update()
        )
        return {
            r.id: WriteTarget(ContactState(r.state), r.counsellor_id, r.last_seq, Channel(r.channel))
            for r in rows
        }

    async def set_last_seqs(self, last_seqs: dict[str, int]) -> None:
        await _SET_LAST_SEQ.run_many(self.conn, [{"b_id": c, "b_seq": s} for c, s in last_seqs.items()])

    async def touch_visitors(self, contact_ids: Sequence[str], now: datetime) -> None:
        if contact_ids:
            await self.conn.execute(
                update(Contact)
                .where(Contact.id.in_(list(contact_ids)), Contact.state.in_(_OPEN))
                .values(visitor_seen_at=now)
            )

    async def count_sockets(self, changes: Sequence[tuple[str, bool]], now: datetime
                            ) -> dict[str, ContactRecord]:
        """Widget sockets of visitors opened (True) or closed, in order: count each, stamp
        the time, in one statement. The contacts as they are now, by id (a contact that
        is not there is not either)."""
        if not changes:
            return {}
        # In the order of the rows, as every writer locks them: two processes cannot deadlock.
        ordered = sorted(changes, key=lambda change: change[0])
        await _COUNT_SOCKET.run_many(self.conn, [
            {"b_id": contact_id, "b_change": 1 if opened else -1, "b_now": now}
            for contact_id, opened in ordered
        ])
        ids = sorted({contact_id for contact_id, _ in changes})
        rows = await self.conn.execute(select(*_CONTACT_COLUMNS).where(CONTACTS.c.id.in_(ids)))
        return {row.id: _contact(row, self.keys) for row in rows}

    async def unattended(self, seen_before: datetime) -> list[str]:
        """Waiting chats with no widget of their visitor's open since before ``seen_before``
        (see ``domain.waiting``)."""
        rows = await self.conn.execute(
            select(Contact.id).where(
                Contact.state == ContactState.QUEUED.value, Contact.channel == Channel.CHAT.value,
                Contact.visitor_sockets == 0, Contact.visitor_seen_at < seen_before,
            )
        )
        return [r.id for r in rows]

    async def gone_visitors(self, seen_before: datetime) -> list[str]:
        """Open chats, and waiting calls, whose visitor or hold loop stopped stamping.
        (A call being answered or talked ends when the carrier says it ended.)"""
        rows = await self.conn.execute(
            select(Contact.id).where(
                Contact.visitor_seen_at < seen_before,
                or_(
                    Contact.state == ContactState.QUEUED.value,
                    and_(Contact.state == ContactState.ASSIGNED.value, Contact.channel == Channel.CHAT.value),
                ),
            )
        )
        return [r.id for r in rows]

    async def outcomes_since(self, since: datetime) -> list[tuple[ContactState, float | None]]:
        """For each contact started since ``since``: its state and how long it waited
        before a first counsellor took it (None: nobody has yet)."""
        c = CONTACTS.c
        rows = await self.conn.execute(
            select(c.state, c.created_at, c.first_assigned_at).where(c.created_at >= since)
        )
        return [
            (ContactState(r.state),
             (r.first_assigned_at - r.created_at).total_seconds() if r.first_assigned_at else None)
            for r in rows
        ]

    async def handle_times_s(self, since: datetime, limit: int = 200) -> list[float]:
        """Lengths (assignment to end) of the latest conversations ended since ``since``."""
        rows = await self.conn.execute(
            select(Contact.first_assigned_at, Contact.ended_at)
            .where(
                Contact.state == ContactState.ENDED.value,
                Contact.first_assigned_at.is_not(None),
                Contact.ended_at >= since,
            )
            .order_by(Contact.ended_at.desc())
            .limit(limit)
        )
        return [(r.ended_at - r.first_assigned_at).total_seconds() for r in rows]


class MessageRepo:
    def __init__(self, conn: AsyncConnection, keys: KeyRing) -> None:
        self.conn = conn
        self.keys = keys

    async def by_client_ids(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], MessageRecord]:
        """The stored messages among these (contact_id, client_id) pairs."""
        if not keys:
            return {}
        m = MESSAGES.c
        rows = await self.conn.execute(
            select(m.contact_id, m.seq, m.sender, m.client_id, m.text, m.key_id, m.sent_at, m.resource).where(
                m.contact_id.in_({k[0] for k in keys}), m.client_id.in_({k[1] for k in keys})
            )
        )
        wanted = set(keys)
        found = (_message(r, self.keys) for r in rows)
        return {(f.contact_id, f.client_id): f for f in found if (f.contact_id, f.client_id) in wanted}  # type: ignore[misc]

    async def add_many(self, messages: Sequence[tuple[MessageRecord, int | None]]) -> None:
        """Insert (message, counsellor who wrote it) pairs in one statement."""
        if messages:
            seal = self.keys.seal
            rows = []
            for m, counsellor_id in messages:
                text, key_id = seal(m.text, m.contact_id, _message_what(m.seq))
                rows.append({"contact_id": m.contact_id, "seq": m.seq, "sender": m.sender.value, "text": text,
                             "key_id": key_id, "sent_at": m.sent_at, "client_id": m.client_id,
                             "counsellor_id": counsellor_id, "resource": m.resource})
            await _ADD_MESSAGE.run_many(self.conn, rows)

    async def numbered(self, contact_id: str, seqs: Sequence[int]) -> list[MessageRecord]:
        """These messages of a contact, by seq (those that exist)."""
        rows = await self.conn.execute(
            select(Message).where(Message.contact_id == contact_id, Message.seq.in_(list(seqs)))
            .order_by(Message.seq)
        )
        return [_message(r, self.keys) for r in rows]

    async def after(self, contact_id: str, after_seq: int, limit: int = 1000) -> list[MessageRecord]:
        rows = await self.conn.execute(
            select(Message)
            .where(Message.contact_id == contact_id, Message.seq > after_seq)
            .order_by(Message.seq)
            .limit(limit)
        )
        return [_message(r, self.keys) for r in rows]


def _voice_capacity() -> Any:
    """Calls a counsellor can take: none without a voice endpoint to ring."""
    return case((Counsellor.voice_endpoint.is_(None), 0), else_=Counsellor.max_voice).label("max_voice")


class CounsellorRepo:
    def __init__(self, conn: AsyncConnection, contacts: ContactRepo) -> None:
        self.conn = conn
        self.contacts = contacts

    async def add(
        self, username: str, display_name: str, password_hash: str, role: Role, max_chats: int,
        now: datetime, *, skills: Sequence[str], max_voice: int = 1, voice_endpoint: str | None = None,
    ) -> int:
        result = await self.conn.execute(
            insert(Counsellor).values(
                username=username, display_name=display_name, password_hash=password_hash,
                role=role.value, max_chats=max_chats, max_voice=max_voice, skills=sorted(skills),
                voice_endpoint=voice_endpoint,
                status=Status.OFFLINE.value,
                status_since=now, created_at=now, connected=False, disabled=False,
            ).returning(Counsellor.id)
        )
        return int(result.scalar_one())

    async def set_password(self, counsellor_id: int, password_hash: str) -> None:
        await self.conn.execute(
            update(Counsellor).where(Counsellor.id == counsellor_id).values(password_hash=password_hash)
        )

    async def by_username(self, username: str) -> CounsellorRecord | None:
        row = (await self.conn.execute(select(Counsellor).where(Counsellor.username == username))).first()
        return _counsellor(row) if row else None

    async def credentials(self, username: str) -> tuple[CounsellorRecord, str] | None:
        """The account and its password hash, for a login only (the hash goes no further)."""
        row = (await self.conn.execute(select(Counsellor).where(Counsellor.username == username))).first()
        return (_counsellor(row), row.password_hash) if row else None

    async def get(self, counsellor_id: int) -> CounsellorRecord | None:
        row = (await self.conn.execute(select(Counsellor).where(Counsellor.id == counsellor_id))).first()
        return _counsellor(row) if row else None

    async def set_status(self, counsellor_id: int, status: Status, now: datetime) -> bool:
        """Change status; True if it changed."""
        result = await self.conn.execute(
            update(Counsellor)
            .where(Counsellor.id == counsellor_id, Counsellor.status != status.value)
            .values(status=status.value, status_since=now)
        )
        await self._availability([counsellor_id], now)
        return result.rowcount == 1

    def _eligible(self, live_after: datetime) -> Any:
        return and_(
            Counsellor.status == Status.AVAILABLE.value,
            Counsellor.connected.is_(True),
            Counsellor.seen_at >= live_after,
            Counsellor.disabled.is_(False),
        )

    async def loads(self, live_after: datetime) -> list[CounsellorLoad]:
        """Counsellors who can take contacts now (available, console live), with their load."""
        k = Counsellor
        columns = (k.id, k.max_chats, _voice_capacity(), k.skills, k.last_assigned_at)
        rows = (await self.conn.execute(select(*columns).where(self._eligible(live_after)))).all()
        if not rows:
            return []
        counts = await self.contacts.load_counts([r.id for r in rows])
        return [
            CounsellorLoad(
                r.id, r.max_chats, counts.get((r.id, Channel.CHAT.value), 0), r.last_assigned_at,
                frozenset(r.skills or ()), r.max_voice, counts.get((r.id, Channel.VOICE.value), 0),
            )
            for r in rows
        ]

    async def lock_load(self, counsellor_id: int, live_after: datetime) -> CounsellorLoad | None:
        """Lock the counsellor's row for this transaction; their load if they can take work."""
        k = Counsellor
        row = (await self.conn.execute(
            select(k.id, k.max_chats, _voice_capacity(), k.skills, k.last_assigned_at)
            .where(k.id == counsellor_id, self._eligible(live_after))
            .with_for_update()
        )).first()
        if row is None:
            return None
        counts = await self.contacts.active_counts(counsellor_id)
        return CounsellorLoad(row.id, row.max_chats, counts[Channel.CHAT], row.last_assigned_at,
                              frozenset(row.skills or ()), row.max_voice, counts[Channel.VOICE])

    async def mark_assigned(self, counsellor_id: int, now: datetime) -> None:
        await self.conn.execute(
            update(Counsellor).where(Counsellor.id == counsellor_id).values(last_assigned_at=now)
        )

    async def touch(self, counsellor_ids: Sequence[int], now: datetime) -> None:
        if counsellor_ids:
            await self.conn.execute(
                update(Counsellor)
                .where(Counsellor.id.in_(list(counsellor_ids)))
                .values(connected=True, seen_at=now)
            )
            await self._availability(counsellor_ids, now)

    async def mark_disconnected(self, counsellor_id: int, now: datetime) -> None:
        await self.conn.execute(
            update(Counsellor).where(Counsellor.id == counsellor_id).values(connected=False, seen_at=now)
        )
        await self._availability([counsellor_id], now)

    async def _availability(self, counsellor_ids: Sequence[int], now: datetime) -> None:
        """Keep the availability history true after a change of status or console: an open
        span for each of them who can take contacts (available, console connected, account
        enabled), none for the others. The one place spans are opened or closed by a change."""
        ids = list(counsellor_ids)
        k, span = Counsellor, AvailabilitySpan
        able = select(k.id).where(
            k.id.in_(ids), k.status == Status.AVAILABLE.value, k.connected.is_(True), k.disabled.is_(False)
        )
        await self.conn.execute(
            update(span)
            .where(span.ended_at.is_(None), span.counsellor_id.in_(ids), span.counsellor_id.not_in(able))
            .values(ended_at=now)
        )
        already = select(span.id).where(span.counsellor_id == k.id, span.ended_at.is_(None)).exists()
        await self.conn.execute(
            insert(span).from_select(
                ["counsellor_id", "started_at", "max_chats", "max_voice"],
                select(k.id, bindparam("now", now, type_=span.started_at.type), k.max_chats,
                       _voice_capacity()).where(k.id.in_(able), ~already),
            )
        )

    async def end_stale_availability(self, live_after: datetime) -> int:
        """Close the spans of counsellors whose console stopped stamping (a process that died
        leaves them open): they ended when the console was last seen."""
        k, span = Counsellor, AvailabilitySpan
        stale = select(k.id).where(or_(k.seen_at.is_(None), k.seen_at < live_after))
        last_seen = select(k.seen_at).where(k.id == span.counsellor_id).scalar_subquery()
        result = await self.conn.execute(
            update(span)
            .where(span.ended_at.is_(None), span.counsellor_id.in_(stale))
            .values(ended_at=func.coalesce(last_seen, live_after))
        )
        return int(result.rowcount or 0)

    async def gone(self, seen_before: datetime) -> list[int]:
        """Counsellors whose console has been gone past the grace period and who still
        hold contacts or a non-offline status."""
        holding = select(Contact.id).where(
            Contact.counsellor_id == Counsellor.id, Contact.state == ContactState.ASSIGNED.value,
            Contact.channel == Channel.CHAT.value,
        ).exists()
        rows = await self.conn.execute(
            select(Counsellor.id).where(
                or_(Counsellor.seen_at.is_(None), Counsellor.seen_at < seen_before),
                or_(Counsellor.status != Status.OFFLINE.value, holding),
            )
        )
        return [r.id for r in rows]

    async def on_floor(self) -> list[CounsellorOnFloor]:
        """Every enabled account, with how many contacts of each channel it holds."""
        k = Counsellor
        rows = (await self.conn.execute(
            select(k.id, k.display_name, k.role, k.status, k.status_since, k.connected, k.skills,
                   k.last_assigned_at)
            .where(k.disabled.is_(False)).order_by(k.display_name)
        )).all()
        c = CONTACTS.c
        counts: dict[tuple[int, str], int] = {
            (r.counsellor_id, r.channel): int(r.n)
            for r in await self.conn.execute(
                select(c.counsellor_id, c.channel, func.count().label("n"))
                .where(c.state == ContactState.ASSIGNED.value).group_by(c.counsellor_id, c.channel)
            )
        }
        return [
            CounsellorOnFloor(
                r.id, r.display_name, Role(r.role), Status(r.status), r.status_since, bool(r.connected),
                frozenset(r.skills or ()), r.last_assigned_at,
                counts.get((r.id, Channel.CHAT.value), 0), counts.get((r.id, Channel.VOICE.value), 0),
            )
            for r in rows
        ]

    async def all(self) -> list[CounsellorRecord]:
        rows = await self.conn.execute(select(Counsellor).order_by(Counsellor.id))
        return [_counsellor(r) for r in rows]

    async def update(self, counsellor_id: int, values: dict[str, Any]) -> bool:
        result = await self.conn.execute(
            update(Counsellor).where(Counsellor.id == counsellor_id).values(**values)
        )
        return bool(result.rowcount)

    async def end_sessions(self, counsellor_id: int) -> None:
        await self.conn.execute(delete(Session).where(Session.counsellor_id == counsellor_id))


class SessionRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def create(self, session_hash: str, counsellor_id: int, now: datetime) -> None:
        await self.conn.execute(
            insert(Session).values(id=session_hash, counsellor_id=counsellor_id, created_at=now,
                                   last_seen_at=now)
        )

    async def counsellor_for(self, session_hash: str, seen_after: datetime) -> CounsellorRecord | None:
        row = (await self.conn.execute(
            select(Counsellor, Session.last_seen_at)
            .join(Session, Session.counsellor_id == Counsellor.id)
            .where(Session.id == session_hash, Session.last_seen_at >= seen_after,
                   Counsellor.disabled.is_(False))
        )).first()
        return _counsellor(row) if row else None

    async def touch(self, session_hash: str, now: datetime) -> None:
        await self.conn.execute(update(Session).where(Session.id == session_hash).values(last_seen_at=now))

    async def delete(self, session_hash: str) -> None:
        await self.conn.execute(delete(Session).where(Session.id == session_hash))

    async def purge(self, seen_before: datetime) -> list[str]:
        """Forget the sessions idle since before ``seen_before``; their ids."""
        rows = await self.conn.execute(
            delete(Session).where(Session.last_seen_at < seen_before).returning(Session.id)
        )
        return [r.id for r in rows]


class ScheduleRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def overrides(self) -> list[Override]:
        rows = await self.conn.execute(
            select(ScheduleOverride).order_by(ScheduleOverride.first_day, ScheduleOverride.id)
        )
        return [
            Override(
                OverrideKind(r.kind), r.first_day, r.last_day,
                Interval(r.start_minute, r.end_minute) if r.start_minute is not None else None,
                r.reason, r.id,
            )
            for r in rows
        ]

    async def add(self, o: Override, by: int | None, now: datetime) -> int:
        result = await self.conn.execute(
            insert(ScheduleOverride).values(
                kind=o.kind.value, first_day=o.first, last_day=o.last,
                start_minute=o.window.start if o.window else None,
                end_minute=o.window.end if o.window else None,
                reason=o.reason, created_by=by, created_at=now,
            ).returning(ScheduleOverride.id)
        )
        return int(result.scalar_one())

    async def remove(self, override_id: int) -> bool:
        result = await self.conn.execute(delete(ScheduleOverride).where(ScheduleOverride.id == override_id))
        return result.rowcount == 1


class SurveyRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def exists(self, contact_id: str) -> bool:
        found = await self.conn.execute(select(Survey.contact_id).where(Survey.contact_id == contact_id))
        return found.first() is not None

    async def add(self, contact_id: str, helpful: str | None, again: str | None, day: date) -> None:
        await self.conn.execute(
            insert(Survey).values(contact_id=contact_id, helpful=helpful, again=again, answered_on=day)
        )


class WrapupRepo:
    def __init__(self, conn: AsyncConnection, keys: KeyRing) -> None:
        self.conn = conn
        self.keys = keys

    async def put(self, contact_id: str, counsellor_id: int, values: dict[str, Any], now: datetime) -> None:
        """Write the contact's wrap-up, replacing an earlier one (its note sealed); its lists
        (never the note) complete the contact's facts."""
        from .tables import Wrapup

        values = {**values, "note_key_id": None}
        if values.get("note") is not None:
            values["note"], values["note_key_id"] = self.keys.seal(values["note"], contact_id, WRAPUP_NOTE)
        await self.conn.execute(delete(Wrapup).where(Wrapup.contact_id == contact_id))
        await self.conn.execute(
            insert(Wrapup).values(contact_id=contact_id, counsellor_id=counsellor_id, written_at=now,
                                  **values)
        )
        await self.conn.execute(update(ContactFact).where(ContactFact.contact_id == contact_id)
                                .values(**wrapup_fact(values)))

    async def get(self, contact_id: str) -> dict[str, Any] | None:
        from .tables import Wrapup

        row = (await self.conn.execute(select(Wrapup).where(Wrapup.contact_id == contact_id))).first()
        if row is None:
            return None
        wrapup = dict(row._mapping)
        key_id = wrapup.pop("note_key_id")
        if wrapup["note"] is not None:
            wrapup["note"] = self.keys.open(wrapup["note"], key_id, contact_id, WRAPUP_NOTE)
        return wrapup


class CannedRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def all(self) -> list[dict[str, Any]]:
        from .tables import CannedResponse

        rows = await self.conn.execute(
            select(CannedResponse.id, CannedResponse.title, CannedResponse.text)
            .order_by(CannedResponse.title)
        )
        return [dict(r._mapping) for r in rows]

    async def add(self, title: str, text: str, now: datetime) -> int:
        from .tables import CannedResponse

        result = await self.conn.execute(
            insert(CannedResponse).values(title=title, text=text, created_at=now).returning(CannedResponse.id)
        )
        return int(result.scalar_one())

    async def update(self, canned_id: int, title: str, text: str) -> bool:
        from .tables import CannedResponse

        result = await self.conn.execute(
            update(CannedResponse).where(CannedResponse.id == canned_id).values(title=title, text=text)
        )
        return bool(result.rowcount)

    async def remove(self, canned_id: int) -> bool:
        from .tables import CannedResponse

        result = await self.conn.execute(delete(CannedResponse).where(CannedResponse.id == canned_id))
        return bool(result.rowcount)


class CallerRepo:
    """Callers, known only by their caller key."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def blocked_among(self, keys: set[str], now: datetime) -> set[str]:
        """Which of these caller or sender keys are blocked now."""
        if not keys:
            return set()
        rows = await self.conn.execute(
            select(CallerBlock.caller_key)
            .where(CallerBlock.caller_key.in_(sorted(keys)), CallerBlock.until > now)
        )
        return {row.caller_key for row in rows}

    async def blocked_until(self, caller_key: str, now: datetime) -> datetime | None:
        row = (await self.conn.execute(
            select(CallerBlock.until).where(CallerBlock.caller_key == caller_key, CallerBlock.until > now)
        )).first()
        return row.until if row else None

    async def block(self, caller_key: str, until: datetime, reason: str, by: int, now: datetime) -> None:
        """Block (or block again, replacing the previous block)."""
        await self.conn.execute(delete(CallerBlock).where(CallerBlock.caller_key == caller_key))
        await self.conn.execute(insert(CallerBlock).values(
            caller_key=caller_key, until=until, reason=reason, created_by=by, created_at=now
        ))

    async def unblock(self, caller_key: str) -> bool:
        result = await self.conn.execute(delete(CallerBlock).where(CallerBlock.caller_key == caller_key))
        return result.rowcount == 1

    async def forget(self, caller_key: str) -> int:
        """Erase this caller key from the contacts that hold it; how many did."""
        result = await self.conn.execute(
            update(Contact).where(Contact.caller_key == caller_key).values(caller_key=None))
        return result.rowcount

    async def purge(self, now: datetime) -> None:
        await self.conn.execute(delete(CallerBlock).where(CallerBlock.until <= now))


class CallsSeenRepo:
    """The calls the carrier told us about, by the hash of their id: live or over.

    Both writes are one upsert on the call's row, so a call's first request and its end
    wait for each other (PostgreSQL: the row lock; SQLite: one writer at a time): whatever
    the order they commit in, the one that comes second sees what the first did."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    def _upsert(self, ref_hash: str, ended: bool, forget_at: datetime) -> Any:
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        return dialect.insert(CallSeen).values(ref_hash=ref_hash, ended=ended, forget_at=forget_at)

    async def live(self, ref_hash: str, forget_at: datetime) -> bool:
        """Note the call as live unless it is over, and lock its row till commit. True if
        it is not over."""
        stmt = self._upsert(ref_hash, False, forget_at)
        stmt = stmt.on_conflict_do_update(
            index_elements=[CallSeen.ref_hash], set_={"ended": CallSeen.ended}  # as it is
        ).returning(CallSeen.ended)
        return not (await self.conn.execute(stmt)).scalar_one()

    async def end(self, ref_hash: str, forget_at: datetime) -> None:
        """The call is over, from now on, whether we had heard of it or not."""
        stmt = self._upsert(ref_hash, True, forget_at)
        stmt = stmt.on_conflict_do_update(
            index_elements=[CallSeen.ref_hash], set_={"ended": True, "forget_at": stmt.excluded.forget_at}
        )
        await self.conn.execute(stmt)

    async def ended(self, ref_hash: str) -> bool:
        row = (await self.conn.execute(
            select(CallSeen.ended).where(CallSeen.ref_hash == ref_hash)
        )).first()
        return bool(row and row.ended)

    async def purge(self, now: datetime) -> None:
        await self.conn.execute(delete(CallSeen).where(CallSeen.forget_at <= now))
