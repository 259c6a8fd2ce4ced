"""Staffing: how many counsellors an hour needs to answer most contacts quickly.

Two queueing models, both with Poisson arrivals (rate ``lam`` per second) and exponential
handle times (mean ``handle_s``) on ``n`` identical servers:

- Erlang C (M/M/n): nobody gives up. The offered load is ``a = lam * handle_s`` erlangs;
  with ``n > a`` the chance of waiting is ``C = n B / (n - a (1 - B))`` where ``B`` is
  Erlang B, computed by its recursion ``B(k) = a B(k-1) / (k + a B(k-1))`` (no factorial,
  no overflow, stable for hundreds of servers). Service level within ``t`` seconds:
  ``1 - C exp(-(n - a) t / handle_s)``; average speed of answer: ``C handle_s / (n - a)``.
- Erlang A (M/M/n+M): a waiting person gives up after an exponential patience (mean
  ``patience_s``). The number in the system is a birth-death chain; its stationary
  distribution is computed in log space and cut where its tail is negligible. A person
  arriving with ``k`` others waiting ahead is answered after ``k + 1`` departures from the
  head of the queue (answers at rate ``n / handle_s``, people ahead giving up at ``1 /
  patience_s`` each) unless their own patience runs out first; the chance that this
  happens within ``t`` is computed by uniformisation of that small chain.

Service level means the share of all contacts answered within ``t``: one who gave up,
however soon, was not answered (a helpline does not count a child who left as served).
Erlang A tends to Erlang C as patience grows; over the helpline's range of loads, handle
times and patience it never needs more servers than Erlang C (tested on a grid), since
those who give up shorten the wait of everyone behind them.

Chats: a counsellor holds up to ``max_chats`` chats at once but one call; the router lets a
counsellor with chats take a call, and gives no new chat to one on a call
(``CounsellorLoad.spare``). So with ``n`` counsellors, calls are served by ``n`` servers,
and chats by ``max_chats`` servers for each counsellor not on a call: ``floor((n - call
load in erlangs) * max_chats)``. The chat handle time is the measured one, from a first
counsellor to the end of the chat, already stretched by the multiplexing the counsellor
was doing when it was measured. An hour needs the fewest ``n`` for which both channels
reach the target (``counsellors_needed``). ``benchmarks/staffing.py`` checks this against
a simulated floor driving the real router.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .schedule import Interval

MAX_SERVERS = 10_000
_TAIL = 1e-14  # the stationary tail left out of Erlang A
_MAX_QUEUE = 200_000


def erlang_b(servers: int, load: float) -> float:
    """Probability that all ``servers`` are busy in a loss system offered ``load`` erlangs."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must not be negative")
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


@dataclass(frozen=True, slots=True)
class ErlangC:
    p_wait: float  # probability an arrival waits at all
    service_level: float  # share answered within the target time
    asa_s: float  # average speed of answer, over all arrivals (inf when overloaded)


def erlang_c(servers: int, rate_per_s: float, handle_s: float, within_s: float) -> ErlangC:
    _check(rate_per_s, handle_s, within_s)
    load = rate_per_s * handle_s
    if load == 0:
        return ErlangC(0.0, 1.0, 0.0)
    if servers <= load:
        return ErlangC(1.0, 0.0, math.inf)
    b = erlang_b(servers, load)
    c = servers * b / (servers - load * (1 - b))
    spare = servers - load
    return ErlangC(c, 1 - c * math.exp(-spare * within_s / handle_s), c * handle_s / spare)


@dataclass(frozen=True, slots=True)
class ErlangA:
    p_wait: float  # probability an arrival waits at all
    p_abandon: float  # probability an arrival gives up before being answered
    service_level: float  # share answered within the target
    asa_s: float  # average wait of those answered


def erlang_a(servers: int, rate_per_s: float, handle_s: float, patience_s: float, within_s: float) -> ErlangA:
    _check(rate_per_s, handle_s, within_s)
    if patience_s <= 0:
        raise ValueError("patience must be positive")
    if servers < 1 and rate_per_s > 0:
        return ErlangA(1.0, 1.0, 0.0, 0.0)  # nobody there: everyone leaves
    if rate_per_s == 0:
        return ErlangA(0.0, 0.0, 1.0, 0.0)
    mu, gamma, lam = 1 / handle_s, 1 / patience_s, rate_per_s
    queue = _stationary_queue(servers, lam, mu, gamma)  # P(k waiting), k = 0.., and P(wait)
    p_wait = sum(queue)
    mean_queue = sum(k * p for k, p in enumerate(queue))
    p_abandon = gamma * mean_queue / lam
    answered = _answered_by(queue, servers * mu, gamma, within_s)
    waited = _answered_wait(queue, servers * mu, gamma)
    return ErlangA(
        p_wait, p_abandon,
        service_level=min(1.0, 1 - p_wait + answered),
        asa_s=waited / max(1 - p_abandon, 1e-300),
    )


def _check(rate_per_s: float, handle_s: float, within_s: float) -> None:
    if rate_per_s < 0:
        raise ValueError("the arrival rate must not be negative")
    if handle_s <= 0:
        raise ValueError("the handle time must be positive")
    if within_s < 0:
        raise ValueError("the target time must not be negative")


def _stationary_queue(servers: int, lam: float, mu: float, gamma: float) -> list[float]:
    """P(an arrival finds k waiting), k = 0, 1, ...; the list sums to P(wait)."""
    # log weights of n in the system, relative to n = 0
    logs = [0.0]
    for n in range(1, servers + 1):
        logs.append(logs[-1] + math.log(lam / (n * mu)))
    peak = max(logs)
    for k in range(1, _MAX_QUEUE):
        step = math.log(lam / (servers * mu + k * gamma))
        logs.append(logs[-1] + step)
        peak = max(peak, logs[-1])
        if step < 0 and logs[-1] < peak + math.log(_TAIL):
            break
    peak = max(logs)
    weights = [math.exp(x - peak) for x in logs]
    total = sum(weights)
    return [w / total for w in weights[servers:]]


def _answered_wait(queue: list[float], answer_rate: float, gamma: float) -> float:
    """The sum over arrivals of the wait of those answered (waits of 0 add nothing): in stage
    k the tagged person stays an exponential time of rate ``answer_rate + (k + 1) gamma``
    whatever comes next, so an answered person who found k waiting waited the sum of those
    means, and was answered with the product of the chances to move on."""
    total = 0.0
    moved_on = 1.0
    waited = 0.0
    for k, q in enumerate(queue):
        out = answer_rate + (k + 1) * gamma
        moved_on *= (answer_rate + k * gamma) / out
        waited += 1 / out
        total += q * moved_on * waited
    return total


def _answered_by(queue: list[float], answer_rate: float, gamma: float, within_s: float) -> float:
    """Of all arrivals, the share that find someone waiting and are answered by ``within_s``.
    Stage k: k people ahead; the head of the queue leaves at ``answer_rate + k gamma``
    (answered, or given up), the tagged person gives up at ``gamma``. Uniformisation: the
    stages as a discrete chain stepped at the Poisson times of one fast clock."""
    # Arrivals that find a long queue are too rare to count: leave out the last stages
    # whose weight together is below 1e-12 (the walk costs a pass over the stages a step).
    tail = 0.0
    size = len(queue)
    while size > 1 and tail + queue[size - 1] < 1e-12:
        size -= 1
        tail += queue[size]
    queue = queue[:size]
    uniform = answer_rate + size * gamma  # at least every stage's total rate
    x = uniform * within_s
    state = list(queue)
    answered = 0.0  # answered by time t, summed over the Poisson weights
    absorbed = 0.0  # answered within m steps
    log_w = -x  # Poisson weights in log space: a large x does not underflow
    left = 1.0
    m = 0
    limit = int(x + 12 * math.sqrt(x) + 30)
    while m <= limit and left > 1e-15:
        w = math.exp(log_w)
        answered += w * absorbed
        left -= w
        new = [0.0] * size
        for k, p in enumerate(state):
            if p == 0.0:
                continue
            ahead = (answer_rate + k * gamma) / uniform
            if k == 0:
                absorbed += p * ahead
            else:
                new[k - 1] += p * ahead
            new[k] += p * (1 - ahead - gamma / uniform)
        state = new
        m += 1
        log_w += math.log(x) - math.log(m) if x > 0 else -math.inf
    return answered + max(left, 0.0) * absorbed


@dataclass(frozen=True, slots=True)
class Need:
    erlang_c: int  # servers needed by Erlang C
    erlang_a: int  # servers needed by Erlang A


def servers_needed(
    rate_per_s: float, handle_s: float, patience_s: float | None, target: float, within_s: float
) -> Need:
    """The fewest servers whose service level within ``within_s`` reaches ``target``."""
    if not 0 < target < 1:
        raise ValueError("the target must be between 0 and 1")
    _check(rate_per_s, handle_s, within_s)
    if rate_per_s == 0:
        return Need(0, 0)
    load = rate_per_s * handle_s
    n = max(1, math.floor(load) + 1)
    while erlang_c(n, rate_per_s, handle_s, within_s).service_level < target:
        n += 1
        if n > MAX_SERVERS:
            raise ValueError("more servers than a helpline has")
    c = n
    if patience_s is None:
        return Need(c, c)

    def enough(servers: int) -> bool:
        assert patience_s is not None
        return erlang_a(servers, rate_per_s, handle_s, patience_s, within_s).service_level >= target

    high = c
    while not enough(high):  # not seen over the helpline's range, but not assumed either
        high += 1
        if high > MAX_SERVERS:
            raise ValueError("more servers than a helpline has")
    low = 0  # not enough (the service level grows with the servers)
    while high - low > 1:
        mid = (low + high) // 2
        if enough(mid):
            high = mid
        else:
            low = mid
    return Need(c, high)


def _chat_servers(counsellors: int, calls: Load, max_chats: int) -> int:
    """Chat servers of ``counsellors``, less those on calls (the calls' load in erlangs)."""
    on_calls = calls.rate_per_s * calls.handle_s
    return max(0, math.floor((counsellors - on_calls) * max_chats + 1e-9))


@dataclass(frozen=True, slots=True)
class Load:
    """One channel's demand in an hour."""

    rate_per_s: float
    handle_s: float
    patience_s: float | None = None  # None: nobody gives up


def counsellors_needed(chats: Load, calls: Load, max_chats: int, target: float, within_s: float) -> Need:
    """The fewest counsellors with which chats and calls both reach ``target`` within
    ``within_s``, by Erlang C and by Erlang A: see the module's note on chats and calls."""
    if max_chats < 1:
        raise ValueError("a counsellor holds at least one chat")
    chat_need = servers_needed(chats.rate_per_s, chats.handle_s, chats.patience_s, target, within_s)
    call_need = servers_needed(calls.rate_per_s, calls.handle_s, calls.patience_s, target, within_s)

    def chat_servers(n: int) -> int:
        return _chat_servers(n, calls, max_chats)

    found = []
    for chat_servers_needed, call_servers_needed in (
        (chat_need.erlang_c, call_need.erlang_c), (chat_need.erlang_a, call_need.erlang_a)
    ):
        n = max(call_servers_needed, math.ceil(chat_servers_needed / max_chats))
        while chat_servers(n) < chat_servers_needed:
            n += 1
        found.append(n)
    return Need(found[0], found[1])


# --- the week's plan -------------------------------------------------------------------------

HourOfWeek = tuple[int, int]  # (weekday, Monday 0; local hour 0-23)


def hour_of_week(at: datetime, zone: ZoneInfo) -> HourOfWeek:
    local = at.astimezone(zone)
    return local.weekday(), local.hour


def open_hours(week: Sequence[Sequence[Interval]]) -> set[HourOfWeek]:
    """The hours of the week the line is open for at least part of (minutes of the day)."""
    return {
        (day, hour)
        for day, intervals in enumerate(week)
        for iv in intervals
        for hour in range(24)
        if iv.start < (hour + 1) * 60 and iv.end > hour * 60
    }


def staffed_hours(
    spans: Iterable[tuple[int, datetime, datetime]], zone: ZoneInfo, weeks: int
) -> dict[HourOfWeek, float]:
    """Average counsellors available in each hour of the week, from (counsellor, start, end)
    spans over ``weeks`` whole weeks. A counsellor's overlapping spans (two consoles) count once."""
    by_counsellor: dict[int, list[tuple[datetime, datetime]]] = {}
    for counsellor, start, end in spans:
        if end > start:
            by_counsellor.setdefault(counsellor, []).append((start, end))
    seconds: dict[HourOfWeek, float] = {}
    for stretches in by_counsellor.values():
        for start, end in _merged(stretches):
            at = start
            while at < end:
                next_hour = (at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
                             + timedelta(hours=1))
                cut = min(end, next_hour)
                key = hour_of_week(at, zone)
                seconds[key] = seconds.get(key, 0.0) + (cut - at).total_seconds()
                at = cut
    return {key: s / (3600 * weeks) for key, s in seconds.items()}


def _merged(stretches: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for start, end in sorted(stretches):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def patience_estimate(waited_s: float, abandoned: int) -> float | None:
    """Mean patience, exponential, from the waits of everyone (those answered are waits that
    ended before patience ran out): time at risk over abandons, the maximum-likelihood
    estimate under censoring. None when nobody gave up (patience as good as endless)."""
    if abandoned == 0:
        return None
    return max(waited_s / abandoned, 1.0)


@dataclass(frozen=True, slots=True)
class ChannelDemand:
    """One channel over the weeks looked at: arrivals per hour of the week (summed over the
    weeks), its mean handle time and its mean patience (None: nobody gave up)."""

    arrivals: dict[HourOfWeek, int]
    handle_s: float
    patience_s: float | None


@dataclass(frozen=True, slots=True)
class HourPlan:
    day: int
    hour: int
    per_hour: dict[str, float]  # arrivals per hour, per channel
    erlang_c: int  # counsellors needed
    erlang_a: int
    staffed: float  # average counsellors available
    p_abandon: float  # abandonment expected with the Erlang A staffing

    @property
    def short(self) -> bool:
        """Fewer counsellors than even Erlang A asks for."""
        return self.staffed < self.erlang_a


def plan_week(
    demand: dict[str, ChannelDemand], staffed: dict[HourOfWeek, float], hours: set[HourOfWeek],
    *, weeks: int, max_chats: int, target: float, within_s: float,
) -> list[HourPlan]:
    """Per open hour of the week, the counsellors needed by Erlang C and Erlang A beside those
    who were there."""
    plans = []
    nothing = Load(0.0, 1.0)
    for day, hour in sorted(hours):
        loads = {
            channel: Load(d.arrivals.get((day, hour), 0) / weeks / 3600, d.handle_s, d.patience_s)
            for channel, d in demand.items()
        }
        chats, calls = loads.get("chat", nothing), loads.get("voice", nothing)
        need = counsellors_needed(chats, calls, max_chats, target, within_s)
        total = chats.rate_per_s + calls.rate_per_s
        abandon = 0.0
        chat_servers = _chat_servers(need.erlang_a, calls, max_chats)
        for load, servers in ((chats, chat_servers), (calls, need.erlang_a)):
            if load.rate_per_s and load.patience_s is not None:
                a = erlang_a(servers, load.rate_per_s, load.handle_s, load.patience_s, within_s)
                abandon += a.p_abandon * load.rate_per_s
        plans.append(HourPlan(
            day, hour, {channel: load.rate_per_s * 3600 for channel, load in loads.items()},
            need.erlang_c, need.erlang_a, round(staffed.get((day, hour), 0.0), 2),
            abandon / total if total else 0.0,
        ))
    return plans
