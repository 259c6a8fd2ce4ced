"""The floor's commands: counsellors' availability, dispatching, offers, and what happens
when someone goes away. What the floor looks like (queue standings, overview, status)
is the read side, ``views``."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..bus.base import FLOOR, SESSIONS, contact_channel, counsellor_channel
from ..domain.access import may_redirect
from ..domain.contact import Channel, ContactState, EndReason
from ..domain.counsellor import Status
from ..domain.errors import Conflict, Forbidden, NotFound
from ..domain.records import ContactRecord, CounsellorRecord
from ..domain.routing import Assignment, WaitingContact, can_serve
from ..logs import get_logger
from ..store import Tx
from . import events
from .context import Context
from .views import Views, live_after

log = get_logger("floor")


def contact_ended(tx: Tx, closed: ContactRecord | None) -> None:
    """A contact was just closed in ``tx`` (None: it was not open): everyone following it,
    and the floor, hear it once the transaction commits."""
    if closed is None:
        return
    reason = EndReason(closed.end_reason or EndReason.VISITOR)
    log.info("contact_ended", contact_id=closed.id, reason=reason.value)
    tx.publish(contact_channel(closed.id), events.ended(closed.id, reason))
    tx.floor_changed()


class Floor:
    """The commands of the floor; what it looks like is ``views``."""

    def __init__(self, ctx: Context, views: Views) -> None:
        self.ctx = ctx
        self.views = views

    def _live_after(self, now: datetime) -> datetime:
        return live_after(self.ctx, now)

    @property
    def fallback(self) -> timedelta:
        return timedelta(seconds=self.ctx.settings.routing_fallback_s)

    def target_deadline(self) -> datetime:
        """Until when a contact given to a named colleague waits for them alone."""
        return self.ctx.clock.now() + self.fallback

    async def changed(self) -> None:
        """Tell every process that the queue or the counsellors changed. (A use case says it
        with ``tx.floor_changed()``; this runs after its commit.)"""
        self.views.forget_snapshot()
        await self.ctx.bus.publish(FLOOR, events.FLOOR_CHANGED)

    # --- counsellors -----------------------------------------------------------------

    async def set_status(self, counsellor_id: int, status: Status, *, reason: str = "status") -> None:
        """Change availability. Leaving ``available`` gives back the offers made to them."""
        async with self.ctx.store.transaction() as tx:
            changed = await tx.counsellors.set_status(counsellor_id, status, self.ctx.clock.now())
            tx.publish(counsellor_channel(counsellor_id), events.status(status.value))
            if status is not Status.AVAILABLE:
                await self._withdraw(tx, await tx.contacts.withdraw_offers(to=counsellor_id), reason)
            if changed:
                tx.floor_changed()
        if changed:
            log.info("counsellor_status", counsellor_id=counsellor_id, status=status.value)

    async def session_opened(self, counsellor_id: int) -> None:
        """A new login starts offline until the counsellor chooses, whatever they were when
        they last left: nobody is given a contact before they see the page. (A console still
        open on another device hears it; its conversations go on.)"""
        await self.set_status(counsellor_id, Status.OFFLINE, reason="new_session")

    async def consoles_live(self, counsellor_ids: list[int]) -> None:
        async with self.ctx.store.transaction() as tx:
            await tx.counsellors.touch(counsellor_ids, self.ctx.clock.now())

    async def console_gone(self, counsellor_id: int) -> None:
        """The last console socket of a counsellor on this process closed; grace starts."""
        async with self.ctx.store.transaction() as tx:
            await tx.counsellors.mark_disconnected(counsellor_id, self.ctx.clock.now())
            tx.floor_changed()

    async def visitors_live(self, contact_ids: list[str]) -> None:
        async with self.ctx.store.transaction() as tx:
            await tx.contacts.touch_visitors(contact_ids, self.ctx.clock.now())

    # --- the queue ---------------------------------------------------------------------

    async def dispatch(self) -> list[Assignment]:
        """Assign as many waiting contacts as the counsellors can take now."""
        now = self.ctx.clock.now()
        live_after = self._live_after(now)
        async with self.ctx.store.reading() as tx:
            loads = await tx.counsellors.loads(live_after)
            # Nobody with room: no need to read the queue (it may be long).
            has_room = any(c.spare(Channel.CHAT) or c.spare(Channel.VOICE) for c in loads)
            waiting = await tx.contacts.waiting(routable=True) if has_room else []
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
            if self.ctx.settings.offer_mode:
                if not await tx.contacts.offer(plan.contact_id, plan.counsellor_id, self._offer_expiry(now)):
                    return False
            elif await tx.contacts.assign(plan.contact_id, plan.counsellor_id, now):
                await tx.counsellors.mark_assigned(plan.counsellor_id, now)
            else:
                return False
            contact = await tx.contacts.get(plan.contact_id)
            counsellor = await tx.counsellors.get(plan.counsellor_id)
            assert contact is not None and counsellor is not None
            if self.ctx.settings.offer_mode:
                log.info("contact_offered", contact_id=contact.id, counsellor_id=counsellor.id)
                tx.publish(counsellor_channel(counsellor.id), events.offer(contact, now, warm=False))
            else:
                self._announce(tx, contact, counsellor, now)
        return True

    def _offer_expiry(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.ctx.settings.offer_timeout_s)

    def _announce(self, tx: Tx, contact: ContactRecord, counsellor: CounsellorRecord, now: datetime) -> None:
        """Tell both sides (and ring an assigned call), once the transaction commits."""
        log.info("contact_assigned", contact_id=contact.id, counsellor_id=counsellor.id)
        to_visitor = events.assigned_to_visitor(contact.id, counsellor.display_name)
        tx.publish(contact_channel(contact.id), to_visitor)
        tx.publish(counsellor_channel(counsellor.id), events.assigned_to_counsellor(contact, now))
        if contact.channel is Channel.VOICE:
            tx.ring(contact, counsellor)

    # --- offers: offer mode and warm transfers ----------------------------------------------

    async def accept(self, contact_id: str, counsellor_id: int) -> None:
        """The counsellor takes the contact offered to them (in time)."""
        now = self.ctx.clock.now()
        async with self.ctx.store.transaction() as tx:
            contact = await tx.contacts.lock_offer(contact_id)
            if contact is None:
                raise NotFound("unknown_contact")
            expired = contact.offer_expires_at is not None and contact.offer_expires_at <= now
            if contact.offered_to != counsellor_id or expired or not contact.state.is_open:
                raise Conflict("no_offer")
            previous = contact.counsellor_id if contact.state is ContactState.ASSIGNED else None
            await tx.contacts.take_offer(contact, now)
            await tx.counsellors.mark_assigned(counsellor_id, now)
            taken = await tx.contacts.get(contact_id)
            counsellor = await tx.counsellors.get(counsellor_id)
            assert taken is not None and counsellor is not None
            if previous is not None:
                log.info("warm_transfer_done", contact_id=contact_id, from_counsellor=previous,
                         to_counsellor=counsellor_id)
                tx.publish(counsellor_channel(previous), events.unassigned(contact_id, "transferred"))
            self._announce(tx, taken, counsellor, now)
            tx.floor_changed()

    async def offer_warm(
        self,
        contact: ContactRecord,
        by: int,
        *,
        skill: str | None,
        counsellor_id: int | None,
        note: str | None,
    ) -> None:
        """Warm transfer: offer the contact to a named counsellor, or to the counsellor the
        router would pick for the skill; ``by`` keeps it until they accept."""
        now = self.ctx.clock.now()
        live_after = self._live_after(now)
        async with self.ctx.store.transaction() as tx:
            if counsellor_id is not None:
                load = await tx.counsellors.lock_load(counsellor_id, live_after)
                if load is None or not load.spare(contact.channel):
                    raise Conflict("counsellor_unavailable")
                target = counsellor_id
            else:
                wanted = WaitingContact(
                    contact.id, now, contact.channel, skill or contact.skill, contact.priority
                )
                others = [c for c in await tx.counsellors.loads(live_after) if c.id != by]
                plan = self.ctx.router.plan([wanted], others, now)
                if not plan:
                    raise Conflict("nobody_available")
                target = plan[0].counsellor_id
            if not await tx.contacts.offer(
                contact.id, target, self._offer_expiry(now), warm_from=by, skill=skill, note=note
            ):
                raise Conflict("transfer_pending")
            offered = await tx.contacts.get(contact.id)
            assert offered is not None
            tx.publish(counsellor_channel(target), events.offer(offered, now, warm=True))
            tx.publish(contact_channel(contact.id), events.transferring(contact.id))
        log.info("warm_transfer_offered", contact_id=contact.id, from_counsellor=by, to_counsellor=target)

    async def redirect(self, contact_id: str, by: CounsellorRecord, counsellor_id: int | None) -> None:
        """A supervisor puts a waiting or stuck contact back in the queue at its place, for
        anyone or for a named colleague who can take contacts now. Whoever held it, or was
        offered it, is told; so is the young person if they were talking with someone."""
        if not may_redirect(by.role):
            raise Forbidden("forbidden")
        live_after = self._live_after(self.ctx.clock.now())
        async with self.ctx.store.transaction() as tx:
            before = await tx.contacts.get(contact_id)
            if before is None:
                raise NotFound("unknown_contact")
            if not before.state.is_open:
                raise Conflict("contact_closed")
            if counsellor_id is not None and not await tx.counsellors.lock_load(counsellor_id, live_after):
                raise Conflict("counsellor_unavailable")
            if await tx.contacts.redirect(contact_id, counsellor_id, self.target_deadline()) is None:
                raise Conflict("invalid_transition")  # a call someone is talking in
            if before.offered_to is not None:
                withdrawn = events.offer_withdrawn(contact_id, "redirected")
                tx.publish(counsellor_channel(before.offered_to), withdrawn)
            if before.state is ContactState.ASSIGNED:
                tx.publish(contact_channel(contact_id), events.requeued(contact_id, "redirected"))
            tx.floor_changed()
        log.info("contact_redirected", contact_id=contact_id, by=by.id, to_counsellor=counsellor_id)

    async def _withdraw(self, tx: Tx, withdrawn: list[ContactRecord], reason: str) -> None:
        """These offers are off: tell everyone concerned, once the transaction commits."""
        for c in withdrawn:
            assert c.offered_to is not None
            tx.publish(counsellor_channel(c.offered_to), events.offer_withdrawn(c.id, reason))
            if c.state is ContactState.ASSIGNED and c.counsellor_id is not None:  # a warm transfer
                tx.publish(counsellor_channel(c.counsellor_id), events.transfer_failed(c.id, reason))
                keeper = await tx.counsellors.get(c.counsellor_id)
                if keeper is not None:  # the young person stays with whom they were talking to
                    tx.publish(contact_channel(c.id), events.assigned_to_visitor(c.id, keeper.display_name))
        if withdrawn:
            tx.floor_changed()

    # --- people who went away -----------------------------------------------------------

    async def sweep(self) -> None:
        """End contacts whose visitor is gone past grace; put back the contacts of
        counsellors whose console is gone past grace; forget idle sessions, expired caller
        blocks and the calls ended a day ago. First of all, the availability a console that
        stopped stamping left open ends when it was last seen (not now, when it is noticed)."""
        now = self.ctx.clock.now()
        settings = self.ctx.settings
        async with self.ctx.store.transaction() as tx:
            await tx.counsellors.end_stale_availability(self._live_after(now))
        async with self.ctx.store.reading() as tx:
            gone_visitors = await tx.contacts.gone_visitors(now - timedelta(seconds=settings.visitor_grace_s))
            gone_counsellors = await tx.counsellors.gone(now - timedelta(seconds=settings.counsellor_grace_s))
        for contact_id in gone_visitors:
            async with self.ctx.store.transaction() as tx:
                contact_ended(tx, await tx.contacts.close(contact_id, EndReason.ABANDONED, now))
        for counsellor_id in gone_counsellors:
            async with self.ctx.store.transaction() as tx:
                # Their console may have gone quiet since the first step: its span still ends
                # when it was last seen, not now.
                await tx.counsellors.end_stale_availability(self._live_after(now))
                requeued = await tx.contacts.requeue_all_of(counsellor_id)
                await tx.counsellors.set_status(counsellor_id, Status.OFFLINE, now)
                await self._withdraw(tx, await tx.contacts.withdraw_offers(to=counsellor_id),
                                     "counsellor_disconnected")
                for c in requeued:
                    tx.publish(contact_channel(c.id), events.requeued(c.id, "counsellor_disconnected"))
                tx.publish(counsellor_channel(counsellor_id), events.status(Status.OFFLINE.value))
                tx.floor_changed()
            log.info("counsellor_gone", counsellor_id=counsellor_id, requeued=len(requeued))
        async with self.ctx.store.transaction() as tx:
            expired = await tx.contacts.withdraw_offers(expired_before=now)
            await self._withdraw(tx, expired, "timeout")
        for missed_by in sorted({c.offered_to for c in expired if c.offered_to is not None}):
            await self.set_status(missed_by, Status.BREAK, reason="timeout")  # they missed an offer
        async with self.ctx.store.transaction() as tx:
            for session in await tx.sessions.purge(now - timedelta(seconds=settings.session_idle_s)):
                tx.publish(SESSIONS, events.session_ended(session=session))
            await tx.callers.purge(now)
            await tx.calls_seen.purge(now)
