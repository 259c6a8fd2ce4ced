"""How many small commits a PostgreSQL takes per second, one connection and several: the
ceiling under the helpline's message writer (each worker commits its pending messages in
one transaction). Creates a scratch table in the database given, and drops it.

    python benchmarks/database_commits.py postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import asyncio
import sys
import time

import asyncpg

SECONDS = 5.0


async def probe(url: str, connections: int) -> str:
    conns = [await asyncpg.connect(url) for _ in range(connections)]
    latencies: list[float] = []
    end = time.perf_counter() + SECONDS

    async def commit_again_and_again(conn: asyncpg.Connection) -> None:
        while time.perf_counter() < end:
            started = time.perf_counter()
            await conn.execute("INSERT INTO helpline_commit_probe (v) VALUES ('x')")  # autocommit
            latencies.append(time.perf_counter() - started)

    try:
        await asyncio.gather(*(commit_again_and_again(c) for c in conns))
    finally:
        for conn in conns:
            await conn.close()
    latencies.sort()
    return (f"{connections} connection(s): {len(latencies) / SECONDS:,.0f} commits/s, "
            f"p50 {latencies[len(latencies) // 2] * 1e3:.1f} ms, "
            f"p99 {latencies[int(len(latencies) * 0.99)] * 1e3:.1f} ms")


async def main(url: str) -> None:
    url = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url)
    await conn.execute("CREATE TABLE IF NOT EXISTS helpline_commit_probe (id serial PRIMARY KEY, v text)")
    try:
        for connections in (1, 8):
            print(await probe(url, connections))
    finally:
        await conn.execute("DROP TABLE helpline_commit_probe")
        await conn.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    asyncio.run(main(sys.argv[1]))
