"""Hand-offs: a counsellor drafts one from a contact (only the target's fields, and the
messages they tick), submits it, a second person approves it where the target asks for
that, and the dispatcher delivers it once, however often it has to try. Every step is in
the audit log, in the same transaction as the change it records."""

from __future__ import annotations

import random
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from ..bus.base import counsellor_channel
from ..domain.access import (
    may_administer,
    may_approve_handoff,
    may_manage_legal_holds,
    may_read_handoff,
    may_read_transcript,
    may_see_floor,
)
from ..domain.errors import Conflict, Forbidden, NotFound
from ..domain.handoffs import (
    Action,
    HandoffState,
    InvalidHandoff,
    Target,
    TargetKind,
    minimal_payload,
    next_state,
)
from ..domain.records import CounsellorRecord, HandoffRecord
from ..handoffs_delivery import Delivery
from ..logs import get_logger
from ..store import Tx
from . import events
from .context import Context

log = get_logger("handoffs")

MAX_EXCERPTS = 50
MAX_ATTEMPTS = 8
DECISIONS = ("removed", "refused", "no_answer")
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone


Deliver = Callable[[Delivery], Awaitable[str | None]]  # the partner's reference, if any


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential, with jitter so that processes that failed together do not retry together:
    about 10 s, 20 s, 40 s... capped at an hour."""
    base = min(3600.0, 10.0 * 2 ** attempts)
    return timedelta(seconds=base * rng.uniform(0.5, 1.0))


class Handoffs:
    def __init__(self, ctx: Context, deliver: Deliver, rng: random.Random | None = None) -> None:
        self.ctx = ctx
        self.deliver = deliver
        self.rng = rng or random.Random()

    @property
    def targets(self) -> Mapping[str, Target]:
        return self.ctx.handoff_targets

    def target(self, target_id: str) -> Target:
        found = self.targets.get(target_id)
        if found is None:
            raise NotFound("unknown_target")
        return found

    # --- the author's side ------------------------------------------------------------------

    async def draft(self, contact_id: str, by: CounsellorRecord, target_id: str,
                    values: Mapping[str, object], excerpt_seqs: Sequence[int]) -> HandoffRecord:
        """A new draft for a contact its author may read; the contact is put on legal hold."""
        target = self.target(target_id)
        payload = minimal_payload(target, values)
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            contact = await tx.contacts.get(contact_id)
            if contact is None:
                raise NotFound("unknown_contact")
            if not may_read_transcript(by.role, by.id, contact.counsellor_id):
                raise Forbidden("not_your_contact")
            excerpts = await self._excerpts(tx, contact_id, excerpt_seqs)
            handoff_id = await tx.handoffs.create({
                "reference": _reference(), "contact_id": contact_id, "target_id": target.id,
                "state": HandoffState.DRAFT.value, "author_id": by.id, "payload": payload,
                "excerpts": excerpts, "created_at": now, "updated_at": now, "review_needed": False,
            })
            await tx.holds.hold(contact_id, now)
            await tx.audit.add(now, by.id, "create", handoff_id=handoff_id, contact_id=contact_id,
                               detail=target.id)
            created = await tx.handoffs.get(handoff_id)
        assert created is not None
        log.info("handoff_drafted", handoff=created.reference, target=target.id)
        return created

    async def edit(self, handoff_id: int, by: CounsellorRecord, values: Mapping[str, object],
                   excerpt_seqs: Sequence[int]) -> HandoffRecord:
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            h = await self._mine(tx, handoff_id, by)
            payload = minimal_payload(self.target(h.target_id), values)
            excerpts = await self._excerpts(tx, h.contact_id, excerpt_seqs)
            if h.state is not HandoffState.DRAFT or not await tx.handoffs.rewrite(h, payload, excerpts, now):
                raise Conflict("invalid_handoff_transition")
            await tx.audit.add(now, by.id, "edit", handoff_id=h.id, contact_id=h.contact_id)
        return await self.get(handoff_id)

    async def submit(self, handoff_id: int, by: CounsellorRecord) -> HandoffRecord:
        """Sent for approval, for delivery, or (guidance, emergency numbers) only recorded."""
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            h = await self._mine(tx, handoff_id, by)
            target = self.target(h.target_id)
            after = next_state(h.state, Action.SUBMIT, target)
            # Sent, or numbers given, without a second pair of eyes: a supervisor reviews it after.
            unchecked = target.kind is TargetKind.EMERGENCY or (target.sends and not target.approval)
            await self._move(tx, h, after, {"review_needed": unchecked})
            await tx.audit.add(now, by.id, "submit", handoff_id=h.id, contact_id=h.contact_id,
                               detail=after.value)
            await self._queue_delivery(tx, h, target, after)
            tx.floor_changed()  # supervisors' inbox
        return await self.get(handoff_id)

    async def cancel(self, handoff_id: int, by: CounsellorRecord) -> HandoffRecord:
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            h = await self._readable(tx, handoff_id, by)
            await self._move(tx, h, next_state(h.state, Action.CANCEL, self.target(h.target_id)), {})
            await tx.audit.add(now, by.id, "cancel", handoff_id=h.id, contact_id=h.contact_id)
            tx.floor_changed()
        return await self.get(handoff_id)

    async def record(self, handoff_id: int, by: CounsellorRecord, *, partner_reference: str | None,
                     decision: str | None, decision_on: date | None) -> HandoffRecord:
        """What the partner said: their reference (a hand-off filed by hand is then delivered)
        and, for a platform, its decision and when."""
        if decision is not None and decision not in DECISIONS:
            raise InvalidHandoff("decision", "unknown_choice")
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            h = await self._readable(tx, handoff_id, by)
            target = self.target(h.target_id)
            values: dict[str, Any] = {}
            if partner_reference is not None:
                values["partner_reference"] = partner_reference
            if decision is not None:
                values.update(decision=decision, decision_on=decision_on or now.date())
            after = h.state
            if h.state is HandoffState.DISPATCHING and target.connector == "manual" and partner_reference:
                after = next_state(h.state, Action.DELIVERED, target)
            elif h.state is not HandoffState.DELIVERED:
                raise Conflict("invalid_handoff_transition")
            await self._move(tx, h, after, values)
            await tx.audit.add(now, by.id, "record", handoff_id=h.id, contact_id=h.contact_id,
                               detail=decision or after.value)
        return await self.get(handoff_id)

    # --- the second pair of eyes ------------------------------------------------------------

    async def approve(self, handoff_id: int, by: CounsellorRecord) -> HandoffRecord:
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            h = await self._readable(tx, handoff_id, by)
            if not may_approve_handoff(by.role, by.id, h.author_id):
                raise Forbidden("four_eyes")
            target = self.target(h.target_id)
            after = next_state(h.state, Action.APPROVE, target)
            await self._move(tx, h, after, {"approver_id": by.id})
            await tx.audit.add(now, by.id, "approve", handoff_id=h.id, contact_id=h.contact_id)
            await self._queue_delivery(tx, h, target, after)
            tx.floor_changed()
        return await self.get(handoff_id)

    async def retry(self, handoff_id: int, by: CounsellorRecord | None) -> HandoffRecord:
        """Deliver a failed hand-off again: a supervisor, or (``by`` None) the operator at the
        command line."""
        if by is not None and not may_see_floor(by.role):
            raise Forbidden("forbidden")
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            h = await self._readable(tx, handoff_id, by)
            target = self.target(h.target_id)
            after = next_state(h.state, Action.RETRY, target)
            await self._move(tx, h, after, {"last_error": None})
            await tx.audit.add(now, by.id if by else None, "retry", handoff_id=h.id, contact_id=h.contact_id,
                               detail=None if by else "command_line")
            await self._queue_delivery(tx, h, target, after)
            tx.floor_changed()
        return await self.get(handoff_id)

    # --- reading ----------------------------------------------------------------------------

    async def view(self, handoff_id: int, by: CounsellorRecord) -> HandoffRecord:
        """One hand-off, whole, for its author or a supervisor; the reading is audited."""
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            h = await self._readable(tx, handoff_id, by)
            await tx.audit.add(now, by.id, "view", handoff_id=h.id, contact_id=h.contact_id)
        return h

    async def listed(self, by: CounsellorRecord | None, state: HandoffState | None = None
                     ) -> list[HandoffRecord]:
        """A counsellor's own hand-offs; every one for a supervisor (or the operator: None)."""
        author = None if by is None or may_see_floor(by.role) else by.id
        async with self.ctx.store.reading() as tx:
            return await tx.handoffs.listed(author_id=author, state=state)

    async def timeline(self, handoff_id: int, by: CounsellorRecord | None) -> list[dict[str, Any]]:
        """What happened to a hand-off, step by step (its author, a supervisor, the operator)."""
        async with self.ctx.store.reading() as tx:
            h = await tx.handoffs.get(handoff_id)
            if h is None or (by is not None and not may_read_handoff(by.role, by.id, h.author_id)):
                raise NotFound("unknown_handoff")
            return [{k: r[k] for k in ("at", "action", "actor_id", "detail")}
                    for r in await tx.audit.listed(handoff_id)]

    async def audit_log(self, by: CounsellorRecord, handoff_id: int | None = None) -> list[dict[str, Any]]:
        if not may_administer(by.role):
            raise Forbidden("forbidden")
        async with self.ctx.store.reading() as tx:
            return await tx.audit.listed(handoff_id)

    async def legal_holds(self, by: CounsellorRecord) -> list[dict[str, Any]]:
        """The contacts on legal hold (retention skips them): id, since, hand-off references."""
        if not may_manage_legal_holds(by.role):
            raise Forbidden("forbidden")
        async with self.ctx.store.reading() as tx:
            return await tx.holds.listed()

    async def release_hold(self, contact_id: str, by: CounsellorRecord, reason: str) -> None:
        """An admin releases a contact's hold, with a reason: retention may then take it."""
        if not may_manage_legal_holds(by.role):
            raise Forbidden("forbidden")
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            if not await tx.holds.release(contact_id, by.id, reason, now):
                raise NotFound("no_hold")
            await tx.audit.add(now, by.id, "release_hold", contact_id=contact_id)

    # --- delivery ---------------------------------------------------------------------------

    async def dispatch_due(self, limit: int = 10) -> int:
        """Deliver what is due: each row is leased to this process, tried once, then marked
        delivered, rescheduled with backoff, or failed after its last attempt. Returns how
        many were tried."""
        now = self.ctx.clock.now()
        async with self.ctx.store.reading() as tx:  # it runs on every floor change: mostly nothing due
            if not await tx.outbox.any_due(now):
                return 0
        lease = timedelta(seconds=self.ctx.settings.handoff_lease_s)
        async with self.ctx.store.transaction() as tx:
            claimed = await tx.outbox.claim(now, now + lease, limit)
        for handoff_id, key, attempts in claimed:
            await self._deliver_one(handoff_id, key, attempts)
        return len(claimed)

    async def _deliver_one(self, handoff_id: int, key: str, attempts: int) -> None:
        h = await self.get(handoff_id)
        target = self.target(h.target_id)
        outgoing = Delivery(h.reference, key, target, {**h.payload, **_excerpts_field(h)},
                            self.ctx.clock.now())
        try:
            partner_reference = await self.deliver(outgoing)
        except Exception as e:  # a connector failure, or a bug: recorded either way
            retryable, reason = getattr(e, "retryable", True), getattr(e, "reason", type(e).__name__)
            await self._failed_attempt(h, attempts, bool(retryable), str(reason)[:40])
            return
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            await tx.outbox.finish(h.id, now)
            await self._move(tx, h, HandoffState.DELIVERED, {"partner_reference": partner_reference,
                                                             "last_error": None})
            await tx.audit.add(now, None, "delivered", handoff_id=h.id, contact_id=h.contact_id,
                               detail=(partner_reference or "")[:64] or None)
        self.ctx.metrics.handoff_deliveries["delivered"].inc()
        log.info("handoff_delivered", handoff=h.reference, target=target.id, attempts=attempts + 1)

    async def _failed_attempt(self, h: HandoffRecord, attempts: int, retryable: bool, reason: str) -> None:
        now = self.ctx.clock.now()
        last = not retryable or attempts + 1 >= MAX_ATTEMPTS
        async with self.ctx.store.transaction() as tx:
            if last:
                await tx.outbox.finish(h.id, now)
                await self._move(tx, h, HandoffState.FAILED, {"last_error": reason})
                await tx.audit.add(now, None, "failed", handoff_id=h.id, contact_id=h.contact_id,
                                   detail=reason)
                tx.floor_changed()  # supervisors are alerted
            else:
                await tx.outbox.later(h.id, now + backoff(attempts, self.rng))
                await tx.audit.add(now, None, "attempt_failed", handoff_id=h.id, contact_id=h.contact_id,
                                   detail=reason)
        self.ctx.metrics.handoff_deliveries["failed" if last else "retry"].inc()
        log.warning("handoff_attempt_failed", handoff=h.reference, attempt=attempts + 1, reason=reason,
                    final=last)

    # --- helpers ----------------------------------------------------------------------------

    async def _queue_delivery(self, tx: Tx, h: HandoffRecord, target: Target, state: HandoffState) -> None:
        """Moving to dispatching: a connector that sends gets an outbox row in this transaction."""
        if state is HandoffState.DISPATCHING and target.connector in ("webhook", "email"):
            await tx.outbox.put(h.id, f"{h.reference}-{secrets.token_hex(8)}", self.ctx.clock.now())

    async def _move(self, tx: Tx, h: HandoffRecord, after: HandoffState, values: dict[str, Any]) -> None:
        changed = {**values, "state": after.value, "updated_at": self.ctx.clock.now()}
        if not await tx.handoffs.move(h.id, h.state, changed):
            raise Conflict("invalid_handoff_transition")  # someone else moved it meanwhile
        if after is not h.state:  # its author's console follows it live
            tx.publish(counsellor_channel(h.author_id), events.handoff(h.id, h.reference, after.value))

    async def _excerpts(self, tx: Tx, contact_id: str, seqs: Sequence[int]) -> list[dict[str, Any]]:
        wanted = sorted(set(seqs))
        if len(wanted) > MAX_EXCERPTS:
            raise InvalidHandoff("excerpts", "too_many")
        if not wanted:
            return []
        found = {m.seq: m for m in await tx.messages.numbered(contact_id, wanted)}
        if any(s not in found for s in wanted):
            raise InvalidHandoff("excerpts", "unknown_message")
        return [{"seq": s, "sender": found[s].sender.value, "sent_at": found[s].sent_at.isoformat(),
                 "text": found[s].text} for s in wanted]

    async def get(self, handoff_id: int) -> HandoffRecord:
        """A hand-off by id, without an access check: for the dispatcher and the operator."""
        async with self.ctx.store.reading() as tx:
            h = await tx.handoffs.get(handoff_id)
        if h is None:
            raise NotFound("unknown_handoff")
        return h

    async def _readable(self, tx: Tx, handoff_id: int, by: CounsellorRecord | None) -> HandoffRecord:
        """The hand-off, for its author or a supervisor (``by`` None: the operator)."""
        h = await tx.handoffs.get(handoff_id, lock=True)
        if h is None or (by is not None and not may_read_handoff(by.role, by.id, h.author_id)):
            raise NotFound("unknown_handoff")  # another's hand-off is not even said to exist
        return h

    async def _mine(self, tx: Tx, handoff_id: int, by: CounsellorRecord) -> HandoffRecord:
        h = await self._readable(tx, handoff_id, by)
        if h.author_id != by.id:
            raise Forbidden("not_your_handoff")
        return h


def _excerpts_field(h: HandoffRecord) -> dict[str, Any]:
    return {"excerpts": h.excerpts} if h.excerpts else {}


def _reference() -> str:
    return "H-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))

