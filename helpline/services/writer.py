"""Group commit: every message waiting to be stored goes into one transaction.

One writer task per process takes all pending messages, checks each against
the rules with the contacts' rows locked, numbers them (one seq run per
contact), inserts them in one statement and commits; only then are the
senders acknowledged and the messages published. A lone message is a batch of
one, so a quiet line pays nothing; a busy one pays one commit for many
messages instead of one each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from time import perf_counter

from ..domain.errors import DomainError, Duplicate, NotFound
from ..domain.messages import Sender, check_can_write, next_seq
from ..domain.records import MessageRecord
from ..logs import get_logger
from ..store import Tx
from ..tasks import stop, supervise
from .context import Context

log = get_logger("writer")
MAX_BATCH = 500
ATTEMPTS = 3  # a batch is retried when another process stored one of its client_ids first
CLOSE_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Posted:
    message: MessageRecord
    duplicate: bool  # a resend of a message already stored: nothing new


@dataclass(slots=True)
class Draft:
    contact_id: str
    sender: Sender
    client_id: str
    text: str
    counsellor_id: int | None
    resource: str | None = None
    done: asyncio.Future[Posted] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    @property
    def key(self) -> tuple[str, str]:
        return (self.contact_id, self.client_id)


class MessageWriter:
    def __init__(self, ctx: Context, published: Callable[[MessageRecord], Awaitable[None]]) -> None:
        self.ctx = ctx
        self._publish = published
        self._pending: list[Draft] = []
        self._writing: list[Draft] = []  # the batch being stored now
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def write(self, draft: Draft) -> Posted:
        if self._task is None or self._task.done():
            self._task = supervise("message-writer", self._run)
        self._pending.append(draft)
        self._wake.set()
        return await asyncio.shield(draft.done)  # a sender who leaves does not cancel the write

    async def close(self) -> None:
        """Store what is pending (for a few seconds at most), then stop."""
        if self._task is None:
            return
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                while waiting := [d.done for d in self._writing + self._pending if not d.done.done()]:
                    await asyncio.gather(*waiting, return_exceptions=True)
        except TimeoutError:
            log.error("message_writer_close_timeout", pending=len(self._pending))
        await stop(self._task)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                self._writing = batch
                try:
                    await self._write_batch(batch)
                except Exception as e:  # whatever happens, every sender hears back
                    log.exception("message_batch_failed", size=len(batch))
                    _settle(batch, e)

    async def _write_batch(self, batch: list[Draft]) -> None:
        try:
            outcomes = await self._commit(batch)
        except Exception:
            if len(batch) == 1:
                raise
            # One bad row must not cost the others: store them one by one.
            log.exception("message_batch_failed", size=len(batch))
            for draft in batch:
                try:
                    await self._write_batch([draft])
                except Exception as e:
                    log.exception("message_failed", contact_id=draft.contact_id)
                    _settle([draft], e)
            return
        for draft, outcome in zip(batch, outcomes, strict=True):
            _settle([draft], outcome)
        stored = self.ctx.metrics.messages_stored
        for outcome in outcomes:
            if isinstance(outcome, Posted) and not outcome.duplicate:
                stored[outcome.message.sender.value].inc()
                try:
                    await self._publish(outcome.message)
                except Exception:  # stored and acked: followers catch up by seq
                    log.exception("message_publish_failed", contact_id=outcome.message.contact_id)

    async def _commit(self, batch: list[Draft]) -> list[Posted | DomainError]:
        """Store the batch in one transaction. The first attempt does not look for resends:
        a resend is rare (a widget back after a cut) and the database's unique
        (contact_id, client_id) refuses one anyway, one query less per batch. A conflict
        (a resend, or another process stored one of these client_ids first) is retried,
        and the next attempt looks them up and answers them as resends."""
        for attempt in range(ATTEMPTS):
            try:
                started = perf_counter()
                async with self.ctx.store.transaction() as tx:
                    outcomes = await self._store(tx, batch, look_up=attempt > 0)
                self.ctx.metrics.message_commit.observe(perf_counter() - started)
                return outcomes
            except Duplicate:
                if attempt == ATTEMPTS - 1:
                    if len(batch) == 1:
                        return [DomainError("conflict")]
                    raise
        raise AssertionError("unreachable")

    async def _store(self, tx: Tx, batch: list[Draft], look_up: bool) -> list[Posted | DomainError]:
        now = self.ctx.clock.now()
        targets = await tx.contacts.lock_for_writing([d.contact_id for d in batch])
        stored = await tx.messages.by_client_ids([d.key for d in batch]) if look_up else {}
        last_seq = {cid: t.last_seq for cid, t in targets.items()}
        new: list[tuple[MessageRecord, int | None]] = []
        outcomes: list[Posted | DomainError] = []
        for d in batch:
            if d.key in stored:
                outcomes.append(Posted(stored[d.key], duplicate=True))
                continue
            target = targets.get(d.contact_id)
            if target is None:
                outcomes.append(NotFound("unknown_contact"))
                continue
            try:
                check_can_write(d.sender, target.state, target.counsellor_id, d.counsellor_id, target.channel)
            except DomainError as e:
                outcomes.append(e)
                continue
            last_seq[d.contact_id] = next_seq(last_seq[d.contact_id])
            message = MessageRecord(d.contact_id, last_seq[d.contact_id], d.sender, d.client_id, d.text, now,
                                    d.resource)
            stored[d.key] = message  # a second copy in the same batch is a resend
            new.append((message, d.counsellor_id))
            outcomes.append(Posted(message, duplicate=False))
        await tx.contacts.set_last_seqs(
            {cid: seq for cid, seq in last_seq.items() if seq != targets[cid].last_seq}
        )
        await tx.messages.add_many(new)
        return outcomes


def _settle(drafts: list[Draft], outcome: Posted | BaseException) -> None:
    """Give each sender still waiting its answer (a result, or the error to tell them)."""
    for draft in drafts:
        if draft.done.done():
            continue
        if isinstance(outcome, Posted):
            draft.done.set_result(outcome)
        else:
            draft.done.set_exception(outcome)
