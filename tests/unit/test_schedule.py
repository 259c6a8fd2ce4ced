"""Opening hours: Monday to Saturday 9h-20h, Paris time, French public holidays,
exceptional closures and openings, the last-entry cutoff, and the DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpline.domain.schedule import (
    HolidayPolicy,
    Hours,
    Interval,
    OpenState,
    Override,
    OverrideKind,
    WeeklyHours,
)
from helpline.services.schedule import PublicHolidays, parse_config

PARIS = ZoneInfo("Europe/Paris")
FR = PublicHolidays("FR")


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def line(*overrides: Override, **rules: object) -> Hours:
    return Hours(WeeklyHours(**rules), FR, overrides)  # type: ignore[arg-type]


def at(text: str, schedule: Hours | None = None) -> OpenState:
    return (schedule or line()).state_at(paris(text))


def test_saturday_1959_is_open_but_past_the_last_entry() -> None:
    state = at("2026-11-28T19:59")
    assert state.open
    assert not state.accepting_contacts
    assert state.closes_at == paris("2026-11-28T20:00")


def test_saturday_2000_is_closed_until_monday_0900() -> None:
    state = at("2026-11-28T20:00")
    assert not state.open
    assert state.opens_at == paris("2026-11-30T09:00")


def test_sunday_is_closed() -> None:
    state = at("2026-11-29T12:00")
    assert (state.open, state.opens_at) == (False, paris("2026-11-30T09:00"))


def test_0859_is_closed_and_0900_is_open() -> None:
    assert not at("2026-11-30T08:59").open
    assert at("2026-11-30T08:59").opens_at == paris("2026-11-30T09:00")
    opened = at("2026-11-30T09:00")
    assert opened.open and opened.accepting_contacts


def test_the_cutoff_minute_stops_new_contacts_only() -> None:
    assert at("2026-11-30T19:49").accepting_contacts
    last = at("2026-11-30T19:50")
    assert last.open and not last.accepting_contacts


def test_the_cutoff_is_configurable() -> None:
    assert at("2026-11-30T19:50", line(last_entry_minutes=5)).accepting_contacts
    assert not at("2026-11-30T19:55", line(last_entry_minutes=5)).accepting_contacts


def test_spring_forward_keeps_wall_clock_hours() -> None:
    # 28 March 2027, clocks go 02:00 -> 03:00. Saturday closes at 20:00 winter time;
    # Monday 29 is Easter Monday, so the next opening is Tuesday 09:00 summer time.
    saturday = at("2027-03-27T19:00")
    assert saturday.closes_at == datetime(2027, 3, 27, 19, 0, tzinfo=UTC)
    sunday = at("2027-03-28T10:00")
    assert sunday.opens_at == datetime(2027, 3, 30, 7, 0, tzinfo=UTC)


def test_fall_back_keeps_wall_clock_hours() -> None:
    # 25 October 2026, clocks go 03:00 -> 02:00.
    assert at("2026-10-24T19:00").closes_at == datetime(2026, 10, 24, 18, 0, tzinfo=UTC)
    assert at("2026-10-25T10:00").opens_at == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("day", "hours_long"), [("2027-03-28", 3), ("2026-10-25", 5)])
def test_a_night_opening_on_a_change_day_lasts_what_the_clock_says(day: str, hours_long: int) -> None:
    night = Override(
        OverrideKind.OPEN,
        date.fromisoformat(day),
        date.fromisoformat(day),
        Interval(0, 4 * 60),
        "nuit spéciale",
    )
    schedule = line(night)
    state = schedule.state_at(paris(f"{day}T00:30"))
    opened = paris(f"{day}T00:00").astimezone(UTC)
    assert state.open
    assert state.closes_at is not None
    assert state.closes_at - opened == timedelta(hours=hours_long)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        ("2026-07-14", "Fête nationale"),
        ("2027-03-29", "Lundi de Pâques"),
        ("2027-05-06", "Ascension"),
        ("2027-05-17", "Lundi de Pentecôte"),
        ("2026-12-25", "Noël"),
    ],
)
def test_public_holidays_are_closed_by_default(day: str, name: str) -> None:
    state = at(f"{day}T11:00")
    assert not state.open
    assert state.why == "holiday"
    assert FR.holiday(date.fromisoformat(day)) == name


def test_easter_monday_2027_reopens_on_tuesday() -> None:
    assert at("2027-03-29T11:00").opens_at == paris("2027-03-30T09:00")


def test_alsace_moselle_closes_on_26_december_and_mainland_does_not() -> None:
    moselle = Hours(WeeklyHours(), PublicHolidays("FR", "57"))
    assert not moselle.state_at(paris("2026-12-26T11:00")).open
    assert at("2026-12-26T11:00").open


def test_holidays_can_be_open_or_have_special_hours() -> None:
    assert at("2026-07-14T11:00", line(holiday_policy=HolidayPolicy.OPEN)).open
    special = line(holiday_policy=HolidayPolicy.HOURS, holiday_hours=(Interval.parse("10:00-16:00"),))
    assert not at("2026-07-14T09:30", special).open
    assert at("2026-07-14T15:00", special).closes_at == paris("2026-07-14T16:00")


CHRISTMAS_EVE = Override(
    OverrideKind.CLOSE, date(2026, 12, 24), date(2026, 12, 24), Interval.parse("16:00-20:00"),
    "Veille de Noël",
)
SUNDAY = date(2026, 11, 29)
ANTI_BULLYING_DAY = Override(
    OverrideKind.OPEN, SUNDAY, SUNDAY, Interval.parse("14:00-18:00"), "Journée contre le harcèlement"
)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        pytest.param(
            CHRISTMAS_EVE,
            {
                "2026-12-24T15:00": {"closes_at": paris("2026-12-24T16:00")},
                "2026-12-24T16:00": {
                    "open": False,
                    "why": "exception",
                    "opens_at": paris("2026-12-26T09:00"),  # 25th is Christmas
                },
            },
            id="an exceptional closure overrides the usual hours",
        ),
        pytest.param(
            Override(OverrideKind.CLOSE, date(2026, 8, 3), date(2026, 8, 8), None, "Fermeture d'été"),
            {"2026-08-05T12:00": {"opens_at": paris("2026-08-10T09:00")}},
            id="a closure over several days closes them all",
        ),
        pytest.param(
            ANTI_BULLYING_DAY,
            {
                "2026-11-28T20:00": {"opens_at": paris("2026-11-29T14:00")},
                "2026-11-29T15:00": {"closes_at": paris("2026-11-29T18:00")},
            },
            id="an exceptional opening on a sunday",
        ),
        pytest.param(
            Override(OverrideKind.OPEN, SUNDAY, SUNDAY, None, "ouverture"),
            {"2026-11-29T10:00": {"closes_at": paris("2026-11-29T20:00")}},
            id="an opening without hours takes the usual hours",
        ),
    ],
)
def test_exceptional_closures_and_openings_override_the_usual_hours(
    override: Override, expected: dict[str, dict[str, object]]
) -> None:
    """``expected``: at each moment (Paris time), the state's fields that must have these values."""
    schedule = line(override)
    for moment, fields in expected.items():
        state = at(moment, schedule)
        assert {name: getattr(state, name) for name in fields} == fields, moment


def test_hours_running_into_the_next_day_are_one_opening() -> None:
    late = WeeklyHours(
        week=tuple((Interval.parse("18:00-24:00"), Interval.parse("00:00-02:00")) for _ in range(7))
    )
    state = Hours(late).state_at(paris("2026-11-30T23:00"))
    assert state.closes_at == paris("2026-12-01T02:00")


def test_a_schedule_file_is_read_and_checked() -> None:
    config = parse_config(
        {
            "timezone": "Europe/Paris",
            "last_entry_minutes": 15,
            "hours": {"wednesday": ["09:00-12:30", "13:30-20:00"], "sunday": []},
            "holidays": {"country": "FR", "subdivision": "974", "policy": "open"},
        }
    )
    assert config.rules is not None
    assert config.rules.week[2] == (Interval(540, 750), Interval(810, 1200))
    assert config.rules.week[0] == (Interval(540, 1200),)
    for bad in (
        {"hours": {"funday": []}},
        {"hours": {"monday": ["9h-20h"]}},
        {"colour": "red"},
        {"timezone": "Mars/Olympus"},
        {"holidays": {"policy": "maybe"}},
    ):
        with pytest.raises((ValueError, KeyError)):
            parse_config(bad)


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(instants, st.floats(0.0, 1.0))
def test_the_next_change_is_the_first_instant_where_the_state_changes(t: datetime, frac: float) -> None:
    schedule = line(CHRISTMAS_EVE)
    state = schedule.state_at(t)
    change = state.closes_at if state.open else state.opens_at
    assert change is not None and change > t
    assert schedule.state_at(change).open is not state.open
    assert schedule.state_at(change - timedelta(microseconds=1)).open is state.open
    between = t + (change - t) * frac
    assert schedule.state_at(min(between, change - timedelta(microseconds=1))).open is state.open
