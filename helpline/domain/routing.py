"""Routing: which waiting contact goes to which counsellor.

Order: by priority (urgent, high, normal), then by original enqueue time (a
requeued or transferred contact keeps its place). Choice: among counsellors
who are available, have the contact's skill and spare capacity on its
channel, the one with the fewest active contacts, then the one idle longest.
A contact asking for a specialist skill that has waited past the fallback
time may also be served by a ``general`` counsellor. A contact transferred to
a named counsellor waits for that counsellor only.

The router only plans. The store carries each planned assignment out as one
conditional update, so a plan made on stale data can lose a race but can
never assign a contact twice or put a counsellor over capacity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Protocol

from .contact import Channel
from .counsellor import CounsellorLoad

GENERAL = "general"
DEFAULT_SKILLS = (GENERAL, "psychological", "legal", "technical")
DEFAULT_FALLBACK = timedelta(seconds=180)


class Priority(IntEnum):
    """Lower is served first."""

    URGENT = 0
    HIGH = 1
    NORMAL = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Priority:
        return cls[label.upper()]


@dataclass(frozen=True, slots=True)
class WaitingContact:
    id: str
    enqueued_at: datetime
    channel: Channel = Channel.CHAT
    skill: str = GENERAL
    priority: Priority = Priority.NORMAL
    target_counsellor_id: int | None = None  # a transfer to a named counsellor...
    target_until: datetime | None = None  # ...who alone may take it until then (None: always)

    @property
    def order_key(self) -> tuple[int, datetime, str]:
        return (self.priority, self.enqueued_at, self.id)


@dataclass(frozen=True, slots=True)
class Assignment:
    contact_id: str
    counsellor_id: int


def queue_order(waiting: Sequence[WaitingContact]) -> list[WaitingContact]:
    """Priority first, then the original enqueue time; ties by id so every process agrees."""
    return sorted(waiting, key=lambda c: c.order_key)


def can_serve(
    counsellor: CounsellorLoad, contact: WaitingContact, now: datetime, fallback: timedelta
) -> bool:
    """Whether this counsellor may take this contact (capacity aside). A contact transferred
    to a named colleague waits for them until ``target_until``, then for anyone who could take
    it had it not been named: nobody is stranded behind a colleague who never comes."""
    if contact.target_counsellor_id is not None:
        if counsellor.id == contact.target_counsellor_id:
            return True
        if contact.target_until is None or now < contact.target_until:
            return False
    waited_past_fallback = now - contact.enqueued_at >= fallback
    if contact.skill in counsellor.skills:
        return True
    return contact.skill != GENERAL and waited_past_fallback and GENERAL in counsellor.skills


class Router(Protocol):
    def plan(
        self, waiting: Sequence[WaitingContact], counsellors: Sequence[CounsellorLoad], now: datetime
    ) -> list[Assignment]: ...


class SkillsRouter:
    """Priorities, skills, per-channel capacity, fewest active then longest idle."""

    def __init__(self, fallback: timedelta = DEFAULT_FALLBACK) -> None:
        self.fallback = fallback

    def plan(
        self, waiting: Sequence[WaitingContact], counsellors: Sequence[CounsellorLoad], now: datetime
    ) -> list[Assignment]:
        loads = {c.id: c for c in counsellors}
        idle = {c.id: _idle_key(c.last_assigned_at) for c in counsellors}
        # Only counsellors with room are looked at: with a full floor, a long queue costs
        # one pass over the contacts, not contacts x counsellors.
        room = {ch: {c.id for c in counsellors if c.spare(ch)} for ch in Channel}
        plan: list[Assignment] = []
        for contact in queue_order(waiting):
            if not room[Channel.CHAT] and not room[Channel.VOICE]:
                break
            eligible = [
                loads[k] for k in room[contact.channel] if can_serve(loads[k], contact, now, self.fallback)
            ]
            if not eligible:
                continue  # this one waits; a later one with another skill or channel may not
            chosen = min(eligible, key=lambda c: (c.active, idle[c.id], c.id))
            plan.append(Assignment(contact.id, chosen.id))
            loads[chosen.id] = chosen = chosen.with_one_more(contact.channel)
            idle[chosen.id] = float("inf")  # just assigned: the least idle of all
            for ch in Channel:
                if not chosen.spare(ch):
                    room[ch].discard(chosen.id)
        return plan


def _idle_key(last_assigned_at: datetime | None) -> float:
    return float("-inf") if last_assigned_at is None else last_assigned_at.timestamp()
