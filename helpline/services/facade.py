"""The use cases, grouped: what the web layer, the phone adapter and the command line
call. Built once per process from the settings (the composition root's part)."""

from __future__ import annotations

import functools
from datetime import timedelta

from .. import handoffs_delivery
from ..bus import Bus
from ..bus.base import FLOOR
from ..clock import Clock
from ..config import Settings
from ..domain.routing import SkillsRouter
from ..logs import get_logger
from ..metrics import Metrics
from ..store import Store
from ..store.unit_of_work import Effects
from . import events
from .accounts import Accounts
from .calls import Calls
from .context import Context
from .conversations import Conversations
from .floor import Floor
from .handoff_targets import load_targets
from .handoffs import Deliver, Handoffs
from .limits import Limits
from .retention import Purge
from .schedule import Schedules, load_config
from .staffing import Staffing
from .statistics import Statistics
from .triage import load_triage
from .views import Views

log = get_logger("services")


class Services:
    @classmethod
    def build(cls, settings: Settings, store: Store, bus: Bus, clock: Clock,
              metrics: Metrics | None = None) -> Services:
        """The use cases as the settings configure them. Bad rule files fail here."""
        return cls(Context(
            store=store, bus=bus, clock=clock, settings=settings,
            router=SkillsRouter(timedelta(seconds=settings.routing_fallback_s)),
            schedule=load_config(settings.schedule, settings.schedule_file),
            triage=load_triage(settings.triage_file),
            handoff_targets=load_targets(settings.handoff_targets_file),
            metrics=metrics or Metrics.off(),
        ))

    def __init__(self, ctx: Context, deliver: Deliver | None = None) -> None:
        self.ctx = ctx
        self.schedules = Schedules(ctx, ctx.schedule)
        self.views = Views(ctx, self.schedules)
        self.floor = Floor(ctx, self.views)
        self.accounts = Accounts(ctx, self.floor)
        settings = ctx.settings
        self.handoffs = Handoffs(ctx, deliver or functools.partial(
            handoffs_delivery.deliver, helpline_name=settings.sender_name,
            helpline_email=settings.handoff_email))
        self.calls = Calls(ctx, self.floor, self.schedules)
        self.conversations = Conversations(ctx, self.floor, self.schedules, self.calls)
        self.purge = Purge(ctx)
        self.staffing = Staffing(ctx)
        self.limits = Limits(settings, metrics=ctx.metrics)
        self.statistics = Statistics(ctx, self.schedules)
        ctx.store.after_commit = self._after_commit

    async def health(self) -> tuple[bool, bool]:
        """Does the database answer; do events reach the other processes."""
        try:
            database = await self.ctx.store.ping()
        except Exception:
            database = False
        return database, self.ctx.bus.linked

    async def _after_commit(self, effects: Effects) -> None:
        """A transaction committed: publish what it said, in order, then ring the calls it
        assigned. It is committed whatever happens here: a failure is logged, and clients
        catch up from the database."""
        try:
            for channel, event in effects.events:
                await self.ctx.bus.publish(channel, event)
            if effects.floor_changed:
                await self.floor.changed()
            elif effects.arrivals:
                await self.ctx.bus.publish(FLOOR, events.arrived(effects.arrivals))
        except Exception:
            log.exception("after_commit_failed")
        for contact, counsellor in effects.to_ring:
            await self.calls.put_through(contact, counsellor)  # never raises: a failure requeues
