"""Routing: which waiting contact goes to which counsellor.

The router only plans. The store carries each planned assignment out as one
conditional update, so a plan made on stale data can lose a race but can
never assign a contact twice or put a counsellor over capacity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .counsellor import CounsellorLoad


@dataclass(frozen=True, slots=True)
class WaitingContact:
    id: str
    enqueued_at: datetime


@dataclass(frozen=True, slots=True)
class Assignment:
    contact_id: str
    counsellor_id: int


class Router(Protocol):
    def plan(
        self, waiting: Sequence[WaitingContact], counsellors: Sequence[CounsellorLoad]
    ) -> list[Assignment]: ...


def queue_order(waiting: Sequence[WaitingContact]) -> list[WaitingContact]:
    """Oldest first; ties broken by id so every process agrees."""
    return sorted(waiting, key=lambda c: (c.enqueued_at, c.id))


class FirstComeFirstServed:
    """The oldest waiting contact goes to the least loaded counsellor.

    Among counsellors with spare capacity: fewest active contacts first, then
    the one whose last assignment is oldest (never assigned counts as oldest).
    """

    def plan(
        self, waiting: Sequence[WaitingContact], counsellors: Sequence[CounsellorLoad]
    ) -> list[Assignment]:
        active = {c.id: c.active for c in counsellors}
        capacity = {c.id: c.max_chats for c in counsellors}
        last = {c.id: _idle_key(c.last_assigned_at) for c in counsellors}
        plan: list[Assignment] = []
        for contact in queue_order(waiting):
            free = [cid for cid in active if active[cid] < capacity[cid]]
            if not free:
                break
            chosen = min(free, key=lambda cid: (active[cid], last[cid], cid))
            plan.append(Assignment(contact.id, chosen))
            active[chosen] += 1
            last[chosen] = float("inf")  # just assigned: the least idle of all
        return plan


def _idle_key(last_assigned_at: datetime | None) -> float:
    return float("-inf") if last_assigned_at is None else last_assigned_at.timestamp()
