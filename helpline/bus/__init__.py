"""Realtime fan-out between the parts of the server (and between server processes).

The bus carries events only: losing it loses no data, since the database is
the truth and every client resyncs from it by ``seq``.
"""

from .base import Bus, Handler, Subscription
from .memory import MemoryBus

__all__ = ["Bus", "Handler", "MemoryBus", "Subscription", "make_bus"]


def make_bus(redis_url: str | None) -> Bus:
    if redis_url:
        from .redis import RedisBus

        return RedisBus(redis_url)
    return MemoryBus()
