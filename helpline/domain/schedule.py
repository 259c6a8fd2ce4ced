"""When the line is open.

Opening hours are wall-clock intervals in the schedule's time zone (so 09:00
stays 09:00 across the daylight-saving changes). A day's hours come from, in
order: the weekday's hours; a public holiday's policy; then the exceptional
openings and closures of that date (openings add hours, closures remove them).
The contiguous open spans of consecutive days are merged, so the next change
(``closes_at`` / ``opens_at``) is the first instant where the state really
changes.

Pure code: the holiday calendar and the exceptions are given, the time too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_MINUTES = 24 * 60
HORIZON_DAYS = 60  # how far ahead the next opening is looked for


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """[start, end) in minutes since local midnight; end may be 1440 (24:00)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= DAY_MINUTES:
            raise ValueError(f"bad interval {self.start}-{self.end}")

    @classmethod
    def parse(cls, text: str) -> Interval:
        """``"09:00-20:00"``."""
        try:
            first, last = text.split("-")
            return cls(parse_time(first), parse_time(last))
        except ValueError as e:
            raise ValueError(f"hours must look like 09:00-20:00, not {text!r}") from e

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def parse_time(text: str) -> int:
    """``"09:30"`` -> minutes since midnight (``"24:00"`` allowed)."""
    hours, minutes = text.strip().split(":")
    if len(minutes) != 2 or not hours.isdigit() or not minutes.isdigit():
        raise ValueError(text)
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > DAY_MINUTES:
        raise ValueError(text)
    return value


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def normalise(intervals: Sequence[Interval]) -> tuple[Interval, ...]:
    """Sorted, with overlapping or touching intervals merged."""
    merged: list[Interval] = []
    for iv in sorted(intervals):
        if merged and iv.start <= merged[-1].end:
            merged[-1] = Interval(merged[-1].start, max(merged[-1].end, iv.end))
        else:
            merged.append(iv)
    return tuple(merged)


def subtract(intervals: Sequence[Interval], cut: Interval) -> tuple[Interval, ...]:
    kept: list[Interval] = []
    for iv in intervals:
        if iv.start < cut.start:
            kept.append(Interval(iv.start, min(iv.end, cut.start)))
        if iv.end > cut.end:
            kept.append(Interval(max(iv.start, cut.end), iv.end))
    return normalise(kept)


class HolidayPolicy(StrEnum):
    CLOSED = "closed"  # closed all day
    OPEN = "open"  # the weekday's usual hours
    HOURS = "hours"  # special hours (holiday_hours)


class OverrideKind(StrEnum):
    CLOSE = "close"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class Override:
    """An exceptional closure or opening from ``first`` to ``last`` (inclusive).

    ``window`` None means the whole day for a closure, and the usual opening
    hours (``default_hours`` when the day has none) for an opening.
    """

    kind: OverrideKind
    first: date
    last: date
    window: Interval | None
    reason: str
    id: int | None = None

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("an exception ends on or after the day it starts")

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


class HolidayCalendar(Protocol):
    def holiday(self, day: date) -> str | None:
        """The holiday's name on ``day``, or None."""


class NoHolidays:
    def holiday(self, day: date) -> str | None:
        return None


def _usual_week() -> tuple[tuple[Interval, ...], ...]:
    """Monday to Saturday, 09:00-20:00; closed on Sundays."""
    return tuple((Interval(9 * 60, 20 * 60),) if i < 6 else () for i in range(7))


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    timezone: str = "Europe/Paris"
    week: tuple[tuple[Interval, ...], ...] = field(default_factory=_usual_week)
    holiday_policy: HolidayPolicy = HolidayPolicy.CLOSED
    holiday_hours: tuple[Interval, ...] = ()
    last_entry_minutes: int = 10
    default_hours: tuple[Interval, ...] = (Interval(9 * 60, 20 * 60),)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("a week has seven days")
        ZoneInfo(self.timezone)  # raises for an unknown zone
        if not 0 <= self.last_entry_minutes <= 240:
            raise ValueError("last_entry_minutes must be between 0 and 240")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class DayPlan:
    day: date
    hours: tuple[Interval, ...]
    holiday: str | None = None
    reasons: tuple[str, ...] = ()  # of the exceptional closures / openings that day


@dataclass(frozen=True, slots=True)
class OpenState:
    open: bool
    accepting_contacts: bool
    closes_at: datetime | None = None  # when open: the end of this opening (None: not in sight)
    opens_at: datetime | None = None  # when closed: the next opening (None: none in sight)
    why: str = ""  # hours, holiday, exception or always


class Schedule(Protocol):
    zone: ZoneInfo

    def state_at(self, at: datetime) -> OpenState: ...

    def days(self, start: date, count: int) -> list[DayPlan]: ...


class AlwaysOpen:
    """Open every minute of every day (demos, tests, 24/7 lines)."""

    zone = ZoneInfo("Europe/Paris")

    def state_at(self, at: datetime) -> OpenState:
        return OpenState(open=True, accepting_contacts=True, why="always")

    def days(self, start: date, count: int) -> list[DayPlan]:
        return [DayPlan(start + timedelta(days=i), (Interval(0, DAY_MINUTES),)) for i in range(count)]


class Hours:
    """Weekly hours + holidays + exceptional closures and openings."""

    def __init__(
        self,
        rules: WeeklyHours,
        calendar: HolidayCalendar | None = None,
        overrides: Sequence[Override] = (),
    ) -> None:
        self.rules = rules
        self.calendar = calendar or NoHolidays()
        self.overrides = tuple(overrides)
        self.zone = rules.zone

    def plan(self, day: date) -> DayPlan:
        usual = self.rules.week[day.weekday()]
        hours = usual
        holiday = self.calendar.holiday(day)
        if holiday is not None:
            hours = {
                HolidayPolicy.CLOSED: (),
                HolidayPolicy.OPEN: usual,
                HolidayPolicy.HOURS: self.rules.holiday_hours,
            }[self.rules.holiday_policy]
        reasons: list[str] = []
        for o in self.overrides:
            if not o.covers(day):
                continue
            reasons.append(o.reason)
            if o.kind is OverrideKind.OPEN:
                added = (o.window,) if o.window else (usual or self.rules.default_hours)
                hours = normalise((*hours, *added))
            else:
                hours = subtract(hours, o.window or Interval(0, DAY_MINUTES))
        return DayPlan(day, normalise(hours), holiday, tuple(reasons))

    def days(self, start: date, count: int) -> list[DayPlan]:
        return [self.plan(start + timedelta(days=i)) for i in range(count)]

    def _instant(self, day: date, minutes: int) -> datetime:
        """The UTC instant of a wall-clock time. UTC, because Python compares two
        datetimes of the same zone by wall clock, which is wrong across a DST change.
        A time skipped by the spring change is read with the offset before it."""
        day += timedelta(days=minutes // DAY_MINUTES)
        minutes %= DAY_MINUTES
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)
        return local.astimezone(UTC)

    def _spans(self, first: date, count: int) -> list[tuple[datetime, datetime]]:
        """Open spans as UTC instants, merged across midnight."""
        spans: list[tuple[datetime, datetime]] = []
        for plan in self.days(first, count):
            for iv in plan.hours:
                start, end = self._instant(plan.day, iv.start), self._instant(plan.day, iv.end)
                if spans and start <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(spans[-1][1], end))
                else:
                    spans.append((start, end))
        return spans

    def state_at(self, at: datetime) -> OpenState:
        today = at.astimezone(self.zone).date()
        spans = self._spans(today - timedelta(days=1), HORIZON_DAYS + 2)
        for start, end in spans:
            if start <= at < end:
                horizon = spans[-1][1] == end and end - at > timedelta(days=HORIZON_DAYS - 1)
                cutoff = end - timedelta(minutes=self.rules.last_entry_minutes)
                return OpenState(True, at < cutoff, closes_at=None if horizon else end, why="hours")
            if start > at:
                return OpenState(False, False, opens_at=start, why=self._why_closed(today))
        return OpenState(False, False, why=self._why_closed(today))

    def _why_closed(self, day: date) -> str:
        plan = self.plan(day)
        if plan.reasons:
            return "exception"
        if plan.holiday:
            return "holiday"
        return "hours"
