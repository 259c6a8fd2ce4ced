"""The statistics: contacts refused while the line is closed (counted as they happen), and
every table for a range of local days and a channel, with the previous period beside it.
Read only from the facts, the refusal counts and the hand-off rows, which outlive the
transcripts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from time import monotonic

from ..domain import statistics as rules
from ..domain.handoffs import TargetKind
from ..domain.statistics import ChannelFilter, Period, Table
from ..logs import get_logger
from .context import Context
from .schedule import Schedules
from .wrapups import taxonomy

log = get_logger("statistics")


@dataclass(frozen=True, slots=True)
class Figures:
    """Every table of a period, as counted (``suppressed`` hides the small counts)."""

    period: Period
    channel: ChannelFilter
    tables: list[Table]

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    def suppressed(self, *, breakdowns_only: bool = False) -> Figures:
        """With the small-count rule applied: to every table (exports), or to the breakdowns
        alone (the console's live page)."""
        hidden = [rules.suppressed(t) if t.breakdown or not breakdowns_only else t for t in self.tables]
        return Figures(self.period, self.channel, hidden)

    def as_json(self) -> dict[str, object]:
        previous = self.period.previous
        return {
            "from": self.period.first.isoformat(), "to": self.period.last.isoformat(),
            "previous": {"from": previous.first.isoformat(), "to": previous.last.isoformat()},
            "channel": self.channel.value, "timezone": str(self.period.zone),
            "tables": {t.name: {"columns": [c.name for c in t.columns], "rows": t.as_dicts()}
                       for t in self.tables},
        }


CACHE_S = 60.0  # the console's page asks for the figures and each chart at once: counted once
CACHE_ENTRIES = 16


class Statistics:
    def __init__(self, ctx: Context, schedules: Schedules) -> None:
        self.ctx = ctx
        self.schedules = schedules
        self._cache: dict[tuple[Period, ChannelFilter], tuple[float, Figures]] = {}

    async def refused(self, channel: str) -> None:
        """A contact was refused because the line is closed: counted in its hour, and nothing
        else about it kept."""
        hour = self.ctx.clock.now().replace(minute=0, second=0, microsecond=0)
        try:
            async with self.ctx.store.transaction() as tx:
                await tx.statistics.refused(hour, channel)
        except Exception:  # a count lost, never the refusal itself: they still hear the numbers
            log.exception("refusal_not_counted", channel=channel)
            return
        log.info("refused_closed", channel=channel)

    def period(self, first: str | None, last: str | None) -> Period:
        """Local days in the schedule's zone; raises ``BadRange``."""
        return rules.period(first, last, self.schedules.zone)

    def channel(self, value: str | None) -> ChannelFilter:
        """``all`` (the default), ``chat`` or ``voice``; raises ``BadRange`` otherwise."""
        return rules.channel_filter(value)

    async def compute(self, period: Period, channel: ChannelFilter, *, cached: bool = True) -> Figures:
        """The statistics of this period and channel, counted at most a minute ago (or now)."""
        key = (period, channel)
        earlier = self._cache.get(key)
        if cached and earlier is not None and monotonic() - earlier[0] < CACHE_S:
            return earlier[1]
        found = await self._compute(period, channel)
        if len(self._cache) >= CACHE_ENTRIES:
            self._cache.pop(next(iter(self._cache)))  # the oldest
        self._cache[key] = (monotonic(), found)
        return found

    async def _compute(self, period: Period, channel: ChannelFilter) -> Figures:
        channels = channel.channels
        notice_targets = {t.id: t.kind.value for t in self.ctx.handoff_targets.values()
                          if t.kind is TargetKind.NOTICE}
        now, (before, notices) = await asyncio.gather(  # two connections: both periods at once
            self._aggregates(period, channels),
            self._previous(period, channels, list(notice_targets)),
        )
        order = {name: [item["id"] for item in items] for name, items in taxonomy().items()}
        notice_table = rules.notices_table(notices, period.zone, notice_targets)
        return Figures(period, channel, rules.tables(now, before, period, notice_table, order))

    async def _aggregates(self, period: Period, channels: tuple[str, ...]) -> rules.Aggregates:
        async with self.ctx.store.reading() as tx:
            return await tx.statistics.aggregates(period.start, period.end, channels)

    async def _previous(
        self, period: Period, channels: tuple[str, ...], notice_targets: list[str]
    ) -> tuple[rules.Aggregates, list[rules.Notice]]:
        async with self.ctx.store.reading() as tx:
            before = await tx.statistics.aggregates(period.previous.start, period.previous.end, channels)
            return before, await tx.statistics.notices(period.start, period.end, notice_targets)
