"""The messages' group commit: every message waiting to be stored goes into one transaction.

The writer takes all pending messages (see ``batches``), checks each against the rules
with the contacts' rows locked, numbers them (one seq run per contact), inserts them in
one statement and commits; only then are the senders acknowledged and the messages
published.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter

from ..domain.errors import DomainError, Duplicate, NotFound
from ..domain.messages import Sender, check_can_write, next_seq
from ..domain.records import MessageRecord
from ..store import Tx
from .batches import GroupCommit
from .context import Context

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
    resource: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.contact_id, self.client_id)


class MessageWriter:
    def __init__(self, ctx: Context, published: Callable[[MessageRecord], Awaitable[None]]) -> None:
        self.ctx = ctx
        self._publish = published
        self._batches: GroupCommit[Draft, Posted] = GroupCommit("message-writer", self._commit,
                                                               stored=self._published)

    async def write(self, draft: Draft) -> Posted:
        return await self._batches.submit(draft)

    async def close(self) -> None:
        """Store what is pending (for a few seconds at most), then stop."""
        await self._batches.close()

    async def _published(self, posted: Posted) -> None:
        if not posted.duplicate:
            self.ctx.metrics.messages_stored[posted.message.sender.value].inc()
            await self._publish(posted.message)

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

