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
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from ..domain.errors import DomainError, NotFound
from ..domain.messages import Sender, check_can_write, next_seq
from ..logs import get_logger
from ..store import Tx
from ..store.records import MessageRecord
from .context import Context

log = get_logger("writer")
MAX_BATCH = 500
ATTEMPTS = 3  # a batch is retried when another process stored one of its client_ids first


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
    done: asyncio.Future[Posted] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    @property
    def key(self) -> tuple[str, str]:
        return (self.contact_id, self.client_id)


class MessageWriter:
    def __init__(self, ctx: Context, published: Callable[[MessageRecord], Awaitable[None]]) -> None:
        self.ctx = ctx
        self._publish = published
        self._pending: list[Draft] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def write(self, draft: Draft) -> Posted:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="message-writer")
        self._pending.append(draft)
        self._wake.set()
        return await asyncio.shield(draft.done)  # a sender who leaves does not cancel the write

    async def close(self) -> None:
        """Store what is pending, then stop."""
        if self._task is None:
            return
        while self._pending:
            await asyncio.gather(*(d.done for d in list(self._pending)), return_exceptions=True)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._write_batch(batch)

    async def _write_batch(self, batch: list[Draft]) -> None:
        outcomes: list[Posted | DomainError] | None = None
        for _ in range(ATTEMPTS):
            try:
                async with self.ctx.store.transaction() as tx:
                    outcomes = await self._store(tx, batch)
                break
            except IntegrityError:
                continue
            except Exception as e:
                log.exception("message_batch_failed", size=len(batch))
                for d in batch:
                    if not d.done.done():
                        d.done.set_exception(e)
                return
        if outcomes is None:
            outcomes = [DomainError("conflict")] * len(batch)
        for draft, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, DomainError):
                draft.done.set_exception(outcome)
            else:
                draft.done.set_result(outcome)
        for outcome in outcomes:
            if isinstance(outcome, Posted) and not outcome.duplicate:
                await self._publish(outcome.message)

    async def _store(self, tx: Tx, batch: list[Draft]) -> list[Posted | DomainError]:
        now = self.ctx.clock.now()
        targets = await tx.contacts.lock_for_writing([d.contact_id for d in batch])
        stored = await tx.messages.by_client_ids([d.key for d in batch])
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
            message = MessageRecord(d.contact_id, last_seq[d.contact_id], d.sender, d.client_id, d.text, now)
            stored[d.key] = message  # a second copy in the same batch is a resend
            new.append((message, d.counsellor_id))
            outcomes.append(Posted(message, duplicate=False))
        await tx.contacts.set_last_seqs(
            {cid: seq for cid, seq in last_seq.items() if seq != targets[cid].last_seq}
        )
        await tx.messages.add_many(new)
        return outcomes
