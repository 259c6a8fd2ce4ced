"""Flood benchmark: one address floods ``POST /api/v1/contacts`` while other young people
start chats, against the server with its default rate limits and the same server with
the limits out of the way (the baseline).

What it measures
    For ``--duration`` seconds, ``--flooders`` loops post new contacts as fast as the
    server answers, all from one address (203.0.113.66, in ``X-Forwarded-For`` from the
    trusted proxy 127.0.0.1, as behind a reverse proxy). Meanwhile ``--others`` young
    people, each from an address of their own, start one chat each at evenly spaced
    times. Printed: how many of the flood's and of the others' requests got through
    (201), were limited (429) or failed, and the others' latency (request to answer).

The two servers
    ours      ``helpline serve --always-open`` on a fresh SQLite database, default limits.
    baseline  the same, with every ``HELPLINE_LIMIT_*`` set out of reach.

Loopback only; each server is stopped and the temporary directory removed at the end,
even on Ctrl+C. The run stops by itself after the duration (plus a few seconds' drain).

    python benchmarks/flood.py
    python benchmarks/flood.py --others 100 --flooders 100 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from processes import HOST, Bench, ServerProcess, helpline_command, run_cli
from report import percentile_ms

FLOODER = "203.0.113.66"
NO_LIMITS = "1000/s,burst=100000"
LIMITS = ("CONTACTS_PER_CLIENT", "CONTACTS_OVERALL", "MESSAGES_PER_SOCKET", "MESSAGES_PER_CONTACT")
REQUEST_TIMEOUT_S = 30.0


@dataclass
class Outcome:
    flood: Counter[str] = field(default_factory=Counter)
    others: Counter[str] = field(default_factory=Counter)
    latencies_ns: list[int] = field(default_factory=list)


def server_env(target: str, _port: int, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    env["HELPLINE_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / f'{target}.db'}"
    env["HELPLINE_LOG_LEVEL"] = "warning"
    env["HELPLINE_TRUSTED_PROXIES"] = HOST
    if target == "baseline":
        for name in LIMITS:
            env[f"HELPLINE_LIMIT_{name}"] = NO_LIMITS
    return env


def other_address(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255 or 1}"


async def post(http: aiohttp.ClientSession, url: str, address: str) -> str:
    try:
        async with http.post(url, json={"channel": "chat", "profile": {}},
                             headers={"X-Forwarded-For": address}) as r:
            await r.read()
            return str(r.status)
    except (aiohttp.ClientError, TimeoutError) as e:
        return type(e).__name__


async def load(server: ServerProcess, others: int, flooders: int, duration: float) -> Outcome:
    await server.wait_healthy(30)
    url = f"{server.url}/api/v1/contacts"
    outcome = Outcome()
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        end = time.monotonic() + duration

        async def flood() -> None:
            while time.monotonic() < end:
                outcome.flood[await post(http, url, FLOODER)] += 1

        async def young_person(i: int) -> None:
            await asyncio.sleep(duration * (i + 0.5) / others)  # evenly spaced over the run
            started = time.perf_counter_ns()
            outcome.others[await post(http, url, other_address(i + 1))] += 1
            outcome.latencies_ns.append(time.perf_counter_ns() - started)

        await asyncio.gather(*(flood() for _ in range(flooders)), *(young_person(i) for i in range(others)))
    outcome.latencies_ns.sort()
    return outcome


def describe(target: str, o: Outcome, duration: float) -> str:
    flood_total = sum(o.flood.values())
    lat = o.latencies_ns
    return (
        f"{target:9} flood: {flood_total} requests ({flood_total / duration:.0f}/s), "
        f"{o.flood['201']} got through, {o.flood['429']} limited, "
        f"{flood_total - o.flood['201'] - o.flood['429']} failed | "
        f"others: {o.others['201']}/{sum(o.others.values())} got through, {o.others['429']} limited | "
        f"others' latency p50 {percentile_ms(lat, 50):.1f} ms, p99 {percentile_ms(lat, 99):.1f} ms, "
        f"max {lat[-1] / 1e6 if lat else float('nan'):.1f} ms"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    Bench.add_options(p)
    p.add_argument("--others", type=int, default=50, help="young people starting a chat meanwhile")
    p.add_argument("--flooders", type=int, default=50, help="concurrent requests from the flooding address")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of flood")
    args = p.parse_args(argv)
    if not args.baseline_server:
        Bench.check_options(p, args)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.baseline_server:  # the baseline is our own server, its limits out of reach
        helpline = args.helpline.split() if args.helpline else helpline_command()
        os.execv(helpline[0], [*helpline, "serve", "--host", HOST, "--port", str(args.port), "--always-open"])
    bench = Bench(args.targets, args.helpline, args.pin)

    async def run() -> int:
        results = await bench.run_targets(
            __file__, server_env,
            lambda server, _workdir: load(server, args.others, args.flooders, args.duration),
        )
        pinned = "pinned apart from the load" if bench.pinned else "unpinned"
        print(f"flood from one address ({args.flooders} at a time, {args.duration:.0f} s) while "
              f"{args.others} others each start a chat; servers {pinned}")
        for target, (outcome, problems) in results.items():
            print(describe(target, outcome, args.duration))
            if problems:
                print(f"{target:9} {len(problems)} warning/error lines in the server's log")
        return 0

    result = run_cli(run())
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
