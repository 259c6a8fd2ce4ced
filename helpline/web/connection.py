"""One client WebSocket: frames in, events out, and gap-free message delivery.

Everything sent to the client goes through ``outbox`` and one writer task, so
sends never interleave. For each followed contact the connection keeps a
cursor, the last ``seq`` it delivered: a message at or below the cursor is
dropped (duplicate), a message past ``cursor + 1`` makes it read what it
missed from the database first. Events from the bus may therefore come late
or out of order, and the client still sees every message once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import deque
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from aiohttp import WSMsgType, web
from pydantic import TypeAdapter, ValidationError

from ..bus import Subscription
from ..bus.base import contact_channel
from ..crypto import SealedDataError
from ..domain.errors import DomainError
from ..i18n import translate
from ..logs import get_logger
from ..services import Services
from ..services.events import Event, message
from .errors import UNREADABLE, InvalidJson, load_json, log_unreadable, validation_details

log = get_logger("ws")
OUTBOX_LIMIT = 5000
HISTORY_PAGE = 500
MAX_FRAME_BYTES = 64 * 1024
CLOSE_BAD_TOKEN = 4401
CLOSE_SLOW = 4408
CLOSE_SESSION_ENDED = 4401


class Outbox:
    """What waits to be sent to one client, in order: a deque and, while the writer waits
    for more, one future. (An asyncio.Queue, four deques and an Event, cost three times as
    much memory per socket, and its blocking put is not wanted: a client that does not read
    is closed, never waited for.)"""

    __slots__ = ("_events", "_limit", "_waiter")

    def __init__(self, limit: int) -> None:
        self._events: deque[Event] = deque()
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None

    def put(self, event: Event) -> bool:
        """False, and nothing queued, when it holds ``limit`` events already."""
        if len(self._events) >= self._limit:
            return False
        self._events.append(event)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        return True

    async def get(self) -> Event:
        while not self._events:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._events.popleft()


def new_socket() -> web.WebSocketResponse:
    return web.WebSocketResponse(heartbeat=30.0, max_msg_size=MAX_FRAME_BYTES)


class Connection:
    frames: TypeAdapter[Any]
    kind: str  # visitor | console (in metrics)

    def __init__(self, ws: web.WebSocketResponse, services: Services, lang: str) -> None:
        self.id = uuid.uuid4().hex
        self.ws = ws
        self.services = services
        self.lang = lang
        self.outbox = Outbox(OUTBOX_LIMIT)
        self.cursors: dict[str, int] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self._writer: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[bool] | None = None
        self._catch_up_pending = False
        metrics = services.ctx.metrics
        self._delivered = metrics.message_delivery[self.kind] if metrics.enabled else None

    # --- receiving ---------------------------------------------------------------------

    async def frames_in(self) -> AsyncIterator[Any]:
        """Valid frames, one by one. A bad frame gets an ``error`` event and is skipped;
        the connection stays open."""
        async for msg in self.ws:
            if msg.type != WSMsgType.TEXT:
                if msg.type == WSMsgType.BINARY:
                    await self.error("invalid_frame")
                continue
            frame = await self.parse(msg.data)
            if frame is not None:
                yield frame

    async def parse(self, data: str) -> Any | None:
        try:
            raw = load_json(data)
        except InvalidJson:
            await self.error("invalid_json")
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            await self.error("invalid_frame")
            return None
        try:
            return self.frames.validate_python(raw)
        except ValidationError as e:
            if any(err["type"] == "union_tag_invalid" for err in e.errors()):
                await self.error("unknown_type", frame_type=raw["type"][:40])
            else:
                await self.error("invalid_frame", details=validation_details(e))
            return None

    async def wait_hello(self) -> Any | None:
        """The first valid ``hello`` frame; anything before it gets ``hello_required``.
        None if the client leaves or says nothing in time."""
        timeout = self.services.ctx.settings.hello_timeout_s
        try:
            async with asyncio.timeout(timeout):
                async for frame in self.frames_in():
                    if frame.type == "hello":
                        return frame
                    await self.error("hello_required")
        except TimeoutError:
            await self.ws.close(code=4408, message=b"hello_timeout")
        return None

    # --- sending -----------------------------------------------------------------------

    def push(self, event: Event) -> None:
        """Queue an event for this client (bus handler: never blocks)."""
        if self._closing is None and not self.outbox.put(event):
            # It reconnects and resyncs from its last seq; nothing is lost.
            log.warning("slow_consumer", connection=self.id)
            self.close_soon(CLOSE_SLOW, b"slow_consumer")

    def request_catch_up(self) -> None:
        """Events may have been lost (the bus was down): read where things stand from the
        database, once, whatever the number of requests meanwhile."""
        if not self._catch_up_pending:
            self._catch_up_pending = True
            self.push({"type": "_catch_up"})

    async def catch_up(self) -> None:
        """Send what was missed: by default, every followed contact's messages."""
        for contact_id in list(self.cursors):
            await self.sync(contact_id)

    def close_soon(self, code: int, reason: bytes) -> None:
        """Close the socket from a bus handler (which cannot wait)."""
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: int, reason: bytes) -> bool:
        try:
            return await self.ws.close(code=code, message=reason)
        except Exception:  # the socket is gone already
            log.debug("ws_close_failed", connection=self.id)
            return False

    async def error(self, code: str, **extra: Any) -> None:
        self.push({
            "type": "error", "code": code, "message": translate(f"error.{code}", self.lang), **extra
        })

    async def handle_frames(self) -> None:
        """Read frames until the client leaves. A refused frame gets an ``error`` event
        naming it; an unexpected failure is logged and answered ``internal``; the
        connection stays open either way."""
        async for frame in self.frames_in():
            try:
                await self.handle(frame)
            except DomainError as e:  # a RateLimited says when to resend (retry_after_s)
                await self.error(e.code, **_refs(frame), **getattr(e, "extra", {}))
            except SealedDataError as e:
                log_unreadable(e)
                await self.error(UNREADABLE, **_refs(frame))
            except Exception:
                log.exception("frame_failed", connection=self.id, frame_type=frame.type)
                await self.error("internal", **_refs(frame))

    async def handle(self, frame: Any) -> None:
        raise NotImplementedError

    def start_writer(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name=f"ws-writer-{self.id}")

    async def _write_loop(self) -> None:
        try:
            while True:
                event = await self.outbox.get()
                await self.deliver(event)
        except (ConnectionResetError, RuntimeError):  # the socket closed under us
            pass
        except SealedDataError as e:  # a catch-up met a message it cannot open: say so, close
            log_unreadable(e)
            with contextlib.suppress(Exception):
                await self.send({"type": "error", "code": UNREADABLE,
                                 "message": translate(f"error.{UNREADABLE}", self.lang)})
            await self.ws.close(code=1011)
        except Exception:
            log.exception("ws_writer_failed", connection=self.id)
            await self.ws.close(code=1011)

    async def send(self, event: Event) -> None:
        await self.ws.send_json(event)

    async def deliver(self, event: Event) -> None:
        kind = event["type"]
        if kind == "message":
            await self.deliver_message(event)
        elif kind == "_sync":
            await self.sync(event["contact_id"])
        elif kind == "_catch_up":
            self._catch_up_pending = False
            await self.catch_up()
        else:
            await self.forward(event)

    async def forward(self, event: Event) -> None:
        """Send any other event; subclasses filter and reshape."""
        await self.send(event)

    async def deliver_message(self, event: Event) -> None:
        contact_id = event["contact_id"]
        cursor = self.cursors.get(contact_id)
        if cursor is None or event["seq"] <= cursor:
            return
        if event["seq"] > cursor + 1:
            await self.sync(contact_id)
            return
        await self.send(event)
        self.cursors[contact_id] = event["seq"]
        if self._delivered is not None:
            self._delivered.observe(self._latency_s(event["sent_at"]))

    def _latency_s(self, sent_at: str) -> float:
        """Since a live message was stored (its time, from the same clock)."""
        stored = datetime.fromisoformat(sent_at)
        return max(0.0, (self.services.ctx.clock.now() - stored).total_seconds())

    async def sync(self, contact_id: str) -> None:
        """Send every stored message after the cursor, in order."""
        while (cursor := self.cursors.get(contact_id)) is not None:
            page = await self.services.conversations.history(contact_id, cursor, HISTORY_PAGE)
            for m in page:
                await self.send(message(m))
                self.cursors[contact_id] = m.seq
            if len(page) < HISTORY_PAGE:
                return

    # --- following contacts ------------------------------------------------------------

    async def follow(self, contact_id: str, after_seq: int, *, sync: bool = True) -> None:
        """Receive this contact's events, starting after ``after_seq``. Subscribes first
        and has the writer read the backlog second, so nothing falls in between. Without
        ``sync``, the caller reads the contact after this and calls ``synced``."""
        if contact_id not in self.subscriptions:
            self.subscriptions[contact_id] = await self.services.ctx.bus.subscribe(
                contact_channel(contact_id), self.push
            )
        self.cursors[contact_id] = after_seq
        if sync:
            self.push({"type": "_sync", "contact_id": contact_id})

    def synced(self, contact_id: str, last_seq: int) -> None:
        """The contact, read after ``follow``, has messages up to ``last_seq``: read those
        past the cursor, if any (any later one comes as an event)."""
        cursor = self.cursors.get(contact_id)
        if cursor is not None and last_seq > cursor:
            self.push({"type": "_sync", "contact_id": contact_id})

    async def unfollow(self, contact_id: str) -> None:
        self.cursors.pop(contact_id, None)
        sub = self.subscriptions.pop(contact_id, None)
        if sub:
            await sub.close()

    async def close(self) -> None:
        for contact_id in list(self.subscriptions):
            await self.unfollow(contact_id)
        if self._writer:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer


def _refs(frame: Any) -> dict[str, Any]:
    """What names the frame an error answers (its contact and client ids)."""
    return {k: getattr(frame, k) for k in ("contact_id", "client_id") if hasattr(frame, k)}
