"""GET /metrics under `helpline serve --workers 2`: whichever worker a scrape reaches, it
answers for the whole host (every worker's counters and open sockets, added up), and a
worker that dies keeps its counts while its sockets stop counting."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from tests.clients import Visitor
from tests.e2e.redis_process import RedisProcess
from tests.e2e.server_process import ServerProcess
from tests.e2e.test_workers import client_port, until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

TOKEN = "scrape-token-0123456789"
SCENARIO_TIMEOUT = 90.0
VISITORS = 8


@pytest_asyncio.fixture
async def workers(tmp_path: Path, postgres_url: str, redis: RedisProcess) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(tmp_path, workers=2, database_url=postgres_url, redis_url=redis.url,
                           metrics_token=TOKEN)
    try:
        await server.start()
        yield server
    finally:
        await server.stop()


async def scrape(server: ServerProcess) -> dict[str, float]:
    """One scrape on a connection of its own (the kernel picks the worker): the visitor
    figures it gives."""
    async with aiohttp.ClientSession() as http, http.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
    ) as r:
        assert r.status == 200
        body = await r.text()
    wanted = {("helpline_messages_stored_total", "visitor"): "stored",
              ("helpline_sockets_open", "visitor"): "sockets"}
    return {wanted[key]: s.value for family in text_string_to_metric_families(body) for s in family.samples
            if (key := (s.name, s.labels.get("sender") or s.labels.get("socket"))) in wanted}


async def test_any_worker_answers_for_every_worker_and_a_dead_one_keeps_its_counts(
    workers: ServerProcess,
) -> None:
    visitors = [Visitor(workers) for _ in range(VISITORS)]  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(SCENARIO_TIMEOUT):
            for n, visitor in enumerate(visitors):
                await visitor.start()
                await visitor.connect()
                await visitor.say(f"message {n}")
            on = {v: workers.worker_of(client_port(v)) for v in visitors}
            assert len(set(on.values())) == 2, "the kernel put every visitor on one worker"

            for _ in range(6):  # a new connection each: both workers answer some
                assert await scrape(workers) == {"stored": VISITORS, "sockets": VISITORS}

            gone = next(iter(on.values()))
            still = sum(1 for pid in on.values() if pid != gone)
            os.kill(gone, signal.SIGKILL)
            await until(lambda: len(pids := workers.worker_pids()) == 2 and gone not in pids)
            # Its visitors' sockets are gone with it; what it stored still counts.
            while (figures := await scrape(workers))["sockets"] != still:  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.05)
            assert figures == {"stored": VISITORS, "sockets": still}
    finally:
        for visitor in visitors:
            await visitor.close()
