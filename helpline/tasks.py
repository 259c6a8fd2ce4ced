"""Background work: loops that run on a period and can be woken early, and a supervisor
that keeps a long-running task alive. No background task dies silently: a failure is
logged and the work starts again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from .logs import get_logger

log = get_logger("tasks")
RESTART_AFTER_S = 0.5
STOP_TIMEOUT_S = 5.0


def supervise(name: str, work: Callable[[], Awaitable[None]], restart_after: float = RESTART_AFTER_S
              ) -> asyncio.Task[None]:
    """Run ``work`` in a task for as long as the process runs. If it fails (or returns),
    the failure is logged as an error and ``work`` starts again after ``restart_after``
    seconds; only cancelling the task stops it."""

    async def run() -> None:
        while True:
            try:
                await work()
                log.error("background_task_returned", task=name)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background_task_crashed", task=name)
            await asyncio.sleep(restart_after)

    return asyncio.create_task(run(), name=name)


async def stop(task: asyncio.Task[None] | None, within: float = STOP_TIMEOUT_S) -> None:
    """Cancel a background task and wait for it to end, at most ``within`` seconds (a task
    that will not stop is logged and left behind: shutdown always finishes)."""
    if task is None or task.done():
        return
    task.cancel()
    try:
        async with asyncio.timeout(within):
            with contextlib.suppress(asyncio.CancelledError):
                await task
    except TimeoutError:
        log.error("background_task_would_not_stop", task=task.get_name())


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
        self._task = supervise(self.name, self._run)

    async def stop(self) -> None:
        await stop(self._task)

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
