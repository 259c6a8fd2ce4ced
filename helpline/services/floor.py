"""The floor: counsellors' availability, the queue, dispatching, and what happens
when someone goes away."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..bus.base import FLOOR, contact_channel, counsellor_channel
from ..domain.contact import EndReason
from ..domain.counsellor import CounsellorLoad, Status
from ..domain.routing import Assignment
from ..domain.waiting import estimate_wait_s
from ..logs import get_logger
from ..store import Tx
from . import events
from .context import Context
from .schedule import Schedules

log = get_logger("floor")
HANDLE_TIME_WINDOW = timedelta(days=7)
MIN_HANDLE_SAMPLES = 5


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """Where every waiting contact stands, and the estimate at each place."""

    order: list[str]
    counsellors: list[CounsellorLoad]
    handle_time_s: float
    positions: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "positions", {cid: i + 1 for i, cid in enumerate(self.order)})

    def position(self, contact_id: str) -> int | None:
        return self.positions.get(contact_id)

    def estimate(self, position: int) -> int | None:
        return estimate_wait_s(position, self.counsellors, self.handle_time_s)

    def queue_event(self, contact_id: str) -> events.Event | None:
        position = self.position(contact_id)
        if position is None:
            return None
        return {"type": "queue", "contact_id": contact_id, "position": position,
                "estimated_wait_s": self.estimate(position)}


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

    async def snapshot(self) -> QueueSnapshot:
        now = self.ctx.clock.now()
        async with self.ctx.store.reading() as tx:
            waiting = await tx.contacts.waiting()
            loads = await tx.counsellors.loads(self._live_after(now))
            handle = await self.handle_time_s(tx, now)
        return QueueSnapshot([w.id for w in waiting], loads, handle)

    async def dispatch(self) -> list[Assignment]:
        """Assign as many waiting contacts as the counsellors can take now."""
        now = self.ctx.clock.now()
        live_after = self._live_after(now)
        async with self.ctx.store.reading() as tx:
            loads = await tx.counsellors.loads(live_after)
            # Nobody with room: no need to read the queue (it may be long).
            waiting = await tx.contacts.waiting() if any(c.spare for c in loads) else []
        made: list[Assignment] = []
        for plan in self.ctx.router.plan(waiting, loads):
            if await self._assign(plan, live_after):
                made.append(plan)
        if made:
            await self.changed()
        return made

    async def _assign(self, plan: Assignment, live_after: datetime) -> bool:
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            max_chats = await tx.counsellors.lock_if_eligible(plan.counsellor_id, live_after)
            if max_chats is None:
                return False
            if await tx.contacts.count_active_for(plan.counsellor_id) >= max_chats:
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
            "queue_length": len(snap.order),
            "counsellors_available": len(snap.counsellors),
            "estimated_wait_s": snap.estimate(len(snap.order) + 1),
        }
