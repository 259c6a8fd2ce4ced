"""What the benchmarks' reports share: percentiles, ratios, figures, aligned columns, JSON."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile_ms(samples_ns: Sequence[int], p: float) -> float:
    """Nearest-rank percentile of sorted samples, in ms (NaN without samples)."""
    if not samples_ns:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(samples_ns)))
    return samples_ns[rank - 1] / 1e6


def ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def figure(value: float, digits: int) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def aligned(rows: Sequence[Sequence[str]], left: int) -> list[str]:
    """The rows as text columns, the first ``left`` ones to the left and the others to the
    right, with a rule under the first row (the header)."""
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    lines = []
    for i, row in enumerate(rows):
        lines.append("  ".join(c.ljust(widths[j]) if j < left else c.rjust(widths[j])
                               for j, c in enumerate(row)))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def json_ready(value: Any) -> Any:
    """``value`` with every float rounded to three places and NaN as None (NaN is not JSON)."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_ready(v) for v in value]
    return value
