"""A console comes online while hundreds of young people wait: every frame it is sent
stays within the protocol's 64 KiB (a client that holds to it closes with 1009 beyond,
and no counsellor could then come online in a surge)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from helpline.services.views import QUEUE_FRAME_ENTRIES
from tests.clients import Clients, Counsellor, Server

FRAME_LIMIT = 64 * 1024  # docs/protocol.md: WebSocket frames 64 KiB, close 1009 beyond
WAITING = 600  # about 90 KB of waiting list, were it sent whole


class StrictConsole(Counsellor):
    """A console whose socket refuses frames over the protocol's limit, as a conforming
    client may."""

    async def _open(self, url: str, hello: dict[str, Any]) -> None:
        self.ws = await self.http.ws_connect(url, max_msg_size=FRAME_LIMIT)
        self._reader = asyncio.create_task(self._read(self.ws))
        await self.send_json(hello)


async def start_contacts(server: Server, n: int) -> list[str]:
    gate = asyncio.Semaphore(20)
    async with aiohttp.ClientSession() as http:

        async def start() -> str:
            async with gate, http.post(f"{server.url}/api/v1/contacts",
                                       json={"channel": "chat", "profile": {"topic": "hacked_account"}}) as r:
                assert r.status == 201, await r.text()
                return str((await r.json())["contact_id"])

        return [await start() for _ in range(n)]


async def test_a_console_comes_online_and_is_given_work_while_hundreds_wait(
    server: Server, clients: Clients
) -> None:
    waiting = await start_contacts(server, WAITING)
    await server.add_counsellor("alice")
    alice = StrictConsole(server, "alice")
    clients.opened.append(alice)
    await alice.login()
    await alice.connect()  # session, then available: the socket must still be open
    first = await alice.expect("queue")
    assert first["total"] == WAITING
    assert [c["contact_id"] for c in first["contacts"]] == waiting[:QUEUE_FRAME_ENTRIES]
    assigned = await alice.expect("assigned")
    assert assigned["contact"]["contact_id"] in waiting
    for _ in range(2):
        await alice.expect("assigned")  # her three chats (the default capacity)
    after = await alice.expect("queue")  # sent again after each change
    while after["total"] != WAITING - 3:
        assert after["total"] <= WAITING and len(after["contacts"]) == QUEUE_FRAME_ENTRIES
        after = await alice.expect("queue")
    assert alice.close_code is None and alice.ws is not None and not alice.ws.closed
