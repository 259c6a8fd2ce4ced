"""The real server as a child process, stopped at the end of each test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from tests.e2e.server_process import ServerProcess


@pytest_asyncio.fixture
async def server_process(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """A server process, not yet started; whatever runs at the end of the test is stopped."""
    server = ServerProcess(tmp_path)
    try:
        yield server
    finally:
        await server.stop()
