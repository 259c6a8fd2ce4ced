"""Login throttling, per client (see ``helpline.web.client``), so that nobody can lock
others out and one place cannot slow everyone down:

- 5 failed logins for one username from one client within 15 minutes: that client may
  not try that username again until the oldest of them is 15 minutes old. The same
  username still gets in from anywhere else, so a stranger cannot lock an account.
- 20 failed logins from one client within 15 minutes, whatever the usernames (guessing
  across accounts): that client may not log in at all until the oldest is 15 minutes old.
- One password check at a time per client, and at most 4 logins from one client in
  line (being checked or waiting their turn): colleagues behind one office address who
  log in at the same moment wait a moment each; a fifth at once is refused
  (``login_in_progress``, ``retry_after_s`` 1) without hashing. One client therefore
  holds at most one of the process's password-hashing slots, and a flood from one place
  does not delay logins from elsewhere.

A success forgets that client's failures for that username (not those for others).
Counted in memory, per server process (several processes each allow as much); nothing
about failed attempts is written anywhere. A client is forgotten once its last failure
is 15 minutes old, and at most 10,000 clients are remembered (beyond, the least recently
failing are forgotten first), so a flood of addresses cannot grow memory without bound.
Usernames are kept only as keyed hashes too: a password typed in the username field is
never held."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import secrets
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_PER_USERNAME = 5
MAX_PER_CLIENT = 20
WINDOW = timedelta(minutes=15)
MAX_CLIENTS = 10_000
MAX_IN_LINE = 4  # logins from one client being checked or waiting their turn
BUSY_RETRY_S = 1


@dataclass(frozen=True)
class Refused:
    code: str  # too_many_attempts | login_in_progress
    retry_after_s: int


class LoginThrottle:
    def __init__(self, per_username: int = MAX_PER_USERNAME, per_client: int = MAX_PER_CLIENT,
                 window: timedelta = WINDOW, max_clients: int = MAX_CLIENTS) -> None:
        self.per_username, self.per_client = per_username, per_client
        self.window, self.max_clients = window, max_clients
        # client -> its failures in the window (when, username key), oldest first; the
        # clients are in the order of their last failure, so the stale ones come first.
        self._failures: OrderedDict[str, deque[tuple[datetime, bytes]]] = OrderedDict()
        self._in_line: dict[str, int] = {}  # client -> logins admitted and not finished
        self._turns: dict[str, asyncio.Lock] = {}  # one password check at a time per client
        self._key = secrets.token_bytes(32)

    def __len__(self) -> int:
        """How many clients are remembered."""
        return len(self._failures)

    def _username(self, username: str) -> bytes:
        return hashlib.blake2b(username.strip().casefold().encode(), key=self._key, digest_size=16).digest()

    def _recent(self, client: str, now: datetime) -> deque[tuple[datetime, bytes]]:
        horizon = now - self.window
        while self._failures:  # the stale clients come first
            first = next(iter(self._failures.values()))
            if first and first[-1][0] > horizon:
                break
            self._failures.popitem(last=False)
        failures = self._failures.get(client, deque())
        while failures and failures[0][0] <= horizon:
            failures.popleft()
        return failures

    def admit(self, client: str, username: str, now: datetime) -> Refused | None:
        """None if ``client`` may have ``username``'s password checked now (then call
        ``finish`` once it is), else why not and for how long."""
        failures = self._recent(client, now)
        user = self._username(username)
        mine = [when for when, u in failures if u == user]
        frees_at = []
        if len(mine) >= self.per_username:
            frees_at.append(mine[-self.per_username] + self.window)
        if len(failures) >= self.per_client:
            frees_at.append(failures[-self.per_client][0] + self.window)
        if frees_at:
            return Refused("too_many_attempts", max(1, math.ceil((max(frees_at) - now).total_seconds())))
        if self._in_line.get(client, 0) >= MAX_IN_LINE:
            return Refused("login_in_progress", BUSY_RETRY_S)
        self._in_line[client] = self._in_line.get(client, 0) + 1
        return None

    @contextlib.asynccontextmanager
    async def turn(self, client: str) -> AsyncIterator[None]:
        """An admitted login's password check, one at a time for each client."""
        async with self._turns.setdefault(client, asyncio.Lock()):
            yield

    def finish(self, client: str, username: str, now: datetime, succeeded: bool | None) -> None:
        """The check ``admit`` let through is over: it ``succeeded``, or not, or None if
        it gave no answer (an error, which counts as neither)."""
        left = self._in_line.get(client, 1) - 1
        if left:
            self._in_line[client] = left
        else:  # nobody of that client in line: forget its turn too
            self._in_line.pop(client, None)
            self._turns.pop(client, None)
        if succeeded is None:
            return
        failures = self._recent(client, now)
        user = self._username(username)
        if succeeded:
            kept = deque(f for f in failures if f[1] != user)
            if kept:
                self._failures[client] = kept
            else:
                self._failures.pop(client, None)
            return
        failures.append((now, user))
        self._failures[client] = failures
        self._failures.move_to_end(client)  # now the most recently failing
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)
