"""Test clients that talk to the server as outsiders do: HTTP and WebSocket over
loopback sockets. Waiting is always for an event, with a timeout, never a sleep."""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from helpline.app import build_app
from helpline.config import Settings
from helpline.logs import RedactedAccessLogger
from helpline.web.keys import SERVICES

TIMEOUT = 10.0
_ids = itertools.count(1)

# Rate limits out of the way: the tests of the limits set their own.
NO_LIMITS = {name: "1000/s,burst=100000" for name in (
    "limit_contacts_per_client", "limit_contacts_overall", "limit_messages_per_socket",
    "limit_messages_per_contact")}
FAST = {
    **NO_LIMITS,
    "schedule": "always",  # tests that need opening hours ask for them
    "dispatch_interval_s": 0.5,
    "sweep_interval_s": 0.2,
    "hello_timeout_s": 5.0,
}


# The data keys of servers on PostgreSQL (which refuses to start without); a server on
# SQLite makes its own key file next to its database, as the demo does.
TEST_DATA_KEYS = "test-1:" + "A" * 43


def with_test_keys(settings: dict[str, Any]) -> dict[str, Any]:
    if str(settings.get("database_url", "")).startswith("postgresql"):
        settings.setdefault("data_keys", TEST_DATA_KEYS)
    return settings


@dataclass
class Server:
    http: TestServer
    app: web.Application

    @property
    def url(self) -> str:
        return str(self.http.make_url("")).rstrip("/")

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    @property
    def services(self) -> Any:
        return self.app[SERVICES]

    async def stop(self) -> None:
        await self.http.close()

    async def add_counsellor(self, username: str, password: str = "secret-pass", **kw: Any) -> int:
        return int(await self.services.accounts.add_counsellor(username, password, **kw))


async def start_server(clock: Any = None, bus: Any = None, **overrides: Any) -> Server:
    settings = Settings(**with_test_keys({**FAST, **overrides}))
    app = build_app(settings, clock=clock, bus=bus)
    http = TestServer(app, host="127.0.0.1", port=0, access_log_class=RedactedAccessLogger)
    await http.start_server()
    return Server(http, app)


async def queue_length_becomes(url: str, expected: int, timeout: float = 10.0) -> None:
    """Wait until the public status at ``url`` says ``expected`` wait. The status reads the
    queue from a snapshot at most half a second old (a surge's joins share one read), so
    right after a join or a leave it may still say the figure before."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
        while True:
            async with http.get(f"{url}/api/v1/status") as r:
                if (await r.json())["queue_length"] == expected:
                    return
            await asyncio.sleep(0.1)  # a read model refreshed by time: no event to wait on


class Client:
    """Shared event handling for a WebSocket client."""

    def __init__(self, headers: dict[str, str] | None = None) -> None:
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers)
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.events: list[dict[str, Any]] = []
        self._unread: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self.close_code: int | None = None

    async def _open(self, url: str, hello: dict[str, Any]) -> None:
        self.ws = await self.http.ws_connect(url)
        self._reader = asyncio.create_task(self._read(self.ws))
        await self.send_json(hello)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                event = json.loads(msg.data)
                self.events.append(event)
                self._unread.append(event)
                self._arrived.set()
        self.close_code = ws.close_code
        self._unread.append({"type": "_closed", "code": ws.close_code})
        self._arrived.set()

    async def send_json(self, frame: Any) -> None:
        assert self.ws is not None
        await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))

    async def expect(self, kind: str, timeout: float = TIMEOUT, **match: Any) -> dict[str, Any]:
        """The first unread event of this type (and these field values). Other events stay
        unread for later calls."""
        async with asyncio.timeout(timeout):
            while True:
                for i, event in enumerate(self._unread):
                    if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                        del self._unread[i]
                        return event
                if any(e["type"] == "_closed" for e in self._unread):
                    raise AssertionError(
                        f"socket closed ({self.close_code}) while waiting for {kind} {match}"
                    )
                self._arrived.clear()
                await self._arrived.wait()

    async def closed(self, timeout: float = TIMEOUT) -> int | None:
        await self.expect("_closed", timeout)
        return self.close_code

    async def drop(self) -> None:
        """Close the socket as a lost network would, without an ``end``. Unread events go."""
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await self._reader
        self.ws = None
        self._unread.clear()

    async def close(self) -> None:
        await self.drop()
        await self.http.close()

    def messages(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == "message"]


class Visitor(Client):
    def __init__(self, server: Server, headers: dict[str, str] | None = None) -> None:
        """``headers``: sent with every request (a user agent, what a proxy forwards...)."""
        super().__init__(headers)
        self.server = server
        self.contact_id = ""
        self.token = ""

    async def start(self, **body: Any) -> dict[str, Any]:
        async with self.http.post(
            f"{self.server.url}/api/v1/contacts", json={"channel": "chat", **body}
        ) as r:
            assert r.status == 201, await r.text()
            created: dict[str, Any] = await r.json()
        self.contact_id, self.token = created["contact_id"], created["token"]
        return created

    async def connect(self, after_seq: int | None = None, token: str | None = None) -> None:
        hello: dict[str, Any] = {"type": "hello", "token": token or self.token}
        if after_seq is not None:
            hello["after_seq"] = after_seq
        await self._open(f"{self.server.ws_url}/api/v1/contacts/{self.contact_id}/ws", hello)

    async def say(self, text: str, client_id: str | None = None) -> dict[str, Any]:
        """Send a message and return its ack."""
        client_id = client_id or f"v{next(_ids)}"
        await self.send_json({"type": "message", "client_id": client_id, "text": text})
        return await self.expect("ack", client_id=client_id)


class Counsellor(Client):
    def __init__(self, server: Server, username: str, password: str = "secret-pass") -> None:
        super().__init__()
        self.server, self.username, self.password = server, username, password

    async def login(self) -> dict[str, Any]:
        async with self.http.post(
            f"{self.server.url}/api/v1/auth/login",
            json={"username": self.username, "password": self.password},
        ) as r:
            assert r.status == 200, await r.text()
            me: dict[str, Any] = await r.json()
        return me

    async def connect(self, after: dict[str, int] | None = None, status: str | None = "available") -> None:
        await self._open(f"{self.server.ws_url}/api/v1/console/ws", {"type": "hello", "after": after or {}})
        await self.expect("session")
        if status:
            await self.send_json({"type": "status", "status": status})
            await self.expect("status", status=status)

    async def say(self, contact_id: str, text: str, client_id: str | None = None) -> dict[str, Any]:
        client_id = client_id or f"c{next(_ids)}"
        await self.send_json(
            {"type": "message", "contact_id": contact_id, "client_id": client_id, "text": text}
        )
        return await self.expect("ack", client_id=client_id)

    async def transfer(self, contact_id: str, to: dict[str, Any], **fields: Any) -> None:
        """Ask for a transfer (``mode``, ``note``... in ``fields``); the answer is the test's to expect."""
        await self.send_json({"type": "transfer", "contact_id": contact_id, "to": to, **fields})


@dataclass
class Clients:
    """Closes every client a test opened."""

    server: Server
    opened: list[Client] = field(default_factory=list)

    def visitor(self) -> Visitor:
        v = Visitor(self.server)
        self.opened.append(v)
        return v

    def counsellor(self, username: str, password: str = "secret-pass") -> Counsellor:
        c = Counsellor(self.server, username, password)
        self.opened.append(c)
        return c

    async def logged_in(self, username: str, **account: Any) -> Counsellor:
        """A new account (``role``, ``display_name``... in ``account``), logged in, no console."""
        await self.server.add_counsellor(username, **account)
        c = self.counsellor(username)
        await c.login()
        return c

    async def online(self, username: str) -> Counsellor:
        """A counsellor logged in, console connected, available."""
        c = self.counsellor(username)
        await c.login()
        await c.connect()
        return c

    async def waiting_visitor(self, **profile: str) -> Visitor:
        """A young person who started a contact and is connected."""
        v = self.visitor()
        await v.start(profile=profile)
        await v.connect()
        return v

    async def meeting(self, username: str = "alice", **account: Any) -> tuple[Visitor, Counsellor]:
        """A new counsellor account, a young person waiting, then the counsellor online; what
        the server does next (an assignment, an offer) is the test's to expect."""
        await self.server.add_counsellor(username, **account)
        visitor = await self.waiting_visitor()
        counsellor = await self.online(username)
        return visitor, counsellor

    async def talking(self, username: str = "alice", **account: Any) -> tuple[Visitor, Counsellor]:
        """A new counsellor account and a young person, assigned to each other."""
        visitor, counsellor = await self.meeting(username, **account)
        await counsellor.expect("assigned")
        await visitor.expect("assigned")
        return visitor, counsellor

    async def handover(self) -> tuple[Visitor, Counsellor, Counsellor, int]:
        """Alice talking with a young person, and Bob online with room: a transfer's set-up.
        The visitor, Alice, Bob and Bob's id."""
        await self.server.add_counsellor("alice", display_name="Alice")
        bob_id = await self.server.add_counsellor("bob", display_name="Bob")
        visitor = await self.waiting_visitor()
        alice = await self.online("alice")
        await alice.expect("assigned")
        bob = await self.online("bob")
        return visitor, alice, bob, bob_id

    async def close(self) -> None:
        for c in self.opened:
            await c.close()
