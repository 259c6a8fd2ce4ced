"""A year of contacts as the statistics see them, seeded: every run writes the same rows.

``generate`` writes ``contacts`` facts (one per ended contact) over the 365 days from
``start``, when the line is open (Monday to Saturday, 9h to 20h, Europe/Paris), more on
school-day afternoons and evenings, on Wednesday afternoons, in term time, fewer in
August; waits that grow with the hour's load, visitors who give up after a while,
handle times by channel, wrap-up lists from the taxonomy (sextortion grows through the
year), contacts refused while closed, and hand-offs with platforms' decisions.

    from benchmarks.year_of_contacts import generate
    await generate("sqlite+aiosqlite:///var/year.db", contacts=150_000, start=date(2025, 1, 1))

Or from the command line, on a migrated database:

    .venv/bin/python benchmarks/year_of_contacts.py sqlite+aiosqlite:///var/year.db --start 2025-01-01
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import random
import tomllib
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from helpline.store.tables import Contact as ContactRow
from helpline.store.tables import ContactFact, Counsellor, Handoff, RefusalCount

PARIS = ZoneInfo("Europe/Paris")
OPEN_HOURS = range(9, 20)  # 9h to 20h, Monday to Saturday
BATCH = 5000
VOICE_SHARE = 0.25
WRAPPED_UP = 0.92  # of the answered contacts, those with a wrap-up
HANDOFF_SHARE = 0.006  # of the answered contacts, those handed off
REFUSED_SHARE = 0.04  # contacts refused while closed, as a share of those offered
WEEKDAY = (1.0, 0.95, 1.25, 0.95, 0.9, 0.55, 0.0)  # Monday .. Sunday (closed)
HOUR = {9: 0.4, 10: 0.5, 11: 0.6, 12: 0.7, 13: 0.8, 14: 0.8, 15: 0.9, 16: 1.3, 17: 1.6, 18: 1.7, 19: 1.4}
MONTH = (1.0, 1.05, 1.0, 0.95, 1.0, 0.9, 0.7, 0.55, 1.1, 1.15, 1.2, 1.0)
CATEGORY_WEIGHT = {"cyberbullying": 20, "sextortion": 10, "nonconsensual_images": 8, "grooming": 5,
                   "harmful_content": 7, "hacked_account": 12, "school_harassment": 10, "screen_time": 8,
                   "parental_controls": 6, "mental_health": 9, "other": 5}
HANDOFF_TARGETS = (("platform_notice", 5), ("pharos", 3), ("child_in_danger", 1), ("brigade_numerique", 1))
DECISIONS = (("removed", 6), ("refused", 2), ("no_answer", 1), (None, 1))


def _taxonomy() -> dict[str, list[str]]:
    raw = tomllib.loads(resources.files("helpline").joinpath("data", "taxonomy.toml").read_text("utf-8"))
    return {name: [item["id"] for item in items] for name, items in raw.items()}


def _slots(start: date) -> tuple[list[datetime], list[float]]:
    """Every open local hour of the year from ``start`` (as UTC), and how busy it is."""
    slots, weights = [], []
    for d in range(365):
        day = start + timedelta(days=d)
        for hour in OPEN_HOURS:
            weight = WEEKDAY[day.weekday()] * HOUR[hour] * MONTH[day.month - 1]
            if day.weekday() == 2 and hour >= 13:  # Wednesday afternoon, no school
                weight *= 1.3
            if weight:
                slots.append(datetime.combine(day, time(hour), PARIS).astimezone(UTC))
                weights.append(weight)
    return slots, weights


def _pick(rng: random.Random, weighted: dict[str, float] | tuple[tuple[Any, int], ...]) -> Any:
    items = list(weighted.items()) if isinstance(weighted, dict) else list(weighted)
    return rng.choices([k for k, _ in items], [w for _, w in items])[0]


def _some(rng: random.Random, items: list[str], most: int) -> list[str]:
    return rng.sample(items, rng.randint(1, most))


def _fact(rng: random.Random, hour: datetime, load: float, year_part: float,
          lists: dict[str, list[str]]) -> dict[str, Any]:
    """One ended contact that arrived in ``hour``; ``load``: how busy that hour is (1: usual)."""
    channel = "voice" if rng.random() < VOICE_SHARE else "chat"
    patience = rng.expovariate(1 / (150 if channel == "voice" else 300))
    wait = rng.expovariate(1 / (8 + 12 * load ** 2))
    answered = wait <= patience
    wait_s = int(wait if answered else patience)
    typical = 720 if channel == "voice" else 1200
    handle_s = int(rng.lognormvariate(math.log(typical), 0.6)) if answered else None
    ended = hour + timedelta(seconds=rng.randrange(3600) + wait_s + (handle_s or 0))
    fact: dict[str, Any] = {
        "contact_id": None, "channel": channel,
        "skill": _pick(rng, {"general": 70, "psychological": 12, "legal": 8, "technical": 10}),
        "arrived_hour": hour, "ended_hour": ended.replace(minute=0, second=0, microsecond=0),
        "outcome": "answered" if answered else "abandoned",
        "end_reason": _pick(rng, {"visitor": 6, "counsellor": 4}) if answered else "abandoned",
        "wait_s": wait_s, "handle_s": handle_s,
        "categories": None, "contacted_by": None, "age_band": None, "gender": None,
        "platforms": None, "actions": None,
    }
    if answered and rng.random() < WRAPPED_UP:
        weights = {**CATEGORY_WEIGHT, "sextortion": CATEGORY_WEIGHT["sextortion"] * (1 + year_part)}
        categories = {_pick(rng, weights) for _ in range(rng.choice((1, 1, 1, 2)))}
        fact.update(
            categories=sorted(categories),
            contacted_by=_pick(rng, {"young_person": 80, "parent": 15, "professional": 5}),
            age_band=_pick(rng, {"under_11": 6, "11_14": 48, "15_17": 36, "18_plus": 6, "unknown": 4}),
            gender=rng.choice([*lists["genders"], None]),
            platforms=rng.sample(lists["platforms"], rng.choice((0, 1, 1, 2))),
            actions=_some(rng, lists["outcomes"], 2),
        )
    return fact


async def generate(engine_or_url: AsyncEngine | str, *, contacts: int = 150_000, start: date,
                   seed: int = 1) -> None:
    """Write a year of statistics from ``start`` (local days) into a migrated database,
    replacing the facts, refusal counts and hand-offs already there."""
    engine = create_async_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    rng = random.Random(seed)
    lists = _taxonomy()
    slots, weights = _slots(start)
    arrivals = sorted(rng.choices(range(len(slots)), weights, k=contacts))
    per_slot = Counter(arrivals)
    usual = contacts / len(slots)  # arrivals in an hour, on average
    facts = [_fact(rng, slots[i], per_slot[i] / usual, i / len(slots), lists) for i in arrivals]
    refusals = _refusals(rng, start, int(contacts * REFUSED_SHARE))
    try:
        async with engine.begin() as conn:
            for table in (Handoff, ContactFact, RefusalCount):
                await conn.execute(delete(table))
            await conn.execute(delete(ContactRow).where(ContactRow.id.like("gen%")))
            await conn.execute(delete(Counsellor).where(Counsellor.username == "year-of-contacts"))
            for n in range(0, len(facts), BATCH):
                await conn.execute(insert(ContactFact), facts[n:n + BATCH])
            await conn.execute(insert(RefusalCount), [{"hour": hour, "channel": channel, "n": n}
                                                      for (hour, channel), n in sorted(refusals.items())])
            await _handoffs(conn, rng, [f for f in facts if f["outcome"] == "answered"])
    finally:
        if isinstance(engine_or_url, str):
            await engine.dispose()


def _refusals(rng: random.Random, start: date, total: int) -> Counter[tuple[datetime, str]]:
    """Contacts refused while closed: mostly in the evening after 20h and on Sundays."""
    closed = []
    for d in range(365):
        day = start + timedelta(days=d)
        hours = range(8, 23) if day.weekday() == 6 else (*range(7, 9), *range(20, 23))
        closed += [datetime.combine(day, time(h), PARIS).astimezone(UTC) for h in hours]
    counts: Counter[tuple[datetime, str]] = Counter()
    for hour in rng.choices(closed, k=total):
        counts[(hour, "voice" if rng.random() < VOICE_SHARE else "chat")] += 1
    return counts


async def _handoffs(conn: Any, rng: random.Random, answered: list[dict[str, Any]]) -> None:
    """Hand-offs of some answered contacts, on contacts whose content retention erased."""
    chosen = rng.sample(answered, int(len(answered) * HANDOFF_SHARE))
    if not chosen:
        return
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    author = (await conn.execute(insert(Counsellor).values(
        username="year-of-contacts", display_name="Year of contacts", password_hash="!", role="counsellor",
        max_chats=1, status_since=long_ago, created_at=long_ago,
    ).returning(Counsellor.id))).scalar_one()
    contacts, handoffs = [], []
    for n, fact in enumerate(chosen):
        cid = f"gen{n:029d}"
        at = fact["arrived_hour"] + timedelta(minutes=rng.randrange(60, 180))
        contacts.append({
            "id": cid, "token_hash": hashlib.sha256(cid.encode()).hexdigest(), "channel": fact["channel"],
            "profile": {}, "skill": fact["skill"], "priority": 2, "state": "ended",
            "end_reason": "counsellor",
            "created_at": fact["arrived_hour"], "enqueued_at": fact["arrived_hour"], "ended_at": at,
            "visitor_seen_at": at, "last_seq": 0, "visitor_sockets": 0, "erased_at": at,
        })
        target = _pick(rng, HANDOFF_TARGETS)
        state = _pick(rng, {"delivered": 90, "failed": 3, "cancelled": 7})
        decision = _pick(rng, DECISIONS) if target == "platform_notice" and state == "delivered" else None
        decided = (at.astimezone(PARIS).date() + timedelta(days=int(rng.expovariate(1 / 4))) if decision
                   else None)
        handoffs.append({
            "reference": f"Y{n:08d}", "contact_id": cid, "target_id": target, "state": state,
            "author_id": author, "payload": {}, "excerpts": [], "created_at": at, "updated_at": at,
            "decision": decision, "decision_on": decided, "erased_at": at,
        })
    await conn.execute(insert(ContactRow), contacts)
    await conn.execute(insert(Handoff), handoffs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--contacts", type=int, default=150_000)
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(generate(args.database_url, contacts=args.contacts, start=args.start, seed=args.seed))


if __name__ == "__main__":
    main()
