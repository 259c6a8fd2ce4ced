"""A young person's contact, from its start to its end, and the messages in it."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime
from typing import Any

from ..bus.base import contact_channel
from ..domain.access import may_act_on_contact
from ..domain.contact import Channel, EndReason
from ..domain.errors import DomainError, Forbidden, NotFound
from ..domain.messages import Sender, validate_client_id, validate_text
from ..logs import get_logger
from ..store.records import ContactRecord, MessageRecord
from . import events
from .accounts import new_token, token_hash
from .context import Context
from .floor import Floor
from .schedule import Schedules
from .writer import Draft, MessageWriter, Posted

log = get_logger("conversations")


class LineClosed(DomainError):
    code = "closed"

    def __init__(self, opens_at: datetime | None) -> None:
        super().__init__()
        self.opens_at = opens_at


class Conversations:
    def __init__(self, ctx: Context, floor: Floor, schedules: Schedules) -> None:
        self.ctx = ctx
        self.floor = floor
        self.schedules = schedules
        self.writer = MessageWriter(ctx, self._publish)

    async def start(self, channel: Channel, profile: dict[str, Any]) -> tuple[ContactRecord, str]:
        """Open a contact and put it in the queue. Returns it and the visitor's token."""
        now = self.ctx.clock.now()
        state = await self.schedules.state_at(now)
        if not state.accepting_contacts:
            raise LineClosed(await self.schedules.next_opening(now))
        contact_id = uuid.uuid4().hex
        token = new_token()
        async with self.ctx.store.transaction() as tx:
            await tx.contacts.create(contact_id, token_hash(token), channel, profile, now)
            contact = await tx.contacts.get(contact_id)
        assert contact is not None
        log.info("contact_started", contact_id=contact_id, channel=channel.value)
        await self.floor.changed()
        return contact, token

    async def get(self, contact_id: str) -> ContactRecord:
        async with self.ctx.store.reading() as tx:
            contact = await tx.contacts.get(contact_id)
        if contact is None:
            raise NotFound("unknown_contact")
        return contact

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
        return await self.writer.write(Draft(contact_id, sender, client_id, text, counsellor_id))

    async def _publish(self, message: MessageRecord) -> None:
        await self.ctx.bus.publish(contact_channel(message.contact_id), events.message(message))

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
        if closed is None:
            return None
        log.info("contact_ended", contact_id=contact_id, reason=reason.value)
        await self.ctx.bus.publish(contact_channel(contact_id), events.ended(contact_id, reason))
        await self.floor.changed()
        return closed

    async def visitor_left(self, contact_id: str) -> None:
        """The visitor's socket closed: the grace period counts from now."""
        await self.floor.visitors_live([contact_id])
