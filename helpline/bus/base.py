"""The bus port: publish an event on a channel; handlers subscribed to it receive it.

Publishing never fails for the caller: handlers in this process get the event at
once, and a backend that links several processes (Redis) carries it to the others
as best it can. When such a link was broken and comes back, the bus calls its resync
hooks: whatever this process's clients may have missed meanwhile is read again from
the database, which is the truth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..logs import get_logger

Event = dict[str, Any]
Handler = Callable[[Event], None]
log = get_logger("bus")

# Channel names. One place, so publishers and subscribers agree.
FLOOR = "floor"  # anything that may change the queue or who can take contacts
SESSIONS = "sessions"  # console sessions that ended (logout, password reset, disabled, expired)


def contact_channel(contact_id: str) -> str:
    return f"contact:{contact_id}"


def counsellor_channel(counsellor_id: int) -> str:
    return f"counsellor:{counsellor_id}"


class Subscription:
    def __init__(self, bus: Bus, channel: str, handler: Handler) -> None:
        self.bus, self.channel, self.handler = bus, channel, handler

    async def close(self) -> None:
        await self.bus.unsubscribe(self)


class Bus:
    """Handlers are plain callables run on the event loop; they must not block
    (they typically put the event on a socket's outbound queue)."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._resync_hooks: list[Callable[[], None]] = []

    async def start(self) -> None:
        """Connect to the backend, if there is one."""

    async def close(self) -> None:
        """Release the backend."""

    @property
    def linked(self) -> bool:
        """Events reach the other processes (always true for a bus of one process)."""
        return True

    def on_resync(self, hook: Callable[[], None]) -> None:
        """``hook`` runs when events may have been missed (a broken link came back)."""
        self._resync_hooks.append(hook)

    async def publish(self, channel: str, event: Event) -> None:
        """Deliver ``event`` to this process's handlers now, and hand it to the backend
        for the other processes. Never raises because of the backend."""
        self._deliver(channel, event)
        self._send(channel, event)

    def _send(self, channel: str, event: Event) -> None:
        """Carry the event to the other processes."""

    async def subscribe(self, channel: str, handler: Handler) -> Subscription:
        handlers = self._handlers.setdefault(channel, [])
        handlers.append(handler)
        if len(handlers) == 1:
            await self._listen(channel)
        return Subscription(self, channel, handler)

    async def unsubscribe(self, subscription: Subscription) -> None:
        handlers = self._handlers.get(subscription.channel)
        if not handlers or subscription.handler not in handlers:
            return
        handlers.remove(subscription.handler)
        if not handlers:
            del self._handlers[subscription.channel]
            await self._unlisten(subscription.channel)

    async def _listen(self, channel: str) -> None:
        """First local handler on ``channel``: start receiving it from the backend."""

    async def _unlisten(self, channel: str) -> None:
        """Last local handler gone: stop receiving ``channel``."""

    def _deliver(self, channel: str, event: Event) -> None:
        for handler in list(self._handlers.get(channel, ())):
            try:
                handler(event)
            except Exception:  # one broken handler must not cost the others their event
                log.exception("bus_handler_failed", channel=channel.split(":", 1)[0])

    def _resync(self) -> None:
        for hook in list(self._resync_hooks):
            try:
                hook()
            except Exception:
                log.exception("bus_resync_hook_failed")
