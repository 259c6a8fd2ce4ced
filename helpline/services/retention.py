"""The purge: what retention says is due goes, in short batches, by one process at a time.

The server runs it every ``HELPLINE_PURGE_INTERVAL_S``; ``helpline purge`` runs the same from
the command line. Each batch is its own short transaction (live chats write between two),
and renews the lease, so a runner that lost it stops at once. Only counts are logged."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from datetime import timedelta

from ..domain.errors import Duplicate
from ..domain.retention import Kind
from ..logs import get_logger
from .context import Context

log = get_logger("retention")

LEASE = "purge"
LEASE_FOR = timedelta(minutes=10)  # a runner that died frees the purge after this
BATCH = 500
PAUSE_S = 0.01  # between two batches: the writer and the floor get the database

Progress = Callable[[Kind, int], None]


class LeaseLost(Exception):
    """Another runner holds the purge's lease (ours ran out): this one stops."""


class Purge:
    def __init__(self, ctx: Context, *, batch: int = BATCH, pause_s: float = PAUSE_S) -> None:
        self.ctx = ctx
        self.batch, self.pause_s = batch, pause_s
        self.holder = secrets.token_hex(8)  # this runner, in the lease row: no host, no pid

    async def due(self) -> dict[Kind, int]:
        """What a purge would remove now, per kind (nothing changes). Rows that only become
        due once others have gone (a contact whose messages are still there) count as due."""
        cutoffs = self.ctx.settings.retention.cutoffs(self.ctx.clock.now())
        async with self.ctx.store.reading() as tx:
            return {kind: await tx.retention.count(kind, cutoffs) for kind in Kind}

    async def run(self, progress: Progress | None = None) -> dict[Kind, int] | None:
        """Remove what is due, kind after kind, a batch at a time. None if another runner
        holds the lease (nothing was done); else how many went per kind."""
        clock = self.ctx.clock
        if not await self._take():
            log.info("purge_skipped", reason="lease_held")
            return None
        gone = dict.fromkeys(Kind, 0)
        try:
            cutoffs = self.ctx.settings.retention.cutoffs(clock.now())
            for kind in Kind:
                while True:
                    async with self.ctx.store.transaction() as tx:
                        if not await tx.leases.take(LEASE, self.holder, clock.now(), clock.now() + LEASE_FOR):
                            raise LeaseLost()
                        n = await tx.retention.purge(kind, cutoffs, self.batch)
                    gone[kind] += n
                    self.ctx.metrics.purged[kind.value].inc(n)
                    if progress is not None and n:
                        progress(kind, n)
                    if n < self.batch:
                        break
                    await asyncio.sleep(self.pause_s)
        except LeaseLost:
            log.warning("purge_lease_lost", **{k.value: n for k, n in gone.items()})
            return gone
        finally:
            await self._give_back()
        await self.ctx.store.checkpoint()
        self.ctx.metrics.purge_completed.set(time.time())
        log.info("purge_done", **{k.value: n for k, n in gone.items()})
        return gone

    async def _take(self) -> bool:
        now = self.ctx.clock.now()
        try:
            async with self.ctx.store.transaction() as tx:
                return await tx.leases.take(LEASE, self.holder, now, now + LEASE_FOR)
        except Duplicate:  # another runner inserted the row at the same moment
            return False

    async def _give_back(self) -> None:
        async with self.ctx.store.transaction() as tx:
            await tx.leases.give_back(LEASE, self.holder)
