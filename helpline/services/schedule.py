"""Opening hours as configured, French public holidays, and the exceptional
closures and openings kept in the database."""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import holidays

from ..domain.errors import DomainError
from ..domain.resources import EMERGENCY, Resource
from ..domain.schedule import (
    WEEKDAYS,
    AlwaysOpen,
    DayPlan,
    HolidayPolicy,
    Hours,
    Interval,
    OpenState,
    Override,
    OverrideKind,
    Schedule,
    WeeklyHours,
)
from ..i18n import LANGUAGES, translate

if TYPE_CHECKING:
    from .context import Context

CACHE_S = 5.0  # other processes see an exception change within this time


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    """What the settings say: 24/7, or weekly hours with a holiday calendar."""

    rules: WeeklyHours | None  # None: always open
    country: str = "FR"
    subdivision: str | None = None


def load_config(kind: str, path: Path | None) -> ScheduleConfig:
    if kind == "always":
        return ScheduleConfig(None)
    if path is None:
        return ScheduleConfig(WeeklyHours())
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
        return parse_config(raw)
    except (OSError, tomllib.TOMLDecodeError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"schedule file {path}: {e}") from e


def parse_config(raw: dict[str, Any]) -> ScheduleConfig:
    unknown = set(raw) - {"timezone", "last_entry_minutes", "hours", "holidays"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    hours = raw.get("hours", {})
    if set(hours) - set(WEEKDAYS):
        raise ValueError(f"unknown days {sorted(set(hours) - set(WEEKDAYS))}")
    default = WeeklyHours()
    week = tuple(
        tuple(Interval.parse(t) for t in hours[day]) if day in hours else default.week[i]
        for i, day in enumerate(WEEKDAYS)
    )
    hol = raw.get("holidays", {})
    rules = WeeklyHours(
        timezone=raw.get("timezone", default.timezone),
        week=week,
        holiday_policy=HolidayPolicy(hol.get("policy", "closed")),
        holiday_hours=tuple(Interval.parse(t) for t in hol.get("hours", [])),
        last_entry_minutes=int(raw.get("last_entry_minutes", default.last_entry_minutes)),
    )
    country = hol.get("country", "FR")
    subdivision = hol.get("subdivision") or None
    PublicHolidays(country, subdivision)  # fails now, not at the first request
    return ScheduleConfig(rules, country, subdivision)


class PublicHolidays:
    """A country's public holidays (the ``holidays`` package), named in French."""

    def __init__(self, country: str = "FR", subdivision: str | None = None) -> None:
        try:
            self._fr = holidays.country_holidays(country, subdiv=subdivision, language="fr")
            self._en = holidays.country_holidays(country, subdiv=subdivision, language="en_US")
        except NotImplementedError as e:
            raise ValueError(str(e)) from e

    def holiday(self, day: date) -> str | None:
        return self._fr.get(day)

    def names(self, day: date) -> dict[str, str] | None:
        if day not in self._fr:
            return None
        return {"fr": self._fr[day], "en": self._en.get(day, self._fr[day])}


@cache
def _calendar(country: str, subdivision: str | None) -> PublicHolidays:
    return PublicHolidays(country, subdivision)


def validate_override(
    kind: str, first: date, last: date | None, start: str | None, end: str | None, reason: str
) -> Override:
    if not reason.strip() or len(reason) > 200:
        raise DomainError("invalid_reason")
    if (start is None) != (end is None):
        raise DomainError("invalid_hours")
    try:
        window = Interval.parse(f"{start}-{end}") if start is not None else None
        return Override(OverrideKind(kind), first, last or first, window, reason.strip())
    except ValueError:
        raise DomainError("invalid_hours") from None


class Schedules:
    """The schedule in force now (config + exceptions), and what users are shown of it."""

    def __init__(self, ctx: Context, config: ScheduleConfig) -> None:
        self.ctx = ctx
        self.config = config
        self._cached: tuple[float, Schedule] | None = None

    @property
    def zone(self) -> ZoneInfo:
        return self.config.rules.zone if self.config.rules else AlwaysOpen.zone

    @property
    def calendar(self) -> PublicHolidays | None:
        if self.config.rules is None:
            return None
        return _calendar(self.config.country, self.config.subdivision)

    async def current(self) -> Schedule:
        if self.config.rules is None:
            return AlwaysOpen()
        if self._cached and time.monotonic() - self._cached[0] < CACHE_S:
            return self._cached[1]
        async with self.ctx.store.reading() as tx:
            overrides = await tx.schedule.overrides()
        schedule = Hours(self.config.rules, self.calendar, overrides)
        self._cached = (time.monotonic(), schedule)
        return schedule

    def invalidate(self) -> None:
        self._cached = None

    async def state_at(self, at: datetime) -> OpenState:
        return (await self.current()).state_at(at)

    async def next_opening(self, at: datetime) -> datetime | None:
        """When new contacts are next accepted: the next opening, or, in the last
        minutes before closing, the opening after this one."""
        state = await self.state_at(at)
        if state.open and state.closes_at is not None:
            state = await self.state_at(state.closes_at)
        return state.opens_at

    async def add_override(self, override: Override, by: int | None) -> int:
        async with self.ctx.store.transaction() as tx:
            new_id = await tx.schedule.add(override, by, self.ctx.clock.now())
        self.invalidate()
        return new_id

    async def remove_override(self, override_id: int) -> bool:
        async with self.ctx.store.transaction() as tx:
            removed = await tx.schedule.remove(override_id)
        self.invalidate()
        return removed

    async def list_overrides(self) -> list[Override]:
        async with self.ctx.store.reading() as tx:
            return await tx.schedule.overrides()

    async def public_view(self, at: datetime, days: int = 7) -> dict[str, Any]:
        """What the widget shows: open or not, next change, the coming days' hours and,
        always, the emergency numbers."""
        schedule = await self.current()
        state = schedule.state_at(at)
        zone = schedule.zone
        today = at.astimezone(zone).date()
        plans = schedule.days(today, days)
        return {
            "open": state.open,
            "accepting_contacts": state.accepting_contacts,
            "closes_at": _local_iso(state.closes_at, zone),
            "opens_at": _local_iso(state.opens_at, zone),
            "timezone": str(zone),
            "today": self.day_view(plans[0]),
            "days": [self.day_view(p) for p in plans],
            "emergency": emergency_resources(),
        }

    def day_view(self, plan: DayPlan) -> dict[str, Any]:
        calendar = self.calendar
        return {
            "date": plan.day.isoformat(),
            "weekday": WEEKDAYS[plan.day.weekday()],
            "hours": [{"from": str(iv).split("-")[0], "to": str(iv).split("-")[1]} for iv in plan.hours],
            "holiday": calendar.names(plan.day) if calendar else None,
            "exceptions": list(plan.reasons),
        }

    async def explain(self, at: datetime) -> dict[str, Any]:
        """Open or closed at ``at``, and why (for `helpline schedule check`)."""
        schedule = await self.current()
        state = schedule.state_at(at)
        local = at.astimezone(schedule.zone)
        plan = schedule.days(local.date(), 1)[0]
        return {
            "at": local.isoformat(), "open": state.open, "accepting_contacts": state.accepting_contacts,
            "why": state.why, "weekday": WEEKDAYS[local.weekday()],
            "hours": [str(iv) for iv in plan.hours], "holiday": plan.holiday,
            "exceptions": list(plan.reasons),
            "closes_at": _local_iso(state.closes_at, schedule.zone),
            "opens_at": _local_iso(state.opens_at, schedule.zone),
        }


def _local_iso(at: datetime | None, zone: Any) -> str | None:
    return at.astimezone(zone).isoformat() if at else None


def emergency_resources() -> list[dict[str, Any]]:
    return [resource_view(r) for r in EMERGENCY]


def resource_view(r: Resource) -> dict[str, Any]:
    """A number as clients show it: the number, its link, its label in every language."""
    return {"number": r.number, "href": r.href,
            "label": {lang: translate(f"resources.{r.key}", lang) for lang in LANGUAGES}}
