"""Rate limits on what anyone may do without an account: starting a contact (per client
address, and for the whole line) and writing in one (per socket, and per contact).

The rule (a burst, then a steady rate) is ``domain.limits``; this module keeps the
subjects' state. A subject (an address, a socket id, a contact id) is never kept as it
is: only ``HMAC-SHA256(secret of the day, subject)``, and only until its allowance is
full again (at most the burst's length). The secret changes every UTC day.

- Without Redis: in this process's memory, at most ``MAX_SUBJECTS`` subjects (the least
  recently seen are forgotten first); the day's secret is made at random, never stored.
- With Redis (``HELPLINE_REDIS_URL``): in Redis, so the limits hold across processes.
  One Lua script checks every limit of a hit and counts it only if all pass (atomic);
  each key expires with its allowance. The day's secret is in Redis too, with a two-day
  TTL, so that every process hashes alike.

Redis down (or slow) must not stop young people from reaching the line: a hit is then
allowed (fail open), an error is logged (at most every ``LOG_EVERY_S``), and Redis is
not asked again for ``RETRY_S``.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import redis.asyncio as aioredis

from ..config import Settings
from ..domain.errors import RateLimited
from ..domain.limits import Rate, hit, retry_after_seconds
from ..logs import get_logger
from ..metrics import Metrics

log = get_logger("limits")
MAX_SUBJECTS = 100_000
REDIS_TIMEOUT_S = 0.5  # Redis silent this long on a connection: it is down
REDIS_CONNECTIONS = 50  # per process; checks beyond wait for one
# How long a check may wait for one of those connections. Waiting means Redis is answering
# the others: a busy process, not an outage, so this is longer than REDIS_TIMEOUT_S.
REDIS_QUEUE_S = 5.0
RETRY_S = 1.0
LOG_EVERY_S = 10.0
SECRET_TTL_S = 2 * 86400
PREFIX = "helpline:limit:"

# KEYS: one per limit; ARGV: now, then (interval, tolerance) per key. Returns "0" (counted)
# or the wait in seconds (nothing counted).
_GCRA = """
local now = tonumber(ARGV[1])
local wait = 0
local tats = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local tolerance = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  if now < tat - tolerance and tat - tolerance - now > wait then wait = tat - tolerance - now end
  tats[i] = tat + interval
end
if wait > 0 then return tostring(wait) end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], tostring(tats[i]), 'PX', math.ceil((tats[i] - now) * 1000) + 1000)
end
return '0'
"""

Hit = tuple[str, Rate, str]  # (limit name, rate, subject)


def _day(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).date().isoformat()


def _subject_key(secret: bytes, name: str, subject: str) -> str:
    digest = hmac.digest(secret, subject.encode(), "sha256").hex()[:32]  # one C call: every message hits this
    return f"{name}:{digest}"


class MemoryCounter:
    """The subjects' TATs in this process, bounded."""

    def __init__(self, max_subjects: int = MAX_SUBJECTS) -> None:
        self.max_subjects = max_subjects
        self._tats: OrderedDict[str, float] = OrderedDict()  # least recently hit first
        self._secret: tuple[int, bytes] | None = None  # (UTC day number, secret)

    def __len__(self) -> int:
        return len(self._tats)

    def secret(self, now: float) -> bytes:
        day = int(now // 86400)  # the UTC day, without a datetime on every message
        if self._secret is None or self._secret[0] != day:
            self._secret = (day, secrets.token_bytes(32))
        return self._secret[1]

    async def hits(self, hits: Sequence[Hit], now: float) -> float:
        secret = self.secret(now)
        keys = [_subject_key(secret, name, subject) for name, _, subject in hits]
        verdicts = [hit(rate, self._tats.get(key), now) for key, (_, rate, _) in zip(keys, hits, strict=True)]
        wait = max((v.retry_after_s for v in verdicts if not v.allowed), default=0.0)
        if wait:
            return wait
        for key, verdict in zip(keys, verdicts, strict=True):
            self._tats[key] = verdict.tat
            self._tats.move_to_end(key)
        while self._tats:  # forget the full allowances, and the oldest beyond the bound
            key, tat = next(iter(self._tats.items()))
            if tat > now and len(self._tats) <= self.max_subjects:
                break
            del self._tats[key]
        return 0.0


class RedisCounter:
    """The subjects' TATs in Redis, shared by every process."""

    def __init__(self, url: str) -> None:
        # A blocking pool: a burst of checks beyond its connections waits for one (within
        # REDIS_QUEUE_S) instead of failing at once, which would let everything through for a
        # second; a dead or silent Redis is told by each connection's own timeouts.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_QUEUE_S,
            socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S)
        self.client = aioredis.Redis.from_pool(pool)  # closed with the client
        self._script = self.client.register_script(_GCRA)
        self._secret: tuple[str, bytes] | None = None

    async def secret(self, now: float) -> bytes:
        day = _day(now)
        if self._secret is None or self._secret[0] != day:
            key = f"{PREFIX}secret:{day}"
            await self.client.set(key, secrets.token_hex(32), nx=True, ex=SECRET_TTL_S)
            shared = await self.client.get(key)
            if shared is None:  # flushed between the two calls: the next hit sets it again
                raise ConnectionError("secret_missing")
            self._secret = (day, shared if isinstance(shared, bytes) else shared.encode())
        return self._secret[1]

    async def hits(self, hits: Sequence[Hit], now: float) -> float:
        secret = await self.secret(now)
        keys = [PREFIX + _subject_key(secret, name, subject) for name, _, subject in hits]
        args: list[float] = [now]
        for _, rate, _ in hits:
            args += [rate.interval_s, rate.tolerance_s]
        return float(await self._script(keys=keys, args=args))

    async def close(self) -> None:
        await self.client.aclose()


class Limits:
    """What the web layer asks before it lets a visitor start a contact or write."""

    def __init__(self, settings: Settings, now: Callable[[], float] = time.time,
                 metrics: Metrics | None = None) -> None:
        self.contact_per_client = Rate.parse(settings.limit_contacts_per_client)
        self.contact_overall = Rate.parse(settings.limit_contacts_overall)
        self.message_per_socket = Rate.parse(settings.limit_messages_per_socket)
        self.message_per_contact = Rate.parse(settings.limit_messages_per_contact)
        self.memory = MemoryCounter()
        self.redis = RedisCounter(settings.redis_url) if settings.redis_url else None
        self._now = now
        self._refused = (metrics or Metrics.off()).rate_limited
        self._redis_back_at = 0.0
        self._logged_at = -LOG_EVERY_S

    async def contact_started(self, client_address: str) -> None:
        """Raises ``RateLimited`` if this address, or the line as a whole, started too
        many contacts lately."""
        await self._check("contact", [("contact", self.contact_per_client, client_address),
                                      ("contact-all", self.contact_overall, "all")])

    async def visitor_message(self, socket_id: str, contact_id: str) -> None:
        """Raises ``RateLimited`` if this socket, or this contact, wrote too much lately."""
        await self._check("message", [("message-socket", self.message_per_socket, socket_id),
                                      ("message-contact", self.message_per_contact, contact_id)])

    async def _check(self, rule: str, hits: Sequence[Hit]) -> None:
        wait = await self._wait(hits)
        if wait > 0:
            log.debug("rate_limited", limit=hits[0][0])
            self._refused[rule].inc()
            raise RateLimited(retry_after_seconds(wait))

    async def _wait(self, hits: Sequence[Hit]) -> float:
        now = self._now()
        if self.redis is None:
            return await self.memory.hits(hits, now)
        if now < self._redis_back_at:
            return 0.0
        try:
            async with asyncio.timeout(REDIS_QUEUE_S + 2 * REDIS_TIMEOUT_S):
                return await self.redis.hits(hits, now)
        except (aioredis.RedisError, OSError, TimeoutError) as e:
            self._redis_back_at = now + RETRY_S
            if now - self._logged_at >= LOG_EVERY_S:
                self._logged_at = now
                log.error("limits_unavailable", error=type(e).__name__)
            return 0.0  # fail open: the line stays reachable

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.close()
