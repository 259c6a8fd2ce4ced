"""In-process bus: the embedded default for a single server process."""

from __future__ import annotations

from .base import Bus, Event


class MemoryBus(Bus):
    async def publish(self, channel: str, event: Event) -> None:
        self._deliver(channel, event)
