"""The bus port: publish an event on a channel; handlers subscribed to it receive it."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]
Handler = Callable[[Event], None]

# Channel names. One place, so publishers and subscribers agree.
FLOOR = "floor"  # anything that may change the queue or who can take contacts


def contact_channel(contact_id: str) -> str:
    return f"contact:{contact_id}"


def counsellor_channel(counsellor_id: int) -> str:
    return f"counsellor:{counsellor_id}"


class Subscription:
    def __init__(self, bus: Bus, channel: str, handler: Handler) -> None:
        self.bus, self.channel, self.handler = bus, channel, handler

    async def close(self) -> None:
        await self.bus.unsubscribe(self)


class Bus(abc.ABC):
    """Handlers are plain callables run on the event loop; they must not block
    (they typically put the event on a socket's outbound queue)."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect to the backend, if there is one."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release the backend."""

    @abc.abstractmethod
    async def publish(self, channel: str, event: Event) -> None: ...

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

    async def _listen(self, channel: str) -> None:  # noqa: B027 - backend hook
        """First local handler on ``channel``: start receiving it from the backend."""

    async def _unlisten(self, channel: str) -> None:  # noqa: B027 - backend hook
        """Last local handler gone: stop receiving ``channel``."""

    def _deliver(self, channel: str, event: Event) -> None:
        for handler in list(self._handlers.get(channel, ())):
            handler(event)
