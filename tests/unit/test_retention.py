"""Retention's rules: the terms, what a contact's facts keep, survey counts, the settings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from helpline.config import Settings
from helpline.domain.retention import Retention, contact_fact, survey_counts, wrapup_fact
from tests.clock import FrozenClock

DAY = timedelta(days=1)


def test_the_terms_count_back_from_now_and_a_contact_goes_after_the_longest() -> None:
    now = FrozenClock("2026-11-27T10:00").now()
    c = Retention(messages_days=30, caller_keys_days=90, surveys_days=30, handoffs_days=365).cutoffs(now)
    assert (c.messages, c.caller_keys, c.handoffs) == (now - 30 * DAY, now - 90 * DAY, now - 365 * DAY)
    assert c.surveys == date(2026, 10, 28)
    assert c.contacts == now - 91 * DAY  # the longest term, and a day for surveys answered after midnight
    assert Retention(messages_days=120, caller_keys_days=7).cutoffs(now).contacts == now - 121 * DAY


@pytest.mark.parametrize("bad", [{"messages_days": 0}, {"surveys_days": -1}, {"handoffs_days": 0},
                                 {"caller_keys_days": 0}, {"caller_keys_days": 91}])
def test_terms_are_a_day_at_least_and_caller_keys_90_days_at_most(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Retention(**bad)


@pytest.mark.parametrize("name,value", [("RETAIN_MESSAGES_DAYS", "0"), ("RETAIN_CALLER_KEYS_DAYS", "91"),
                                        ("RETAIN_SURVEYS_DAYS", "soon"), ("RETAIN_HANDOFFS_DAYS", "0"),
                                        ("PURGE_INTERVAL_S", "0")])
def test_the_settings_refuse_what_retention_refuses(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(f"HELPLINE_{name}", value)
    with pytest.raises(ValidationError):
        Settings()


def test_the_settings_default_to_the_documented_terms() -> None:
    assert Settings().retention == Retention(30, 90, 30, 365)
    assert Settings().purge_interval_s == 3600


def at(hh_mm: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-27T{hh_mm}").replace(tzinfo=UTC)


def test_an_answered_chat_keeps_its_hours_wait_and_handle_time_and_nothing_else() -> None:
    fact = contact_fact({"channel": "chat", "skill": "legal", "created_at": at("09:58:30"),
                         "first_assigned_at": at("10:01:00"), "ended_at": at("10:21:00"),
                         "end_reason": "counsellor", "wait_s": None, "talk_s": None,
                         "token_hash": "t", "handover_note": "never"})
    assert fact == {"channel": "chat", "skill": "legal", "arrived_hour": at("09:00"),
                    "ended_hour": at("10:00"), "outcome": "answered", "end_reason": "counsellor",
                    "wait_s": 150, "handle_s": 1200}


def test_an_abandoned_contact_keeps_how_long_it_waited_and_a_call_its_own_measures() -> None:
    abandoned = contact_fact({"channel": "chat", "skill": "general", "created_at": at("10:00"),
                              "first_assigned_at": None, "ended_at": at("10:05"), "end_reason": "abandoned",
                              "wait_s": None, "talk_s": None})
    assert (abandoned["outcome"], abandoned["wait_s"], abandoned["handle_s"]) == ("abandoned", 300, None)
    call = contact_fact({"channel": "voice", "skill": "general", "created_at": at("10:00"),
                         "first_assigned_at": at("10:01"), "ended_at": at("10:30"), "end_reason": "visitor",
                         "wait_s": 42, "talk_s": 600})
    assert (call["wait_s"], call["handle_s"]) == (42, 600)


def test_a_wrapup_gives_its_lists_never_its_note() -> None:
    fact = wrapup_fact({"categories": ["sextortion"], "contacted_by": "parent", "age_band": "11_14",
                        "gender": None, "platforms": ["snapchat"], "outcomes": ["advice"], "note": "secret"})
    assert "note" not in fact and "secret" not in repr(fact)
    assert fact["actions"] == ["advice"] and fact["contacted_by"] == "parent"


def test_surveys_become_counts_per_day_question_and_answer() -> None:
    d1, d2 = date(2026, 11, 1), date(2026, 11, 2)
    counts = survey_counts([{"answered_on": d1, "helpful": "yes", "again": "no"},
                            {"answered_on": d1, "helpful": "yes", "again": None},
                            {"answered_on": d2, "helpful": None, "again": "yes"}])
    assert counts == {(d1, "helpful", "yes"): 2, (d1, "again", "no"): 1, (d1, "again", "unanswered"): 1,
                      (d2, "helpful", "unanswered"): 1, (d2, "again", "yes"): 1}
