"""Rate limits held in Redis are shared by every server process, and Redis going away
never stops young people from starting a chat (the limits fail open, saying so in the log)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.redis_process import RedisProcess
from tests.e2e.server_process import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


async def start_chat(http: aiohttp.ClientSession, server: ServerProcess, forwarded_for: str) -> int:
    async with http.post(f"{server.url}/api/v1/contacts", headers={"X-Forwarded-For": forwarded_for},
                         json={"channel": "chat", "profile": {}}) as r:
        return r.status


def events(server: ServerProcess) -> list[dict[str, Any]]:
    lines = server.output(("stderr",)).decode().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


async def test_two_processes_share_the_limits_and_fail_open_without_redis(
    tmp_path: Path, postgres_url: str, redis: RedisProcess,
) -> None:
    a, b = ServerProcess.pair(tmp_path, database_url=postgres_url, redis_url=redis.url,
                              trusted_proxies="127.0.0.1", limit_contacts_per_client="1/h,burst=6")
    try:
        await a.start()
        await b.start()
        async with aiohttp.ClientSession() as http:
            statuses = [await start_chat(http, server, "203.0.113.9") for server in (a, b) * 6]
            assert sorted(statuses) == [201] * 6 + [429] * 6, statuses  # 6 in all, not 6 each
            assert statuses[:6] == [201] * 6
            assert await start_chat(http, b, "198.51.100.4") == 201  # someone else, anywhere

            await redis.kill()
            assert await start_chat(http, a, "203.0.113.9") == 201  # open, not down
            assert await start_chat(http, b, "203.0.113.9") == 201
        for server in (a, b):
            failed = [e for e in events(server) if e.get("event") == "limits_unavailable"]
            assert failed and failed[0]["level"] == "error", server.stderr_tail()
            assert "203.0.113.9" not in server.output().decode()
    finally:
        await a.stop()
        await b.stop()
