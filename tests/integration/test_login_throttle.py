"""The login throttle, per client: failures lock a username for one client only, guessing
across usernames locks the client, one client has one password checked at a time, and
X-Forwarded-For is believed from a trusted proxy only.

Different clients are different loopback addresses (Linux routes all of 127.0.0.0/8 to
the loopback interface): each session binds its sockets to its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest_asyncio

from helpline.domain.counsellor import Role
from helpline.services.accounts import HASHING_SLOTS
from helpline.services.throttle import MAX_IN_LINE
from tests.clients import TIMEOUT, Server, start_server
from tests.clock import FrozenClock

PASSWORD = "secret-pass"


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    retry_after: str | None  # the Retry-After header

    @property
    def code(self) -> str | None:
        return self.body.get("error", {}).get("code")

    @property
    def retry_after_s(self) -> int | None:
        return self.body.get("error", {}).get("retry_after_s")


async def login(http: aiohttp.ClientSession, server: Server, username: str, password: str,
                forwarded_for: str | None = None) -> Answer:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    async with http.post(f"{server.url}/api/v1/auth/login", headers=headers,
                         json={"username": username, "password": password}) as r:
        return Answer(r.status, await r.json(), r.headers.get("Retry-After"))


@dataclass
class World:
    server: Server
    clock: FrozenClock
    at: Callable[[str], aiohttp.ClientSession]  # a client at this loopback address


Start = Callable[..., Awaitable[World]]


@pytest_asyncio.fixture
async def start(sqlite_url: str) -> AsyncIterator[Start]:
    """Start a server (settings as keyword arguments) on a frozen clock, with alice and bob."""
    servers: list[Server] = []
    sessions: list[aiohttp.ClientSession] = []

    def at(address: str) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(local_addr=(address, 0), limit=0)
        sessions.append(aiohttp.ClientSession(connector=connector))
        return sessions[-1]

    async def make(**settings: Any) -> World:
        clock = FrozenClock("2026-11-23T10:00:00")
        server = await start_server(clock=clock, database_url=sqlite_url, **settings)
        servers.append(server)
        await server.add_counsellor("alice", PASSWORD)
        await server.add_counsellor("bob", PASSWORD)
        return World(server, clock, at)

    yield make
    for session in sessions:
        await session.close()
    for server in servers:
        await server.stop()


async def test_a_username_locked_from_one_client_still_logs_in_from_another(start: Start) -> None:
    w = await start()
    stranger, alice_desk = w.at("127.0.0.2"), w.at("127.0.0.3")
    for _ in range(5):
        assert (await login(stranger, w.server, "alice", "wrong")).status == 401
    refused = await login(stranger, w.server, "alice", PASSWORD)  # even the right password
    assert (refused.status, refused.code) == (429, "too_many_attempts")
    assert refused.retry_after_s == 900 and refused.retry_after == "900" and refused.body["error"]["message"]
    assert (await login(stranger, w.server, "ALICE ", "wrong")).status == 429  # the same username
    assert (await login(stranger, w.server, "bob", PASSWORD)).status == 200  # other usernames: fine
    assert (await login(alice_desk, w.server, "alice", PASSWORD)).status == 200  # alice gets in

    w.clock.set("2026-11-23T10:14:59")
    assert (await login(stranger, w.server, "alice", PASSWORD)).retry_after_s == 1
    w.clock.set("2026-11-23T10:15:00")
    assert (await login(stranger, w.server, "alice", PASSWORD)).status == 200

    # A success forgets that client's failures for that username.
    for _ in range(4):
        assert (await login(stranger, w.server, "bob", "wrong")).status == 401
    assert (await login(stranger, w.server, "bob", PASSWORD)).status == 200
    assert (await login(stranger, w.server, "bob", "wrong")).status == 401
    assert (await login(stranger, w.server, "bob", PASSWORD)).status == 200


async def test_guessing_across_usernames_from_one_client_is_refused_after_twenty_failures(
    start: Start,
) -> None:
    w = await start()
    sprayer, office = w.at("127.0.0.2"), w.at("127.0.0.3")
    answers = [await login(sprayer, w.server, f"user{i}", "guess") for i in range(30)]
    assert [a.status for a in answers] == [401] * 20 + [429] * 10
    assert {a.code for a in answers[20:]} == {"too_many_attempts"}
    assert answers[20].retry_after_s == 900 and answers[20].retry_after == "900"
    assert (await login(sprayer, w.server, "alice", PASSWORD)).status == 429  # even a real account
    assert (await login(office, w.server, "alice", PASSWORD)).status == 200  # others are not affected

    w.clock.set("2026-11-23T10:15:00")  # the window has passed: the client may try again
    assert (await login(sprayer, w.server, "user99", "guess")).status == 401
    assert (await login(sprayer, w.server, "bob", PASSWORD)).status == 200


async def answered(tasks: list[asyncio.Task[Answer]], count: int) -> list[Answer]:
    """The first ``count`` answers (within the test timeout)."""
    done: set[asyncio.Task[Answer]] = set()
    async with asyncio.timeout(TIMEOUT):
        while len(done) < count:
            finished, _ = await asyncio.wait(set(tasks) - done, return_when=asyncio.FIRST_COMPLETED)
            done |= finished
    return [t.result() for t in done]


async def test_a_flood_from_one_client_has_one_password_checked_and_others_still_get_in(
    start: Start,
) -> None:
    w = await start()
    await w.server.add_counsellor("adm", PASSWORD, role=Role.ADMIN)
    flooder, admin = w.at("127.0.0.2"), w.at("127.0.0.3")
    hashing = w.server.services.accounts.hashing
    for _ in range(HASHING_SLOTS):  # no password is checked until the test lets go
        await hashing.acquire()
    try:
        flood = [asyncio.create_task(login(flooder, w.server, f"user{i}", "guess")) for i in range(100)]
        refused = 100 - MAX_IN_LINE  # one being checked, three waiting their turn
        first = await answered(flood, refused)  # the others answer without any hash computed
        assert len([t for t in flood if t.done()]) == refused
        assert {(a.status, a.code, a.retry_after_s, a.retry_after) for a in first} == {
            (429, "login_in_progress", 1, "1")
        }
        async with asyncio.timeout(TIMEOUT):  # more from there: refused at once too
            again = await asyncio.gather(*(login(flooder, w.server, "alice", PASSWORD) for _ in range(20)))
        assert {a.code for a in again} == {"login_in_progress"}
        real = asyncio.create_task(login(admin, w.server, "adm", PASSWORD))  # from elsewhere
    finally:
        for _ in range(HASHING_SLOTS):
            hashing.release()
    async with asyncio.timeout(TIMEOUT):
        assert (await real).status == 200
        assert [a.status for a in await asyncio.gather(*flood) if a.code != "login_in_progress"] == [401] * 4
    assert (await login(flooder, w.server, "alice", PASSWORD)).status == 200  # its turn is over


async def test_colleagues_behind_one_office_address_logging_in_at_once_all_get_in(start: Start) -> None:
    w = await start()
    names = [f"colleague{i}" for i in range(MAX_IN_LINE)]
    for name in names:
        await w.server.add_counsellor(name, PASSWORD)
    office = w.at("127.0.0.2")
    async with asyncio.timeout(TIMEOUT):
        answers = await asyncio.gather(*(login(office, w.server, name, PASSWORD) for name in names))
    assert [a.status for a in answers] == [200] * MAX_IN_LINE  # each waited its turn


async def test_x_forwarded_for_is_believed_from_a_trusted_proxy_only(start: Start) -> None:
    w = await start(trusted_proxies="127.0.0.2, 10.0.0.0/8")
    proxy, stranger = w.at("127.0.0.2"), w.at("127.0.0.3")
    # From anyone else the header changes nothing: it is still the same client.
    for i in range(5):
        assert (await login(stranger, w.server, "alice", "wrong", f"198.51.100.{i}")).status == 401
    assert (await login(stranger, w.server, "alice", PASSWORD, "198.51.100.99")).status == 429
    # Through the proxy, each forwarded address is a client of its own.
    for _ in range(5):
        assert (await login(proxy, w.server, "bob", "wrong", "198.51.100.7")).status == 401
    assert (await login(proxy, w.server, "bob", PASSWORD, "198.51.100.7")).status == 429
    assert (await login(proxy, w.server, "alice", PASSWORD, "198.51.100.7")).status == 200
    assert (await login(proxy, w.server, "bob", PASSWORD, "198.51.100.8")).status == 200
    # Only the right-most address that is not a trusted proxy counts: what the client
    # itself put in front is not believed, and trusted hops behind it are walked past.
    assert (await login(proxy, w.server, "bob", PASSWORD, "198.51.100.8, 198.51.100.7")).status == 429
    assert (await login(proxy, w.server, "bob", PASSWORD, "198.51.100.7, 10.1.2.3")).status == 429
    assert (await login(proxy, w.server, "bob", PASSWORD, "198.51.100.7, 198.51.100.9")).status == 200
