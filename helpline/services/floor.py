"""The floor: counsellors' availability, the queue, dispatching, and what happens
when someone goes away."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from ..bus.base import FLOOR, contact_channel, counsellor_channel
from ..domain.contact import Channel, ContactState, EndReason
from ..domain.counsellor import Status
from ..domain.routing import GENERAL, Assignment, Priority, WaitingContact, can_serve
from ..domain.waiting import Standing, standings
from ..logs import get_logger
from ..store import Tx
from . import events
from .context import Context
from .schedule import Schedules

log = get_logger("floor")
HANDLE_TIME_WINDOW = timedelta(days=7)
MIN_HANDLE_SAMPLES = 5


NEWCOMER = "~newcomer"  # a contact that would arrive now (chat, general), for the public estimate
SERVICE_LEVEL_S = 60


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """Where every waiting contact stands, and what a newcomer would face."""

    standings: dict[str, Standing]
    newcomer: Standing
    counsellors_available: int

    @property
    def length(self) -> int:
        return len(self.standings)

    def queue_event(self, contact_id: str) -> events.Event | None:
        standing = self.standings.get(contact_id)
        if standing is None:
            return None
        return {"type": "queue", "contact_id": contact_id, "position": standing.position,
                "estimated_wait_s": standing.estimated_wait_s}


class Floor:
    def __init__(self, ctx: Context, schedules: Schedules) -> None:
        self.ctx = ctx
        self.schedules = schedules

    def _live_after(self, now: datetime) -> datetime:
        """A console that has not stamped for three heartbeats is not live."""
        return now - timedelta(seconds=3 * self.ctx.settings.heartbeat_s)

    async def changed(self) -> None:
        """Tell every process that the queue or the counsellors changed."""
        await self.ctx.bus.publish(FLOOR, events.FLOOR_CHANGED)

    # --- counsellors -----------------------------------------------------------------

    async def set_status(self, counsellor_id: int, status: Status) -> None:
        async with self.ctx.store.transaction() as tx:
            changed = await tx.counsellors.set_status(counsellor_id, status, self.ctx.clock.now())
        await self.ctx.bus.publish(counsellor_channel(counsellor_id), events.status(status.value))
        if changed:
            log.info("counsellor_status", counsellor_id=counsellor_id, status=status.value)
            await self.changed()

    async def consoles_live(self, counsellor_ids: list[int]) -> None:
        async with self.ctx.store.transaction() as tx:
            await tx.counsellors.touch(counsellor_ids, self.ctx.clock.now())

    async def console_gone(self, counsellor_id: int) -> None:
        """The last console socket of a counsellor on this process closed; grace starts."""
        async with self.ctx.store.transaction() as tx:
            await tx.counsellors.mark_disconnected(counsellor_id, self.ctx.clock.now())
        await self.changed()

    async def visitors_live(self, contact_ids: list[str]) -> None:
        async with self.ctx.store.transaction() as tx:
            await tx.contacts.touch_visitors(contact_ids, self.ctx.clock.now())

    # --- the queue ---------------------------------------------------------------------

    async def handle_time_s(self, tx: Tx, now: datetime) -> float:
        samples = await tx.contacts.handle_times_s(now - HANDLE_TIME_WINDOW)
        if len(samples) < MIN_HANDLE_SAMPLES:
            return self.ctx.settings.handle_time_s
        return statistics.median(samples)

    @property
    def fallback(self) -> timedelta:
        return timedelta(seconds=self.ctx.settings.routing_fallback_s)

    async def snapshot(self) -> QueueSnapshot:
        now = self.ctx.clock.now()
        async with self.ctx.store.reading() as tx:
            waiting = await tx.contacts.waiting()
            loads = await tx.counsellors.loads(self._live_after(now))
            handle = await self.handle_time_s(tx, now)
        newcomer = WaitingContact(NEWCOMER, now, Channel.CHAT, GENERAL, Priority.NORMAL)
        stood = standings([*waiting, newcomer], loads, handle)
        return QueueSnapshot(stood, stood.pop(NEWCOMER), len(loads))

    async def dispatch(self) -> list[Assignment]:
        """Assign as many waiting contacts as the counsellors can take now."""
        now = self.ctx.clock.now()
        live_after = self._live_after(now)
        async with self.ctx.store.reading() as tx:
            loads = await tx.counsellors.loads(live_after)
            # Nobody with room: no need to read the queue (it may be long).
            has_room = any(c.spare(Channel.CHAT) or c.spare(Channel.VOICE) for c in loads)
            waiting = await tx.contacts.waiting() if has_room else []
        made: list[Assignment] = []
        for plan in self.ctx.router.plan(waiting, loads, now):
            if await self._assign(plan, live_after):
                made.append(plan)
        if made:
            await self.changed()
        return made

    async def _assign(self, plan: Assignment, live_after: datetime) -> bool:
        """Carry one planned assignment out, re-checking everything under row locks:
        the plan may be stale, and another process may be dispatching too."""
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            load = await tx.counsellors.lock_load(plan.counsellor_id, live_after)
            if load is None:
                return False
            waiting = await tx.contacts.lock_waiting(plan.contact_id)
            if waiting is None or not load.spare(waiting.channel):
                return False
            if not can_serve(load, waiting, now, self.fallback):
                return False
            if not await tx.contacts.assign(plan.contact_id, plan.counsellor_id, now):
                return False
            await tx.counsellors.mark_assigned(plan.counsellor_id, now)
            contact = await tx.contacts.get(plan.contact_id)
            counsellor = await tx.counsellors.get(plan.counsellor_id)
        assert contact is not None and counsellor is not None
        log.info("contact_assigned", contact_id=contact.id, counsellor_id=counsellor.id)
        await self.ctx.bus.publish(
            contact_channel(contact.id), events.assigned_to_visitor(contact.id, counsellor.display_name)
        )
        await self.ctx.bus.publish(
            counsellor_channel(counsellor.id), events.assigned_to_counsellor(contact, now)
        )
        return True

    async def queue_list(self) -> list[dict[str, object]]:
        """The anonymous waiting list every console shows."""
        now = self.ctx.clock.now()
        async with self.ctx.store.reading() as tx:
            entries = await tx.contacts.queue_entries()
        return [
            {"contact_id": e.contact_id, "channel": e.channel.value, "skill": e.skill,
             "priority": e.priority.label, "topic": e.topic,
             "waited_s": max(0, round((now - e.created_at).total_seconds()))}
            for e in entries
        ]

    async def overview(self) -> dict[str, object]:
        """The supervisor's floor: queue per skill, every counsellor, today's figures."""
        now = self.ctx.clock.now()
        midnight = datetime.combine(now.astimezone(self.schedules.zone).date(), time(0),
                                    tzinfo=self.schedules.zone)
        async with self.ctx.store.reading() as tx:
            entries = await tx.contacts.queue_entries()
            staff = await tx.counsellors.floor(now)
            today = await tx.contacts.outcomes_since(midnight)
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
            "counsellors": staff,
            "today": {
                "contacts": len(today), "answered": len(answered), "abandoned": abandoned,
                "service_level": round(within / offered, 3) if offered else None,
                "service_level_threshold_s": SERVICE_LEVEL_S,
            },
        }

    # --- people who went away -----------------------------------------------------------

    async def sweep(self) -> None:
        """End contacts whose visitor is gone past grace; put back the contacts of
        counsellors whose console is gone past grace; forget idle sessions."""
        now = self.ctx.clock.now()
        settings = self.ctx.settings
        changed = False
        async with self.ctx.store.reading() as tx:
            gone_visitors = await tx.contacts.gone_visitors(now - timedelta(seconds=settings.visitor_grace_s))
            gone_counsellors = await tx.counsellors.gone(now - timedelta(seconds=settings.counsellor_grace_s))
        for contact_id in gone_visitors:
            async with self.ctx.store.transaction() as tx:
                closed = await tx.contacts.close(contact_id, EndReason.ABANDONED, now)
            if closed is not None:
                changed = True
                log.info("contact_abandoned", contact_id=contact_id)
                await self.ctx.bus.publish(
                    contact_channel(contact_id), events.ended(contact_id, EndReason.ABANDONED)
                )
        for counsellor_id in gone_counsellors:
            async with self.ctx.store.transaction() as tx:
                requeued = await tx.contacts.requeue_all_of(counsellor_id)
                await tx.counsellors.set_status(counsellor_id, Status.OFFLINE, now)
            changed = True
            log.info("counsellor_gone", counsellor_id=counsellor_id, requeued=len(requeued))
            for contact in requeued:
                await self.ctx.bus.publish(
                    contact_channel(contact.id), events.requeued(contact.id, "counsellor_disconnected")
                )
            await self.ctx.bus.publish(counsellor_channel(counsellor_id), events.status(Status.OFFLINE.value))
        async with self.ctx.store.transaction() as tx:
            await tx.sessions.purge(now - timedelta(seconds=settings.session_idle_s))
        if changed:
            await self.changed()

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
