"""`helpline keys rotate` and `helpline purge` on a large database while live conversations go on.

Fills a database (SQLite by default, or --database-url) with --contacts contacts ended 100 days
ago and --messages messages among them (seeded, so every run has the same data), sealed under an
old key, starts `helpline serve` on it with a new key added, and has --live young people and
counsellors exchange messages at --rate messages a second in all. It measures the live
messages' latency (visitor send to counsellor receipt) for --window seconds with nothing else
running (the baseline), then while `helpline keys rotate` re-seals every row under the new key,
then while `helpline purge` erases them, each as its own process; it prints each command's
time and the latency distributions side by side.

    .venv/bin/python benchmarks/data_lifecycle.py           # SQLite, 100,000 messages
    .venv/bin/python benchmarks/data_lifecycle.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from processes import free_port, helpline_command, log
from report import percentile_ms
from sqlalchemy import insert, text

from helpline.crypto import KeyRing, generate_entry
from helpline.store import Store
from helpline.store.migrate import upgrade
from helpline.store.tables import Base, Contact, Message

PASSWORD = "bench-password"
OLD_KEY = generate_entry(datetime.now(UTC).date())  # this run's: the texts are sealed as in service
NEW_KEY = generate_entry(datetime.now(UTC).date(), taken=[OLD_KEY.partition(":")[0]])
COMMANDS = (("rotate", ("keys", "rotate")), ("purge", ("purge",)))


def batched(items: Any, n: int) -> Any:
    """itertools.batched, which Python 3.11 lacks."""
    it = iter(items)
    while chunk := list(itertools.islice(it, n)):
        yield chunk


async def fill(url: str, contacts: int, messages: int, seed: int) -> None:
    """Old, ended conversations: every one due for the purge."""
    rng = random.Random(seed)
    ring = KeyRing.from_text(OLD_KEY)
    store = Store(url, ring)
    ended = datetime.now(UTC) - timedelta(days=100)  # past every term: messages, notes and contacts go
    async with store.transaction() as tx:
        for table in reversed(Base.metadata.sorted_tables):
            await tx.conn.execute(text(f"DELETE FROM {table.name}"))
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(contacts)]
    for chunk in batched(ids, 1000):
        async with store.transaction() as tx:
            await tx.conn.execute(insert(Contact), [{
                "id": cid, "token_hash": hashlib.sha256(cid.encode()).hexdigest(), "channel": "chat",
                "profile": {}, "skill": "general", "priority": 2, "state": "ended", "end_reason": "visitor",
                "created_at": ended - timedelta(minutes=20), "enqueued_at": ended - timedelta(minutes=20),
                "first_assigned_at": ended - timedelta(minutes=18), "ended_at": ended,
                "visitor_seen_at": ended, "last_seq": 0, "visitor_sockets": 0,
            } for cid in chunk])
    per_contact = messages // contacts

    def sealed(cid: str, seq: int) -> dict[str, str]:
        said = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30)))
        stored, key_id = ring.seal(said, cid, f"message:{seq}")
        return {"text": stored, "key_id": key_id}

    rows = ({"contact_id": cid, "seq": n + 1, "sender": rng.choice(("visitor", "counsellor")),
             "sent_at": ended, **sealed(cid, n + 1)}
            for cid in ids for n in range(per_contact))
    for chunk in batched(rows, 5000):
        async with store.transaction() as tx:
            await tx.conn.execute(insert(Message), chunk)
    await store.close()


WORDS = ("je", "suis", "harcelé", "sur", "snap", "depuis", "une", "semaine", "ils", "ont", "des",
         "photos", "merci", "de", "ton", "message", "on", "peut", "en", "parler", "tu", "es", "pas", "seul")


class Live:
    """Young people and counsellors talking, one pair per conversation; every message's
    latency, by the time it was sent."""

    def __init__(self, url: str) -> None:
        self.url, self.ws_url = url, url.replace("http://", "ws://")
        self.sent: dict[str, float] = {}
        self.samples: list[tuple[float, int]] = []  # (sent at, latency ns)
        self.http: list[aiohttp.ClientSession] = []
        self.visitors: list[aiohttp.ClientWebSocketResponse] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, counsellors: list[str]) -> None:
        for n, name in enumerate(counsellors):
            session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            self.http.append(session)
            async with session.post(f"{self.url}/api/v1/auth/login",
                                    json={"username": name, "password": PASSWORD}) as r:
                assert r.status == 200, await r.text()
            ws = await session.ws_connect(f"{self.ws_url}/api/v1/console/ws")
            await ws.send_json({"type": "hello", "after": {}})
            await ws.send_json({"type": "status", "status": "available"})
            self.tasks.append(asyncio.create_task(self._read(ws)))
            # Each young person from their own address, as the proxy in front tells the server.
            visitor = aiohttp.ClientSession(headers={"X-Forwarded-For": f"198.51.100.{n + 1}"})
            self.http.append(visitor)
            async with visitor.post(f"{self.url}/api/v1/contacts", json={"channel": "chat"}) as r:
                assert r.status == 201, await r.text()
                created = await r.json()
            vws = await visitor.ws_connect(f"{self.ws_url}/api/v1/contacts/{created['contact_id']}/ws")
            await vws.send_json({"type": "hello", "token": created["token"]})
            self.visitors.append(vws)
        await asyncio.sleep(2)  # the dispatcher gives each counsellor a conversation

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            event = frame.json()
            if event.get("type") == "message" and event.get("sender") == "visitor":
                sent = self.sent.pop(event["client_id"], None)
                if sent is not None:
                    self.samples.append((sent, time.perf_counter_ns() - int(sent * 1e9)))

    async def talk(self, rate: float, until: asyncio.Event) -> None:
        ids = itertools.count()
        period = len(self.visitors) / rate
        async def one(ws: aiohttp.ClientWebSocketResponse) -> None:
            next_at = time.perf_counter()
            while not until.is_set():
                client_id = f"b{next(ids)}"
                self.sent[client_id] = time.perf_counter()
                await ws.send_json({"type": "message", "client_id": client_id, "text": f"live {client_id}"})
                next_at += period
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await asyncio.gather(*(one(ws) for ws in self.visitors))

    def between(self, start: float, end: float) -> list[int]:
        return sorted(ns for at, ns in self.samples if start <= at < end)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for session in self.http:
            await session.close()


async def main(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="lifecycle-bench-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    env.update({"HELPLINE_DATABASE_URL": url, "HELPLINE_LOG_LEVEL": "warning",
                "HELPLINE_TRUSTED_PROXIES": "127.0.0.1", "HELPLINE_DATA_KEYS": f"{OLD_KEY},{NEW_KEY}"})
    await asyncio.to_thread(upgrade, url)
    started = time.perf_counter()
    await fill(url, args.contacts, args.messages, args.seed)
    took = time.perf_counter() - started
    log(f"filled {args.messages:,} messages in {args.contacts:,} contacts in {took:.1f} s")
    helpline = helpline_command()
    names = [f"c{i}" for i in range(args.live)]
    for name in names:
        add = await asyncio.create_subprocess_exec(*helpline, "counsellor", "add", name, "--password-stdin",
                                                   stdin=asyncio.subprocess.PIPE, env=env, cwd=workdir)
        await add.communicate((PASSWORD + "\n").encode())
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        *helpline, "serve", "--port", str(port), "--always-open", env=env, cwd=workdir,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    live = Live(f"http://127.0.0.1:{port}")
    try:
        for _ in range(200):
            try:
                async with aiohttp.ClientSession() as s, s.get(f"{live.url}/healthz") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        await live.open(names)
        stop = asyncio.Event()
        talking = asyncio.create_task(live.talk(args.rate, stop))
        quiet_start = time.perf_counter()
        await asyncio.sleep(args.window)
        quiet_end = time.perf_counter()
        runs = []  # (name, start, end, exit code, stdout)
        for name, command in COMMANDS:
            start = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(*helpline, *command, env=env, cwd=workdir,
                                                        stdout=asyncio.subprocess.PIPE,
                                                        stderr=asyncio.subprocess.DEVNULL)
            out, _ = await proc.communicate()
            runs.append((name, start, time.perf_counter(), proc.returncode, out.decode().rstrip()))
        stop.set()
        await talking
        await asyncio.sleep(1)  # the last messages arrive
    finally:
        await live.close()
        server.terminate()
        await server.wait()
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{database}: {args.messages:,} messages in {args.contacts:,} contacts; live: {args.live} "
          f"conversations, {args.rate:g} msg/s in all")
    phases = [("nothing else", quiet_start, quiet_end), *((f"during {n}", a, b) for n, a, b, _, _ in runs)]
    for label, start, end in phases:
        samples = live.between(start, end)
        p50, p99 = percentile_ms(samples, 50), percentile_ms(samples, 99)
        worst = max(samples) / 1e6 if samples else 0.0
        print(f"  {label:<15} {end - start:6.1f} s  n={len(samples):>5}  "
              f"p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {worst:7.1f} ms")
    for name, _, _, code, out in runs:
        print(f"`helpline {name}` (exit {code}):\n{out}")
    print(f"live messages sent but not received: {len(live.sent)}")
    return 0 if all(code == 0 for *_, code, _ in runs) else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    p.add_argument("--contacts", type=int, default=1000)
    p.add_argument("--messages", type=int, default=100_000)
    p.add_argument("--live", type=int, default=20, help="live conversations during the measure")
    p.add_argument("--rate", type=float, default=15.0,
                   help="live messages a second, in all (under the per-socket limit: one a second each)")
    p.add_argument("--window", type=float, default=10.0, help="seconds measured with nothing else running")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
