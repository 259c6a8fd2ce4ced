"""The counsellor console's WebSocket: /api/v1/console/ws (session cookie)."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web

from ..bus.base import counsellor_channel
from ..domain.access import may_monitor, may_see_floor
from ..domain.contact import EndReason
from ..domain.errors import Forbidden
from ..domain.messages import Sender
from ..domain.records import CounsellorRecord
from ..domain.routing import Priority
from ..services import Services
from ..services import events as ev
from ..services.events import Event
from .connection import CLOSE_SESSION_ENDED, Connection, new_socket
from .csrf import refuse_cross_site
from .errors import request_lang
from .keys import REGISTRY, SERVICES
from .schemas import (
    ConsoleAccept,
    ConsoleEnd,
    ConsoleHello,
    ConsoleMessage,
    ConsoleMonitor,
    ConsolePriority,
    ConsolePutThrough,
    ConsoleResource,
    ConsoleStatus,
    ConsoleTransfer,
    ConsoleTyping,
    ConsoleUnmonitor,
    console_frames,
)
from .session import require_user, session_digest

SESSION_TOUCH = timedelta(minutes=1)


class ConsoleConnection(Connection):
    frames = console_frames
    kind = "console"

    def __init__(
        self, ws: web.WebSocketResponse, services: Services, lang: str, user: CounsellorRecord,
        session: str,
    ) -> None:
        super().__init__(ws, services, lang)
        self.user = user
        self.session = session  # the digest of the session this console was opened with
        self._session_touched: datetime | None = None
        self.after: dict[str, int] = {}
        self.monitored: set[str] = set()  # contacts a supervisor follows read-only

    async def forward(self, event: Event) -> None:
        kind = event["type"]
        if kind == "assigned":
            if "contact" in event:  # from our own channel: a new contact for us
                contact_id = event["contact"]["contact_id"]
                if contact_id in self.cursors:
                    return  # already following (announced twice by a race with resync)
                await self.send(event)
                await self.follow(contact_id, self.after.pop(contact_id, 0))
            return  # the visitor's copy (on the contact channel) is not for us
        if kind == "typing":
            if event["sender"] != Sender.COUNSELLOR.value:
                await self.send({"type": "typing", "contact_id": event["contact_id"]})
            return
        if kind == "ended":
            await self.send(event)
            await self.unfollow(event["contact_id"])
            return
        if kind == "unassigned":  # from our own channel: a warm transfer went through
            await self.send(event)
            await self.unfollow(event["contact_id"])
            return
        if kind == "transferring":
            return  # for the visitor
        if kind == "requeued":
            if event["contact_id"] in self.monitored:  # a supervisor watching it goes on watching
                await self.send(event)
            elif event["contact_id"] in self.cursors:
                await self.send({"type": "unassigned", "contact_id": event["contact_id"],
                                 "reason": event["reason"]})
                await self.unfollow(event["contact_id"])
            return
        await self.send(event)

    async def resync(self, hello: ConsoleHello) -> None:
        """Announce every active contact and send what the console missed of each."""
        self.after = dict(hello.after)
        for contact_id in list(self.subscriptions):
            await self.unfollow(contact_id)
        active = await self.services.conversations.active_for(self.user.id)
        me = await self.services.accounts.get(self.user.id)
        now = self.services.ctx.clock.now()
        self.push(ev.session(self.user, me.status.value if me else "offline",
                               self.services.ctx.settings.skill_list))
        for contact in active:
            self.push(ev.assigned_to_counsellor(contact, now))
        views = self.services.views
        for offer in await views.pending_offers(self.user.id):
            self.push(offer)
        self.push(ev.waiting_list(await views.queue_summary()))
        if may_see_floor(self.user.role):
            self.push(ev.overview(await views.overview()))

    async def catch_up(self) -> None:
        """Events may have been lost: check the session is still valid, then bring every
        pane up to date (new contacts, contacts gone meanwhile, missed messages, offers)."""
        services = self.services
        if not await services.accounts.session_alive(self.session):
            self.close_soon(CLOSE_SESSION_ENDED, b"session_ended")
            return
        now = services.ctx.clock.now()
        active = {c.id: c for c in await services.conversations.active_for(self.user.id)}
        for contact_id in list(self.cursors):
            if contact_id in active:
                continue
            contact = await services.conversations.get(contact_id)
            if not contact.state.is_open:
                self.push(ev.ended(contact_id, EndReason(contact.end_reason or EndReason.VISITOR)))
            elif contact_id not in self.monitored:
                reason = "transferred" if contact.counsellor_id is not None else "counsellor_disconnected"
                self.push(ev.unassigned(contact_id, reason))
        for contact_id in list(self.cursors):
            await self.sync(contact_id)
        for contact in active.values():
            if contact.id not in self.cursors:
                self.push(ev.assigned_to_counsellor(contact, now))
        for offer in await services.views.pending_offers(self.user.id):
            self.push(offer)
        me = await services.accounts.get(self.user.id)
        self.push(ev.status(me.status.value if me else "offline"))

    async def keep_session(self) -> None:
        """A counsellor at work keeps their session from expiring (stamped once a minute)."""
        now = self.services.ctx.clock.now()
        if self._session_touched is None or now - self._session_touched >= SESSION_TOUCH:
            self._session_touched = now
            await self.services.accounts.touch_session(self.session)

    async def handle(self, frame: object) -> None:
        conversations = self.services.conversations
        me = self.user.id
        await self.keep_session()
        if isinstance(frame, ConsoleMessage):
            posted = await conversations.post(
                frame.contact_id, Sender.COUNSELLOR, frame.client_id, frame.text, counsellor_id=me
            )
            self.push({"type": "ack", "contact_id": frame.contact_id,
                                   "client_id": frame.client_id, "seq": posted.message.seq})
        elif isinstance(frame, ConsoleResource | ConsolePutThrough):
            await self.emergency(frame)
        elif isinstance(frame, ConsoleTyping):
            await conversations.typing(frame.contact_id, Sender.COUNSELLOR, counsellor_id=me)
        elif isinstance(frame, ConsoleEnd):
            await conversations.end(frame.contact_id, EndReason.COUNSELLOR, counsellor_id=me)
        elif isinstance(frame, ConsoleStatus):
            await self.services.floor.set_status(me, frame.status)
        elif isinstance(frame, ConsolePriority):
            await conversations.set_priority(frame.contact_id, Priority.from_label(frame.priority), self.user)
        elif isinstance(frame, ConsoleTransfer):
            await conversations.transfer(frame.contact_id, me, skill=frame.to.skill,
                                         counsellor_id=frame.to.counsellor, note=frame.note,
                                         warm=frame.mode == "warm")
        elif isinstance(frame, ConsoleAccept):
            await self.services.floor.accept(frame.contact_id, me)
        elif isinstance(frame, ConsoleMonitor):  # supervisors follow any contact, read-only
            if not may_monitor(self.user.role):
                raise Forbidden("forbidden")
            contact = await conversations.get(frame.contact_id)
            self.monitored.add(contact.id)
            holder = contact.counsellor_id and await self.services.accounts.get(contact.counsellor_id)
            self.push(ev.monitoring(contact, holder.display_name if holder else None))
            if contact.id not in self.cursors:
                await self.follow(contact.id, 0)
        elif isinstance(frame, ConsoleUnmonitor):
            self.monitored.discard(frame.contact_id)
            if (await conversations.get(frame.contact_id)).counsellor_id != me:
                await self.unfollow(frame.contact_id)
            self.push({"type": "unmonitored", "contact_id": frame.contact_id})
        elif isinstance(frame, ConsoleHello):
            await self.resync(frame)


    async def emergency(self, frame: ConsoleResource | ConsolePutThrough) -> None:
        """An emergency number: a card sent in a chat (acknowledged like a message), or a
        caller put through to it (the ``ended`` event follows)."""
        if isinstance(frame, ConsoleResource):
            posted = await self.services.conversations.send_resource(
                frame.contact_id, frame.client_id, frame.resource, counsellor_id=self.user.id)
            self.push({"type": "ack", "contact_id": frame.contact_id,
                                   "client_id": frame.client_id, "seq": posted.message.seq})
        else:
            await self.services.calls.dial_emergency(frame.contact_id, frame.number, self.user.id)


async def console_socket(request: web.Request) -> web.StreamResponse:
    refuse_cross_site(request)  # 403 origin_not_allowed before the upgrade
    services = request.app[SERVICES]
    registry = request.app[REGISTRY]
    user = await require_user(request)  # 401 before the upgrade
    session = session_digest(request)
    assert session is not None
    ws = new_socket()
    await ws.prepare(request)
    conn = ConsoleConnection(ws, services, request_lang(request), user, session)
    conn.start_writer()
    subscription = await services.ctx.bus.subscribe(counsellor_channel(user.id), conn.push)
    try:
        hello = await conn.wait_hello()
        if hello is None:
            return ws
        registry.add_console(conn)
        await services.floor.consoles_live([user.id])
        await conn.resync(hello)
        await services.floor.changed()
        try:
            await conn.handle_frames()
        finally:
            if registry.remove_console(conn):
                await registry.departed("console_gone", services.floor.console_gone(user.id))
    finally:
        await subscription.close()
        await conn.close()
    return ws
