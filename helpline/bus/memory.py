"""In-process bus: the embedded default for a single server process."""

from __future__ import annotations

from .base import Bus


class MemoryBus(Bus):
    """Every handler lives in this process: publishing is delivering."""
