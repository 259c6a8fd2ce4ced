"""Re-sealing under the newest data key (`helpline keys rotate`).

Every sealed or clear value not under the newest key is opened and sealed again, a short
batch per transaction, so a live server's writes interleave. A row is updated only if it
still holds what was read (its key id and its stored value): a row a server or the purge
changed meanwhile is left alone (counted as skipped). Rows already under the newest key
are never read again, so a run that stops half-way is resumed by running it again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Table, Text, and_, bindparam, cast, func, or_, select, update

from ..crypto import KeyRing
from .handoffs import EXCERPTS, PAYLOAD
from .repositories import HANDOVER_NOTE, WRAPUP_NOTE, _message_what
from .tables import Contact, Handoff, Message, Wrapup
from .unit_of_work import Store

PAUSE_S = 0.02  # at least, between two batches: a live server's writes get the database


@dataclass(frozen=True)
class Sealed:
    """A table's sealed values: its primary key, contact id column, key id column, and each
    value column with what it is (the associated data) and whether it is JSON."""

    name: str
    table: Table
    pk: str
    contact: str
    key: str
    values: tuple[tuple[str, Callable[[Any], str], bool], ...]


SEALED = (
    Sealed("messages", Message.__table__, "id", "contact_id", "key_id",  # type: ignore[arg-type]
           (("text", lambda r: _message_what(r.seq), False),)),
    Sealed("wrapups", Wrapup.__table__, "contact_id", "contact_id", "note_key_id",  # type: ignore[arg-type]
           (("note", lambda r: WRAPUP_NOTE, False),)),
    Sealed("contacts", Contact.__table__, "id", "id", "handover_note_key_id",  # type: ignore[arg-type]
           (("handover_note", lambda r: HANDOVER_NOTE, False),)),
    Sealed("handoffs", Handoff.__table__, "id", "contact_id", "key_id",  # type: ignore[arg-type]
           (("payload", lambda r: PAYLOAD, True), ("excerpts", lambda r: EXCERPTS, True))),
)


@dataclass
class Rotation:
    """Rows re-sealed, and rows skipped because they changed while being re-sealed, per table."""

    resealed: dict[str, int] = field(default_factory=lambda: dict.fromkeys((s.name for s in SEALED), 0))
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys((s.name for s in SEALED), 0))


def _pending(spec: Sealed, newest: str) -> ColumnElement[bool]:
    c = spec.table.c
    key = c[spec.key]
    return and_(or_(key.is_(None), key != newest), c[spec.values[0][0]].is_not(None))


def _stored(spec: Sealed, column: str) -> Any:
    """A value column as stored text (a JSON column compares as its text)."""
    c = spec.table.c[column]
    return cast(c, Text) if dict((v, j) for v, _, j in spec.values)[column] else c


async def pending(store: Store) -> dict[str, int]:
    """Rows not yet under the newest key, per table."""
    assert store.keys.newest is not None
    counts = {}
    async with store.reading() as tx:
        for spec in SEALED:
            query = select(func.count()).select_from(spec.table).where(_pending(spec, store.keys.newest))
            counts[spec.name] = int((await tx.conn.execute(query)).scalar_one())
    return counts


def _resealed(spec: Sealed, row: Any, keys: KeyRing, newest: str) -> dict[str, Any]:
    """The parameters of one row's update: what it held (to update it only if it still
    does) and its values sealed under the newest key."""
    old_key, contact_id = row._mapping[spec.key], row._mapping[spec.contact]
    params: dict[str, Any] = {"w_pk": row._mapping[spec.pk], "w_key": old_key}
    for column, what, is_json in spec.values:
        stored = row._mapping[column]
        params[f"w_{column}"] = stored
        if is_json:
            plain = keys.open_json(json.loads(stored), old_key, contact_id, what(row))
            params[f"v_{column}"], _ = keys.seal_json(plain, contact_id, what(row))
        else:
            plain = keys.open(stored, old_key, contact_id, what(row))
            params[f"v_{column}"], _ = keys.seal(plain, contact_id, what(row))
    return params


def _update(spec: Sealed, newest: str) -> Any:
    """One statement for a whole batch (executemany): a row changes only if it still holds
    what was read."""
    c = spec.table.c
    still = [c[spec.pk] == bindparam("w_pk"), c[spec.key].is_not_distinct_from(bindparam("w_key")),
             *(_stored(spec, v) == bindparam(f"w_{v}") for v, _, _ in spec.values)]
    return (update(spec.table).where(*still)
            .values({spec.key: newest, **{v: bindparam(f"v_{v}") for v, _, _ in spec.values}}))


async def rotate(store: Store, batch: int, progress: Callable[[str, int], None] = lambda t, n: None,
                 pause_s: float = PAUSE_S) -> Rotation:
    """Re-seal everything under the newest key; ``progress(table, rows)`` after each batch.

    A batch is read (and re-sealed, in memory) without a write lock, then written by one
    statement in a short transaction; then the rotation steps aside for at least as long as
    it held the lock, so that a live server's writes always get their turn (on SQLite, one
    writer at a time: a rotation that wrote back to back would starve them)."""
    keys, newest = store.keys, store.keys.newest
    assert newest is not None
    loop = asyncio.get_running_loop()
    done = Rotation()
    for spec in SEALED:
        c = spec.table.c
        columns = [c[spec.pk], c[spec.contact], c[spec.key],
                   *([c.seq] if spec.name == "messages" else []),
                   *(_stored(spec, v).label(v) for v, _, _ in spec.values)]
        statement = _update(spec, newest)
        after: Any = None
        while True:
            query = select(*columns).where(_pending(spec, newest))
            if after is not None:
                query = query.where(c[spec.pk] > after)
            async with store.reading() as tx:
                rows = (await tx.conn.execute(query.order_by(c[spec.pk]).limit(batch))).all()
            if not rows:
                break
            changes = [_resealed(spec, row, keys, newest) for row in rows]
            pks = [row._mapping[spec.pk] for row in rows]
            started = loop.time()
            async with store.transaction() as tx:
                await tx.conn.execute(statement, changes)
                resealed = (await tx.conn.execute(select(func.count()).select_from(spec.table).where(
                    c[spec.pk].in_(pks), c[spec.key] == newest))).scalar_one()
            held = loop.time() - started
            done.resealed[spec.name] += resealed
            done.skipped[spec.name] += len(rows) - resealed
            after = pks[-1]
            progress(spec.name, len(rows))
            await asyncio.sleep(max(pause_s, held))
    return done
