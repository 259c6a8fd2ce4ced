"""The use cases on their own: SQLite, the in-memory bus and a fixed clock, no sockets.
A rule can be tested here without a server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from helpline.bus import MemoryBus
from helpline.config import Settings
from helpline.crypto import KeyRing
from helpline.services import Services
from helpline.store import Store
from tests.clients import FAST, TEST_DATA_KEYS
from tests.clock import FrozenClock


class Recorder:
    """Every event published on the channels it listens to, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def listen(self, bus: MemoryBus, *channels: str) -> None:
        for channel in channels:
            await bus.subscribe(channel, lambda event, channel=channel: self.events.append((channel, event)))

    def types(self) -> list[str]:
        return [event["type"] for _, event in self.events]


@pytest_asyncio.fixture
async def clock() -> FrozenClock:
    return FrozenClock("2026-11-27T10:00")


@pytest_asyncio.fixture
async def services(sqlite_url: str, clock: FrozenClock) -> AsyncIterator[Services]:
    store = Store(sqlite_url, KeyRing.from_text(TEST_DATA_KEYS))
    built = Services.build(Settings(**{**FAST, "database_url": sqlite_url}), store, MemoryBus(), clock)
    yield built
    await built.conversations.close()
    await store.close()


@pytest_asyncio.fixture
async def processes(database_url: str, clock: FrozenClock) -> AsyncIterator[list[Services]]:
    """Two server processes on one database (each its own store), sharing nothing else."""
    built = []
    for _ in range(2):
        store = Store(database_url, KeyRing.from_text(TEST_DATA_KEYS))
        settings = Settings(**{**FAST, "database_url": database_url})
        built.append(Services.build(settings, store, MemoryBus(), clock))
    yield built
    for s in built:
        await s.conversations.close()
        await s.ctx.store.close()


@pytest_asyncio.fixture
async def recorder() -> Recorder:
    return Recorder()
