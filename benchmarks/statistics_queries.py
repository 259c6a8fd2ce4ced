"""How long the statistics take for a year of contacts, beside a bare COUNT(*) of the same rows.

Writes a seeded year of contacts (benchmarks/year_of_contacts.py, 150,000 by default) into a
fresh SQLite file, or into --database-url (PostgreSQL: its contact facts, refusal counts and
hand-offs are replaced), then times, --runs times each:
  - the statistics of the year 2025 (its previous period, 2024, is empty);
  - the statistics of July to December 2025, beside January to June (both full);
  - the baseline: SELECT COUNT(*) of the facts of the year.
It prints the median and worst times and each one's ratio to the baseline's median.

    .venv/bin/python benchmarks/statistics_queries.py
    .venv/bin/python benchmarks/statistics_queries.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

from report import aligned, figure, ratio
from sqlalchemy import func, select, text
from year_of_contacts import generate

from helpline.bus import MemoryBus
from helpline.clock import SystemClock
from helpline.config import Settings
from helpline.crypto import KeyRing
from helpline.domain.statistics import ChannelFilter, Period
from helpline.services import Services
from helpline.store import Store
from helpline.store.migrate import upgrade
from helpline.store.tables import ContactFact


async def timed(runs: int, work: Callable[[], Awaitable[object]]) -> list[float]:
    await work()  # warm: connections opened, pages cached
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await work()
        times.append(time.perf_counter() - start)
    return times


async def bench(url: str, contacts: int, runs: int) -> None:
    await asyncio.to_thread(upgrade, url)
    store = Store(url, KeyRing([]))
    services = Services.build(Settings(database_url=url, data_keys=""), store, MemoryBus(), SystemClock())
    began = time.perf_counter()
    await generate(store.engine, contacts=contacts, start=date(2025, 1, 1))
    if not store.is_sqlite:
        async with store.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                text("VACUUM ANALYZE contact_facts"))
    print(f"{contacts:,} contacts written in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    stats = services.statistics
    year = stats.period("2025-01-01", "2025-12-31")
    half = stats.period("2025-07-01", "2025-12-31")

    async def count() -> int:
        async with store.reading() as tx:
            return int((await tx.conn.execute(select(func.count()).select_from(ContactFact).where(
                ContactFact.arrived_hour >= year.start, ContactFact.arrived_hour < year.end))).scalar_one())

    baseline = await timed(runs, count)
    rows = [["query", "median ms", "worst ms", "× COUNT(*)"]]
    base = statistics.median(baseline)
    def afresh(period: Period, channel: ChannelFilter) -> Callable[[], Awaitable[object]]:
        return lambda: stats.compute(period, channel, cached=False)

    for name, times in (
        ("COUNT(*) of the year's facts (baseline)", baseline),
        ("statistics of 2025 (2024 empty)", await timed(runs, afresh(year, ChannelFilter.ALL))),
        ("statistics of Jul-Dec beside Jan-Jun", await timed(runs, afresh(half, ChannelFilter.ALL))),
        ("statistics of 2025, voice only", await timed(runs, afresh(year, ChannelFilter.VOICE))),
    ):
        rows.append([name, figure(statistics.median(times) * 1000, 1), figure(max(times) * 1000, 1),
                     figure(ratio(statistics.median(times), base), 1)])
    print(f"{store.engine.dialect.name}, {await count():,} facts, {runs} runs, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print("\n".join(aligned(rows, 1)))
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--contacts", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'statistics.db'}"
        asyncio.run(bench(url, args.contacts, args.runs))


if __name__ == "__main__":
    main()
