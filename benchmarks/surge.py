"""Surge benchmark: thousands of young people arrive within a minute (a TV campaign, a
viral post) while nobody is available, so the queue only grows; one supervisor's console
is open all along.

What it measures
    ``--visitors`` young people arrive evenly over ``--duration`` seconds. Each posts
    ``POST /api/v1/contacts``, opens its WebSocket, says hello and waits for its first
    ``queue`` event (its place); its socket stays open to the end, reading what it is sent.
    Printed: the time from the POST to the first ``queue`` event (p50, p99, max), the
    server's CPU time (user + system, from /proc) per arrival, the bytes per second sent to
    the supervisor's console and its largest frame, and the queue frames the visitors got.

The two servers
    ours      ``helpline serve --always-open`` on a fresh SQLite database, limits out of
              the way, one supervisor logged in (offline: nobody is assigned).
    baseline  a bare aiohttp server (this script, ``--baseline-server``) that keeps a FIFO
              list: positions are list indexes, pushed the same way (after changes, at
              most twice a second, each socket when its position changes, at most once a
              second), the console sent the count and the first 50.

Loopback only; each server is stopped and the temporary directory removed at the end,
even on Ctrl+C. The run stops by itself after the arrivals plus ``--drain`` seconds.

    python benchmarks/surge.py                      # 1,000 arrivals in 60 s
    python benchmarks/surge.py --visitors 5000
    python benchmarks/surge.py --visitors 10000 --targets ours
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web
from processes import Bench, ServerProcess, cpu_seconds, log, run_cli, serve_baseline
from report import aligned, figure, json_ready, percentile_ms, ratio

PASSWORD = "surge-benchmark-password"
FRAME_ENTRIES = 50
FIRST_QUEUE_TIMEOUT_S = 30.0

# --- the baseline: a FIFO list ------------------------------------------------------------

QUEUE: web.AppKey[list[str]] = web.AppKey("queue", list)
SOCKETS: web.AppKey[dict[str, BaselineVisitor]] = web.AppKey("sockets", dict)
CONSOLES: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("consoles", set)
CHANGED: web.AppKey[asyncio.Event] = web.AppKey("changed", asyncio.Event)


@dataclass
class BaselineVisitor:
    ws: web.WebSocketResponse
    token: str
    sent: int | None = None
    sent_at: float = -1e9


async def baseline_create(request: web.Request) -> web.Response:
    await request.read()
    contact_id, token = uuid.uuid4().hex, secrets.token_urlsafe(32)
    request.app[QUEUE].append(contact_id)
    request.app[SOCKETS][contact_id] = BaselineVisitor(None, token)  # type: ignore[arg-type]
    request.app[CHANGED].set()
    return web.json_response({"contact_id": contact_id, "token": token, "state": "queued",
                              "websocket_url": f"/api/v1/contacts/{contact_id}/ws"}, status=201)


async def _hello(ws: web.WebSocketResponse) -> dict[str, Any] | None:
    with contextlib.suppress(TimeoutError, ValueError):
        async with asyncio.timeout(10.0):
            msg = await ws.receive()
        frame = json.loads(msg.data) if msg.type == WSMsgType.TEXT else None
        if isinstance(frame, dict) and frame.get("type") == "hello":
            return frame
    return None


async def baseline_visitor(request: web.Request) -> web.WebSocketResponse:
    contact_id = request.match_info["contact_id"]
    visitor = request.app[SOCKETS].get(contact_id)
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    hello = await _hello(ws)
    if visitor is None or hello is None or not secrets.compare_digest(str(hello.get("token")), visitor.token):
        await ws.close(code=4403, message=b"bad_token")
        return ws
    visitor.ws = ws
    position = request.app[QUEUE].index(contact_id) + 1  # what ours does: placed at once
    visitor.sent, visitor.sent_at = position, time.monotonic()
    await ws.send_str(json.dumps({"type": "queue", "contact_id": contact_id, "position": position,
                                  "estimated_wait_s": None}))
    async for _ in ws:
        pass
    request.app[QUEUE].remove(contact_id)
    request.app[SOCKETS].pop(contact_id, None)
    request.app[CHANGED].set()
    return ws


async def baseline_console(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    if await _hello(ws) is not None:
        request.app[CONSOLES].add(ws)
        request.app[CHANGED].set()
        async for _ in ws:
            pass
    request.app[CONSOLES].discard(ws)
    return ws


async def baseline_pushes(app: web.Application) -> None:
    """After changes, at most twice a second: each visitor its position if it changed (at
    most once a second), each console the count and the first entries."""
    changed, held_back = app[CHANGED], False
    while True:
        if not held_back:
            await changed.wait()
        changed.clear()
        now, held_back = time.monotonic(), False
        for i, contact_id in enumerate(app[QUEUE]):
            v = app[SOCKETS].get(contact_id)
            if v is None or v.ws is None or v.sent == i + 1:
                continue
            if now - v.sent_at < 1.0:
                held_back = True
                continue
            v.sent, v.sent_at = i + 1, now
            await v.ws.send_str(json.dumps({"type": "queue", "contact_id": contact_id, "position": i + 1,
                                            "estimated_wait_s": None}))
        frame = json.dumps({"type": "queue", "total": len(app[QUEUE]), "contacts": [
            {"contact_id": c, "channel": "chat", "skill": "general", "priority": "normal"}
            for c in app[QUEUE][:FRAME_ENTRIES]]})
        for ws in list(app[CONSOLES]):
            with contextlib.suppress(ConnectionResetError):
                await ws.send_str(frame)
        await asyncio.sleep(0.5)


async def _baseline_tasks(app: web.Application) -> Any:
    task = asyncio.create_task(baseline_pushes(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def baseline_healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def baseline_app() -> web.Application:
    app = web.Application()
    app[QUEUE], app[SOCKETS], app[CONSOLES], app[CHANGED] = [], {}, set(), asyncio.Event()
    app.cleanup_ctx.append(_baseline_tasks)
    app.router.add_get("/healthz", baseline_healthz)
    app.router.add_post("/api/v1/contacts", baseline_create)
    app.router.add_get("/api/v1/contacts/{contact_id}/ws", baseline_visitor)
    app.router.add_get("/api/v1/console/ws", baseline_console)
    return app


# --- the load -----------------------------------------------------------------------------


@dataclass
class Measured:
    visitors: int
    duration_s: float
    first_queue_ns: list[int] = field(default_factory=list)
    failed: int = 0
    queue_frames: int = 0  # to the visitors, in all
    cpu_s: float = 0.0
    console_bytes: int = 0
    console_frames: int = 0
    console_largest: int = 0
    console_s: float = 0.0
    settled: asyncio.Event = field(default_factory=asyncio.Event)  # every arrival placed or failed

    def placed(self, after_ns: int | None) -> None:
        """One arrival got its first place (after so long), or failed (None)."""
        if after_ns is None:
            self.failed += 1
        else:
            self.first_queue_ns.append(after_ns)
        if len(self.first_queue_ns) + self.failed >= self.visitors:
            self.settled.set()

    def figures(self) -> dict[str, float]:
        lat = sorted(self.first_queue_ns)
        return {
            "first_queue_p50_ms": percentile_ms(lat, 50), "first_queue_p99_ms": percentile_ms(lat, 99),
            "first_queue_max_ms": lat[-1] / 1e6 if lat else float("nan"),
            "failed": float(self.failed),
            "cpu_ms_per_join": self.cpu_s * 1000 / self.visitors,
            "console_bytes_per_s": self.console_bytes / self.console_s if self.console_s else float("nan"),
            "console_largest_frame": float(self.console_largest),
            "queue_frames_per_visitor": self.queue_frames / self.visitors,
        }


def server_env(target: str, _port: int, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    if target == "ours":
        env["HELPLINE_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'surge.db'}"
        env["HELPLINE_LOG_LEVEL"] = "warning"
        for name in ("CONTACTS_PER_CLIENT", "CONTACTS_OVERALL", "MESSAGES_PER_SOCKET",
                     "MESSAGES_PER_CONTACT"):
            env[f"HELPLINE_LIMIT_{name}"] = "1000/s,burst=100000"  # measures the queue, not the limits
    return env


async def supervisor_console(server: ServerProcess, bench: Bench, workdir: Path, m: Measured,
                             ready: asyncio.Event, stop: asyncio.Event) -> None:
    """Ours: a supervisor added, logged in, its console open (offline); the baseline: a
    console socket. Counts what it is sent until ``stop``."""
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    try:
        if server.name == "ours":
            env = server_env("ours", server.port, workdir)
            proc = await asyncio.create_subprocess_exec(
                *bench.helpline, "counsellor", "add", "sup", "--role", "supervisor", "--password-stdin",
                cwd=workdir, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out, _ = await asyncio.wait_for(proc.communicate(f"{PASSWORD}\n".encode()), 120)
            if proc.returncode != 0:
                raise RuntimeError(f"counsellor add: {out.decode(errors='replace')}")
            async with http.post(f"{server.url}/api/v1/auth/login",
                                 json={"username": "sup", "password": PASSWORD}) as r:
                if r.status != 200:
                    raise RuntimeError(f"login: HTTP {r.status}")
        async with http.ws_connect(f"{server.ws_url}/api/v1/console/ws", max_msg_size=0) as ws:
            await ws.send_str(json.dumps({"type": "hello", "after": {}}))
            ready.set()
            started = time.monotonic()
            reader = asyncio.ensure_future(ws.receive())
            stopping = asyncio.ensure_future(stop.wait())
            while True:
                await asyncio.wait({reader, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stopping.done():
                    reader.cancel()
                    break
                msg = reader.result()
                if msg.type != WSMsgType.TEXT:
                    stopping.cancel()
                    break
                size = len(msg.data.encode())
                m.console_bytes += size
                m.console_frames += 1
                m.console_largest = max(m.console_largest, size)
                reader = asyncio.ensure_future(ws.receive())
            m.console_s = time.monotonic() - started
    finally:
        await http.close()


async def young_person(http: aiohttp.ClientSession, server: ServerProcess, m: Measured,
                       stop: asyncio.Event) -> None:
    started, placed = time.perf_counter_ns(), False
    try:
        async with http.post(f"{server.url}/api/v1/contacts", json={"channel": "chat", "profile": {}}) as r:
            if r.status != 201:
                m.placed(None)
                return
            created = await r.json()
        async with http.ws_connect(f"{server.ws_url}{created['websocket_url']}", heartbeat=None) as ws:
            await ws.send_str(json.dumps({"type": "hello", "token": created["token"]}))
            async with asyncio.timeout(FIRST_QUEUE_TIMEOUT_S):
                async for msg in ws:
                    if msg.type == WSMsgType.TEXT and '"queue"' in msg.data:
                        m.placed(time.perf_counter_ns() - started)
                        placed = True
                        m.queue_frames += 1
                        break
            reader = asyncio.ensure_future(_count_queue_frames(ws, m))
            await stop.wait()
            reader.cancel()
    except (aiohttp.ClientError, TimeoutError, OSError):
        if not placed:
            m.placed(None)


async def _count_queue_frames(ws: aiohttp.ClientWebSocketResponse, m: Measured) -> None:
    async for msg in ws:
        if msg.type == WSMsgType.TEXT and '"queue"' in msg.data:
            m.queue_frames += 1


async def load(server: ServerProcess, bench: Bench, workdir: Path, visitors: int, duration: float,
               drain: float) -> Measured:
    await server.wait_healthy(30)
    m = Measured(visitors, duration)
    ready, stop = asyncio.Event(), asyncio.Event()
    console = asyncio.ensure_future(supervisor_console(server, bench, workdir, m, ready, stop))
    async with asyncio.timeout(150):
        await asyncio.wait({console, asyncio.ensure_future(ready.wait())},
                           return_when=asyncio.FIRST_COMPLETED)
    if console.done():
        console.result()  # raises what failed
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as http:
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        people: list[asyncio.Task[None]] = []
        for i in range(visitors):
            await asyncio.sleep(max(0.0, t0 + duration * i / visitors - time.monotonic()))
            people.append(asyncio.create_task(young_person(http, server, m, stop)))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(drain):  # every arrival placed (or failed)
                await m.settled.wait()
        m.cpu_s = cpu_seconds(server.pid) - cpu0
        log(f"{server.name}: {len(m.first_queue_ns)} placed, {m.failed} failed in "
            f"{time.monotonic() - t0:.1f} s")
        stop.set()
        await asyncio.gather(*people, console, return_exceptions=True)
    return m


def table(results: dict[str, Measured]) -> list[str]:
    names = {"first_queue_p50_ms": "POST to first queue, p50 (ms)",
             "first_queue_p99_ms": "POST to first queue, p99 (ms)",
             "first_queue_max_ms": "POST to first queue, max (ms)", "failed": "arrivals failed",
             "cpu_ms_per_join": "server CPU per arrival (ms)",
             "console_bytes_per_s": "bytes/s to the supervisor's console",
             "console_largest_frame": "largest console frame (bytes)",
             "queue_frames_per_visitor": "queue frames per young person"}
    figs = {t: r.figures() for t, r in results.items()}
    header = ["", *figs]
    if len(figs) == 2:
        header.append("ours / baseline")
    rows = [header]
    for key, title in names.items():
        row = [title, *(figure(f[key], 2 if key != "console_bytes_per_s" else 0) for f in figs.values())]
        if len(figs) == 2:
            row.append(figure(ratio(figs["ours"][key], figs["baseline"][key]), 2))
        rows.append(row)
    return aligned(rows, 1)


def raise_file_limit(sockets: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * sockets + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    Bench.add_options(p)
    p.add_argument("--visitors", type=int, default=1000, help="young people arriving (default 1,000)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds over which they arrive")
    p.add_argument("--drain", type=float, default=60.0, help="seconds to wait for the last first places")
    args = p.parse_args(argv)
    if not args.baseline_server:
        Bench.check_options(p, args)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.baseline_server:
        return serve_baseline(baseline_app(), args.port)
    bench = Bench(args.targets, args.helpline, args.pin)
    raise_file_limit(args.visitors + 16)

    async def run() -> dict[str, tuple[Measured, list[str]]]:
        return await bench.run_targets(
            __file__, server_env,
            lambda server, workdir: load(server, bench, workdir, args.visitors, args.duration, args.drain))

    results = run_cli(run())
    if isinstance(results, int):
        return results
    measured = {t: r for t, (r, _) in results.items()}
    if args.json:
        print(json.dumps(json_ready({t: r.figures() for t, r in measured.items()}), indent=2))
        return 0
    pinned = "pinned apart from the load" if bench.pinned else "unpinned"
    print(f"surge: {args.visitors:,} young people arrive over {args.duration:.0f} s, nobody available, "
          f"one supervisor's console open; servers {pinned}")
    print("\n".join(table(measured)))
    for target, (_, problems) in results.items():
        if problems:
            print(f"{target}: {len(problems)} warning/error lines in the server's log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
