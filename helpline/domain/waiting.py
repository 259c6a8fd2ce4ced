"""Queue position and the estimated wait shown to a waiting young person.

A contact competes only with the contacts ahead of it (in queue order) that
the same counsellors could serve: a legal question does not wait behind
technical ones if no counsellor does both. With S the counsellors who can
serve the contact (on its channel)::

    position         = 1 + contacts ahead of it that someone in S could serve
    capacity         = sum of the capacity of S on that channel
    free             = their spare slots
    estimated_wait_s = ceil(max(0, position - free) * handle_time_s / capacity)

Conversations in progress end at a rate of capacity / handle time; the visitor
needs ``position - free`` of them to end before a slot is theirs. With nobody
able to serve, there is no honest figure: the estimate is None.

A chat whose young person has had no widget open for ``UNATTENDED_AFTER`` has nobody
behind it for now (a tab closed, a script's fake chat). It keeps its place and leaves
the queue by the grace rule as any other, but it is not counted ahead of anyone: the
positions and waits shown to the others are those of the people really there.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .contact import Channel
from .counsellor import CounsellorLoad
from .routing import WaitingContact, queue_order

UNATTENDED_AFTER = timedelta(seconds=20)  # longer than a reconnection takes
SHOWN_AT_MOST_EVERY_S = 1.0  # a waiting young person's figures change on screen at most this often

Group = tuple[Channel, str, int | None]  # (channel, skill, named counsellor): who can serve is the same


def estimate_wait_s(position: int, capacity: int, free: int, handle_time_s: float) -> int | None:
    if position < 1:
        raise ValueError("position starts at 1")
    if capacity == 0:
        return None
    return math.ceil(max(0, position - free) * handle_time_s / capacity)


@dataclass(frozen=True, slots=True)
class Standing:
    position: int
    estimated_wait_s: int | None


def standings(
    waiting: Sequence[WaitingContact], counsellors: Sequence[CounsellorLoad], handle_time_s: float,
    unattended: Collection[str] = frozenset(),
) -> dict[str, Standing]:
    """Every waiting contact's position and estimate, in one pass over the queue; the
    ``unattended`` ones (ids) have theirs but count for nobody else's.

    Contacts are grouped by (channel, skill, target): two groups compete when some
    counsellor could serve both. Cost: O(contacts x groups + groups^2 x counsellors).
    """

    by_id = {k.id: k for k in counsellors}
    ordered = queue_order(waiting)
    groups = list(dict.fromkeys(group(c) for c in ordered))
    served_by = {g: servers(g, counsellors) for g in groups}
    rivals = {
        g: [h for h in groups if h == g or (h[0] == g[0] and served_by[g] & served_by[h])] for g in groups
    }
    room = {
        g: (sum(by_id[k].capacity(g[0]) for k in served_by[g]),
            sum(by_id[k].spare(g[0]) for k in served_by[g]))
        for g in groups
    }
    ahead: Counter[Group] = Counter()
    result: dict[str, Standing] = {}
    for c in ordered:
        g = group(c)
        position = 1 + sum(ahead[h] for h in rivals[g])
        capacity, free = room[g]
        result[c.id] = Standing(position, estimate_wait_s(position, capacity, free, handle_time_s))
        if c.id not in unattended:
            ahead[g] += 1
    return result


def group(c: WaitingContact) -> Group:
    return (c.channel, c.skill, c.target_counsellor_id)


def servers(g: Group, counsellors: Sequence[CounsellorLoad]) -> frozenset[int]:
    """The counsellors who could serve a contact of this group."""
    _, skill, target = g
    if target is not None:
        return frozenset({target}) & {k.id for k in counsellors}
    return frozenset(k.id for k in counsellors if skill in k.skills)


class QueueIndex:
    """The queue kept in order, group by group, for standings one contact at a time: a
    join, a leave or a position costs O(groups x log n) comparisons (a sorted list per
    group; inserting moves memory, not Python objects), never a pass over everyone. It
    gives what ``standings`` gives, for the contacts it holds; ``counted=False`` is an
    unattended contact (it has a standing but counts for nobody else's)."""

    def __init__(self, counsellors: Sequence[CounsellorLoad], handle_time_s: float,
                 waiting: Iterable[tuple[WaitingContact, bool]] = ()) -> None:
        self.counsellors = list(counsellors)
        self.handle_time_s = handle_time_s
        self._by_id = {k.id: k for k in self.counsellors}
        self._counted: dict[Group, list[tuple[int, datetime, str]]] = {}
        self._served: dict[Group, frozenset[int]] = {}
        self._held: dict[str, tuple[WaitingContact, bool]] = {}
        self._rivals: dict[Group, list[Group]] = {}
        self._room: dict[Group, tuple[int, int]] = {}
        for contact, counted in waiting:
            self.add(contact, counted=counted)

    def __contains__(self, contact_id: object) -> bool:
        return contact_id in self._held

    def __len__(self) -> int:
        return len(self._held)

    def counted(self) -> list[WaitingContact]:
        """The contacts held that count for others (the people really there)."""
        return [contact for contact, counted in self._held.values() if counted]

    def add(self, contact: WaitingContact, *, counted: bool = True) -> None:
        self.discard(contact.id)
        self._held[contact.id] = (contact, counted)
        if counted:
            g = group(contact)
            if g not in self._counted:
                self._counted[g] = []
                self._rivals.clear()  # a group not seen before: it may count for others
            insort(self._counted[g], contact.order_key)

    def behind_everyone(self, contact: WaitingContact) -> bool:
        """Whether ``contact`` would come after every contact held that counts (then its
        coming changes nobody's standing)."""
        return all(not keys or keys[-1] < contact.order_key for keys in self._counted.values())

    def discard(self, contact_id: str) -> None:
        held = self._held.pop(contact_id, None)
        if held is None or not held[1]:
            return
        keys = self._counted[group(held[0])]
        del keys[bisect_left(keys, held[0].order_key)]

    def standing(self, contact_id: str) -> Standing | None:
        held = self._held.get(contact_id)
        if held is None:
            return None
        contact = held[0]
        g = group(contact)
        key = contact.order_key
        position = 1 + sum(bisect_left(self._counted.get(h, ()), key) for h in self._rivals_of(g))
        capacity, free = self._room_of(g)
        return Standing(position, estimate_wait_s(position, capacity, free, self.handle_time_s))

    def _rivals_of(self, g: Group) -> list[Group]:
        """The groups whose contacts ahead count for ``g`` (those holding contacts; a group
        that appears later is added then)."""
        rivals = self._rivals.get(g)
        if rivals is None:
            rivals = self._rivals[g] = [
                h for h in self._counted
                if h == g or (h[0] == g[0] and self._served_by(g) & self._served_by(h))
            ]
        return rivals

    def _served_by(self, g: Group) -> frozenset[int]:
        served = self._served.get(g)
        if served is None:
            served = self._served[g] = servers(g, self.counsellors)
        return served

    def _room_of(self, g: Group) -> tuple[int, int]:
        room = self._room.get(g)
        if room is None:
            served = self._served_by(g)
            room = self._room[g] = (sum(self._by_id[k].capacity(g[0]) for k in served),
                                    sum(self._by_id[k].spare(g[0]) for k in served))
        return room


def shown(standing: Standing) -> tuple[int, str | int | None]:
    """What the young person's widget shows of a standing: the position, and the wait as
    it words it (soon, under a minute, so many minutes, over an hour). A change that does
    not change this is not sent."""
    wait = standing.estimated_wait_s
    if wait is None:
        return standing.position, None
    if wait <= 0:
        return standing.position, "soon"
    if wait < 60:
        return standing.position, "under_minute"
    if wait > 3600:
        return standing.position, "hour"
    return standing.position, math.ceil(wait / 60)


class PushGate:
    """One socket's queue updates: sent when what is shown changes, at most once every
    ``every_s``; a change within that time waits (the latest value) until it is due. The
    caller gives the time (``now``, monotonic seconds) and sends what ``offer``/``due`` return."""

    def __init__(self, every_s: float = SHOWN_AT_MOST_EVERY_S) -> None:
        self.every_s = every_s
        self.sent: tuple[int, str | int | None] | None = None
        self.sent_at: float | None = None
        self.pending: Standing | None = None

    def offer(self, standing: Standing, now: float) -> Standing | None:
        """The standing to send now, if any; otherwise it is kept for ``due``."""
        self.pending = standing if shown(standing) != self.sent else None
        return self.due(now)

    def due(self, now: float) -> Standing | None:
        if self.pending is None:
            return None
        if self.sent_at is not None and now - self.sent_at < self.every_s:
            return None
        standing, self.pending = self.pending, None
        self.sent, self.sent_at = shown(standing), now
        return standing

    @property
    def waiting(self) -> bool:
        return self.pending is not None

    def reset(self) -> None:
        """Back in the queue after an assignment: the next standing is sent at once."""
        self.sent = self.sent_at = self.pending = None
