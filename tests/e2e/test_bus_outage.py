"""Redis dies in the middle of the traffic. Two servers share PostgreSQL and a Redis of the
test's own: twenty young people talk on one, their counsellor reads on the other, and Redis
is killed (SIGKILL) for three seconds while they write. The young people's server is one
process, then `serve --workers 2` (they are spread over its two workers).

Counted at both ends: every message sent is acknowledged and stored once; the counsellor
gets each one once, in order, soon after Redis is back; /healthz says the bus is down
while it is, and ok after."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.clients import Counsellor, Visitor
from tests.e2e.redis_process import RedisProcess
from tests.e2e.server_process import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

CONVERSATIONS = 20
MESSAGES = 50
PACE_S = 0.1  # each young person writes ten messages a second: 200 a second in all
OUTAGE_S = 3.0
CATCH_UP_TIMEOUT = 30.0


async def health(server: ServerProcess) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/healthz") as r:
        return dict(await r.json())


async def health_becomes(server: ServerProcess, status: str, timeout: float = 10.0) -> None:
    """Poll /healthz until it says ``status`` (the pause only spaces the requests)."""
    async with asyncio.timeout(timeout):
        while (await health(server))["status"] != status:  # noqa: ASYNC110 - another process: no event
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-workers"])
async def test_a_redis_outage_mid_traffic_loses_and_doubles_nothing(
    tmp_path: Path, postgres_url: str, redis: RedisProcess, workers: int
) -> None:
    settings = {"database_url": postgres_url, "redis_url": redis.url}
    a, b = ServerProcess.pair(tmp_path, first_workers=workers, **settings)
    opened: list[Any] = []
    try:
        await a.start()
        await b.start()
        await a.cli("counsellor", "add", "alice", "--password-stdin", "--max-chats", "20",
                    stdin="secret-pass\n")
        visitors = [Visitor(a) for _ in range(CONVERSATIONS)]  # type: ignore[arg-type]
        opened += visitors
        for v in visitors:
            await v.start()
            await v.connect()
        alice = Counsellor(b, "alice")  # type: ignore[arg-type]
        opened.append(alice)
        await alice.login()
        await alice.connect()
        for _ in visitors:
            await alice.expect("assigned")

        loop = asyncio.get_running_loop()
        marks: dict[str, float] = {}

        acked_at: dict[tuple[str, int], float] = {}

        async def talk(v: Visitor) -> list[dict[str, Any]]:
            acks = []
            for i in range(MESSAGES):
                acks.append(await v.say(f"{v.contact_id[:6]} {i}", client_id=f"m{i}"))
                acked_at[(v.contact_id, acks[-1]["seq"])] = loop.time()
                await asyncio.sleep(PACE_S)
            return acks

        def delivered() -> set[tuple[str, int]]:
            return {(m["contact_id"], m["seq"]) for m in alice.messages()}

        async def backlog_delivered() -> float:
            """Seconds from Redis's return until everything acked before it reached alice."""
            backlog = {key for key, at in acked_at.items() if at <= marks["back"]}
            while not backlog <= delivered():
                await alice.expect("message")
            return loop.time() - marks["back"]

        async def outage() -> None:
            await asyncio.sleep(MESSAGES * PACE_S / 3)  # a third of the way in
            await redis.kill()
            await health_becomes(a, "degraded")
            await asyncio.sleep(OUTAGE_S)
            await redis.start()
            marks["back"] = loop.time()

        talks = [asyncio.create_task(talk(v)) for v in visitors]
        await outage()
        async with asyncio.timeout(CATCH_UP_TIMEOUT):
            resumed_s = await backlog_delivered()
        acks = await asyncio.gather(*talks)
        await health_becomes(a, "ok")
        await health_becomes(b, "ok")

        sent = CONVERSATIONS * MESSAGES
        wanted = {(v.contact_id, seq) for v in visitors for seq in range(1, MESSAGES + 1)}
        async with asyncio.timeout(CATCH_UP_TIMEOUT):
            while not wanted <= delivered():
                await alice.expect("message")

        received = [(m["contact_id"], m["seq"]) for m in alice.messages()]
        engine = create_async_engine(postgres_url)
        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT count(*) FROM messages"))).scalar_one()
        await engine.dispose()
        acked = sum(len(x) for x in acks)
        duplicated = len(received) - len(set(received))
        lost = len(wanted - set(received))
        print(f"\nredis outage {OUTAGE_S:.0f} s mid-traffic, the young people's server with {workers} "
              f"worker(s): sent {sent}, acked {acked}, "
              f"stored {stored}, delivered {len(set(received))}, lost {lost}, duplicated {duplicated}; "
              f"what was missed reached the counsellor {resumed_s:.2f} s after Redis returned")
        assert acked == stored == sent
        assert (lost, duplicated) == (0, 0)
        for v in visitors:  # in order, per conversation
            seqs = [m["seq"] for m in alice.messages() if m["contact_id"] == v.contact_id]
            assert seqs == sorted(seqs)
    finally:
        for c in opened:
            await c.close()
        for server in (a, b):
            await server.stop()
