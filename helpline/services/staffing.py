"""The staffing planner: from the last weeks' contact facts and availability history, how
many counsellors each open hour of the week needs (Erlang C and Erlang A) beside how many
were there. Read-only, aggregates only."""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.contact import Channel
from ..domain.counsellor import DEFAULT_MAX_CHATS
from ..domain.schedule import DAY_MINUTES, Interval, WeeklyHours
from ..domain.staffing import (
    ChannelDemand,
    HourPlan,
    hour_of_week,
    open_hours,
    patience_estimate,
    plan_week,
    staffed_hours,
)
from .context import Context
from .events import iso

DEFAULT_WEEKS, MAX_WEEKS = 8, 52
DEFAULT_TARGET, DEFAULT_WITHIN_S = 0.8, 60
# Before any contact was answered on a channel: a chat or a call of about this long.
DEFAULT_HANDLE_S = {Channel.CHAT.value: 1200.0, Channel.VOICE.value: 600.0}
AROUND_THE_CLOCK = WeeklyHours(week=tuple((Interval(0, DAY_MINUTES),) for _ in range(7)))


@dataclass(frozen=True, slots=True)
class Ask:
    weeks: int = DEFAULT_WEEKS
    target: float = DEFAULT_TARGET
    within_s: int = DEFAULT_WITHIN_S

    def __post_init__(self) -> None:
        """A value out of range raises ValueError naming the field."""
        if not 1 <= self.weeks <= MAX_WEEKS:
            raise ValueError("weeks")
        if not 0.5 <= self.target <= 0.99:
            raise ValueError("target")
        if not 1 <= self.within_s <= 3600:
            raise ValueError("within_s")


class Staffing:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def plan(self, ask: Ask) -> dict[str, Any]:
        rules = self.ctx.schedule.rules or AROUND_THE_CLOCK
        zone = ZoneInfo(rules.timezone)
        until = self.ctx.clock.now().replace(minute=0, second=0, microsecond=0)
        since = until - timedelta(weeks=ask.weeks)
        async with self.ctx.store.reading() as tx:
            facts = await tx.planning.demand(since, until)
            spans = await tx.planning.availability(since, until)
            capacities = await tx.planning.chat_capacities()
        demand = {}
        for channel in (Channel.CHAT.value, Channel.VOICE.value):
            rows = [f for f in facts if f.channel == channel]
            arrivals: dict[tuple[int, int], int] = {}
            for f in rows:
                key = hour_of_week(f.hour, zone)
                arrivals[key] = arrivals.get(key, 0) + f.arrived
            answered = sum(f.answered for f in rows)
            handle = sum(f.handle_s for f in rows) / answered if answered else DEFAULT_HANDLE_S[channel]
            patience = patience_estimate(sum(f.waited_s for f in rows), sum(f.abandoned for f in rows))
            demand[channel] = ChannelDemand(arrivals, max(handle, 1.0), patience)
        max_chats = round(statistics.median(capacities)) if capacities else DEFAULT_MAX_CHATS
        # Pure arithmetic, up to a second for a large line: off the event loop.
        hours = await asyncio.to_thread(
            plan_week, demand, staffed_hours(spans, zone, ask.weeks), open_hours(rules.week),
            weeks=ask.weeks, max_chats=max_chats, target=ask.target, within_s=ask.within_s,
        )
        return {
            "weeks": ask.weeks, "target": ask.target, "within_s": ask.within_s,
            "from": iso(since), "to": iso(until), "timezone": rules.timezone, "max_chats": max_chats,
            "channels": {
                channel: {"contacts": sum(d.arrivals.values()), "handle_s": round(d.handle_s),
                          "patience_s": None if d.patience_s is None else round(d.patience_s)}
                for channel, d in demand.items()
            },
            "hours": [_hour(h) for h in hours],
        }


def _hour(h: HourPlan) -> dict[str, Any]:
    return {
        "day": h.day, "hour": h.hour,
        "per_hour": {k: round(v, 2) for k, v in h.per_hour.items()},
        "erlang_c": h.erlang_c, "erlang_a": h.erlang_a, "staffed": h.staffed,
        "abandon_a": round(h.p_abandon, 3), "short": h.short,
    }
