"""The Store opens transactions; a Tx groups the repositories of one transaction.

Writes go through ``Store.transaction()``: everything inside commits together
or not at all. On SQLite, writes from this process are serialised by a lock
(SQLite has one writer at a time anyway; waiting on a lock is cheaper than
retrying on SQLITE_BUSY). PostgreSQL uses row locks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..crypto import KeyRing
from ..domain.errors import Duplicate
from ..domain.records import ContactRecord, CounsellorRecord
from ..domain.routing import WaitingContact
from .handoffs import AuditRepo, HandoffRepo, LegalHoldRepo, OutboxRepo
from .planning import PlanningRepo
from .repositories import (
    CallerRepo,
    CallsSeenRepo,
    CannedRepo,
    ContactRepo,
    CounsellorRepo,
    MessageRepo,
    ScheduleRepo,
    SessionRepo,
    SurveyRepo,
    WrapupRepo,
)
from .retention import LeaseRepo, RetentionRepo
from .statistics import StatisticsRepo

Event = dict[str, Any]


@dataclass
class Effects:
    """What must happen because a transaction committed: events to publish, in order, and
    whether the floor (queue, who can take contacts) changed. Dropped on rollback."""

    events: list[tuple[str, Event]] = field(default_factory=list)
    floor_changed: bool = False
    to_ring: list[tuple[ContactRecord, CounsellorRecord]] = field(default_factory=list)  # calls assigned
    arrivals: list[WaitingContact] = field(default_factory=list)  # new in the queue (a lesser change)

    def __bool__(self) -> bool:
        return bool(self.events) or self.floor_changed or bool(self.to_ring) or bool(self.arrivals)


AfterCommit = Callable[[Effects], Awaitable[None]]


class Tx:
    def __init__(self, conn: AsyncConnection, keys: KeyRing, effects: Effects | None = None) -> None:
        self.conn = conn
        self.effects = effects if effects is not None else Effects()
        self.contacts = ContactRepo(conn, keys)
        self.messages = MessageRepo(conn, keys)
        self.counsellors = CounsellorRepo(conn, self.contacts)
        self.sessions = SessionRepo(conn)
        self.schedule = ScheduleRepo(conn)
        self.surveys = SurveyRepo(conn)
        self.wrapups = WrapupRepo(conn, keys)
        self.callers = CallerRepo(conn)
        self.calls_seen = CallsSeenRepo(conn)
        self.canned = CannedRepo(conn)
        self.handoffs = HandoffRepo(conn, keys)
        self.outbox = OutboxRepo(conn)
        self.audit = AuditRepo(conn)
        self.holds = LegalHoldRepo(conn)
        self.retention = RetentionRepo(conn)
        self.leases = LeaseRepo(conn)
        self.planning = PlanningRepo(conn)
        self.statistics = StatisticsRepo(conn)

    def publish(self, channel: str, event: Event) -> None:
        """Publish ``event`` on ``channel`` once this transaction has committed."""
        self.effects.events.append((channel, event))

    def ring(self, contact: ContactRecord, counsellor: CounsellorRecord) -> None:
        """Put an assigned call through to its counsellor, once this transaction has committed."""
        self.effects.to_ring.append((contact, counsellor))

    def floor_changed(self) -> None:
        """Tell every process the floor changed, once this transaction has committed."""
        self.effects.floor_changed = True

    def arrived(self, contacts: list[WaitingContact]) -> None:
        """Tell every process these contacts joined the queue, once this transaction has
        committed: they place them, unless something else changed too."""
        self.effects.arrivals.extend(contacts)


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        # hide_parameters: a failed statement's values (message text) never reach a log.
        engine = create_async_engine(url, pool_size=8, max_overflow=8, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA secure_delete=ON")  # what is deleted is overwritten, not left behind
            cursor.close()

        return engine
    return create_async_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, hide_parameters=True
    )


class Store:
    def __init__(self, url: str, keys: KeyRing) -> None:
        """``keys``: the data keys that seal what the repositories write and open what they read."""
        self.engine = make_engine(url)
        self.keys = keys
        self.is_sqlite = url.startswith("sqlite")
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self.after_commit: AfterCommit | None = None  # runs a committed transaction's effects

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One transaction. What the use case hands it (``tx.publish``, ``tx.floor_changed``)
        happens after the commit, outside the write lock; nothing of it on a rollback."""
        effects = Effects()
        lock = self._write_lock or contextlib.nullcontext()
        try:
            async with lock, self.engine.begin() as conn:
                yield Tx(conn, self.keys, effects)
        except IntegrityError as e:  # the services hear a rule's word, not the driver's
            raise Duplicate() from e
        if effects and self.after_commit is not None:
            await self.after_commit(effects)

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        async with self.engine.connect() as conn:
            yield Tx(conn, self.keys)

    async def ping(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database file and empty it, so that what
        was deleted is in neither file any more (a purge ends with this). Elsewhere, nothing."""
        if not self.is_sqlite:
            return
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        await self.engine.dispose()
