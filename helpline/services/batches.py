"""Group commit: what many callers ask to store at once goes into one transaction.

One task per ``GroupCommit`` takes everything pending (up to ``MAX_BATCH``), stores it
with one call of its ``store`` function (one transaction), and only then answers each
caller, with its own outcome: a result, or the error to tell them. A lone item is a batch
of one, so a quiet line pays nothing; a busy one pays one commit for many items.

If the batch's transaction fails, nothing of it is stored (it rolled back), and its items
are stored again one by one, so that one bad item costs only its own caller; whatever
happens, every caller hears back. The messages, the arrivals and the visitors' socket
counts each have one (``writer``, ``conversations``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from ..logs import get_logger
from ..tasks import stop, supervise

log = get_logger("batches")
MAX_BATCH = 500
CLOSE_TIMEOUT_S = 5.0

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self, name: str, store: Callable[[list[Item]], Awaitable[Sequence[Result | BaseException]]],
        *, stored: Callable[[Result], Awaitable[None]] | None = None, max_batch: int = MAX_BATCH,
    ) -> None:
        """``store``: stores a batch in one transaction, returns one outcome per item, in
        order (an exception instance is raised to that item's caller). ``stored``: runs
        after the commit for each result (a failure there is logged: it is stored)."""
        self.name = name
        self._store = store
        self._stored = stored
        self.max_batch = max_batch
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writing: list[tuple[Item, asyncio.Future[Result]]] = []  # the batch being stored now
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Store ``item`` with whatever else is pending; its outcome once committed."""
        if self._task is None or self._task.done():
            self._task = supervise(self.name, self._run)
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        self._wake.set()
        return await asyncio.shield(done)  # a caller who leaves does not cancel the write

    async def close(self) -> None:
        """Store what is pending (for a few seconds at most), then stop."""
        if self._task is None:
            return
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                while waiting := [d for _, d in self._writing + self._pending if not d.done()]:
                    await asyncio.gather(*waiting, return_exceptions=True)
        except TimeoutError:
            log.error("batch_close_timeout", batch=self.name, pending=len(self._pending))
        await stop(self._task)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
                self._writing = batch
                try:
                    await self._write(batch)
                except Exception as e:  # whatever happens, every caller hears back
                    log.exception("batch_failed", batch=self.name, size=len(batch))
                    for _, done in batch:
                        _settle(done, e)

    async def _write(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            outcomes = await self._store([item for item, _ in batch])
        except Exception:
            if len(batch) == 1:
                raise
            # Nothing of the batch was stored; one bad item must not cost the others.
            log.exception("batch_failed", batch=self.name, size=len(batch))
            for one in batch:
                try:
                    await self._write([one])
                except Exception as e:
                    log.exception("batch_item_failed", batch=self.name)
                    _settle(one[1], e)
            return
        for (_, done), outcome in zip(batch, outcomes, strict=True):
            _settle(done, outcome)
        if self._stored is None:
            return
        for outcome in outcomes:
            if not isinstance(outcome, BaseException):
                try:
                    await self._stored(outcome)
                except Exception:  # stored and answered: followers catch up from the store
                    log.exception("batch_after_commit_failed", batch=self.name)


def _settle(done: asyncio.Future[Result], outcome: Result | BaseException) -> None:
    """Give a caller still waiting its answer."""
    if done.done():
        return
    if isinstance(outcome, BaseException):
        done.set_exception(outcome)
    else:
        done.set_result(outcome)
