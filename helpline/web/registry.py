"""The live sockets of this process: for heartbeats, queue updates and shutdown."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from ..logs import get_logger
from ..metrics import Metrics
from .connection import CLOSE_SESSION_ENDED

log = get_logger("registry")

if TYPE_CHECKING:
    from .console import ConsoleConnection
    from .visitor import VisitorConnection


class Registry:
    def __init__(self, metrics: Metrics | None = None) -> None:
        self._open = (metrics or Metrics.off()).sockets_open  # per kind
        self.visitors: defaultdict[str, set[VisitorConnection]] = defaultdict(set)
        self.consoles: defaultdict[int, set[ConsoleConnection]] = defaultdict(set)
        self.departures: set[asyncio.Task[None]] = set()

    async def departed(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        """Run what a closed socket leaves to do (the grace period starts, the counsellor is
        told). aiohttp cancels the handler of a socket whose peer went away, so the work runs
        in a task of its own, to its end; a failure is logged."""
        task = asyncio.create_task(work, name=name)
        self.departures.add(task)
        task.add_done_callback(self._done)
        await asyncio.shield(task)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.departures.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("departure_failed", task=task.get_name(), exc_info=task.exception())

    async def settle(self, within: float) -> None:
        """Shutting down: let the departures finish before the database closes."""
        if not self.departures:
            return
        try:
            async with asyncio.timeout(within):
                await asyncio.wait(set(self.departures))
        except TimeoutError:
            log.warning("departures_unfinished", count=len(self.departures))

    def add_visitor(self, conn: VisitorConnection) -> None:
        self.visitors[conn.contact_id].add(conn)
        self._open["visitor"].inc()

    def remove_visitor(self, conn: VisitorConnection) -> None:
        conns = self.visitors.get(conn.contact_id)
        if conns is not None and conn in conns:
            self._open["visitor"].dec()
            conns.discard(conn)
            if not conns:
                del self.visitors[conn.contact_id]

    def add_console(self, conn: ConsoleConnection) -> None:
        self.consoles[conn.user.id].add(conn)
        self._open["console"].inc()

    def remove_console(self, conn: ConsoleConnection) -> bool:
        """True if it was the counsellor's last console here."""
        conns = self.consoles.get(conn.user.id)
        if conns is None:
            return True
        if conn in conns:
            self._open["console"].dec()
        conns.discard(conn)
        if not conns:
            del self.consoles[conn.user.id]
            return True
        return False

    def session_ended(self, event: dict[str, Any]) -> None:
        """Bus handler: close the consoles of a session that ended (or of every session of
        an account) in this process."""
        for conns in list(self.consoles.values()):
            for conn in list(conns):
                if conn.session == event.get("session") or conn.user.id == event.get("counsellor_id"):
                    conn.close_soon(CLOSE_SESSION_ENDED, b"session_ended")

    def all(self) -> list[VisitorConnection | ConsoleConnection]:
        return [c for cs in self.visitors.values() for c in cs] + [
            c for cs in self.consoles.values() for c in cs
        ]
