"""A clock a test can stand anywhere in time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


class FrozenClock:
    def __init__(self, paris_time: str) -> None:
        self.at = datetime.fromisoformat(paris_time).replace(tzinfo=PARIS)

    def now(self) -> datetime:
        return self.at

    def set(self, paris_time: str) -> None:
        self.at = datetime.fromisoformat(paris_time).replace(tzinfo=PARIS)
