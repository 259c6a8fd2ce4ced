"""When the line is open. Only the 24/7 schedule exists for now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OpenState:
    open: bool
    accepting_contacts: bool


class Schedule(Protocol):
    def state_at(self, at: datetime) -> OpenState: ...


class AlwaysOpen:
    """Open every minute of every day (demos, tests, 24/7 lines)."""

    def state_at(self, at: datetime) -> OpenState:
        return OpenState(open=True, accepting_contacts=True)
