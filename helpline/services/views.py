"""The read side: what screens show, built from the store without changing it. The
queue's standings (shared for up to a second by the callers' hold loops, the visitors'
updates and the public status; after a change, read again at most every half second
however many change meanwhile, a newcomer placed in the one at hand), the consoles'
queue summary and its pages, the supervisor's floor, the public status, colleagues and
conversations in progress. Commands live elsewhere (``floor``, ``conversations``, ``calls``)."""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from time import monotonic
from typing import Any

from ..domain.contact import Channel, ContactState
from ..domain.handoffs import HandoffState
from ..domain.records import ContactRecord, CounsellorOnFloor
from ..domain.routing import GENERAL, Priority, WaitingContact
from ..domain.waiting import UNATTENDED_AFTER, QueueIndex, Standing, standings
from ..metrics import FloorFigures
from ..store import Tx
from . import events
from .context import Context
from .schedule import Schedules

HANDLE_TIME_WINDOW = timedelta(days=7)
MIN_HANDLE_SAMPLES = 5
SNAPSHOT_MAX_AGE_S = 1.0  # a queue snapshot is shared this long, unless the floor changes
SNAPSHOT_MIN_GAP_S = 0.5  # ...and, when it changes, read again at most this often
NEWCOMER = "~newcomer"  # a contact that would arrive now (chat, general), for the public estimate
SERVICE_LEVEL_S = 60
QUEUE_FRAME_ENTRIES = 50  # the consoles' queue frame lists this many; the rest is paged
QUEUE_PAGE_MAX = 200


def live_after(ctx: Context, now: datetime) -> datetime:
    """A console that has not stamped for three heartbeats is not live."""
    return now - timedelta(seconds=3 * ctx.settings.heartbeat_s)


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """Where every waiting contact stands, and what a newcomer would face."""

    standings: dict[str, Standing]
    newcomer: Standing
    counsellors_available: int
    unattended: int = 0  # waiting chats nobody is behind (see domain.waiting)
    index: QueueIndex | None = field(default=None, compare=False)  # for contacts that came since

    @property
    def length(self) -> int:
        """How many wait, people really there."""
        return len(self.standings) - self.unattended

    def queue_event(self, contact_id: str) -> events.Event | None:
        standing = self.standings.get(contact_id)
        return events.queue_position(contact_id, standing) if standing is not None else None

    def place(self, contact: ContactRecord) -> Standing | None:
        """The standing of a waiting contact, placed in this snapshot if it came after it
        (it then counts for those behind it here too): a join costs a few comparisons, not a
        new reading of the queue. None if it is not waiting."""
        if contact.state is not ContactState.QUEUED:
            return None
        standing = self.standings.get(contact.id)
        if standing is None and self.index is not None:
            self.index.add(contact.waiting)
            standing = self.standings[contact.id] = self.index.standing(contact.id)  # type: ignore[assignment]
        return standing

    def arrive(self, contact: WaitingContact) -> bool:
        """Place a contact that joined the queue after this snapshot, if it stands behind
        everyone held (nobody's standing changes then). False if it would not: the
        snapshot must be read again."""
        if contact.id in self.standings:
            return True
        if self.index is None or not self.index.behind_everyone(contact):
            return False
        self.index.add(contact)
        self.standings[contact.id] = self.index.standing(contact.id)  # type: ignore[assignment]
        return True


class Views:
    def __init__(self, ctx: Context, schedules: Schedules) -> None:
        self.ctx = ctx
        self.schedules = schedules
        self._snapshot: tuple[float, int, QueueSnapshot] | None = None  # (taken, version, it)
        self._floor_version = 0  # every change heard of
        self._stale_version = 0  # the changes the snapshot at hand cannot take in
        self._reading: asyncio.Future[QueueSnapshot] | None = None
        self._readers = 0  # readings of the queue under way
        self._arrived_while_reading: list[WaitingContact] = []  # the floor events meanwhile

    def floor_event(self, event: events.Event | None) -> None:
        """A floor change (here, or in another process; None: maybe some were missed).
        Arrivals only are placed in the snapshot at hand when they stand behind everyone
        (a surge's arrivals do): no new reading of the whole queue for them. Anything else
        makes the snapshot stale."""
        arrivals = events.arrivals_in(event) if event is not None else None
        if arrivals is None:
            self.forget_snapshot()
            return
        if self._readers:
            self._arrived_while_reading.extend(arrivals)  # for the reading under way
        cached = self._snapshot
        if cached is not None and not all(cached[2].arrive(contact) for contact in arrivals):
            self.forget_snapshot()
        else:
            self._floor_version += 1  # a change all the same (the consoles' counts)

    def forget_snapshot(self) -> None:
        """The floor changed (here, or in another process): the snapshot is stale; the next
        one is read once it is ``SNAPSHOT_MIN_GAP_S`` old."""
        self._floor_version += 1
        self._stale_version += 1

    @property
    def floor_version(self) -> int:
        """Counts the changes this process heard of."""
        return self._floor_version

    @property
    def snapshot_current(self) -> bool:
        """Whether the snapshot at hand has seen every change (else, read it again soon)."""
        cached = self._snapshot
        return cached is not None and cached[1] == self._stale_version

    async def snapshot(self, *, fresh: bool = False) -> QueueSnapshot:
        """Where everyone stands. Shared for up to a second; after a change, read again
        once it is half a second old, by one reader for all who ask meanwhile. ``fresh``:
        read now (and share it), whatever the one at hand."""
        if fresh:
            return await self._read_snapshot()
        cached = self._snapshot
        if cached is not None:
            age = monotonic() - cached[0]
            if age < (SNAPSHOT_MAX_AGE_S if cached[1] == self._stale_version else SNAPSHOT_MIN_GAP_S):
                return cached[2]
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read_snapshot())
            self._reading.add_done_callback(self._read_done)
        return await asyncio.shield(self._reading)

    def _read_done(self, reading: asyncio.Future[QueueSnapshot]) -> None:
        self._reading = None
        if not reading.cancelled():
            reading.exception()  # retrieved: each caller gets it raised

    async def _read_snapshot(self) -> QueueSnapshot:
        version, taken = self._stale_version, monotonic()
        if not self._readers:
            self._arrived_while_reading = []
        self._readers += 1
        try:
            snap = await self._compute_snapshot()
        finally:
            self._readers -= 1
        if not all(snap.arrive(contact) for contact in self._arrived_while_reading):
            self.forget_snapshot()  # one that came meanwhile cannot be placed: stale already
        self._snapshot = (taken, version, snap)
        return snap

    async def _compute_snapshot(self) -> QueueSnapshot:
        now = self.ctx.clock.now()
        async with self.ctx.store.reading() as tx:
            waiting = await tx.contacts.waiting()
            unattended = set(await tx.contacts.unattended(now - UNATTENDED_AFTER))
            loads = await tx.counsellors.loads(live_after(self.ctx, now))
            handle = await self._handle_time_s(tx, now)
        newcomer = WaitingContact(NEWCOMER, now, Channel.CHAT, GENERAL, Priority.NORMAL)
        stood = standings([*waiting, newcomer], loads, handle, unattended)
        unattended &= stood.keys()  # a contact taken between the two reads is not waiting
        index = QueueIndex(loads, handle, ((c, c.id not in unattended) for c in waiting))
        return QueueSnapshot(stood, stood.pop(NEWCOMER), len(loads), len(unattended), index)

    async def _handle_time_s(self, tx: Tx, now: datetime) -> float:
        samples = await tx.contacts.handle_times_s(now - HANDLE_TIME_WINDOW)
        if len(samples) < MIN_HANDLE_SAMPLES:
            return self.ctx.settings.handle_time_s
        return statistics.median(samples)

    async def status(self) -> dict[str, object]:
        """The public status: the schedule's view (open or not, hours, emergency numbers),
        how many wait, and the wait a newcomer would face."""
        view = await self.schedules.public_view(self.ctx.clock.now())
        snap = await self.snapshot()
        return {
            **view,
            "queue_length": snap.length,
            "counsellors_available": snap.counsellors_available,
            "estimated_wait_s": snap.newcomer.estimated_wait_s,
        }

    async def pending_offers(self, counsellor_id: int) -> list[events.Event]:
        now = self.ctx.clock.now()
        async with self.ctx.store.reading() as tx:
            offers = await tx.contacts.offers_to(counsellor_id)
        return [events.offer(c, now, warm=c.state is ContactState.ASSIGNED) for c in offers]

    async def queue_list(self, offset: int = 0, limit: int | None = None) -> list[dict[str, object]]:
        """The anonymous waiting list every console shows, in queue order (a page of it)."""
        now = self.ctx.clock.now()
        async with self.ctx.store.reading() as tx:
            entries = await tx.contacts.queue_entries(offset=offset, limit=limit)
        return [
            {
                "contact_id": e.contact_id,
                "channel": e.channel.value,
                "skill": e.skill,
                "priority": e.priority.label,
                "topic": e.topic,
                "waited_s": max(0, round((now - e.created_at).total_seconds())),
            }
            for e in entries
        ]

    async def queue_summary(self) -> dict[str, object]:
        """What every console is sent of the queue, whatever its length: how many wait per
        channel, skill and priority, and the first ``QUEUE_FRAME_ENTRIES``; the rest is read
        page by page (GET /api/v1/console/queue)."""
        now = self.ctx.clock.now()
        async with self.ctx.store.reading() as tx:
            counts = await tx.contacts.queue_counts()
        first = await self.queue_list(limit=QUEUE_FRAME_ENTRIES)
        rows = [
            {"channel": channel.value, "skill": skill, "priority": priority.label, "waiting": n,
             "longest_wait_s": max(0, round((now - since).total_seconds()))}
            for channel, skill, priority, n, since in sorted(counts, key=lambda r: (r[2], r[0].value, r[1]))
        ]
        return {"total": sum(r[3] for r in counts), "counts": rows, "contacts": first}

    async def counsellors(self) -> list[dict[str, Any]]:
        """Every enabled account as the supervisor's floor shows it."""
        now = self.ctx.clock.now()
        async with self.ctx.store.reading() as tx:
            staff = await tx.counsellors.on_floor()
        return [_on_floor(c, now) for c in staff]

    async def overview(self) -> dict[str, object]:
        """The supervisor's floor: queue per skill, every counsellor, today's figures."""
        now = self.ctx.clock.now()
        midnight = datetime.combine(
            now.astimezone(self.schedules.zone).date(), time(0), tzinfo=self.schedules.zone
        )
        async with self.ctx.store.reading() as tx:
            counts = await tx.contacts.queue_counts()
            unattended = len(await tx.contacts.unattended(now - UNATTENDED_AFTER))
            staff = await tx.counsellors.on_floor()
            today = await tx.contacts.outcomes_since(midnight)
            handoffs = {s.value: await tx.handoffs.count(s)
                        for s in (HandoffState.AWAITING_APPROVAL, HandoffState.FAILED)}
        skills: dict[str, dict[str, int]] = {}
        for _channel, skill, _priority, n, since in counts:
            row = skills.setdefault(skill, {"waiting": 0, "longest_wait_s": 0})
            row["waiting"] += n
            row["longest_wait_s"] = max(row["longest_wait_s"], round((now - since).total_seconds()))
        answered, abandoned, level = service_level(today)
        return {
            "skills": [{"skill": k, **v} for k, v in sorted(skills.items())],
            "unattended": unattended,  # waiting chats with nobody behind them (no widget open)
            "counsellors": [_on_floor(c, now) for c in staff],
            "handoffs": handoffs,  # the supervisors' inbox: to approve, and failed deliveries
            "today": {
                "contacts": len(today),
                "answered": answered,
                "abandoned": abandoned,
                "service_level": level,
                "service_level_threshold_s": SERVICE_LEVEL_S,
            },
        }

    async def operations(self) -> FloorFigures:
        """The floor for GET /metrics: who waits (from the shared queue snapshot), who is on
        duty and busy, the hand-off outbox, the last hour's service level (one reading)."""
        now = self.ctx.clock.now()
        snap = await self.snapshot()
        waiting: dict[tuple[str, Channel], tuple[int, float]] = {}
        for c in snap.index.counted() if snap.index is not None else ():
            n, longest = waiting.get((c.skill, c.channel), (0, 0.0))
            waiting[(c.skill, c.channel)] = (n + 1, max(longest, (now - c.enqueued_at).total_seconds()))
        async with self.ctx.store.reading() as tx:
            staff = await tx.counsellors.on_floor()
            backlog = await tx.outbox.backlog()
            last_hour = await tx.contacts.outcomes_since(now - timedelta(hours=1))
        return FloorFigures(
            waiting=waiting,
            counsellors=Counter(c.status for c in staff),
            active={Channel.CHAT: sum(c.active_chats for c in staff),
                    Channel.VOICE: sum(c.active_voice for c in staff)},
            outbox_backlog=backlog,
            service_level=service_level(last_hour)[2],
            skills=tuple(self.ctx.settings.skill_list),
        )

    async def colleagues(self) -> list[dict[str, Any]]:
        """Every enabled counsellor: id, name, status, skills, and whether they can be given a
        contact now (available, console open): what a transfer needs."""
        wanted = ("id", "display_name", "status", "skills")
        return [{**{k: c[k] for k in wanted}, "can_take": c["status"] == "available" and c["connected"]}
                for c in await self.counsellors()]

    async def conversations_in_progress(self) -> list[dict[str, Any]]:
        """Every assigned contact, with who holds it: nothing that identifies the visitor."""
        found = []
        async with self.ctx.store.reading() as tx:
            for counsellor in await tx.counsellors.on_floor():
                for c in await tx.contacts.active_for(counsellor.id):
                    found.append({
                        "contact_id": c.id, "channel": c.channel.value, "counsellor_id": counsellor.id,
                        "counsellor": counsellor.display_name, "skill": c.skill,
                        "priority": c.priority.label, "topic": c.profile.get("topic"),
                        "assigned_at": events.iso(c.assigned_at) if c.assigned_at else None,
                        **({"caller": events.caller_label(c.caller_key)} if c.caller_key else {}),
                    })
        return found


def service_level(outcomes: list[tuple[ContactState, float | None]]) -> tuple[int, int, float | None]:
    """Of contacts (state, wait before a first counsellor took it, None if nobody did): how many
    were answered, how many gave up waiting, and the share of those answered within
    ``SERVICE_LEVEL_S`` (None when there were none)."""
    answered = [waited for _state, waited in outcomes if waited is not None]
    abandoned = sum(1 for state, waited in outcomes if waited is None and state is ContactState.ABANDONED)
    within = sum(1 for waited in answered if waited <= SERVICE_LEVEL_S)
    offered = len(answered) + abandoned
    return len(answered), abandoned, round(within / offered, 3) if offered else None


def _on_floor(c: CounsellorOnFloor, now: datetime) -> dict[str, Any]:
    return {
        "id": c.id, "display_name": c.display_name, "role": c.role.value, "status": c.status.value,
        "connected": c.connected, "skills": sorted(c.skills),
        "in_status_s": round((now - c.status_since).total_seconds()),
        "active_chats": c.active_chats, "active_voice": c.active_voice,
        "idle_s": round((now - c.last_assigned_at).total_seconds()) if c.last_assigned_at else None,
    }
