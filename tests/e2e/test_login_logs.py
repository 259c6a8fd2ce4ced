"""The real server's log, after failed and throttled logins from several clients, some
through a trusted proxy: requests are logged, client addresses never are."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.e2e.server_process import ServerProcess

pytestmark = pytest.mark.e2e

PASSWORD = "secret-pass"
CLIENTS = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
FORWARDED = "198.51.100.7"


async def test_no_client_address_reaches_the_server_log(server_process: ServerProcess) -> None:
    server_process.settings.update(HELPLINE_TRUSTED_PROXIES=CLIENTS[0], HELPLINE_LOG_LEVEL="debug")
    await server_process.start()
    await server_process.add_counsellor("alice", PASSWORD)
    url = f"{server_process.url}/api/v1/auth/login"
    statuses: list[int] = []

    async def login(address: str, password: str, forwarded_for: str | None = None, times: int = 1) -> None:
        connector = aiohttp.TCPConnector(local_addr=(address, 0), limit=0)
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        async with aiohttp.ClientSession(connector=connector, headers=headers) as http:

            async def one() -> int:
                async with http.post(url, json={"username": "alice", "password": password}) as r:
                    return r.status

            statuses.extend(await asyncio.gather(*(one() for _ in range(times))))

    async with asyncio.timeout(60):
        for _ in range(6):
            await login(CLIENTS[0], "wrong", FORWARDED)  # through the proxy, until locked
            await login(CLIENTS[1], "wrong")  # directly, until locked
        await login(CLIENTS[2], "wrong", times=10)  # in parallel: most refused at once
        await login(CLIENTS[3], PASSWORD)
    assert {200, 401, 429} <= set(statuses)
    await server_process.stop()
    log = server_process.output().decode()
    assert '"http_request"' in log and '"status": 429' in log  # the requests were logged
    for address in (*CLIENTS, FORWARDED):
        assert address not in log
