"""The counsellor console's WebSocket: /api/v1/console/ws (session cookie)."""

from __future__ import annotations

import contextlib

from aiohttp import web

from ..bus.base import counsellor_channel
from ..domain.contact import EndReason
from ..domain.messages import Sender
from ..services import Services
from ..services import events as ev
from ..services.events import Event
from ..store.records import CounsellorRecord
from .auth import require_user
from .connection import Connection, new_socket
from .errors import request_lang
from .keys import REGISTRY, SERVICES
from .schemas import (
    ConsoleEnd,
    ConsoleHello,
    ConsoleMessage,
    ConsoleStatus,
    ConsoleTyping,
    console_frames,
)


class ConsoleConnection(Connection):
    frames = console_frames

    def __init__(
        self, ws: web.WebSocketResponse, services: Services, lang: str, user: CounsellorRecord
    ) -> None:
        super().__init__(ws, services, lang)
        self.user = user
        self.after: dict[str, int] = {}

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
        if kind == "requeued":
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
        elif isinstance(frame, ConsoleHello):
            await self.resync(frame)


async def console_socket(request: web.Request) -> web.StreamResponse:
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
