"""The read side: what screens show, built from the store without changing it. The
queue's standings (shared for up to a second by the callers' hold loops, the visitors'
updates and the public status), the consoles' waiting list, the supervisor's floor, the
public status, colleagues and conversations in progress. Commands live elsewhere
(``floor``, ``conversations``, ``calls``)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from time import monotonic
from typing import Any

from ..domain.contact import Channel, ContactState
from ..domain.handoffs import HandoffState
from ..domain.records import CounsellorOnFloor
from ..domain.routing import GENERAL, Priority, WaitingContact
from ..domain.waiting import UNATTENDED_AFTER, Standing, standings
from ..store import Tx
from . import events
from .context import Context
from .schedule import Schedules

HANDLE_TIME_WINDOW = timedelta(days=7)
MIN_HANDLE_SAMPLES = 5
SNAPSHOT_MAX_AGE_S = 1.0  # a queue snapshot is shared this long, unless the floor changes
NEWCOMER = "~newcomer"  # a contact that would arrive now (chat, general), for the public estimate
SERVICE_LEVEL_S = 60


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

    @property
    def length(self) -> int:
        """How many wait, people really there."""
        return len(self.standings) - self.unattended

    def queue_event(self, contact_id: str) -> events.Event | None:
        standing = self.standings.get(contact_id)
        return events.queue_position(contact_id, standing) if standing is not None else None


class Views:
    def __init__(self, ctx: Context, schedules: Schedules) -> None:
        self.ctx = ctx
        self.schedules = schedules
        self._snapshot: tuple[float, QueueSnapshot] | None = None
        self._floor_version = 0

    def forget_snapshot(self) -> None:
        """The floor changed (here, or in another process): the next snapshot is fresh."""
        self._floor_version += 1
        self._snapshot = None

    async def snapshot(self) -> QueueSnapshot:
        """Where everyone stands. Shared for up to a second, recomputed after any change."""
        cached = self._snapshot
        if cached is not None and monotonic() - cached[0] < SNAPSHOT_MAX_AGE_S:
            return cached[1]
        version, taken = self._floor_version, monotonic()
        snap = await self._compute_snapshot()
        if version == self._floor_version:  # nothing changed meanwhile
            self._snapshot = (taken, snap)
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
        return QueueSnapshot(stood, stood.pop(NEWCOMER), len(loads), len(unattended))

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

    async def queue_list(self) -> list[dict[str, object]]:
        """The anonymous waiting list every console shows."""
        now = self.ctx.clock.now()
        async with self.ctx.store.reading() as tx:
            entries = await tx.contacts.queue_entries()
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
            entries = await tx.contacts.queue_entries()
            unattended = len(await tx.contacts.unattended(now - UNATTENDED_AFTER))
            staff = await tx.counsellors.on_floor()
            today = await tx.contacts.outcomes_since(midnight)
            handoffs = {s.value: await tx.handoffs.count(s)
                        for s in (HandoffState.AWAITING_APPROVAL, HandoffState.FAILED)}
        skills: dict[str, dict[str, int]] = {}
        for e in entries:
            row = skills.setdefault(e.skill, {"waiting": 0, "longest_wait_s": 0})
            row["waiting"] += 1
            row["longest_wait_s"] = max(row["longest_wait_s"], round((now - e.created_at).total_seconds()))
        answered = [waited for state, waited in today if waited is not None]
        abandoned = sum(1 for state, waited in today if waited is None and state is ContactState.ABANDONED)
        within = sum(1 for waited in answered if waited <= SERVICE_LEVEL_S)
        offered = len(answered) + abandoned
        return {
            "skills": [{"skill": k, **v} for k, v in sorted(skills.items())],
            "unattended": unattended,  # waiting chats with nobody behind them (no widget open)
            "counsellors": [_on_floor(c, now) for c in staff],
            "handoffs": handoffs,  # the supervisors' inbox: to approve, and failed deliveries
            "today": {
                "contacts": len(today),
                "answered": len(answered),
                "abandoned": abandoned,
                "service_level": round(within / offered, 3) if offered else None,
                "service_level_threshold_s": SERVICE_LEVEL_S,
            },
        }

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


def _on_floor(c: CounsellorOnFloor, now: datetime) -> dict[str, Any]:
    return {
        "id": c.id, "display_name": c.display_name, "role": c.role.value, "status": c.status.value,
        "connected": c.connected, "skills": sorted(c.skills),
        "in_status_s": round((now - c.status_since).total_seconds()),
        "active_chats": c.active_chats, "active_voice": c.active_voice,
        "idle_s": round((now - c.last_assigned_at).total_seconds()) if c.last_assigned_at else None,
    }
