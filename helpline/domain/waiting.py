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
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta

from .contact import Channel
from .counsellor import CounsellorLoad
from .routing import WaitingContact, queue_order

UNATTENDED_AFTER = timedelta(seconds=20)  # longer than a reconnection takes


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

    def group(c: WaitingContact) -> tuple[Channel, str, int | None]:
        return (c.channel, c.skill, c.target_counsellor_id)

    def servers(g: tuple[Channel, str, int | None]) -> frozenset[int]:
        _, skill, target = g
        if target is not None:
            return frozenset({target}) & {k.id for k in counsellors}
        return frozenset(k.id for k in counsellors if skill in k.skills)

    by_id = {k.id: k for k in counsellors}
    ordered = queue_order(waiting)
    groups = list(dict.fromkeys(group(c) for c in ordered))
    served_by = {g: servers(g) for g in groups}
    rivals = {
        g: [h for h in groups if h == g or (h[0] == g[0] and served_by[g] & served_by[h])] for g in groups
    }
    room = {
        g: (sum(by_id[k].capacity(g[0]) for k in served_by[g]),
            sum(by_id[k].spare(g[0]) for k in served_by[g]))
        for g in groups
    }
    ahead: Counter[tuple[Channel, str, int | None]] = Counter()
    result: dict[str, Standing] = {}
    for c in ordered:
        g = group(c)
        position = 1 + sum(ahead[h] for h in rivals[g])
        capacity, free = room[g]
        result[c.id] = Standing(position, estimate_wait_s(position, capacity, free, handle_time_s))
        if c.id not in unattended:
            ahead[g] += 1
    return result
