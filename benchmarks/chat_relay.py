"""Chat relay benchmark: the helpline server against a bare WebSocket relay.

What it measures
    K conversations are set up on each server: a visitor socket per conversation and
    counsellor consoles holding up to 20 conversations each. Visitors then send messages
    at a fixed total rate, spread evenly over the conversations by a paced scheduler.
    Every message text carries its send time (``time.perf_counter_ns``: one monotonic
    clock for the whole machine), so the counsellor side measures visitor-to-counsellor
    latency when the ``message`` event arrives.

The two servers
    ours      ``helpline serve`` on a fresh SQLite database in a temporary directory,
              with its counsellor accounts made by ``helpline counsellor add``.
    baseline  a bare aiohttp relay defined in this file (``--baseline-server``): rooms in
              memory, no persistence, no validation. A message is forwarded to the other
              side and acked to the sender, with the same JSON frame shapes as ours.

Each server is a subprocess, run one after the other (the baseline first). This process
is the load generator (one asyncio loop) and does nothing else while the load runs; the
servers get all CPUs but the last and the load generator the last one (``--no-pin`` to
let them share). Loopback addresses only; the temporary directory is removed and every
subprocess stopped at the end, even on Ctrl+C.

Ours runs with ``--always-open`` so the line takes contacts at any hour. A message "lost"
is one not delivered when the drain period ends: with an overloaded server it may still
be queued there, not dropped (a longer ``--drain`` tells the two apart).

    python benchmarks/chat_relay.py                          # K=200, 2000 msg/s for 10 s
    python benchmarks/chat_relay.py --conversations 1000
    python benchmarks/chat_relay.py --json                   # machine-readable results
    python benchmarks/chat_relay.py --targets ours --metrics # ours with GET /metrics on, scraped
                                                             # every second (the cost of metrics)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import resource
import secrets
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web
from aiohttp.abc import AbstractCookieJar
from processes import Bench, ServerProcess, cpu_seconds, log, run_cli, serve_baseline
from report import aligned, figure, json_ready, percentile_ms, ratio

MAX_CHATS = 20  # the most conversations one counsellor may hold
MAX_FRAME_BYTES = 64 * 1024
CLOSE_BAD_TOKEN = 4401
NS = 1_000_000_000
THIS_FILE = str(Path(__file__).resolve())
Event = dict[str, Any]


def dumps(event: Event) -> str:
    return json.dumps(event, separators=(",", ":"))


# --- the baseline relay (runs in its own process with --baseline-server) ------------------


@dataclass
class Room:
    token: str
    visitor: web.WebSocketResponse | None = None
    counsellor: web.WebSocketResponse | None = None
    seq: int = 0


ROOMS = web.AppKey("rooms", dict[str, Room])
SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def _relay(ws: web.WebSocketResponse | None, event: Event) -> None:
    """Send to the other side, if it is there; a socket closing under us is not an error."""
    if ws is not None and not ws.closed:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(dumps(event))


async def _open_socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=MAX_FRAME_BYTES)
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    return ws


async def _hello(ws: web.WebSocketResponse) -> Event | None:
    try:
        async with asyncio.timeout(10.0):
            msg = await ws.receive()
    except TimeoutError:
        return None
    if msg.type != WSMsgType.TEXT:
        return None
    with contextlib.suppress(ValueError):
        frame = json.loads(msg.data)
        if isinstance(frame, dict) and frame.get("type") == "hello":
            return frame
    return None


async def frames(
    ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> AsyncIterator[tuple[int, Event]]:
    """Each JSON object that comes in, with when it came (``time.perf_counter_ns``)."""
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            now_ns = time.perf_counter_ns()
            with contextlib.suppress(ValueError):
                frame = json.loads(msg.data)
                if isinstance(frame, dict):
                    yield now_ns, frame


def _message(contact_id: str, room: Room, sender: str, frame: Event) -> Event:
    room.seq += 1
    return {"type": "message", "contact_id": contact_id, "seq": room.seq, "sender": sender,
            "text": frame.get("text"), "sent_at": _now_iso(), "client_id": frame.get("client_id")}


def _assigned_to_visitor(contact_id: str) -> Event:
    return {"type": "assigned", "contact_id": contact_id, "counsellor": {"display_name": "Baseline"}}


async def baseline_healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def baseline_create_contact(request: web.Request) -> web.Response:
    await request.read()
    contact_id, token = uuid.uuid4().hex, secrets.token_urlsafe(32)
    request.app[ROOMS][contact_id] = Room(token)
    return web.json_response({"contact_id": contact_id, "token": token, "state": "queued",
                              "websocket_url": f"/api/v1/contacts/{contact_id}/ws"}, status=201)


async def baseline_visitor_socket(request: web.Request) -> web.WebSocketResponse:
    contact_id = request.match_info["contact_id"]
    room = request.app[ROOMS].get(contact_id)
    ws = await _open_socket(request)
    try:
        hello = await _hello(ws)
        if hello is None or room is None or not secrets.compare_digest(str(hello.get("token")), room.token):
            await ws.close(code=CLOSE_BAD_TOKEN, message=b"bad_token")
            return ws
        room.visitor = ws
        if room.counsellor is not None:
            await ws.send_str(dumps(_assigned_to_visitor(contact_id)))
        async for _, frame in frames(ws):
            if frame.get("type") == "message":
                event = _message(contact_id, room, "visitor", frame)
                await _relay(room.counsellor, event)
                await ws.send_str(dumps({"type": "ack", "client_id": frame.get("client_id"),
                                         "seq": event["seq"]}))
    finally:
        if room is not None and room.visitor is ws:
            room.visitor = None
        request.app[SOCKETS].discard(ws)
    return ws


async def baseline_console_socket(request: web.Request) -> web.WebSocketResponse:
    """The console joins the rooms named by the keys of hello ``after``."""
    rooms = request.app[ROOMS]
    ws = await _open_socket(request)
    joined: list[Room] = []
    try:
        hello = await _hello(ws)
        if hello is None:
            await ws.close(code=4408, message=b"hello_timeout")
            return ws
        await ws.send_str(dumps({"type": "session", "counsellor": {"id": 0, "username": "baseline"},
                                 "status": "offline"}))
        after = hello.get("after")
        for contact_id in after if isinstance(after, dict) else {}:
            room = rooms.get(contact_id)
            if room is None:
                continue
            room.counsellor = ws
            joined.append(room)
            await ws.send_str(dumps({"type": "assigned", "contact": {
                "contact_id": contact_id, "channel": "chat", "profile": {}, "waited_s": 0,
                "last_seq": room.seq}}))
            await _relay(room.visitor, _assigned_to_visitor(contact_id))
        async for _, frame in frames(ws):
            kind = frame.get("type")
            if kind == "status":
                await ws.send_str(dumps({"type": "status", "status": frame.get("status")}))
            elif kind == "message":
                contact_id = str(frame.get("contact_id"))
                room = rooms.get(contact_id)
                if room is None or room.counsellor is not ws:
                    await ws.send_str(dumps({"type": "error", "code": "not_your_contact",
                                             "client_id": frame.get("client_id")}))
                    continue
                event = _message(contact_id, room, "counsellor", frame)
                await _relay(room.visitor, event)
                await ws.send_str(dumps({"type": "ack", "contact_id": contact_id,
                                         "client_id": frame.get("client_id"), "seq": event["seq"]}))
    finally:
        for room in joined:
            if room.counsellor is ws:
                room.counsellor = None
        request.app[SOCKETS].discard(ws)
    return ws


async def _close_baseline_sockets(app: web.Application) -> None:
    sockets: set[web.WebSocketResponse] = app[SOCKETS]
    await asyncio.gather(*(ws.close(code=1001, message=b"server_shutdown") for ws in list(sockets)),
                         return_exceptions=True)


def baseline_app() -> web.Application:
    app = web.Application()
    app[ROOMS] = {}
    app[SOCKETS] = set()
    app.on_shutdown.append(_close_baseline_sockets)
    app.router.add_get("/healthz", baseline_healthz)
    app.router.add_post("/api/v1/contacts", baseline_create_contact)
    app.router.add_get("/api/v1/contacts/{contact_id}/ws", baseline_visitor_socket)
    app.router.add_get("/api/v1/console/ws", baseline_console_socket)
    return app


# --- server subprocesses ------------------------------------------------------------------


def proc_status_kib(pid: int, key: str) -> int:
    """A ``kB`` figure of /proc/<pid>/status, e.g. VmRSS or VmHWM."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return 0


METRICS_TOKEN = secrets.token_urlsafe(24)
SCRAPE_EVERY_S = 1.0  # Prometheus usually scrapes every 15 s: this is a heavy case


def server_env(workdir: Path | None, metrics: bool = False) -> dict[str, str]:
    """This environment without any HELPLINE_* setting; with ``workdir``, the settings of
    our server: its SQLite database in there, warnings and errors only in its log, and
    with ``metrics`` GET /metrics on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    if metrics:
        env["HELPLINE_METRICS_TOKEN"] = METRICS_TOKEN
    if workdir is not None:
        env["HELPLINE_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        env["HELPLINE_LOG_LEVEL"] = "warning"
        for name in ("CONTACTS_PER_CLIENT", "CONTACTS_OVERALL", "MESSAGES_PER_SOCKET",
                     "MESSAGES_PER_CONTACT"):
            env[f"HELPLINE_LIMIT_{name}"] = "1000/s,burst=100000"  # measures the relay, not the limits
    return env


async def add_counsellors(helpline: Sequence[str], env: dict[str, str], workdir: Path, names: Sequence[str],
                          password: str) -> None:
    """``helpline counsellor add`` for each name, two at a time (each hashes a password)."""
    gate = asyncio.Semaphore(2)

    async def add(name: str) -> None:
        async with gate:
            proc = await asyncio.create_subprocess_exec(
                *helpline, "counsellor", "add", name, "--password-stdin", "--max-chats", str(MAX_CHATS),
                cwd=workdir, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            try:
                async with asyncio.timeout(120):
                    out, _ = await proc.communicate(f"{password}\n".encode())
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            if proc.returncode != 0:
                raise RuntimeError(f"counsellor add {name} failed: {out.decode(errors='replace')}")

    await asyncio.gather(*(add(name) for name in names))


# --- what the clients observe -------------------------------------------------------------


def _key(conv: int, n: int) -> int:
    return conv << 32 | n


@dataclass
class Recorder:
    """Everything the load generator counts. Message ``n`` of conversation ``conv`` has
    client_id ``v<conv>.<n>`` and text ``<send ns>|<conv>|<n>|<padding>``."""

    conversations: int
    window_end_ns: int = 1 << 62
    stopping: bool = False
    assignments: asyncio.Event = field(default_factory=asyncio.Event)  # set at each `assigned`
    sent: int = 0
    delivered: int = 0
    delivered_in_window: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    acks: int = 0
    echoes: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    ack_latencies_ns: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)
    sent_ns: list[list[int]] = field(init=False)
    _last_n: list[int] = field(init=False)
    _seen: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.sent_ns = [[] for _ in range(self.conversations)]
        self._last_n = [-1] * self.conversations

    def delivered_to_counsellor(self, text: str, now_ns: int) -> None:
        try:
            stamp, conv_s, n_s, _ = text.split("|", 3)
            sent_ns, conv, n = int(stamp), int(conv_s), int(n_s)
        except ValueError:
            self.errors["counsellor:foreign_message"] += 1
            return
        key = _key(conv, n)
        if key in self._seen:
            self.duplicates += 1
            return
        self._seen.add(key)
        if n < self._last_n[conv]:
            self.out_of_order += 1
        self._last_n[conv] = max(self._last_n[conv], n)
        self.delivered += 1
        if now_ns <= self.window_end_ns:
            self.delivered_in_window += 1
        self.latencies_ns.append(now_ns - sent_ns)

    def acked(self, client_id: object, now_ns: int) -> None:
        self.acks += 1
        if isinstance(client_id, str) and client_id.startswith("v"):
            conv_s, _, n_s = client_id[1:].partition(".")
            with contextlib.suppress(ValueError, IndexError):
                self.ack_latencies_ns.append(now_ns - self.sent_ns[int(conv_s)][int(n_s)])

    def closed(self, side: str, code: int | None) -> None:
        if not self.stopping:
            self.closes[f"{side}:{code}"] += 1


class VisitorPeer:
    def __init__(self, conv: int, contact_id: str, token: str, recorder: Recorder) -> None:
        self.conv, self.contact_id, self.token, self.recorder = conv, contact_id, token, recorder
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None
        self.assigned = asyncio.Event()

    async def connect(self, http: aiohttp.ClientSession, ws_base: str) -> None:
        self.ws = await http.ws_connect(f"{ws_base}/api/v1/contacts/{self.contact_id}/ws",
                                        max_msg_size=MAX_FRAME_BYTES)
        self.reader = asyncio.create_task(self._read(self.ws))
        await self.ws.send_str(dumps({"type": "hello", "token": self.token}))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        recorder = self.recorder
        async for now_ns, event in frames(ws):
            kind = event.get("type")
            if kind == "ack":
                recorder.acked(event.get("client_id"), now_ns)
            elif kind == "message":
                recorder.echoes += 1  # ours sends the sender its own message too
            elif kind == "assigned":
                self.assigned.set()
                recorder.assignments.set()
            elif kind in ("error", "ended", "requeued"):
                recorder.errors[f"visitor:{kind}:{event.get('code') or event.get('reason')}"] += 1
        recorder.closed("visitor", ws.close_code)


class ConsolePeer:
    def __init__(self, username: str, recorder: Recorder) -> None:
        self.username, self.recorder = username, recorder
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None
        self.contacts: set[str] = set()
        self._session = asyncio.Event()
        self._available = asyncio.Event()

    async def login(self, base: str, password: str) -> None:
        """Log in; every counsellor of the run comes from one address, so the server's
        per-client login line may ask some to come back a moment later (429)."""
        assert self.http is not None
        while True:
            async with self.http.post(f"{base}/api/v1/auth/login",
                                      json={"username": self.username, "password": password}) as r:
                if r.status == 429:
                    await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                    continue
                if r.status != 200:
                    raise RuntimeError(f"login {self.username}: HTTP {r.status} {await r.text()}")
                return

    async def connect(self, ws_base: str, after: dict[str, int], within_s: float) -> None:
        assert self.http is not None
        self.ws = await self.http.ws_connect(f"{ws_base}/api/v1/console/ws", max_msg_size=MAX_FRAME_BYTES)
        self.reader = asyncio.create_task(self._read(self.ws))
        await self.ws.send_str(dumps({"type": "hello", "after": after}))
        async with asyncio.timeout(within_s):
            await self._session.wait()
            await self.ws.send_str(dumps({"type": "status", "status": "available"}))
            await self._available.wait()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        recorder = self.recorder
        async for now_ns, event in frames(ws):
            kind = event.get("type")
            if kind == "message":
                if event.get("sender") == "visitor":
                    recorder.delivered_to_counsellor(event.get("text", ""), now_ns)
            elif kind == "assigned":
                self.contacts.add(event["contact"]["contact_id"])
                recorder.assignments.set()
            elif kind == "session":
                self._session.set()
            elif kind == "status":
                if event.get("status") == "available":
                    self._available.set()
            elif kind in ("error", "ended", "unassigned"):
                recorder.errors[f"console:{kind}:{event.get('code') or event.get('reason')}"] += 1
        recorder.closed("console", ws.close_code)


@dataclass
class Fleet:
    """Every client socket of one run."""

    visitors: list[VisitorPeer]
    consoles: list[ConsolePeer]
    sessions: list[aiohttp.ClientSession]
    phases_s: dict[str, float] = field(default_factory=dict)  # how long each setup step took

    @property
    def sockets(self) -> int:
        return len(self.visitors) + len(self.consoles)

    def assigned(self) -> tuple[int, int]:
        """Conversations whose visitor, and whose counsellor, heard of the assignment."""
        return (sum(v.assigned.is_set() for v in self.visitors),
                sum(len(c.contacts) for c in self.consoles))

    async def close(self) -> None:
        peers: list[VisitorPeer | ConsolePeer] = [*self.visitors, *self.consoles]
        sockets = [p.ws for p in peers if p.ws is not None]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        readers = [p.reader for p in peers if p.reader is not None]
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await asyncio.gather(*(s.close() for s in self.sessions), return_exceptions=True)


def _client_session(cookies: bool = False) -> aiohttp.ClientSession:
    jar: AbstractCookieJar = aiohttp.CookieJar(unsafe=True) if cookies else aiohttp.DummyCookieJar()
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), cookie_jar=jar,
                                 timeout=aiohttp.ClientTimeout(total=60))


async def connect_fleet(server: ServerProcess, ours: bool, k: int, usernames: Sequence[str], password: str,
                        recorder: Recorder, concurrency: int, within_s: float) -> Fleet:
    """Open K conversations and wait until both sides of every one know it is assigned.

    Ours: visitors start and connect (queued), then counsellors log in and go available;
    the server assigns. Baseline: each console names its 20 rooms in hello ``after``."""
    gate = asyncio.Semaphore(concurrency)
    visitor_http = _client_session()
    fleet = Fleet([], [ConsolePeer(name, recorder) for name in usernames], [visitor_http])
    for console in fleet.consoles:
        console.http = _client_session(cookies=True)
        fleet.sessions.append(console.http)

    async def start(conv: int) -> VisitorPeer:
        async with gate, visitor_http.post(f"{server.url}/api/v1/contacts", json={"channel": "chat"}) as r:
            if r.status != 201:
                raise RuntimeError(f"POST /api/v1/contacts: HTTP {r.status} {await r.text()}")
            created = await r.json()
        return VisitorPeer(conv, created["contact_id"], created["token"], recorder)

    async def connect_visitor(visitor: VisitorPeer) -> None:
        async with gate:
            await visitor.connect(visitor_http, server.ws_url)

    async def connect_console(index: int, console: ConsolePeer) -> None:
        async with gate:
            if ours:
                await console.login(server.url, password)
                after: dict[str, int] = {}
            else:
                rooms = fleet.visitors[index * MAX_CHATS:(index + 1) * MAX_CHATS]
                after = {v.contact_id: 0 for v in rooms}
            await console.connect(server.ws_url, after, within_s)

    mark = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        fleet.phases_s[name] = now - mark
        mark = now

    try:
        async with asyncio.timeout(within_s):
            fleet.visitors = list(await asyncio.gather(*(start(i) for i in range(k))))
            phase("contacts")
            await asyncio.gather(*(connect_visitor(v) for v in fleet.visitors))
            phase("visitors")
            await asyncio.gather(*(connect_console(i, c) for i, c in enumerate(fleet.consoles)))
            phase("consoles")
            while fleet.assigned() != (k, k):
                recorder.assignments.clear()
                await recorder.assignments.wait()
            phase("assigned")
    except TimeoutError:
        visitors, consoles = fleet.assigned()
        await fleet.close()
        raise RuntimeError(f"setup timed out after {within_s:.0f} s: {len(fleet.visitors)}/{k} contacts, "
                           f"{visitors} visitors and {consoles} console contacts assigned") from None
    except BaseException:
        await fleet.close()
        raise
    return fleet


# --- the load -----------------------------------------------------------------------------


@dataclass
class Pace:
    started_ns: int
    ended_ns: int
    max_lag_ms: float


async def send_paced(fleet: Fleet, recorder: Recorder, rate: float, duration: float, text_bytes: int) -> Pace:
    """Send ``rate * duration`` visitor messages, message i at ``start + i / rate``, going
    round the conversations. Falls behind only if a send blocks (reported as lag)."""
    sockets = [v.ws for v in fleet.visitors]
    assert all(ws is not None for ws in sockets)
    k = len(sockets)
    total = round(rate * duration)
    period_ns = NS / rate
    sent_ns = recorder.sent_ns
    max_lag_ns = 0.0
    start_ns = time.perf_counter_ns()
    recorder.window_end_ns = start_ns + round(duration * NS)
    i = 0
    while i < total:
        now_ns = time.perf_counter_ns()
        due = min(total, int((now_ns - start_ns) / period_ns) + 1)
        max_lag_ns = max(max_lag_ns, now_ns - (start_ns + i * period_ns))
        while i < due:
            conv, n = i % k, i // k
            stamp = time.perf_counter_ns()
            head = f"{stamp}|{conv}|{n}|"
            text = head + "x" * max(1, text_bytes - len(head))
            sent_ns[conv].append(stamp)
            await sockets[conv].send_str(  # type: ignore[union-attr]
                f'{{"type":"message","client_id":"v{conv}.{n}","text":"{text}"}}'
            )
            i += 1
            recorder.sent = i
        await asyncio.sleep(max(0.0, (start_ns + i * period_ns - time.perf_counter_ns()) / NS))
    return Pace(start_ns, time.perf_counter_ns(), max_lag_ns / 1e6)


async def drain(recorder: Recorder, limit: float) -> float:
    """Wait until every sent message is delivered and acked, at most ``limit`` seconds."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if recorder.delivered >= recorder.sent and recorder.acks >= recorder.sent:
            break
        await asyncio.sleep(0.02)
    return time.perf_counter() - start


# --- one run against one server -------------------------------------------------------------


@dataclass
class Result:
    target: str
    conversations: int
    sockets: int
    setup_s: float
    setup_phases_s: dict[str, float]
    offered_rate: float
    duration_s: float
    sent: int
    send_rate: float
    max_send_lag_ms: float
    delivered: int
    delivered_in_window: int
    throughput: float
    lost: int
    duplicates: int
    out_of_order: int
    acks: int
    echoes: int
    drain_s: float
    latency_ms: dict[str, float]
    ack_latency_ms: dict[str, float]
    rss_kib: dict[str, float]  # the server's: before, connected, after_load, peak, per_socket
    server_cpu_pct: float
    loadgen_cpu_pct: float
    client_errors: dict[str, int]
    unexpected_closes: dict[str, int]
    server_log_problems: int


@dataclass(frozen=True)
class Config(Bench):
    conversations: int
    rate: float
    duration: float
    drain: float
    text_bytes: int
    concurrency: int
    setup_timeout: float
    metrics: bool = False  # ours with GET /metrics on, scraped every SCRAPE_EVERY_S

    @property
    def counsellors(self) -> int:
        return math.ceil(self.conversations / MAX_CHATS)


@dataclass
class Measured:
    """What one run measured besides the recorder's counts."""

    sockets: int
    setup_s: float
    setup_phases_s: dict[str, float]
    rss_kib: dict[str, int]  # the server's: before, connected, after_load, peak
    window_s: float
    max_send_lag_ms: float
    server_cpu_s: float
    loadgen_cpu_s: float
    drain_s: float


async def load_server(server: ServerProcess, config: Config, workdir: Path,
                      recorder: Recorder) -> Measured:
    """Open the conversations, send the paced load, drain; close every client socket."""
    ours = server.name == "ours"
    password = secrets.token_urlsafe(12)
    usernames = [f"bench{i:04d}" for i in range(config.counsellors)]
    await server.wait_healthy(60)
    if ours:
        log(f"ours: adding {len(usernames)} counsellors (max {MAX_CHATS} chats each)")
        await add_counsellors(config.helpline, server_env(workdir), workdir, usernames, password)
    rss_kib = {"before": proc_status_kib(server.pid, "VmRSS")}
    log(f"{server.name}: opening {config.conversations} conversations")
    setup_start = time.perf_counter()
    fleet = await connect_fleet(server, ours, config.conversations, usernames, password, recorder,
                                config.concurrency, config.setup_timeout)
    try:
        setup_s = time.perf_counter() - setup_start
        await asyncio.sleep(1.0)  # let the floor settle: queue notices, dispatch, heartbeats
        rss_kib["connected"] = proc_status_kib(server.pid, "VmRSS")
        gc.collect()
        gc.freeze()  # keep the collector's pauses in this process short while measuring
        log(f"{server.name}: sending {config.rate:g} msg/s for {config.duration:g} s")
        cpu_start, loadgen_start = cpu_seconds(server.pid), time.process_time()
        scraper = asyncio.create_task(scrape_metrics(server)) if ours and config.metrics else None
        pace = await send_paced(fleet, recorder, config.rate, config.duration, config.text_bytes)
        server_cpu_s = cpu_seconds(server.pid) - cpu_start
        if scraper is not None:
            scraper.cancel()
            scrapes = await scraper
            stored = await stored_count(server)
            log(f"ours: {scrapes} scrapes of /metrics during the load; {stored:,} messages stored as "
                f"the metrics count them ({recorder.sent:,} sent)")
        loadgen_cpu_s = time.process_time() - loadgen_start
        drain_s = await drain(recorder, config.drain)
        rss_kib["after_load"] = proc_status_kib(server.pid, "VmRSS")
        rss_kib["peak"] = proc_status_kib(server.pid, "VmHWM")
        return Measured(
            sockets=fleet.sockets, setup_s=setup_s, setup_phases_s=fleet.phases_s, rss_kib=rss_kib,
            window_s=(pace.ended_ns - pace.started_ns) / NS, max_send_lag_ms=pace.max_lag_ms,
            server_cpu_s=server_cpu_s, loadgen_cpu_s=loadgen_cpu_s, drain_s=drain_s,
        )
    finally:
        gc.unfreeze()
        recorder.stopping = True
        # The server goes first, so no socket close counts as a failure and nothing waits on us.
        await asyncio.to_thread(server.stop)
        await fleet.close()


async def scrape_metrics(server: ServerProcess) -> int:
    """GET /metrics every ``SCRAPE_EVERY_S`` until cancelled; how many scrapes answered."""
    scrapes = 0
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"{server.url}/metrics", headers=headers) as r:
                    await r.read()
                    scrapes += r.status == 200
                await asyncio.sleep(SCRAPE_EVERY_S)
            except asyncio.CancelledError:
                return scrapes


async def stored_count(server: ServerProcess) -> int:
    """The visitors' messages stored, as GET /metrics counts them."""
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/metrics", headers=headers) as r:
        body = await r.text()
    for line in body.splitlines():
        if line.startswith('helpline_messages_stored_total{sender="visitor"}'):
            return int(float(line.split()[-1]))
    return -1


def result_of(target: str, config: Config, recorder: Recorder, m: Measured, problems: int) -> Result:
    latencies = sorted(recorder.latencies_ns)
    acks = sorted(recorder.ack_latencies_ns)
    return Result(
        target=target, conversations=config.conversations, sockets=m.sockets, setup_s=m.setup_s,
        setup_phases_s=m.setup_phases_s, offered_rate=config.rate, duration_s=config.duration,
        sent=recorder.sent, send_rate=recorder.sent / m.window_s, max_send_lag_ms=m.max_send_lag_ms,
        delivered=recorder.delivered, delivered_in_window=recorder.delivered_in_window,
        throughput=recorder.delivered_in_window / config.duration,
        lost=recorder.sent - recorder.delivered, duplicates=recorder.duplicates,
        out_of_order=recorder.out_of_order, acks=recorder.acks, echoes=recorder.echoes, drain_s=m.drain_s,
        latency_ms={"p50": percentile_ms(latencies, 50), "p90": percentile_ms(latencies, 90),
                    "p99": percentile_ms(latencies, 99), "max": percentile_ms(latencies, 100)},
        ack_latency_ms={"p50": percentile_ms(acks, 50), "p99": percentile_ms(acks, 99)},
        rss_kib={**m.rss_kib, "per_socket": (m.rss_kib["connected"] - m.rss_kib["before"]) / m.sockets},
        server_cpu_pct=100 * m.server_cpu_s / m.window_s, loadgen_cpu_pct=100 * m.loadgen_cpu_s / m.window_s,
        client_errors=dict(recorder.errors), unexpected_closes=dict(recorder.closes),
        server_log_problems=problems,
    )


async def run(config: Config) -> dict[str, Result]:
    """Each target in turn: start its server, load it, stop it (see ``Bench.run_targets``)."""

    def env(target: str, _port: int, workdir: Path) -> dict[str, str]:
        return server_env(workdir if target == "ours" else None, config.metrics and target == "ours")

    async def load(server: ServerProcess, workdir: Path) -> tuple[Recorder, Measured]:
        recorder = Recorder(config.conversations)
        return recorder, await load_server(server, config, workdir, recorder)

    outcomes = await config.run_targets(THIS_FILE, env, load)
    return {target: result_of(target, config, recorder, measured, len(problems))
            for target, ((recorder, measured), problems) in outcomes.items()}


# --- reporting --------------------------------------------------------------------------------


def ratios(results: dict[str, Result]) -> dict[str, float]:
    ours, base = results.get("ours"), results.get("baseline")
    if ours is None or base is None:
        return {}
    return {
        "throughput": ratio(ours.throughput, base.throughput),
        "p50_latency": ratio(ours.latency_ms["p50"], base.latency_ms["p50"]),
        "p99_latency": ratio(ours.latency_ms["p99"], base.latency_ms["p99"]),
        "rss_per_socket": ratio(ours.rss_kib["per_socket"], base.rss_kib["per_socket"]),
        "server_cpu": ratio(ours.server_cpu_pct, base.server_cpu_pct),
    }


def _f(value: float, digits: int = 1) -> str:
    return figure(value, digits)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none"


ROWS: list[tuple[str, Any, str | None]] = [
    ("sockets (visitors + consoles)", lambda r: f"{r.sockets:,}", None),
    ("setup: contacts to all assigned, s", lambda r: _f(r.setup_s, 2), None),
    ("  contacts / visitors / consoles / assigned",
     lambda r: " / ".join(_f(v, 2) for v in r.setup_phases_s.values()), None),
    ("messages sent", lambda r: f"{r.sent:,}", None),
    ("send rate achieved, msg/s", lambda r: _f(r.send_rate), None),
    ("max send lag, ms", lambda r: _f(r.max_send_lag_ms), None),
    ("delivered in window, msg/s", lambda r: _f(r.throughput), "throughput"),
    ("delivered incl. drain", lambda r: f"{r.delivered:,}", None),
    ("lost (undelivered when drain ended)", lambda r: f"{r.lost:,}", None),
    ("drain time, s", lambda r: _f(r.drain_s, 2), None),
    ("acks received", lambda r: f"{r.acks:,}", None),
    ("own-message echoes to visitor", lambda r: f"{r.echoes:,}", None),
    ("duplicates / out of order", lambda r: f"{r.duplicates} / {r.out_of_order}", None),
    ("latency p50, ms", lambda r: _f(r.latency_ms["p50"], 2), "p50_latency"),
    ("latency p90, ms", lambda r: _f(r.latency_ms["p90"], 2), None),
    ("latency p99, ms", lambda r: _f(r.latency_ms["p99"], 2), "p99_latency"),
    ("latency max, ms", lambda r: _f(r.latency_ms["max"], 2), None),
    ("ack latency p50 / p99, ms",
     lambda r: f"{_f(r.ack_latency_ms['p50'], 2)} / {_f(r.ack_latency_ms['p99'], 2)}", None),
    ("server RSS before connecting, MiB", lambda r: _f(r.rss_kib["before"] / 1024), None),
    ("server RSS connected, MiB", lambda r: _f(r.rss_kib["connected"] / 1024), None),
    ("server RSS after load / peak, MiB",
     lambda r: f"{_f(r.rss_kib['after_load'] / 1024)} / {_f(r.rss_kib['peak'] / 1024)}", None),
    ("server RSS per socket, KiB", lambda r: _f(r.rss_kib["per_socket"]), "rss_per_socket"),
    ("server CPU during load, % of a core", lambda r: _f(r.server_cpu_pct, 0), "server_cpu"),
    ("load generator CPU, % of a core", lambda r: _f(r.loadgen_cpu_pct, 0), None),
    ("client-side errors", lambda r: _counts(r.client_errors), None),
    ("unexpected socket closes", lambda r: _counts(r.unexpected_closes), None),
    ("server log warnings/errors", lambda r: f"{r.server_log_problems:,}", None),
]


def table(config: Config, results: dict[str, Result]) -> str:
    names = list(results)
    rel = ratios(results)
    header = ["", *names] + (["ours/baseline"] if rel else [])
    rows = [header]
    for label, cell, ratio_key in ROWS:
        row = [label, *(cell(results[n]) for n in names)]
        if rel:
            row.append(f"{_f(rel[ratio_key], 2)}x" if ratio_key else "")
        rows.append(row)
    lines = [
        f"chat relay: {config.conversations} conversations, {config.counsellors} counsellors "
        f"(max {MAX_CHATS} chats), {config.rate:g} msg/s offered for {config.duration:g} s, "
        f"{config.text_bytes}-byte texts, drain <= {config.drain:g} s, "
        f"{'pinned' if config.pinned else 'unpinned'} CPUs",
        *aligned(rows, left=1),
    ]
    return "\n".join(lines)


def summary(results: dict[str, Result]) -> str:
    parts = []
    for name, r in results.items():
        parts.append(f"{name} {_f(r.throughput, 0)}/{r.offered_rate:g} msg/s, "
                     f"p99 {_f(r.latency_ms['p99'], 1)} ms, {r.lost} lost, "
                     f"{_f(r.rss_kib['per_socket'])} KiB/socket")
    rel = ratios(results)
    if rel:
        parts.append(f"ours/baseline: throughput {_f(rel['throughput'], 2)}x, "
                     f"p99 {_f(rel['p99_latency'], 1)}x, RSS/socket {_f(rel['rss_per_socket'], 1)}x")
    return "SUMMARY: " + "; ".join(parts)


def as_json(config: Config, results: dict[str, Result]) -> str:
    settings = {k: v for k, v in asdict(config).items() if k != "helpline"}
    doc = {"config": {**settings, "counsellors": config.counsellors, "max_chats": MAX_CHATS},
           "results": {name: asdict(r) for name, r in results.items()},
           "ratios_ours_over_baseline": ratios(results)}
    return json.dumps(json_ready(doc), indent=2)


# --- command line ---------------------------------------------------------------------------


def raise_file_limit(sockets: int) -> None:
    """Room for every client socket here (and, inherited, in the servers)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * sockets + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new_soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--conversations", "-k", type=int, default=200, help="K conversations (default 200)")
    p.add_argument("--rate", type=float, default=2000.0, help="total visitor messages per second (2000)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of paced sending (10)")
    p.add_argument("--drain", type=float, default=10.0,
                   help="seconds to wait after sending for late messages (10); later counts as lost")
    p.add_argument("--text-bytes", type=int, default=80, help="length of each message text (80)")
    p.add_argument("--concurrency", type=int, default=50, help="setup requests in flight (50)")
    p.add_argument("--setup-timeout", type=float, default=180.0, help="seconds to open all conversations")
    p.add_argument("--metrics", action="store_true",
                   help=f"ours with GET /metrics on, scraped every {SCRAPE_EVERY_S:g} s during the load")
    Bench.add_options(p)
    args = p.parse_args(argv)
    if not args.baseline_server:
        Bench.check_options(p, args)
        if args.conversations < 1 or args.rate <= 0 or args.duration <= 0 or args.text_bytes < 40:
            p.error("need --conversations >= 1, --rate > 0, --duration > 0, --text-bytes >= 40")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.baseline_server:
        return serve_baseline(baseline_app(), args.port)
    config = Config(
        conversations=args.conversations, rate=args.rate, duration=args.duration, drain=args.drain,
        text_bytes=args.text_bytes, concurrency=args.concurrency, setup_timeout=args.setup_timeout,
        pin=args.pin, targets=args.targets, helpline=args.helpline, metrics=args.metrics,
    )
    raise_file_limit(config.conversations + config.counsellors)
    results = run_cli(run(config))
    if isinstance(results, int):
        return results
    print(as_json(config, results) if args.json else f"{table(config, results)}\n{summary(results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
