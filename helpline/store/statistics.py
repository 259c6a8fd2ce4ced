"""The statistics' statements: refusals counted as they happen, and the aggregates of a
period read from the facts, the refusal counts and the hand-off rows (never a payload)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, case, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.statistics import SERVICE_LEVEL_S, WRAPUP_LISTS, Aggregates, HourCount, Notice
from .tables import ContactFact, Handoff, RefusalCount

LISTS = {"categories", "platforms", "actions"}  # stored as JSON lists; the others as strings


class StatisticsRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def refused(self, hour: datetime, channel: str) -> None:
        """One more contact refused in this hour on this channel."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(RefusalCount).values(hour=hour, channel=channel, n=1)
        await self.conn.execute(statement.on_conflict_do_update(
            index_elements=["hour", "channel"], set_={"n": RefusalCount.n + 1}))

    async def aggregates(self, start: datetime, end: datetime, channels: tuple[str, ...]) -> Aggregates:
        """Contacts that arrived from ``start`` until ``end`` on these channels, grouped."""
        f = ContactFact
        arrived = and_(f.arrived_hour >= start, f.arrived_hour < end, f.channel.in_(channels))
        answered = and_(arrived, f.outcome == "answered")
        agg = Aggregates()
        within = [func.sum(case((and_(f.outcome == "answered", f.wait_s <= s), 1), else_=0))
                  for s in SERVICE_LEVEL_S]
        rows = await self.conn.execute(
            select(f.arrived_hour, f.channel, f.outcome, func.count(), *within)
            .where(arrived).group_by(f.arrived_hour, f.channel, f.outcome))
        agg.hours = [HourCount(hour, channel, outcome, n, tuple(int(w or 0) for w in ws))
                     for hour, channel, outcome, n, *ws in rows]
        for column, counter in ((f.wait_s, agg.waits), (f.handle_s, agg.handles)):
            rows = await self.conn.execute(
                select(column, func.count()).where(answered, column.is_not(None)).group_by(column))
            counter.update({int(value): n for value, n in rows})
        for name, attribute in WRAPUP_LISTS.items():
            if attribute not in LISTS:
                continue
            key = cast(getattr(f, attribute), Text)
            rows = await self.conn.execute(select(key, func.count()).where(answered).group_by(key))
            agg.wrapups[name] = Counter({_items(value, True): n for value, n in rows})
        singles = {name: getattr(f, a) for name, a in WRAPUP_LISTS.items() if a not in LISTS}
        rows = await self.conn.execute(  # few values each: one query for all of them
            select(*singles.values(), func.count()).where(answered).group_by(*singles.values()))
        for *values, n in rows:
            for name, value in zip(singles, values, strict=True):
                agg.wrapups.setdefault(name, Counter())[_items(value, False)] += n
        rows = await self.conn.execute(
            select(RefusalCount.hour, RefusalCount.channel, RefusalCount.n)
            .where(RefusalCount.hour >= start, RefusalCount.hour < end, RefusalCount.channel.in_(channels)))
        agg.refusals = [(hour, channel, n) for hour, channel, n in rows]
        rows = await self.conn.execute(
            select(Handoff.target_id, Handoff.state, func.coalesce(Handoff.decision, ""), func.count())
            .where(Handoff.created_at >= start, Handoff.created_at < end)
            .group_by(Handoff.target_id, Handoff.state, Handoff.decision))
        agg.handoffs = Counter({(t, s, d): n for t, s, d, n in rows})
        return agg

    async def notices(self, start: datetime, end: datetime, targets: list[str]) -> list[Notice]:
        """The notices made to these targets from ``start`` until ``end``."""
        rows = await self.conn.execute(
            select(Handoff.target_id, Handoff.created_at, Handoff.decision, Handoff.decision_on)
            .where(Handoff.created_at >= start, Handoff.created_at < end, Handoff.target_id.in_(targets)))
        return [Notice(*row) for row in rows]


def _items(value: Any, is_list: bool) -> tuple[str, ...]:
    """What a stored wrap-up value names: () for none (no wrap-up, or left blank)."""
    if is_list and isinstance(value, str):
        value = json.loads(value)  # a JSON null when the contact had no wrap-up
    if value is None:
        return ()
    if is_list:
        return tuple(str(i) for i in value) or ("none",)
    return (str(value),)
