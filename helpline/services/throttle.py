"""Login throttling: after 5 failed logins for a username within 15 minutes, further
attempts for it are refused until the oldest failure leaves the window.

Counted in memory, per server process (several processes each allow 5): nothing about
failed attempts is written to the database."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
_MAX_USERNAMES = 10_000  # a flood of made-up usernames cannot grow memory without bound


class LoginThrottle:
    def __init__(self, max_failures: int = MAX_FAILURES, window: timedelta = WINDOW) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}

    @staticmethod
    def _key(username: str) -> str:
        return username.strip().casefold()

    def _recent(self, username: str, now: datetime) -> deque[datetime]:
        failures = self._failures.get(self._key(username), deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after_s(self, username: str, now: datetime) -> int | None:
        """Seconds until this username may try again; None if it may now."""
        failures = self._recent(username, now)
        if len(failures) < self.max_failures:
            return None
        return max(1, int((failures[0] + self.window - now).total_seconds() + 0.999))

    def failed(self, username: str, now: datetime) -> None:
        if len(self._failures) >= _MAX_USERNAMES:
            for key in [k for k, v in self._failures.items() if not v or v[-1] <= now - self.window]:
                del self._failures[key]
        failures = self._recent(username, now)
        failures.append(now)
        self._failures[self._key(username)] = failures

    def succeeded(self, username: str) -> None:
        self._failures.pop(self._key(username), None)
