"""Redis pub/sub bus: several server processes share events through one Redis.

One pub/sub connection per process; each channel is subscribed in Redis once,
however many local handlers listen to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub

from ..logs import get_logger
from .base import FLOOR, Bus, Event

PREFIX = "helpline:"
log = get_logger("bus.redis")


class RedisBus(Bus):
    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._redis: aioredis.Redis | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._redis = aioredis.from_url(self._url)
        await self._redis.ping()
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        # Always subscribed to something, so the reader never spins on an idle connection.
        await self._pubsub.subscribe(PREFIX + FLOOR + ":keepalive")
        self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")

    async def close(self) -> None:
        if self._reader:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub:
            await self._pubsub.aclose()
        if self._redis:
            await self._redis.aclose()

    async def publish(self, channel: str, event: Event) -> None:
        assert self._redis is not None, "bus not started"
        await self._redis.publish(PREFIX + channel, json.dumps(event, separators=(",", ":")))

    async def _listen(self, channel: str) -> None:
        assert self._pubsub is not None, "bus not started"
        await self._pubsub.subscribe(PREFIX + channel)

    async def _unlisten(self, channel: str) -> None:
        if self._pubsub is not None:
            await self._pubsub.unsubscribe(PREFIX + channel)

    async def _read(self) -> None:
        assert self._pubsub is not None
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # a dropped connection: redis-py reconnects on the next call
                log.warning("bus_read_failed", exc_info=True)
                await asyncio.sleep(0.5)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"].decode()[len(PREFIX):]
            try:
                event = json.loads(message["data"])
            except ValueError:
                log.warning("bus_bad_event", channel=channel)
                continue
            self._deliver(channel, event)
