"""Hand-offs, their delivery outbox, the audit log and legal holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..crypto import KeyRing
from ..domain.handoffs import HandoffState
from ..domain.records import HandoffRecord
from .tables import AuditRecord, Handoff, HandoffOutbox, LegalHold

PAYLOAD, EXCERPTS = "handoff.payload", "handoff.excerpts"  # what each sealed value is


def _handoff(row: Any, keys: KeyRing) -> HandoffRecord:
    payload = keys.open_json(row.payload, row.key_id, row.contact_id, PAYLOAD)
    excerpts = keys.open_json(row.excerpts, row.key_id, row.contact_id, EXCERPTS)
    return HandoffRecord(
        id=row.id, reference=row.reference, contact_id=row.contact_id, target_id=row.target_id,
        state=HandoffState(row.state), author_id=row.author_id, approver_id=row.approver_id,
        payload=dict(payload), excerpts=list(excerpts), created_at=row.created_at,
        updated_at=row.updated_at, review_needed=row.review_needed,
        partner_reference=row.partner_reference, decision=row.decision, decision_on=row.decision_on,
        last_error=row.last_error,
    )


class HandoffRepo:
    def __init__(self, conn: AsyncConnection, keys: KeyRing) -> None:
        self.conn = conn
        self.keys = keys

    def _sealed(self, contact_id: str, payload: dict[str, Any], excerpts: list[dict[str, Any]]
                ) -> dict[str, Any]:
        """What leaves (the fields and the excerpts), sealed together under one key."""
        sealed_payload, key_id = self.keys.seal_json(payload, contact_id, PAYLOAD)
        sealed_excerpts, _ = self.keys.seal_json(excerpts, contact_id, EXCERPTS)
        return {"payload": sealed_payload, "excerpts": sealed_excerpts, "key_id": key_id}

    async def create(self, values: dict[str, Any]) -> int:
        """A new hand-off; ``values`` has its ``payload`` and ``excerpts`` in clear."""
        sealed = self._sealed(values["contact_id"], values["payload"], values["excerpts"])
        result = await self.conn.execute(insert(Handoff).values(**{**values, **sealed}).returning(Handoff.id))
        return int(result.scalar_one())

    async def rewrite(self, h: HandoffRecord, payload: dict[str, Any], excerpts: list[dict[str, Any]],
                      now: datetime) -> bool:
        """New fields and excerpts for a hand-off still in the state it was read in."""
        return await self.move(h.id, h.state, {**self._sealed(h.contact_id, payload, excerpts),
                                               "updated_at": now})

    async def get(self, handoff_id: int, *, lock: bool = False) -> HandoffRecord | None:
        query = select(Handoff).where(Handoff.id == handoff_id)
        row = (await self.conn.execute(query.with_for_update() if lock else query)).first()
        return _handoff(row, self.keys) if row else None

    async def move(self, handoff_id: int, was: HandoffState, values: dict[str, Any]) -> bool:
        """Change a hand-off only if it is still in state ``was`` (a race loses cleanly)."""
        result = await self.conn.execute(
            update(Handoff).where(Handoff.id == handoff_id, Handoff.state == was.value).values(**values)
        )
        return bool(result.rowcount)

    async def listed(self, *, author_id: int | None = None, state: HandoffState | None = None,
                     contact_id: str | None = None) -> list[HandoffRecord]:
        conditions = []
        if author_id is not None:
            conditions.append(Handoff.author_id == author_id)
        if state is not None:
            conditions.append(Handoff.state == state.value)
        if contact_id is not None:
            conditions.append(Handoff.contact_id == contact_id)
        query = select(Handoff).where(*conditions).order_by(Handoff.id.desc()).limit(500)
        rows = await self.conn.execute(query)
        return [_handoff(r, self.keys) for r in rows]

    async def count(self, state: HandoffState) -> int:
        query = select(func.count()).select_from(Handoff).where(Handoff.state == state.value)
        return int((await self.conn.execute(query)).scalar_one())


class OutboxRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def put(self, handoff_id: int, key: str, due_at: datetime) -> None:
        """Due now (again, on a retry: same row, same idempotency key)."""
        done = await self.conn.execute(
            update(HandoffOutbox).where(HandoffOutbox.handoff_id == handoff_id)
            .values(due_at=due_at, lease_until=None, attempts=0, done_at=None)
        )
        if not done.rowcount:
            await self.conn.execute(insert(HandoffOutbox).values(
                handoff_id=handoff_id, idempotency_key=key, due_at=due_at, attempts=0))

    def _free(self, now: datetime) -> Any:
        o = HandoffOutbox
        return and_(o.done_at.is_(None), o.due_at <= now, or_(o.lease_until.is_(None), o.lease_until < now))

    async def any_due(self, now: datetime) -> bool:
        """Is a row due and free: one indexed read, so that a check costs no write lock."""
        found = await self.conn.execute(select(HandoffOutbox.id).where(self._free(now)).limit(1))
        return found.first() is not None

    async def backlog(self) -> int:
        """Hand-offs still to deliver (due, leased, or waiting to be tried again)."""
        found = await self.conn.execute(
            select(func.count()).select_from(HandoffOutbox).where(HandoffOutbox.done_at.is_(None)))
        return int(found.scalar_one())

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[tuple[int, str, int]]:
        """Rows due and not leased (or whose lease ran out), leased to the caller: (handoff
        id, idempotency key, attempts before this one). Only one claimant wins each row."""
        o = HandoffOutbox
        free = self._free(now)
        query = select(o.id).where(free).order_by(o.due_at).limit(limit)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = [r.id for r in await self.conn.execute(query)]
        if not ids:
            return []
        rows = await self.conn.execute(
            update(o).where(o.id.in_(ids), free).values(lease_until=lease_until, attempts=o.attempts + 1)
            .returning(o.handoff_id, o.idempotency_key, o.attempts)
        )
        return [(r.handoff_id, r.idempotency_key, r.attempts - 1) for r in rows]

    async def finish(self, handoff_id: int, now: datetime) -> None:
        await self.conn.execute(update(HandoffOutbox).where(HandoffOutbox.handoff_id == handoff_id)
                                .values(done_at=now, lease_until=None))

    async def later(self, handoff_id: int, due_at: datetime) -> None:
        await self.conn.execute(update(HandoffOutbox).where(HandoffOutbox.handoff_id == handoff_id)
                                .values(due_at=due_at, lease_until=None))


class AuditRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, at: datetime, actor_id: int | None, action: str, *, handoff_id: int | None = None,
                  contact_id: str | None = None, detail: str | None = None) -> None:
        await self.conn.execute(insert(AuditRecord).values(
            at=at, actor_id=actor_id, action=action, handoff_id=handoff_id, contact_id=contact_id,
            detail=detail))

    async def listed(self, handoff_id: int | None = None, limit: int = 10_000) -> list[dict[str, Any]]:
        a = AuditRecord
        query = select(a.id, a.at, a.actor_id, a.action, a.handoff_id, a.contact_id, a.detail)
        if handoff_id is not None:
            query = query.where(a.handoff_id == handoff_id)
        return [dict(r._mapping) for r in await self.conn.execute(query.order_by(a.id).limit(limit))]


class LegalHoldRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def hold(self, contact_id: str, now: datetime) -> None:
        """Held from now (again, if it had been released)."""
        again = await self.conn.execute(update(LegalHold).where(LegalHold.contact_id == contact_id)
                                        .values(since=now, released_at=None, released_by=None,
                                                release_reason=None))
        if not again.rowcount:
            await self.conn.execute(insert(LegalHold).values(contact_id=contact_id, since=now))

    async def release(self, contact_id: str, by: int, reason: str, now: datetime) -> bool:
        result = await self.conn.execute(
            update(LegalHold).where(LegalHold.contact_id == contact_id, LegalHold.released_at.is_(None))
            .values(released_at=now, released_by=by, release_reason=reason))
        return bool(result.rowcount)

    async def held(self, contact_id: str) -> bool:
        row = (await self.conn.execute(select(LegalHold.contact_id).where(
            LegalHold.contact_id == contact_id, LegalHold.released_at.is_(None)))).first()
        return row is not None

    async def listed(self) -> list[dict[str, Any]]:
        """The contacts held now: id, since when, and the references of their hand-offs."""
        rows = await self.conn.execute(
            select(LegalHold.contact_id, LegalHold.since, Handoff.reference)
            .outerjoin(Handoff, Handoff.contact_id == LegalHold.contact_id)
            .where(LegalHold.released_at.is_(None))
            .order_by(LegalHold.since, LegalHold.contact_id, Handoff.id)
        )
        held: dict[str, dict[str, Any]] = {}
        for r in rows:
            entry = held.setdefault(r.contact_id, {"contact_id": r.contact_id, "since": r.since,
                                                   "handoffs": []})
            if r.reference is not None:
                entry["handoffs"].append(r.reference)
        return list(held.values())
