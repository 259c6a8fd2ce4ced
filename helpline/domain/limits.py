"""Rate limits: a burst, then a steady rate (GCRA, the generic cell rate algorithm).

Each subject (an address, a socket, a contact, the whole line) has one number, its
*theoretical arrival time* (TAT): when it would be back to an empty allowance. A hit at
``now`` is allowed if ``TAT - now`` is within the burst's tolerance; it then moves the
TAT on by one interval (``1 / rate``). Nothing else is kept, so a window of any length
costs one float per subject, and the subject is forgotten once ``now`` passes its TAT.

The same arithmetic runs in memory and in Redis (``services.limits``); this module is
the reference and is tested alone.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0}
_SPEC = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|min|h)\s*(?:,\s*burst\s*=\s*(\d+))?\s*$")


@dataclass(frozen=True, slots=True)
class Rate:
    """``per_s`` hits a second sustained, ``burst`` at once from rest."""

    per_s: float
    burst: int

    @property
    def interval_s(self) -> float:
        return 1.0 / self.per_s

    @property
    def tolerance_s(self) -> float:
        """How far ahead of now the TAT may be and a hit still pass."""
        return self.interval_s * (self.burst - 1)

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"4/min,burst=10"``: 4 a minute sustained, 10 at once; the burst defaults to 1
        sustained period's worth (at least 1). Units: s, min, h."""
        m = _SPEC.match(text)
        if not m or float(m.group(1)) <= 0:
            raise ValueError("expected RATE/UNIT[,burst=N] with RATE > 0 and UNIT s, min or h, "
                             "e.g. 4/min,burst=10")
        per_s = float(m.group(1)) / _UNITS[m.group(2)]
        burst = int(m.group(3)) if m.group(3) else max(1, int(float(m.group(1))))
        if burst < 1:
            raise ValueError("the burst must be 1 or more")
        return cls(per_s, burst)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    tat: float  # the subject's TAT after this hit (unchanged if refused)
    retry_after_s: float  # 0 if allowed: else the wait before a hit would pass


def hit(rate: Rate, tat: float | None, now: float) -> Verdict:
    """One hit at ``now`` (seconds) for a subject whose TAT is ``tat`` (None: never seen)."""
    start = now if tat is None else max(tat, now)
    allowed_from = start - rate.tolerance_s
    if now < allowed_from:
        return Verdict(False, start, allowed_from - now)
    return Verdict(True, start + rate.interval_s, 0.0)


def retry_after_seconds(wait_s: float) -> int:
    """What a client is told: whole seconds, at least 1."""
    return max(1, math.ceil(wait_s))
