"""Staffing benchmark: do Erlang C and Erlang A say what really happens on the floor?

For a sample week (a few representative hours, or rates given on the command line), the
planner's staffing (Erlang A, ``helpline.domain.staffing``) is put on a simulated floor
and the service level and abandonment measured there are printed beside what Erlang C
and Erlang A predicted for the same inputs.

The simulation is discrete-event, on a simulated clock, and drives the real routing code
(``SkillsRouter.plan`` over ``WaitingContact`` and ``CounsellorLoad``: per-channel room, no
new chat during a call, fewest active then longest idle), not a server. Arrivals are
Poisson at the hour's rates, handle times and patience exponential with the hour's means;
a contact still waiting when its patience runs out leaves. Each hour is run as a long
stretch of identical hours (``--hours``, after a warm-up) so its figures are steady-state.

Each hour is first run with its chats alone on the planner's staffing: that is the models'
own ground (a counsellor with ``c`` chats as ``c`` servers), where Erlang A should match the
floor and Erlang C be too cautious. Then three runs show where they part ways:
    multiplexed   a counsellor with k chats answers each more slowly (``--slowdown`` per
                  extra chat), where the models take one mean handle time for all;
    ramp          arrivals rise across the hour (half the rate at its start, one and a
                  half at its end), where the models take a steady rate;
    with calls    the hour's calls too, on the planner's staffing for both: the router
                  lets a counsellor with chats take a call but gives no new chat during one,
                  which the models count as the calls' load taken from the chat servers.

    python benchmarks/staffing.py
    python benchmarks/staffing.py --hours 400 --seed 3
    python benchmarks/staffing.py --rates "Mon 10h:6:1,Wed 14h:14:3" --handle-chat 1500
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import math
import random
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta

from helpline.domain.contact import Channel
from helpline.domain.counsellor import CounsellorLoad
from helpline.domain.routing import SkillsRouter, WaitingContact
from helpline.domain.staffing import Load, counsellors_needed, erlang_a, erlang_c

T0 = datetime(2026, 11, 23, tzinfo=UTC)
WARM_UP_S = 2 * 3600.0

# A sample week of a youth helpline: (hour, chats an hour, calls an hour)
SAMPLE_WEEK = [
    ("Mon 10h", 6.0, 1.0),
    ("Tue 12h", 9.0, 2.0),
    ("Wed 14h", 14.0, 3.0),
    ("Wed 17h", 22.0, 4.0),
    ("Sat 11h", 8.0, 1.5),
]


@dataclass(frozen=True)
class Floor:
    """What one simulated hour is given."""

    chats_per_h: float
    calls_per_h: float
    counsellors: int
    max_chats: int = 3
    handle_chat_s: float = 1500.0
    handle_call_s: float = 600.0
    patience_chat_s: float = 600.0
    patience_call_s: float = 180.0
    within_s: float = 60.0
    slowdown: float = 0.0  # each extra chat a counsellor holds slows all of theirs by this share
    ramp: bool = False  # arrivals rising across each hour instead of steady


@dataclass
class Measured:
    arrived: int = 0
    answered_in_time: int = 0
    abandoned: int = 0

    @property
    def service_level(self) -> float:
        return self.answered_in_time / self.arrived if self.arrived else 1.0

    @property
    def abandonment(self) -> float:
        return self.abandoned / self.arrived if self.arrived else 0.0


def simulate(floor: Floor, hours: float, seed: int) -> dict[str, Measured]:
    """Run ``hours`` of identical hours (after a warm-up); per channel what was measured."""
    rng = random.Random(seed)
    router = SkillsRouter()
    staff = {k: CounsellorLoad(k, floor.max_chats, 0, None, frozenset({"general"}), 1, 0)
             for k in range(floor.counsellors)}
    end = WARM_UP_S + hours * 3600
    events: list[tuple[float, int, str, object]] = []
    order = itertools.count()
    waiting: dict[str, tuple[WaitingContact, float]] = {}  # id -> (contact, arrived at s)
    # chats in progress: counsellor -> {contact id: work left (s at full speed)}, and when it was last updated
    work: dict[int, dict[str, float]] = {k: {} for k in staff}
    touched: dict[int, float] = dict.fromkeys(staff, 0.0)
    version: dict[int, int] = dict.fromkeys(staff, 0)
    measured = {Channel.CHAT.value: Measured(), Channel.VOICE.value: Measured()}

    def push(at: float, kind: str, what: object) -> None:
        heapq.heappush(events, (at, next(order), kind, what))

    def speed(k: int) -> float:
        return 1.0 / (1.0 + floor.slowdown * max(0, len(work[k]) - 1))

    def progress(k: int, now: float) -> None:
        """Bring the counsellor's chats' work up to ``now``, at the speed they had."""
        done = (now - touched[k]) * speed(k)
        for cid in work[k]:
            work[k][cid] -= done
        touched[k] = now

    def reschedule(k: int, now: float) -> None:
        version[k] += 1
        if work[k]:
            cid, left = min(work[k].items(), key=lambda kv: kv[1])
            push(now + max(left, 0.0) / speed(k), "chat_done", (k, cid, version[k]))

    def arrivals(channel: Channel, per_h: float) -> None:
        if per_h <= 0:
            return
        peak = per_h * (1.5 if floor.ramp else 1.0) / 3600
        t = 0.0
        n = 0
        while True:  # thinning: candidates at the peak rate, kept with rate(t) / peak
            t += rng.expovariate(peak)
            if t >= end:
                return
            rate = per_h / 3600 * ((0.5 + (t % 3600) / 3600) if floor.ramp else 1.0)
            if rng.random() * peak <= rate:
                n += 1
                push(t, "arrive", (channel, f"{channel.value[0]}{n}"))

    arrivals(Channel.CHAT, floor.chats_per_h)
    arrivals(Channel.VOICE, floor.calls_per_h)
    while events:
        now, _, kind, what = heapq.heappop(events)
        if kind == "arrive":
            channel, cid = what  # type: ignore[misc]
            contact = WaitingContact(cid, T0 + timedelta(seconds=now), channel)
            waiting[cid] = (contact, now)
            patience = floor.patience_chat_s if channel is Channel.CHAT else floor.patience_call_s
            push(now + rng.expovariate(1 / patience), "give_up", cid)
            if now >= WARM_UP_S:
                measured[channel.value].arrived += 1
        elif kind == "give_up":
            gone = waiting.pop(what, None)  # type: ignore[arg-type]
            if gone is not None and gone[1] >= WARM_UP_S:
                measured[gone[0].channel.value].abandoned += 1
            continue
        elif kind == "chat_done":
            k, cid, v = what  # type: ignore[misc]
            if v != version[k]:
                continue  # superseded: the counsellor's load changed since
            progress(k, now)
            del work[k][cid]
            staff[k] = replace(staff[k], active_chats=staff[k].active_chats - 1)
            reschedule(k, now)
        elif kind == "call_done":
            k = what  # type: ignore[assignment]
            staff[k] = replace(staff[k], active_voice=staff[k].active_voice - 1)  # type: ignore[index]
        clock = T0 + timedelta(seconds=now)
        for plan in router.plan([c for c, _ in waiting.values()], list(staff.values()), clock):
            contact, arrived = waiting.pop(plan.contact_id)
            k = plan.counsellor_id
            staff[k] = replace(staff[k].with_one_more(contact.channel), last_assigned_at=clock)
            if arrived >= WARM_UP_S and now - arrived <= floor.within_s:
                measured[contact.channel.value].answered_in_time += 1
            if contact.channel is Channel.VOICE:
                push(now + rng.expovariate(1 / floor.handle_call_s), "call_done", k)
            else:
                progress(k, now)
                work[k][contact.id] = rng.expovariate(1 / floor.handle_chat_s)
                reschedule(k, now)
    return measured


@dataclass
class Row:
    hour: str
    variant: str
    counsellors: int
    channel: str
    per_h: float
    erlang_c_sl: float
    erlang_a_sl: float
    erlang_a_abandon: float
    simulated_sl: float
    simulated_abandon: float
    contacts: int


def predicted(floor: Floor, channel: Channel) -> tuple[float, float, float]:
    """Erlang C service level, Erlang A service level and abandonment for one channel as the
    router serves it: calls on every counsellor (one each), chats on ``max_chats`` servers a
    counsellor less those on calls (on a call, no new chat; the calls' load in erlangs)."""
    if channel is Channel.VOICE:
        rate, handle, patience = floor.calls_per_h / 3600, floor.handle_call_s, floor.patience_call_s
        servers = floor.counsellors
    else:
        rate, handle, patience = floor.chats_per_h / 3600, floor.handle_chat_s, floor.patience_chat_s
        on_calls = floor.calls_per_h * floor.handle_call_s / 3600
        servers = math.floor((floor.counsellors - on_calls) * floor.max_chats + 1e-9)
    c = erlang_c(max(servers, 0), rate, handle, floor.within_s)
    a = erlang_a(max(servers, 0), rate, handle, patience, floor.within_s)
    return c.service_level, a.service_level, a.p_abandon


def planned_counsellors(floor: Floor, target: float) -> int:
    """The planner's staffing for the hour (Erlang A)."""
    chats = Load(floor.chats_per_h / 3600, floor.handle_chat_s, floor.patience_chat_s)
    calls = Load(floor.calls_per_h / 3600, floor.handle_call_s, floor.patience_call_s)
    return counsellors_needed(chats, calls, floor.max_chats, target, floor.within_s).erlang_a


def compare(week: list[tuple[str, float, float]], base: Floor, target: float, hours: float, seed: int,
            slowdown: float = 0.3, calls: bool = True) -> list[Row]:
    """For each hour: the chats alone on the planner's staffing (the models' own ground), the
    same with chats slowing each other and with a rising hour, then chats and calls together."""
    rows = []
    for hour, chats_h, calls_h in week:
        alone = replace(base, chats_per_h=chats_h, calls_per_h=0.0)
        alone = replace(alone, counsellors=planned_counsellors(alone, target))
        runs = [("chats", alone), ("multiplexed", replace(alone, slowdown=slowdown)),
                ("ramp", replace(alone, ramp=True))]
        if calls and calls_h:
            both = replace(base, chats_per_h=chats_h, calls_per_h=calls_h)
            runs.append(("with calls", replace(both, counsellors=planned_counsellors(both, target))))
        for variant, f in runs:
            sim = simulate(f, hours, seed)
            for channel in (Channel.CHAT, Channel.VOICE):
                m = sim[channel.value]
                if not m.arrived:
                    continue
                c_sl, a_sl, a_ab = predicted(f, channel)
                rows.append(Row(hour, variant, f.counsellors, channel.value,
                                f.chats_per_h if channel is Channel.CHAT else f.calls_per_h,
                                c_sl, a_sl, a_ab, m.service_level, m.abandonment, m.arrived))
    return rows


def parse_week(text: str) -> list[tuple[str, float, float]]:
    week = []
    for item in text.split(","):
        name, chats, calls = item.rsplit(":", 2)
        week.append((name.strip(), float(chats), float(calls)))
    return week


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", help='"name:chats/h:calls/h,..." (default: a sample week)')
    parser.add_argument("--hours", type=float, default=300.0, help="simulated hours per row")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target", type=float, default=0.8)
    parser.add_argument("--within", type=float, default=60.0)
    parser.add_argument("--max-chats", type=int, default=3)
    parser.add_argument("--handle-chat", type=float, default=1500.0)
    parser.add_argument("--handle-call", type=float, default=600.0)
    parser.add_argument("--patience-chat", type=float, default=600.0)
    parser.add_argument("--patience-call", type=float, default=180.0)
    parser.add_argument("--slowdown", type=float, default=0.3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    week = parse_week(args.rates) if args.rates else SAMPLE_WEEK
    base = Floor(0, 0, 0, args.max_chats, args.handle_chat, args.handle_call, args.patience_chat,
                 args.patience_call, args.within)
    rows = compare(week, base, args.target, args.hours, args.seed, args.slowdown)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return
    print(f"staffing: target {args.target:.0%} answered within {args.within:.0f} s; chats "
          f"{args.handle_chat:.0f} s (patience {args.patience_chat:.0f} s), calls {args.handle_call:.0f} s "
          f"(patience {args.patience_call:.0f} s), {args.max_chats} chats a counsellor; "
          f"{args.hours:.0f} simulated hours a row, seed {args.seed}")
    print(f"{'hour':8} {'variant':11} {'staff':>5} {'chan':5} {'/h':>5} {'C SL':>6} {'A SL':>6} "
          f"{'sim SL':>6} {'A aband':>7} {'sim ab':>6}  {'sim - A':>7}")
    for r in rows:
        print(f"{r.hour:8} {r.variant:11} {r.counsellors:5} {r.channel:5} {r.per_h:5.1f} "
              f"{r.erlang_c_sl:6.1%} {r.erlang_a_sl:6.1%} {r.simulated_sl:6.1%} {r.erlang_a_abandon:7.1%} "
              f"{r.simulated_abandon:6.1%}  {r.simulated_sl - r.erlang_a_sl:+7.1%}")


if __name__ == "__main__":
    main()
