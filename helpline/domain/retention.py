"""How long what is kept, and what the statistics keep forever. Pure: the store applies it.

Terms count in whole days from the end of a contact:

- ``messages``: its messages, then (``notes``) its wrap-up (the note with it: the lists live
  on in the contact's facts), its handover note, its pre-chat answers and the hash of the
  visitor's token;
- ``caller_keys``: the caller key of a call (at most 90 days, like a block);
- ``surveys``: survey answers become counts per day, question and answer;
- ``handoffs``: a hand-off's payload and excerpts (the row stays: target, state, dates,
  decision);
- ``contacts``: the contact row itself, once every term above has passed for it and nothing
  refers to it (no hand-off, no legal hold).

A contact on legal hold is skipped by every kind until an admin releases it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

MAX_CALLER_KEY_DAYS = 90  # a caller block lasts at most as long (services.calls.MAX_BLOCK)
SURVEY_QUESTIONS = ("helpful", "again")
UNANSWERED = "unanswered"


class Kind(StrEnum):
    """What a purge run removes, in the order it runs (a contact goes last)."""

    MESSAGES = "messages"
    NOTES = "notes"  # a contact's other free text, once its messages are gone
    CALLER_KEYS = "caller_keys"
    SURVEYS = "surveys"
    HANDOFFS = "handoffs"
    CONTACTS = "contacts"


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """What ended (or was answered) before these is due."""

    now: datetime
    messages: datetime
    caller_keys: datetime
    surveys: date  # answered strictly before this day
    handoffs: datetime
    contacts: datetime


@dataclass(frozen=True, slots=True)
class Retention:
    messages_days: int = 30
    caller_keys_days: int = MAX_CALLER_KEY_DAYS
    surveys_days: int = 30
    handoffs_days: int = 365

    def __post_init__(self) -> None:
        for name in ("messages_days", "caller_keys_days", "surveys_days", "handoffs_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 day")
        if self.caller_keys_days > MAX_CALLER_KEY_DAYS:
            raise ValueError(f"caller keys are kept at most {MAX_CALLER_KEY_DAYS} days")

    def cutoffs(self, now: datetime) -> Cutoffs:
        def ago(days: int) -> datetime:
            return now - timedelta(days=days)

        longest = max(self.messages_days, self.caller_keys_days, self.surveys_days)
        return Cutoffs(
            now=now, messages=ago(self.messages_days), caller_keys=ago(self.caller_keys_days),
            surveys=ago(self.surveys_days).astimezone(UTC).date(), handoffs=ago(self.handoffs_days),
            contacts=ago(longest + 1),  # a day more: a survey answered just after midnight is counted first
        )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _hour(value: datetime) -> datetime:
    return _utc(value).replace(minute=0, second=0, microsecond=0)


def _seconds(later: datetime, earlier: datetime) -> int:
    return max(0, round((_utc(later) - _utc(earlier)).total_seconds()))


def contact_fact(contact: Mapping[Any, Any]) -> dict[str, Any]:
    """The anonymous facts of an ended contact (a row or record with ``channel``, ``skill``,
    ``created_at``, ``first_assigned_at``, ``ended_at``, ``end_reason``, ``wait_s``,
    ``talk_s``): hours cut to the hour, the outcome, the wait (to a first counsellor, or
    until the visitor gave up) and the handle time. A call's own measures win when known."""
    created, assigned, ended = contact["created_at"], contact["first_assigned_at"], contact["ended_at"]
    wait = contact["wait_s"] if contact["wait_s"] is not None else _seconds(assigned or ended, created)
    handle = contact["talk_s"]
    if handle is None and assigned is not None:
        handle = _seconds(ended, assigned)
    return {
        "channel": str(contact["channel"]), "skill": str(contact["skill"]),
        "arrived_hour": _hour(created), "ended_hour": _hour(ended),
        "outcome": "answered" if assigned is not None else "abandoned",
        "end_reason": str(contact["end_reason"] or ""), "wait_s": wait, "handle_s": handle,
    }


def wrapup_fact(wrapup: Mapping[Any, Any]) -> dict[str, Any]:
    """What of a wrap-up the statistics keep: its lists, never its note."""
    return {
        "categories": list(wrapup["categories"]), "contacted_by": wrapup["contacted_by"],
        "age_band": wrapup["age_band"], "gender": wrapup["gender"],
        "platforms": list(wrapup["platforms"]), "actions": list(wrapup["outcomes"]),
    }


def survey_counts(rows: Iterable[Mapping[Any, Any]]) -> Counter[tuple[date, str, str]]:
    """Survey rows (``answered_on``, ``helpful``, ``again``) as counts per day, question and
    answer; a question left blank counts as ``unanswered``."""
    counts: Counter[tuple[date, str, str]] = Counter()
    for row in rows:
        for question in SURVEY_QUESTIONS:
            counts[(row["answered_on"], question, row[question] or UNANSWERED)] += 1
    return counts
