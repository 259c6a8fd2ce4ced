"""Routing benchmark: plan the next assignment and recompute every queue position,
with 10,000 contacts waiting and 500 counsellors; and a simulated day that compares
each young person's estimated wait with the wait they really had.

Baseline, in the same run: a plain first-in-first-out queue (one list, no skills,
no priorities, no channels): pick the head, give it to the first counsellor with
room; positions are list indexes. The ratios say what skills, priorities and
honest per-skill estimates cost on top of that.

    python benchmarks/routing.py                # 10,000 contacts, 500 counsellors
    python benchmarks/routing.py --contacts 2000 --counsellors 100 --repeat 50
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from helpline.domain.contact import Channel
from helpline.domain.counsellor import CounsellorLoad
from helpline.domain.routing import Priority, SkillsRouter, WaitingContact
from helpline.domain.waiting import standings

SKILLS = ("general", "psychological", "legal", "technical")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def make_floor(
    contacts: int, counsellors: int, seed: int = 7
) -> tuple[list[WaitingContact], list[CounsellorLoad]]:
    rng = random.Random(seed)
    waiting = [
        WaitingContact(
            f"c{i:06d}", T0 + timedelta(seconds=i), Channel.VOICE if rng.random() < 0.2 else Channel.CHAT,
            rng.choices(SKILLS, weights=(5, 2, 2, 1))[0],
            rng.choices(list(Priority), weights=(1, 3, 16))[0],
        )
        for i in range(contacts)
    ]
    staff = []
    for k in range(counsellors):
        skills = frozenset({"general", *rng.sample(SKILLS[1:], rng.randint(0, 2))})
        staff.append(CounsellorLoad(k, 3, 3, T0, skills, 1, 1))  # everyone full...
    staff[-1] = replace(staff[-1], active_chats=2)  # ...but one, who has room for one chat
    return waiting, staff


def timings(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def fifo_pick(queue: list[str], free: dict[int, int]) -> tuple[str, int] | None:
    for cid, room in free.items():
        if room:
            return queue[0], cid
    return None


def fifo_positions(queue: list[str]) -> dict[str, int]:
    return {cid: i + 1 for i, cid in enumerate(queue)}


# --- a simulated day ---------------------------------------------------------------------


@dataclass
class DayResult:
    contacts: int
    waited: int
    mean_wait_s: float
    mean_abs_error_s: float
    median_abs_error_s: float
    within_2_min: float  # share of estimates within 2 minutes of the real wait


def simulate_day(seed: int = 1, counsellors: int = 3, arrivals_per_hour: float = 30.0,
                 handle_s: float = 900.0, hours: float = 11.0) -> DayResult:
    """Contacts arrive at random over the day; counsellors hold 3 chats each; conversations
    last a random time around ``handle_s``. Each arrival is shown the estimate the
    server would show; the wait it really had is compared with it."""
    rng = random.Random(seed)
    router = SkillsRouter()
    staff = {k: CounsellorLoad(k, 3, 0, None, frozenset(SKILLS)) for k in range(counsellors)}
    now = T0
    end_of_day = T0 + timedelta(hours=hours)
    waiting: dict[str, WaitingContact] = {}
    shown: dict[str, int] = {}
    real: dict[str, float] = {}
    finishing: list[tuple[datetime, int, str]] = []  # (when, counsellor, contact)
    next_arrival = now + timedelta(seconds=rng.expovariate(arrivals_per_hour / 3600))
    n = 0
    while now < end_of_day or waiting or finishing:
        arrival = next_arrival if next_arrival < end_of_day else None
        finish = finishing[0][0] if finishing else None
        if arrival is None and finish is None:
            break
        if finish is None or (arrival is not None and arrival <= finish):
            now = arrival  # type: ignore[assignment]
            n += 1
            cid = f"c{n:05d}"
            waiting[cid] = WaitingContact(cid, now)
            # What the young person is shown on arriving (the median handle time is known).
            stood = standings(list(waiting.values()), list(staff.values()), handle_s)
            shown[cid] = stood[cid].estimated_wait_s or 0
            next_arrival = now + timedelta(seconds=rng.expovariate(arrivals_per_hour / 3600))
        else:
            now, k, _ = heapq.heappop(finishing)
            staff[k] = replace(staff[k], active_chats=staff[k].active_chats - 1)
        for a in router.plan(list(waiting.values()), list(staff.values()), now):
            contact = waiting.pop(a.contact_id)
            real[a.contact_id] = (now - contact.enqueued_at).total_seconds()
            staff[a.counsellor_id] = staff[a.counsellor_id].with_one_more(Channel.CHAT)
            length = rng.lognormvariate(0, 0.5) * handle_s
            heapq.heappush(finishing, (now + timedelta(seconds=length), a.counsellor_id, a.contact_id))
    errors = [abs(shown[c] - real[c]) for c in real]
    return DayResult(
        contacts=n, waited=sum(1 for c in real if real[c] > 0),
        mean_wait_s=statistics.fmean(real.values()),
        mean_abs_error_s=statistics.fmean(errors), median_abs_error_s=statistics.median(errors),
        within_2_min=sum(e <= 120 for e in errors) / len(errors),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--counsellors", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    waiting, staff = make_floor(args.contacts, args.counsellors)
    router = SkillsRouter()
    now = T0 + timedelta(seconds=args.contacts + 1)
    plan = timings(lambda: router.plan(waiting, staff, now), args.repeat)
    positions = timings(lambda: standings(waiting, staff, 900.0), args.repeat)
    queue = [c.id for c in sorted(waiting, key=lambda c: c.enqueued_at)]
    free = {k.id: k.spare(Channel.CHAT) for k in staff}
    base_plan = timings(lambda: fifo_pick(queue, free), args.repeat)
    base_positions = timings(lambda: fifo_positions(queue), args.repeat)
    day = simulate_day()

    rows = {
        "pick next assignment": (plan, base_plan),
        "recompute all positions": (positions, base_positions),
    }
    if args.json:
        figures = {
            name: {"p50_ms": pct(a, 50), "p99_ms": pct(a, 99),
                   "baseline_p50_ms": pct(b, 50), "baseline_p99_ms": pct(b, 99)}
            for name, (a, b) in rows.items()
        }
        print(json.dumps(figures | {"simulated_day": day.__dict__}, indent=2))
        return
    print(f"routing: {args.contacts:,} contacts waiting, {args.counsellors} counsellors, "
          f"{args.repeat} runs each")
    print(f"{'':26} {'ours p50':>10} {'ours p99':>10} {'fifo p50':>10} {'fifo p99':>10} {'p50 ratio':>10}")
    for name, (ours, base) in rows.items():
        print(f"{name:26} {pct(ours, 50):9.2f}ms {pct(ours, 99):9.2f}ms {pct(base, 50):9.3f}ms "
              f"{pct(base, 99):9.3f}ms {pct(ours, 50) / max(pct(base, 50), 1e-6):9.0f}x")
    print(f"simulated day: {day.contacts} contacts, {day.waited} waited, mean wait {day.mean_wait_s:.0f} s; "
          f"estimate error: mean {day.mean_abs_error_s:.0f} s, median {day.median_abs_error_s:.0f} s, "
          f"{day.within_2_min:.0%} within 2 minutes")


if __name__ == "__main__":
    main()
