"""Redis pub/sub bus: several server processes share events through one Redis.

Handlers in the publishing process get an event at once; Redis carries it to the
other processes (each skips its own events when they come back). One pub/sub
connection per process; each channel is subscribed in Redis once, however many
local handlers listen to it.

Redis may go away at any moment. Publishing never waits for it: events queue for a
sender task and, while the link is down, are dropped (counted and logged). A link
task reconnects with a short backoff and subscribes again; once the link is back,
this process resyncs its own clients from the database and asks every other process
to do the same, so whatever was missed meanwhile arrives, in order and once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import deque
from itertools import islice
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub

from ..logs import get_logger
from ..tasks import stop, supervise
from .base import Bus, Event

PREFIX = "helpline:"
CONTROL = PREFIX + "bus:control"  # always subscribed: resync requests between processes
RETRY_MIN_S, RETRY_MAX_S = 0.1, 0.5  # reconnect backoff: back within half a second of Redis
OUTGOING_LIMIT = 100_000
SEND_BATCH = 256
FLUSH_ON_CLOSE_S = 2.0
log = get_logger("bus.redis")


class RedisBus(Bus):
    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._origin = uuid.uuid4().hex  # this process, so it skips its own events
        self._redis: aioredis.Redis | None = None
        self._pubsub: PubSub | None = None
        self._outgoing: deque[tuple[str, str]] = deque()
        self._wake = asyncio.Event()
        self._up = asyncio.Event()
        self._was_down = False
        self._resync_owed = False  # an event was dropped: the others must read the truth again
        self.dropped = 0
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def linked(self) -> bool:
        return self._up.is_set()

    async def start(self, wait_s: float = 5.0) -> None:
        """Start linking. Waits up to ``wait_s`` for the first link; without Redis the
        process still serves its own clients, degraded (see /healthz), and keeps trying."""
        self._redis = aioredis.from_url(
            self._url, socket_connect_timeout=2.0, socket_keepalive=True, health_check_interval=10
        )
        self._tasks = [supervise("redis-bus-link", self._link), supervise("redis-bus-sender", self._sender)]
        try:
            async with asyncio.timeout(wait_s):
                await self._up.wait()
        except TimeoutError:
            log.error("bus_unreachable", waited_s=wait_s)

    async def close(self) -> None:
        sender = self._tasks[-1] if self._tasks else None
        await stop(sender)
        try:  # what this process said last still reaches the others
            async with asyncio.timeout(FLUSH_ON_CLOSE_S):
                await self._flush()
        except TimeoutError:
            log.warning("bus_flush_timeout", events=len(self._outgoing))
        for task in self._tasks:
            await stop(task)
        await self._drop_pubsub()
        if self._redis is not None:
            await self._redis.aclose()

    # --- out ---------------------------------------------------------------------------

    def _send(self, channel: str, event: Event) -> None:
        if not self.linked:
            self._dropped(1)
            return
        if len(self._outgoing) >= OUTGOING_LIMIT:
            self._outgoing.popleft()
            self._dropped(1)
        wire = json.dumps({"o": self._origin, "e": event}, separators=(",", ":"))
        self._outgoing.append((PREFIX + channel, wire))
        self._wake.set()

    def _dropped(self, n: int) -> None:
        if self.dropped == 0 or not self._resync_owed:
            log.warning("bus_events_dropped", events=n)
        self.dropped += n
        self._resync_owed = True

    async def _sender(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()
            if self._resync_owed and self.linked and not self._outgoing:
                await self._ask_resync()

    async def _flush(self) -> None:
        """Send the queued events, in order, in pipelined batches."""
        assert self._redis is not None
        while self._outgoing and self.linked:
            batch = list(islice(self._outgoing, SEND_BATCH))
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for channel, wire in batch:
                        pipe.publish(channel, wire)
                    await pipe.execute()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("bus_publish_failed", error=type(e).__name__)
                self._dropped(len(batch))
            for _ in batch:
                self._outgoing.popleft()

    async def _ask_resync(self) -> None:
        """Tell every process (this one included) to resync its clients from the database."""
        assert self._redis is not None
        try:
            await self._redis.publish(CONTROL, json.dumps({"o": self._origin, "e": {"type": "resync"}}))
        except Exception as e:
            log.warning("bus_publish_failed", error=type(e).__name__)
            return
        self._resync_owed = False
        self._resync()

    # --- in ----------------------------------------------------------------------------

    async def _listen(self, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return  # subscribed with every other channel when the link comes back
        try:
            await pubsub.subscribe(PREFIX + channel)
        except Exception as e:
            log.warning("bus_subscribe_failed", error=type(e).__name__)
            await self._drop_pubsub()  # the link task sees it and starts again

    async def _unlisten(self, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return
        try:
            await pubsub.unsubscribe(PREFIX + channel)
        except Exception as e:
            log.warning("bus_unsubscribe_failed", error=type(e).__name__)

    async def _link(self) -> None:
        """Hold the pub/sub link: connect, subscribe, read; on any failure, start again."""
        assert self._redis is not None
        delay = RETRY_MIN_S
        down_since = asyncio.get_running_loop().time()
        while True:
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                self._pubsub = pubsub
                await pubsub.subscribe(CONTROL, *(PREFIX + c for c in list(self._handlers)))
                self._up.set()
                delay = RETRY_MIN_S
                if self._was_down:
                    down_s = asyncio.get_running_loop().time() - down_since
                    log.warning("bus_link_restored", down_s=round(down_s, 2))
                    self._resync_owed = True  # the others missed our events, we missed theirs
                    self._wake.set()
                while True:
                    if self._pubsub is not pubsub:
                        raise ConnectionError("pub/sub connection dropped")
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._received(message)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                if self._up.is_set():
                    log.error("bus_link_lost", error=type(e).__name__)
                    down_since = asyncio.get_running_loop().time()
                self._up.clear()
                self._was_down = True
                if self._outgoing:  # stale by the time the link is back: the resync replaces them
                    self._dropped(len(self._outgoing))
                    self._outgoing.clear()
                await self._drop_pubsub()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)

    def _received(self, message: dict[str, Any]) -> None:
        try:
            wire = json.loads(message["data"])
            origin, event = wire["o"], wire["e"]
            channel = message["channel"].decode()
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("bus_bad_event")
            return
        if origin == self._origin:
            return  # delivered here when it was published
        if channel == CONTROL:
            if event.get("type") == "resync":
                self._resync()
            return
        self._deliver(channel[len(PREFIX):], event)

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            except Exception:  # already broken: nothing to release
                log.debug("bus_pubsub_close_failed")
