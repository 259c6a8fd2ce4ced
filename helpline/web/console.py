"""The counsellor console's WebSocket: /api/v1/console/ws (session cookie)."""

from __future__ import annotations

import contextlib

from aiohttp import web

from ..bus.base import counsellor_channel
from ..domain.contact import EndReason
from ..domain.errors import Forbidden
from ..domain.messages import Sender
from ..domain.routing import Priority
from ..services import Services
from ..services import events as ev
from ..services.events import Event
from ..store.records import CounsellorRecord
from .auth import require_user
from .connection import Connection, new_socket
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
    ConsoleStatus,
    ConsoleTransfer,
    ConsoleTyping,
    ConsoleUnmonitor,
    console_frames,
)
from .wrapup import monitoring_event


class ConsoleConnection(Connection):
    frames = console_frames

    def __init__(
        self, ws: web.WebSocketResponse, services: Services, lang: str, user: CounsellorRecord
    ) -> None:
        super().__init__(ws, services, lang)
        self.user = user
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
        async with self.services.ctx.store.reading() as tx:
            active = await tx.contacts.active_for(self.user.id)
            me = await tx.counsellors.get(self.user.id)
        now = self.services.ctx.clock.now()
        self.push({"type": "session", "counsellor": {
            "id": self.user.id, "username": self.user.username,
            "display_name": self.user.display_name, "role": self.user.role.value,
            "max_chats": self.user.max_chats,
        }, "status": me.status.value if me else "offline"})
        for contact in active:
            self.push(ev.assigned_to_counsellor(contact, now))
        for offer in await self.services.floor.pending_offers(self.user.id):
            self.push(offer)
        self.push({"type": "queue", "contacts": await self.services.floor.queue_list()})
        if self.user.role.supervises:
            self.push({"type": "overview", **await self.services.floor.overview()})

    async def handle(self, frame: object) -> None:
        conversations = self.services.conversations
        me = self.user.id
        if isinstance(frame, ConsoleMessage):
            posted = await conversations.post(
                frame.contact_id, Sender.COUNSELLOR, frame.client_id, frame.text, counsellor_id=me
            )
            await self.outbox.put({"type": "ack", "contact_id": frame.contact_id,
                                   "client_id": frame.client_id, "seq": posted.message.seq})
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
            if not self.user.role.supervises:
                raise Forbidden("forbidden")
            contact = await conversations.get(frame.contact_id)
            self.monitored.add(contact.id)
            await self.outbox.put(monitoring_event(contact))
            if contact.id not in self.cursors:
                await self.follow(contact.id, 0)
        elif isinstance(frame, ConsoleUnmonitor):
            self.monitored.discard(frame.contact_id)
            if (await conversations.get(frame.contact_id)).counsellor_id != me:
                await self.unfollow(frame.contact_id)
            await self.outbox.put({"type": "unmonitored", "contact_id": frame.contact_id})
        elif isinstance(frame, ConsoleHello):
            await self.resync(frame)


async def console_socket(request: web.Request) -> web.StreamResponse:
    refuse_cross_site(request)  # 403 origin_not_allowed before the upgrade
    services = request.app[SERVICES]
    registry = request.app[REGISTRY]
    user = await require_user(request)  # 401 before the upgrade
    ws = new_socket()
    await ws.prepare(request)
    conn = ConsoleConnection(ws, services, request_lang(request), user)
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
                with contextlib.suppress(Exception):
                    await services.floor.console_gone(user.id)
    finally:
        await subscription.close()
        await conn.close()
    return ws
