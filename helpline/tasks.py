"""Background loops that run on a period and can be woken early."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from .logs import get_logger

log = get_logger("tasks")


class Periodic:
    """Run ``fn`` every ``interval`` seconds, or sooner when kicked; never twice at once.
    ``min_gap`` spaces the starts of two runs (kicks in between are merged into the next run)."""

    def __init__(
        self, name: str, fn: Callable[[], Awaitable[object]], interval: float, min_gap: float = 0.0
    ) -> None:
        self.name, self.fn, self.interval, self.min_gap = name, fn, interval, min_gap
        self._kicked = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        self._kicked.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the cancellation
            # that stop() sends when a kick lands at the same moment, and stop() waits forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._kicked.wait()
            self._kicked.clear()
            started = asyncio.get_running_loop().time()
            try:
                await self.fn()
            except Exception:
                log.exception("background_task_failed", task=self.name)
            if self.min_gap:
                ran = asyncio.get_running_loop().time() - started
                await asyncio.sleep(max(0.0, self.min_gap - ran))
