"""What the statistics count, and how a table of them is shown. Pure: the store hands
over aggregates (counts per UTC hour, per wait in seconds, per wrap-up list), these
rules turn them into tables of local days, weeks, hours of the week and breakdowns, each
with the previous period of the same length beside it.

The small-count rule: a count from 1 to 4 could point at a child (one 12-year-old girl
on a Sunday about sextortion), so exports show it as "<5", and a figure derived from such
a count (a percentage, a change, a percentile) is left out. The console's live page does
the same for the breakdown tables (wrap-up lists, hand-offs, notices), and shows the
volumes (per day, week, hour, the wait and handle times) as they are: they say nothing
about who called.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from .errors import DomainError

SMALL_BELOW = 5  # a count 1..4 is shown as "<5" in exports
SMALL = "<5"
MAX_DAYS = 3 * 366  # the longest range asked at once
SERVICE_LEVEL_S = (20, 60)
WAIT_BUCKETS_S = (20, 60, 120, 300, 600)  # 0-20 s, 20-60 s, ... 600 s and more
HANDLE_BUCKETS_S = (300, 900, 1800, 3600)  # under 5 min, 5-15, 15-30, 30-60, an hour and more
# The wrap-up's lists (as the taxonomy names them) and the facts' columns that keep them.
WRAPUP_LISTS = {"categories": "categories", "platforms": "platforms", "age_bands": "age_band",
                "genders": "gender", "contacted_by": "contacted_by", "outcomes": "actions"}


class ChannelFilter(StrEnum):
    ALL = "all"
    CHAT = "chat"
    VOICE = "voice"

    @property
    def channels(self) -> tuple[str, ...]:
        return ("chat", "voice") if self is ChannelFilter.ALL else (self.value,)


class BadRange(DomainError):
    """A range of days the statistics refuse: ``code`` says why."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code


@dataclass(frozen=True, slots=True)
class Period:
    """Local days ``first`` to ``last``, both included, in ``zone``."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts: as many
        whole months before when it is whole months (a year beside the year before, a
        month beside the month before), as many days before otherwise."""
        day_before = self.first - timedelta(days=1)
        if self.first.day == 1 and (self.last + timedelta(days=1)).day == 1:
            months = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
            back = self.first.year * 12 + self.first.month - 1 - months
            return Period(date(back // 12, back % 12 + 1, 1), day_before, self.zone)
        return Period(self.first - timedelta(days=self.days), day_before, self.zone)

    @property
    def start(self) -> datetime:
        """Its first instant, in UTC."""
        return datetime.combine(self.first, time(), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The instant after it, in UTC."""
        return datetime.combine(self.last + timedelta(days=1), time(), self.zone).astimezone(UTC)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone)


def period(first: str | None, last: str | None, zone: ZoneInfo) -> Period:
    """The days asked for, as ISO dates; raises ``BadRange`` (bad_date, range_reversed,
    range_too_long) otherwise."""
    try:
        a, b = date.fromisoformat(first or ""), date.fromisoformat(last or "")
    except ValueError:
        raise BadRange("bad_date") from None
    if a > b:
        raise BadRange("range_reversed")
    if (b - a).days + 1 > MAX_DAYS:
        raise BadRange("range_too_long")
    return Period(a, b, zone)


def channel_filter(value: str | None) -> ChannelFilter:
    try:
        return ChannelFilter(value or "all")
    except ValueError:
        raise BadRange("bad_channel") from None


# --- what the store hands over ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HourCount:
    """Contacts that arrived in one UTC hour on one channel with one outcome."""

    hour: datetime
    channel: str
    outcome: str  # answered | abandoned
    n: int
    within: tuple[int, ...] = (0, 0)  # of the answered: within each of SERVICE_LEVEL_S


@dataclass(slots=True)
class Aggregates:
    """One period's aggregates, as the store read them."""

    hours: list[HourCount] = field(default_factory=list)
    refusals: list[tuple[datetime, str, int]] = field(default_factory=list)  # hour, channel, n
    waits: Counter[int] = field(default_factory=Counter)  # seconds to answer -> answered contacts
    handles: Counter[int] = field(default_factory=Counter)  # handle seconds -> answered contacts
    # list name -> (the stored value: a list, a string or None) -> contacts
    wrapups: dict[str, Counter[tuple[str, ...]]] = field(default_factory=dict)
    handoffs: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # target, state, decision


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice to a platform: its target, when it was made, the platform's decision."""

    target: str
    created: datetime
    decision: str | None
    decision_on: date | None


# --- tables ----------------------------------------------------------------------------------

class Kind(StrEnum):
    KEY = "key"  # says what the row is
    COUNT = "count"  # how many contacts: small counts are hidden
    DERIVED = "derived"  # computed from counts (``basis``): hidden when one of them is


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind = Kind.COUNT
    basis: tuple[str, ...] = ()


Cell = int | float | str | None


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    breakdown: bool = False  # about who contacted and why: hidden below 5 on the live page too

    def as_dicts(self) -> list[dict[str, Cell]]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, row, strict=True)) for row in self.rows]


def is_small(value: Cell) -> bool:
    return value == SMALL or (isinstance(value, int) and 0 < value < SMALL_BELOW)


def suppressed(table: Table) -> Table:
    """The table with its small counts as "<5" and what derives from them left out."""
    index = {c.name: i for i, c in enumerate(table.columns)}
    rows = []
    for row in table.rows:
        cells = list(row)
        for i, column in enumerate(table.columns):
            if column.kind is Kind.DERIVED and any(is_small(row[index[b]]) for b in column.basis):
                cells[i] = None
        for i, column in enumerate(table.columns):
            if column.kind is Kind.COUNT and is_small(row[i]):
                cells[i] = SMALL
        rows.append(tuple(cells))
    return replace(table, rows=tuple(rows))


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def change(now: int, before: int) -> float | None:
    """The change from ``before`` to ``now``, in percent of ``before``."""
    return round(100 * (now - before) / before, 1) if before else None


def percentile(histogram: Mapping[int, int], q: float) -> int | None:
    """The nearest-rank ``q``-quantile (0 < q <= 1) of values counted in ``histogram``."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable")


def bucket_labels(bounds: Sequence[int]) -> list[str]:
    edges = [0, *bounds]
    return [f"{a}-{b}" for a, b in itertools.pairwise(edges)] + [f"{edges[-1]}+"]


def bucketed(histogram: Mapping[int, int], bounds: Sequence[int]) -> list[int]:
    counts = [0] * (len(bounds) + 1)
    for value, n in histogram.items():
        counts[sum(1 for b in bounds if value >= b)] += n
    return counts


# --- the figures -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Summary:
    offered: int
    answered: int
    abandoned: int
    refused: int
    within: tuple[int, ...]
    wait_p50: int | None
    wait_p90: int | None
    handle_p50: int | None
    handle_p90: int | None

    def row(self, label: str) -> tuple[Cell, ...]:
        levels = tuple(percent(w, self.offered) for w in self.within)
        return (label, self.offered, self.answered, self.abandoned, self.refused, *self.within, *levels,
                self.wait_p50, self.wait_p90, self.handle_p50, self.handle_p90)


def summary(agg: Aggregates) -> Summary:
    answered = sum(h.n for h in agg.hours if h.outcome == "answered")
    abandoned = sum(h.n for h in agg.hours if h.outcome == "abandoned")
    within = tuple(sum(h.within[i] for h in agg.hours) for i in range(len(SERVICE_LEVEL_S)))
    return Summary(
        offered=answered + abandoned, answered=answered, abandoned=abandoned,
        refused=sum(n for _, _, n in agg.refusals), within=within,
        wait_p50=percentile(agg.waits, 0.5), wait_p90=percentile(agg.waits, 0.9),
        handle_p50=percentile(agg.handles, 0.5), handle_p90=percentile(agg.handles, 0.9),
    )


def _summary_table(now: Aggregates, before: Aggregates) -> Table:
    within = [f"answered_{s}s" for s in SERVICE_LEVEL_S]
    levels = [Column(f"service_level_{s}s_pct", Kind.DERIVED, (w, "offered"))
              for s, w in zip(SERVICE_LEVEL_S, within, strict=True)]
    timed = [Column(n, Kind.DERIVED, ("answered",))
             for n in ("wait_p50_s", "wait_p90_s", "handle_p50_s", "handle_p90_s")]
    columns = (Column("period", Kind.KEY), Column("offered"), Column("answered"), Column("abandoned"),
               Column("refused_closed"), *(Column(w) for w in within), *levels, *timed)
    return Table("summary", columns, (summary(now).row("current"), summary(before).row("previous")))


def _per_day(agg: Aggregates, p: Period) -> dict[date, Counter[str]]:
    days: dict[date, Counter[str]] = {}
    for h in agg.hours:
        days.setdefault(p.local(h.hour).date(), Counter())[h.channel] += h.n
    return days


def _days_table(now: Aggregates, before: Aggregates, p: Period) -> Table:
    current, previous = _per_day(now, p), _per_day(before, p.previous)
    rows = []
    for i in range(p.days):
        day = p.first + timedelta(days=i)
        counts = current.get(day, Counter())
        earlier = previous.get(p.previous.first + timedelta(days=i), Counter())
        rows.append((day.isoformat(), counts["chat"], counts["voice"], counts.total(), earlier.total()))
    columns = (Column("day", Kind.KEY), Column("chat"), Column("voice"), Column("total"),
               Column("previous_total"))
    return Table("days", columns, tuple(rows))


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _weeks_table(now: Aggregates, p: Period) -> Table:
    weeks: dict[str, Counter[str]] = {}
    for i in range(p.days):  # every week of the period, even an empty one
        weeks.setdefault(iso_week(p.first + timedelta(days=i)), Counter())
    for day, counts in _per_day(now, p).items():
        weeks[iso_week(day)].update(counts)
    rows = tuple((w, c["chat"], c["voice"], c.total()) for w, c in weeks.items())
    return Table("weeks", (Column("week", Kind.KEY), Column("chat"), Column("voice"), Column("total")), rows)


def heatmap(agg: Aggregates, zone: ZoneInfo) -> list[list[int]]:
    """Arrivals per local weekday (0 Monday) and hour."""
    grid = [[0] * 24 for _ in range(7)]
    for h in agg.hours:
        local = h.hour.astimezone(zone)
        grid[local.weekday()][local.hour] += h.n
    return grid


def _heatmap_table(now: Aggregates, p: Period) -> Table:
    grid = heatmap(now, p.zone)
    rows = tuple((d + 1, hour, grid[d][hour]) for d in range(7) for hour in range(24))
    return Table("heatmap", (Column("iso_weekday", Kind.KEY), Column("hour", Kind.KEY), Column("arrivals")),
                 rows)


def _distribution(name: str, now: Counter[int], before: Counter[int], bounds: Sequence[int]) -> Table:
    rows = tuple(
        (label, a, b) for label, a, b in zip(bucket_labels(bounds), bucketed(now, bounds),
                                             bucketed(before, bounds), strict=True)
    )
    return Table(name, (Column("seconds", Kind.KEY), Column("answered"), Column("previous")), rows)


def _trend_rows(
    now: Counter[str], before: Counter[str], order: Iterable[str]
) -> tuple[tuple[Cell, ...], ...]:
    keys = list(dict.fromkeys([*order, *sorted(now), *sorted(before)]))
    return tuple((k, now[k], before[k], change(now[k], before[k]))
                 for k in keys if now[k] or before[k])


TREND_COLUMNS = (Column("key", Kind.KEY), Column("contacts"), Column("previous"),
                 Column("change_pct", Kind.DERIVED, ("contacts", "previous")))


def exploded(values: Counter[tuple[str, ...]]) -> Counter[str]:
    """Contacts per item of a list (a contact counts once in each item it names); a contact
    without a wrap-up counts under "unrecorded"."""
    out: Counter[str] = Counter()
    for items, n in values.items():
        for item in items or ("unrecorded",):
            out[item] += n
    return out


def _wrapup_tables(now: Aggregates, before: Aggregates, order: Mapping[str, Sequence[str]]) -> list[Table]:
    return [
        Table(name, TREND_COLUMNS,
              _trend_rows(exploded(now.wrapups.get(name, Counter())),
                          exploded(before.wrapups.get(name, Counter())), order.get(name, ())),
              breakdown=True)
        for name in WRAPUP_LISTS
    ]


def _handoffs_table(now: Aggregates, before: Aggregates) -> Table:
    keys = sorted(set(now.handoffs) | set(before.handoffs))
    rows = tuple((*k, now.handoffs[k], before.handoffs[k], change(now.handoffs[k], before.handoffs[k]))
                 for k in keys)
    columns = (Column("target", Kind.KEY), Column("state", Kind.KEY), Column("decision", Kind.KEY),
               *TREND_COLUMNS[1:])
    return Table("handoffs", columns, rows, breakdown=True)


def notices_table(notices: Iterable[Notice], zone: ZoneInfo, kinds: Mapping[str, str]) -> Table:
    """DSA-style counts: per year (of the notice, local time), target (the platform's
    channel of notices), the target's kind and the decision, how many notices and the days
    they took to be decided (median and 90th percentile)."""
    groups: dict[tuple[int, str, str], Counter[int]] = {}
    counts: Counter[tuple[int, str, str]] = Counter()
    for n in notices:
        key = (n.created.astimezone(zone).year, n.target, n.decision or "pending")
        counts[key] += 1
        days = groups.setdefault(key, Counter())
        if n.decision_on is not None:
            days[(n.decision_on - n.created.astimezone(zone).date()).days] += 1
    rows = tuple((year, target, kinds.get(target, ""), decision, counts[(year, target, decision)],
                  percentile(groups[(year, target, decision)], 0.5),
                  percentile(groups[(year, target, decision)], 0.9))
                 for year, target, decision in sorted(counts))
    columns = (Column("year", Kind.KEY), Column("target", Kind.KEY), Column("kind", Kind.KEY),
               Column("decision", Kind.KEY), Column("notices"),
               Column("days_to_decision_p50", Kind.DERIVED, ("notices",)),
               Column("days_to_decision_p90", Kind.DERIVED, ("notices",)))
    return Table("notices", columns, rows, breakdown=True)


def tables(now: Aggregates, before: Aggregates, p: Period, notices: Table,
           order: Mapping[str, Sequence[str]]) -> list[Table]:
    """Every table of the statistics, in the order they are shown. ``order``: each wrap-up
    list's items in the order the taxonomy gives them."""
    return [
        _summary_table(now, before),
        _days_table(now, before, p),
        _weeks_table(now, p),
        _heatmap_table(now, p),
        _distribution("wait", now.waits, before.waits, WAIT_BUCKETS_S),
        _distribution("handle", now.handles, before.handles, HANDLE_BUCKETS_S),
        *_wrapup_tables(now, before, order),
        _handoffs_table(now, before),
        notices,
    ]


TABLE_NAMES = ("summary", "days", "weeks", "heatmap", "wait", "handle", *WRAPUP_LISTS, "handoffs", "notices")
