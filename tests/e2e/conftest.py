"""The real server as a child process, stopped at the end of each test; a Redis of the
test's own where one is needed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from tests.conftest import _unavailable
from tests.e2e.redis_process import RedisProcess, redis_server_binary
from tests.e2e.server_process import ServerProcess


@pytest_asyncio.fixture
async def server_process(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """A server process, not yet started; whatever runs at the end of the test is stopped."""
    server = ServerProcess(tmp_path)
    try:
        yield server
    finally:
        await server.stop()


@pytest_asyncio.fixture
async def redis(tmp_path: Path) -> AsyncIterator[RedisProcess]:
    """A redis-server of the test's own, started (so the test may kill and restart it)."""
    if redis_server_binary() is None:
        _unavailable("redis-server")
    process = RedisProcess(tmp_path)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()
