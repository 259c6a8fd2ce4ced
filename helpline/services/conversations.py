"""A young person's contact, from its start to its end, and the messages in it."""

from __future__ import annotations

import contextlib
import hmac
import uuid
from collections import OrderedDict
from datetime import datetime
from time import monotonic
from typing import Any

from ..bus.base import contact_channel
from ..domain.access import may_act_on_contact, may_read_transcript, may_set_priority
from ..domain.contact import Channel, EndReason
from ..domain.errors import Conflict, DomainError, Forbidden, NotFound
from ..domain.messages import Sender, validate_client_id, validate_text
from ..domain.records import ContactRecord, CounsellorRecord, MessageRecord
from ..domain.resources import card
from ..domain.routing import GENERAL, Priority
from ..logs import get_logger
from . import events
from .accounts import new_token, token_hash
from .batches import GroupCommit
from .calls import Calls
from .context import Context
from .floor import Floor, contact_ended
from .schedule import Schedules
from .views import live_after
from .writer import Draft, MessageWriter, Posted

log = get_logger("conversations")
STARTED_KEPT_S = 60.0  # a widget says hello within a second of starting: a minute is plenty
STARTED_KEPT = 20_000


def sender_key(secret: bytes, client_address: str) -> str:
    """How a live chat remembers its sender: HMAC-SHA256 of their address under the line's
    secret (the same for every process given ``HELPLINE_SECRET_KEY``), never the address.
    Prefixed so that it can never equal a caller key."""
    return hmac.new(secret, b"chat:" + client_address.encode(), "sha256").hexdigest()


class LineClosed(DomainError):
    code = "closed"

    def __init__(self, opens_at: datetime | None) -> None:
        super().__init__()
        self.opens_at = opens_at


class SenderBlocked(DomainError):
    """A supervisor blocked this chat's sender for a while. They are told only that the
    chat is not available, with the numbers that answer at once."""

    code = "chat_unavailable"


class Conversations:
    def __init__(self, ctx: Context, floor: Floor, schedules: Schedules, calls: Calls) -> None:
        self.ctx = ctx
        self.floor = floor
        self.schedules = schedules
        self.calls = calls
        self.writer = MessageWriter(ctx, self._publish)
        # The token hashes of the contacts started here lately (oldest first), as stored.
        self._started: OrderedDict[str, tuple[float, str]] = OrderedDict()
        # A surge's arrivals and their sockets' counts: one transaction for all of the moment.
        self.arrivals: GroupCommit[ContactRecord, ContactRecord] = GroupCommit(
            "arrivals", self._store_arrivals)
        self.sockets: GroupCommit[tuple[str, bool], ContactRecord] = GroupCommit(
            "visitor-sockets", self._count_sockets)

    async def start(
        self, channel: Channel, profile: dict[str, Any], sender_key: str | None = None
    ) -> tuple[ContactRecord, str]:
        """Open a contact and put it in the queue. Returns it and the visitor's token.
        ``sender_key``: who sends it (a keyed hash, see ``sender_key``), unless blocked.
        Stored (with the other arrivals of the moment, in one transaction) when it returns."""
        now = self.ctx.clock.now()
        state = await self.schedules.state_at(now)
        if not state.accepting_contacts:
            raise LineClosed(await self.schedules.next_opening(now))
        token = new_token()
        topic = profile.get("topic")
        skill = self.ctx.triage.skill(topic)
        if skill not in self.ctx.settings.skill_list:
            skill = GENERAL
        contact = ContactRecord.arriving(
            uuid.uuid4().hex, token_hash(token), channel, profile, now, skill=skill,
            priority=self.ctx.triage.priority(topic), sender_key=sender_key)
        await self.arrivals.submit(contact)  # SenderBlocked
        self._remember_token(contact)
        log.info("contact_started", contact_id=contact.id, channel=channel.value)
        return contact, token

    def _remember_token(self, contact: ContactRecord) -> None:
        started = self._started
        started[contact.id] = (monotonic(), contact.token_hash)
        while started:
            at, _ = next(iter(started.values()))
            if monotonic() - at < STARTED_KEPT_S and len(started) <= STARTED_KEPT:
                break
            started.popitem(last=False)

    def started_here(self, contact_id: str, token: str) -> bool:
        """Whether this process started the contact lately, with this visitor's token: the
        widget's first hello then needs no reading of the store to be trusted."""
        started = self._started.get(contact_id)
        return (started is not None and monotonic() - started[0] < STARTED_KEPT_S
                and hmac.compare_digest(started[1], token_hash(token)))

    async def _store_arrivals(self, batch: list[ContactRecord]) -> list[ContactRecord | DomainError]:
        """Arrivals, in one transaction: those whose sender is blocked now are refused,
        the others stored."""
        async with self.ctx.store.transaction() as tx:
            senders = {c.sender_key for c in batch if c.sender_key is not None}
            blocked = await tx.callers.blocked_among(senders, self.ctx.clock.now())
            arriving = [c for c in batch if c.sender_key not in blocked]
            await tx.contacts.add_many(arriving)
            tx.arrived([c.waiting for c in arriving])
        if len(arriving) < len(batch):
            log.info("sender_blocked", count=len(batch) - len(arriving))
        return [c if c.sender_key not in blocked else SenderBlocked() for c in batch]

    async def get(self, contact_id: str) -> ContactRecord:
        async with self.ctx.store.reading() as tx:
            contact = await tx.contacts.get(contact_id)
        if contact is None:
            raise NotFound("unknown_contact")
        return contact

    async def active_for(self, counsellor_id: int) -> list[ContactRecord]:
        """The contacts this counsellor holds now, in the order they got them."""
        async with self.ctx.store.reading() as tx:
            return await tx.contacts.active_for(counsellor_id)

    async def require_own(self, contact_id: str, counsellor_id: int) -> ContactRecord:
        """The contact, if it is assigned to this counsellor."""
        contact = await self.get(contact_id)
        if not may_act_on_contact(counsellor_id, contact.counsellor_id):
            raise Forbidden("not_your_contact")
        return contact

    async def authenticate(self, contact_id: str, token: str) -> ContactRecord:
        """The contact, if ``token`` is its visitor's token."""
        async with self.ctx.store.reading() as tx:
            contact = await tx.contacts.get(contact_id)
        if contact is None or not hmac.compare_digest(contact.token_hash, token_hash(token)):
            raise Forbidden("bad_token")
        return contact

    async def post(
        self, contact_id: str, sender: Sender, client_id: str, text: str, *,
        counsellor_id: int | None = None,
    ) -> Posted:
        """Store a message, then publish it. A resend of a stored ``client_id`` is a no-op
        that returns the original."""
        validate_client_id(client_id)
        validate_text(text)
        posted = await self.writer.write(Draft(contact_id, sender, client_id, text, counsellor_id))
        if sender is Sender.VISITOR and not posted.duplicate:
            level = self.ctx.triage.priority(None, text)
            if level < Priority.NORMAL:
                await self._change_priority(contact_id, level, raise_only=True)
        return posted

    async def send_resource(
        self, contact_id: str, client_id: str, number: str, *, counsellor_id: int
    ) -> Posted:
        """The counsellor sends the young person a card for one of the emergency numbers. It is
        a message (its text the number, its ``resource`` the same), stored and numbered like
        any other, so it comes back after a reload and in the transcript, in order."""
        validate_client_id(client_id)
        resource = card(number)
        return await self.writer.write(
            Draft(contact_id, Sender.COUNSELLOR, client_id, resource.number, counsellor_id, resource.number)
        )

    async def set_priority(self, contact_id: str, level: Priority, by: CounsellorRecord) -> None:
        """A counsellor changes their contact's priority; a supervisor any contact's."""
        contact = await self.get(contact_id)
        if not may_set_priority(by.role, by.id, contact.counsellor_id):
            raise Forbidden("not_your_contact")
        if not contact.state.is_open:
            raise Conflict("contact_closed")
        await self._change_priority(contact_id, level, raise_only=False)

    async def _change_priority(self, contact_id: str, level: Priority, *, raise_only: bool) -> None:
        async with self.ctx.store.transaction() as tx:
            change = tx.contacts.raise_priority if raise_only else tx.contacts.set_priority
            if await change(contact_id, level):
                tx.publish(contact_channel(contact_id), events.priority(contact_id, level.label))
                tx.floor_changed()
                log.info("contact_priority", contact_id=contact_id, priority=level.label, triage=raise_only)

    async def transfer(
        self, contact_id: str, by: int, *, skill: str | None = None, counsellor_id: int | None = None,
        note: str | None = None, warm: bool = False,
    ) -> None:
        """Cold: the contact goes back to the queue at its original place, for another skill
        or a named counsellor. Warm: it is offered to one counsellor and stays with ``by``
        until they accept. Either way a note goes to whoever takes it next."""
        contact = await self.require_own(contact_id, by)
        if (skill is None) == (counsellor_id is None):
            raise DomainError("invalid_transfer")
        if skill is not None and skill not in self.ctx.settings.skill_list:
            raise DomainError("unknown_skill")
        if counsellor_id is not None:
            async with self.ctx.store.reading() as tx:
                target = await tx.counsellors.get(counsellor_id)
            if target is None or target.disabled or target.id == by:
                raise NotFound("unknown_counsellor")
        if warm and contact.channel is Channel.VOICE:
            raise Conflict("no_warm_transfer_for_calls")
        if warm:
            await self.floor.offer_warm(contact, by, skill=skill, counsellor_id=counsellor_id, note=note)
            return
        async with self.ctx.store.transaction() as tx:
            if counsellor_id is not None and not await tx.counsellors.lock_load(
                counsellor_id, live_after(self.ctx, self.ctx.clock.now())
            ):
                raise Conflict("counsellor_unavailable")  # offline, on a break, or their console closed
            moved = await tx.contacts.transfer(contact_id, by, skill=skill, target=counsellor_id,
                                               target_until=self.floor.target_deadline(), note=note)
            if moved is None:
                raise Conflict("contact_not_assigned")
            # Waiting again from now (a caller's hold loop restarts; the sweep must not count the talk).
            await tx.contacts.touch_visitors([contact_id], self.ctx.clock.now())
            tx.publish(contact_channel(contact_id), events.requeued(contact_id, "transferred"))
            tx.floor_changed()
        log.info("contact_transferred", contact_id=contact_id, from_counsellor=by,
                 to_counsellor=counsellor_id, skill=skill)
        if moved.channel is Channel.VOICE:
            await self.calls.control.hold(moved)  # the caller goes back to the hold loop

    async def _publish(self, message: MessageRecord) -> None:
        await self.ctx.bus.publish(contact_channel(message.contact_id), events.message(message))

    async def transcript(self, contact_id: str, by: CounsellorRecord, after_seq: int = 0
                         ) -> tuple[ContactRecord, list[MessageRecord]]:
        """The contact and its messages after ``after_seq``, for whoever may read them."""
        contact = await self.get(contact_id)
        if not may_read_transcript(by.role, by.id, contact.counsellor_id):
            raise Forbidden("not_your_contact")
        return contact, await self.history(contact.id, after_seq)

    async def history(self, contact_id: str, after_seq: int = 0, limit: int = 1000) -> list[MessageRecord]:
        async with self.ctx.store.reading() as tx:
            return await tx.messages.after(contact_id, after_seq, limit)

    async def typing(self, contact_id: str, sender: Sender, *, counsellor_id: int | None = None) -> None:
        if counsellor_id is not None:
            await self.require_own(contact_id, counsellor_id)
        await self.ctx.bus.publish(contact_channel(contact_id), events.typing(contact_id, sender.value))

    async def end(
        self, contact_id: str, reason: EndReason, *, counsellor_id: int | None = None
    ) -> ContactRecord | None:
        """End an open contact. None if it had already ended (ending twice is harmless).
        With ``counsellor_id``, only that counsellor's own contact."""
        if counsellor_id is not None:
            await self.require_own(contact_id, counsellor_id)
        async with self.ctx.store.transaction() as tx:
            closed = await tx.contacts.close(
                contact_id, reason, self.ctx.clock.now(), counsellor_id=counsellor_id
            )
            contact_ended(tx, closed)
        if closed is None:
            return None
        if closed.channel is Channel.VOICE and closed.carrier_ref is not None:
            await self.calls.control.hang_up(closed)
        return closed

    async def visitor_joined(self, contact_id: str) -> ContactRecord:
        """A socket of the visitor's opened: they are here (their counsellor is told). The
        contact as it is once counted."""
        return await self.sockets.submit((contact_id, True))

    async def visitor_left(self, contact_id: str) -> None:
        """A socket of the visitor's closed: the grace period counts from now; if it was their
        last, in any process, their counsellor is told at once that nobody may be reading."""
        with contextlib.suppress(NotFound):  # gone meanwhile (purged): nobody to tell
            await self.sockets.submit((contact_id, False))

    async def _count_sockets(self, batch: list[tuple[str, bool]]) -> list[ContactRecord | DomainError]:
        """Sockets opened and closed, counted in one transaction; each tells the contact's
        followers whether the visitor is there now."""
        async with self.ctx.store.transaction() as tx:
            counted = await tx.contacts.count_sockets(batch, self.ctx.clock.now())
            outcomes: list[ContactRecord | DomainError] = []
            for contact_id, _ in batch:
                contact = counted.get(contact_id)
                if contact is None:
                    outcomes.append(NotFound("unknown_contact"))
                    continue
                present = contact.visitor_sockets > 0
                tx.publish(contact_channel(contact_id), events.visitor_presence(contact_id, present))
                outcomes.append(contact)
        return outcomes

    async def close(self) -> None:
        """Store what is pending (for a few seconds at most), then stop the batches."""
        for batches in (self.arrivals, self.sockets):
            await batches.close()
        await self.writer.close()
