"""Phone calls, whatever carries them: who may call, a call entering the queue, waiting,
being put through to a counsellor, and ending.

The carrier itself (Twilio) is an adapter outside the core. It plugs a ``CallControl``
in, through which the core acts on live calls, and calls the use cases below when
the carrier reports what a call did. Callers are known only by their caller key
(a keyed hash of the number, made by the adapter); the number never reaches here.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..bus.base import counsellor_channel
from ..domain.access import may_act_on_contact, may_block_callers
from ..domain.contact import Channel, ContactState, EndReason
from ..domain.counsellor import Status
from ..domain.errors import Conflict, DomainError, Forbidden, NotFound
from ..domain.records import ContactRecord, CounsellorRecord
from ..domain.resources import Resource, dialable
from ..domain.waiting import Standing
from ..logs import get_logger
from . import events
from .accounts import new_token, token_hash
from .context import Context
from .floor import Floor, contact_ended
from .schedule import Schedules

log = get_logger("calls")
REPEAT_WINDOW = timedelta(days=30)
MAX_BLOCK = timedelta(days=90)
CALL_MEMORY = timedelta(days=1)  # how long a call's end is remembered (by a hash of its id)
LONGEST_CALL_S = 24 * 3600  # durations reported by the carrier are bounded by this


def seen_as(carrier_ref: str) -> str:
    """How the store remembers a call once it is over: a SHA-256 of the carrier's id (the
    id itself leads to the caller's number at the carrier)."""
    return hashlib.sha256(carrier_ref.encode()).hexdigest()


def bounded(seconds: int) -> int:
    return min(max(0, seconds), LONGEST_CALL_S)


class CallControl(Protocol):
    """What the core asks of a live call. Implemented by the phone channel's adapter."""

    async def connect(self, contact: ContactRecord, counsellor: CounsellorRecord) -> None:
        """Put the caller through to the counsellor's voice endpoint."""

    async def hold(self, contact: ContactRecord) -> None:
        """Take the caller back to the hold loop (a transfer)."""

    async def hang_up(self, contact: ContactRecord) -> None:
        """End the call (the counsellor hung up from the console)."""

    async def dial_out(self, contact: ContactRecord, resource: Resource) -> None:
        """Put the caller through to this emergency number; the helpline leaves the call."""


class NoPhoneLine:
    """No phone channel plugged in: there are no calls to act on."""

    async def connect(self, contact: ContactRecord, counsellor: CounsellorRecord) -> None:
        raise DomainError("no_phone_line")

    async def hold(self, contact: ContactRecord) -> None:
        raise DomainError("no_phone_line")

    async def hang_up(self, contact: ContactRecord) -> None:
        raise DomainError("no_phone_line")

    async def dial_out(self, contact: ContactRecord, resource: Resource) -> None:
        raise DomainError("no_phone_line")


@dataclass(frozen=True, slots=True)
class Admission:
    """Whether a caller may join the queue now, and what to tell them if not."""

    open: bool
    blocked: bool = False
    opens_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Waiting:
    """A call as its hold loop sees it."""

    contact: ContactRecord
    standing: Standing | None  # None unless still queued


class Calls:
    def __init__(self, ctx: Context, floor: Floor, schedules: Schedules) -> None:
        self.ctx = ctx
        self.floor = floor
        self.schedules = schedules
        self.control: CallControl = NoPhoneLine()

    def plug(self, control: CallControl) -> None:
        self.control = control

    # --- a call arrives ----------------------------------------------------------------

    async def admit(self, caller_key: str | None) -> Admission:
        """Open, closed (with the next opening) or blocked."""
        now = self.ctx.clock.now()
        if caller_key is not None:
            async with self.ctx.store.reading() as tx:
                if await tx.callers.blocked_until(caller_key, now) is not None:
                    log.info("call_blocked")
                    return Admission(open=False, blocked=True)
        state = await self.schedules.state_at(now)
        if not state.accepting_contacts:
            return Admission(open=False, opens_at=await self.schedules.next_opening(now))
        return Admission(open=True)

    async def enqueue(
        self, carrier_ref: str, caller_key: str | None, profile: dict[str, Any]
    ) -> ContactRecord | None:
        """The caller joins the queue as a voice contact. Asking twice for the same call
        (a carrier retry) gives the same contact; asking for a call that is over (a late or
        replayed request) gives None."""
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            if not await tx.calls_seen.live(seen_as(carrier_ref), now + CALL_MEMORY):
                log.info("call_already_over")
                return None
            existing = await tx.contacts.by_carrier_ref(carrier_ref)
            if existing is not None:
                return existing
            contact_id = uuid.uuid4().hex
            if caller_key is not None:  # what the counsellor sees: how often they called lately
                earlier = await tx.contacts.calls_from(caller_key, now - REPEAT_WINDOW)
                profile = {**profile, "repeat_calls": earlier}
            # Nobody holds a token for a call: the carrier's signed requests are its key.
            await tx.contacts.create(contact_id, token_hash(new_token()), Channel.VOICE, profile, now,
                                     caller_key=caller_key, carrier_ref=carrier_ref)
            contact = await tx.contacts.get(contact_id)
            tx.floor_changed()
        assert contact is not None
        log.info("contact_started", contact_id=contact.id, channel=Channel.VOICE.value)
        return contact

    async def find(self, carrier_ref: str) -> ContactRecord | None:
        async with self.ctx.store.reading() as tx:
            return await tx.contacts.by_carrier_ref(carrier_ref)

    async def is_over(self, carrier_ref: str) -> bool:
        """The carrier said this call ended (within the last day)."""
        async with self.ctx.store.reading() as tx:
            return await tx.calls_seen.ended(seen_as(carrier_ref))

    # --- waiting -------------------------------------------------------------------------

    async def waiting(self, carrier_ref: str) -> Waiting | None:
        """The hold loop came round: the caller is still there. Where do they stand?"""
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            contact = await tx.contacts.by_carrier_ref(carrier_ref)
            if contact is None:
                return None
            await tx.contacts.touch_visitors([contact.id], now)
        standing = (await self.floor.views.snapshot()).place(contact)  # None unless queued
        return Waiting(contact, standing)

    # --- put through -------------------------------------------------------------------

    async def endpoint_of(self, contact: ContactRecord) -> str | None:
        """Where the call's counsellor takes calls."""
        if contact.counsellor_id is None:
            return None
        async with self.ctx.store.reading() as tx:
            counsellor = await tx.counsellors.get(contact.counsellor_id)
        return counsellor.voice_endpoint if counsellor else None

    async def put_through(self, contact: ContactRecord, counsellor: CounsellorRecord) -> None:
        """Assigned: ring the counsellor. If the carrier cannot, the call goes back to its
        place in the queue."""
        try:
            await self.control.connect(contact, counsellor)
        except Exception as exc:  # the carrier refused or is unreachable: keep the caller waiting
            log.warning("call_connect_failed", contact_id=contact.id, error=type(exc).__name__)
            await self._back_in_queue(contact.id, counsellor.id, "carrier_error")

    async def not_answered(self, contact_id: str, outcome: str) -> None:
        """The counsellor's phone did not answer (or was busy): the call goes back to the
        front of the queue, the counsellor on break."""
        async with self.ctx.store.reading() as tx:
            contact = await tx.contacts.get(contact_id)
        if contact is None or contact.state is not ContactState.ASSIGNED or contact.counsellor_id is None:
            return
        log.info("call_not_answered", contact_id=contact_id, counsellor_id=contact.counsellor_id,
                 outcome=outcome)
        await self._back_in_queue(contact_id, contact.counsellor_id, "not_answered")
        await self.floor.set_status(contact.counsellor_id, Status.BREAK, reason="not_answered")

    async def _back_in_queue(self, contact_id: str, counsellor_id: int, reason: str) -> None:
        async with self.ctx.store.transaction() as tx:
            if await tx.contacts.requeue(contact_id, counsellor_id, self.ctx.clock.now()) is not None:
                tx.publish(counsellor_channel(counsellor_id), events.unassigned(contact_id, reason))
                tx.floor_changed()

    async def talked(self, contact_id: str, talk_s: int) -> None:
        """One answered leg of the call lasted ``talk_s`` seconds."""
        async with self.ctx.store.transaction() as tx:
            await tx.contacts.add_talk(contact_id, bounded(talk_s))

    async def counsellor_left(self, contact_id: str) -> None:
        """The counsellor's side hung up: the conversation is over."""
        async with self.ctx.store.transaction() as tx:
            contact_ended(tx, await tx.contacts.close(contact_id, EndReason.COUNSELLOR, self.ctx.clock.now()))

    # --- an emergency ---------------------------------------------------------------------

    async def dial_emergency(self, contact_id: str, number: str, counsellor_id: int) -> ContactRecord:
        """The counsellor who holds this call puts the caller through to an emergency number
        (only one the line lists that takes calls): the carrier takes the live call there,
        then the contact ends (``put_through``). Refused, nothing changes. Returns the
        contact as it ended (or as it was, if it ended meanwhile)."""
        resource = dialable(number)
        async with self.ctx.store.reading() as tx:
            contact = await tx.contacts.get(contact_id)
        if contact is None:
            raise NotFound("unknown_contact")
        if not may_act_on_contact(counsellor_id, contact.counsellor_id):
            raise Forbidden("not_your_contact")
        if contact.channel is not Channel.VOICE or contact.carrier_ref is None:
            raise Conflict("not_a_call")
        if contact.state is not ContactState.ASSIGNED:
            raise Conflict("contact_closed")
        await self.control.dial_out(contact, resource)
        async with self.ctx.store.transaction() as tx:
            closed = await tx.contacts.close(contact_id, EndReason.PUT_THROUGH, self.ctx.clock.now(),
                                             counsellor_id=counsellor_id)
            contact_ended(tx, closed)
        log.info("call_put_through", contact_id=contact_id, counsellor_id=counsellor_id,
                 number=resource.number)
        return closed or contact

    # --- the end -----------------------------------------------------------------------

    async def ended(self, carrier_ref: str, call_s: int) -> None:
        """The carrier says the call is over. A caller who was waiting abandoned; one who
        was talking ended it. The call stays over: saying it twice, or late, changes nothing,
        and a request for it that arrives after (or at the same time) queues nothing."""
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            # First, so that an enqueue of this call running now either finished before
            # (its contact is found below) or will find the call over.
            await tx.calls_seen.end(seen_as(carrier_ref), now + CALL_MEMORY)
            contact = await tx.contacts.by_carrier_ref(carrier_ref)
            if contact is None:
                return
            reason = EndReason.ABANDONED if contact.state is ContactState.QUEUED else EndReason.VISITOR
            closed = await tx.contacts.close(contact.id, reason, now)
            talk_s = contact.talk_s
            if talk_s is None and contact.assigned_at is not None:  # hung up without a Dial report
                talk_s = round(((contact.ended_at or now) - contact.assigned_at).total_seconds())
            talk_s = bounded(talk_s or 0)
            await tx.contacts.call_over(contact.id, bounded(call_s - talk_s), talk_s)
            contact_ended(tx, closed)

    # --- callers -------------------------------------------------------------------------

    async def block(self, contact_id: str, by: CounsellorRecord, hours: float, reason: str) -> datetime:
        """A supervisor blocks the caller of this contact, or the sender of this live chat,
        for a while (one rule, one table: a keyed hash blocked until then)."""
        if not may_block_callers(by.role):
            raise Forbidden("forbidden")
        if not reason.strip():
            raise DomainError("invalid_reason")
        key = await self._blockable(contact_id)
        now = self.ctx.clock.now()
        until = now + min(timedelta(hours=hours), MAX_BLOCK)
        async with self.ctx.store.transaction() as tx:
            await tx.callers.block(key, until, reason.strip(), by.id, now)
        log.info("caller_blocked", contact_id=contact_id, by=by.id, until=events.iso(until))
        return until

    async def unblock(self, contact_id: str, by: CounsellorRecord) -> None:
        if not may_block_callers(by.role):
            raise Forbidden("forbidden")
        key = await self._blockable(contact_id)
        async with self.ctx.store.transaction() as tx:
            if not await tx.callers.unblock(key):
                raise NotFound("not_blocked")
        log.info("caller_unblocked", contact_id=contact_id, by=by.id)

    async def forget_caller(self, caller_key: str) -> tuple[int, bool]:
        """An erasure request from a caller who gave their number: their key goes from
        every contact that holds it, and their block with it. (contacts, whether blocked)."""
        async with self.ctx.store.transaction() as tx:
            contacts = await tx.callers.forget(caller_key)
            blocked = await tx.callers.unblock(caller_key)
        log.info("caller_forgotten", contacts=contacts, blocked=blocked)
        return contacts, blocked

    async def _blockable(self, contact_id: str) -> str:
        """The keyed hash a block of this contact's caller or sender is about."""
        async with self.ctx.store.reading() as tx:
            contact = await tx.contacts.get(contact_id)
        if contact is None:
            raise NotFound("unknown_contact")
        if contact.channel is Channel.VOICE:
            if contact.caller_key is None:
                raise Conflict("no_caller_number")
            return contact.caller_key
        if contact.sender_key is None:  # erased when the chat ended (or from before senders were kept)
            raise Conflict("sender_unknown")
        return contact.sender_key
