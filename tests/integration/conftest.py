from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.clients import Clients, Server


@pytest_asyncio.fixture
async def clients(server: Server) -> AsyncIterator[Clients]:
    c = Clients(server)
    yield c
    await c.close()
