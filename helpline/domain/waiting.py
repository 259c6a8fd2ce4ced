"""Queue position and the estimated wait shown to a waiting young person.

Contacts in progress finish at a rate of ``capacity / handle_time`` (the
counsellors who can serve, each able to hold ``max_chats`` contacts, each
contact lasting the median handle time). A visitor at ``position`` needs
``position - free_slots`` contacts to finish before one is free for them::

    estimated_wait_s = max(0, position - free_slots) * handle_time_s / capacity

With nobody able to serve there is no honest figure: the estimate is None
and the widget says that no counsellor is available yet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .counsellor import CounsellorLoad


def estimate_wait_s(
    position: int, counsellors: Sequence[CounsellorLoad], handle_time_s: float
) -> int | None:
    if position < 1:
        raise ValueError("position starts at 1")
    capacity = sum(c.max_chats for c in counsellors)
    if capacity == 0:
        return None
    free = sum(c.spare for c in counsellors)
    ahead = max(0, position - free)
    return math.ceil(ahead * handle_time_s / capacity)
