from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest_asyncio

from tests.clients import Clients, Server


@pytest_asyncio.fixture
async def clients(server: Server) -> AsyncIterator[Clients]:
    c = Clients(server)
    yield c
    await c.close()


ClientsOf = Callable[[Server], Clients]


@pytest_asyncio.fixture
async def clients_of() -> AsyncIterator[ClientsOf]:
    """Clients for a server a test starts itself; all are closed at the end of the test."""
    made: list[Clients] = []

    def make(server: Server) -> Clients:
        made.append(Clients(server))
        return made[-1]

    yield make
    for c in made:
        await c.close()
