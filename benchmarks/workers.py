"""Several processes on one machine: the chat relay benchmark against `helpline serve
--workers N` on PostgreSQL and Redis, beside the bare relay, in the same run.

The load is `benchmarks/chat_relay.py`'s, unchanged (K conversations, a visitor socket
each, counsellors holding 20; visitors send at a fixed total rate; latency is visitor send
to counsellor receipt). The targets, one after the other:

    baseline    chat_relay's bare aiohttp relay (no database, no checks), one process
    workers-N   `helpline serve --workers N` on the PostgreSQL database given (emptied and
                migrated before each run) and the Redis given, for each N of --workers

The kernel spreads the sockets over the workers (SO_REUSEPORT), so a visitor and their
counsellor are often on different workers and their messages cross Redis. Nothing is
pinned by default: the workers, PostgreSQL, Redis and the load generator share the
machine's cores, as they would on one host. Besides chat_relay's figures, each run
reports the CPU of the supervisor and its workers, the machine's busy CPU and the
database's commits per second during the sending window.

    python benchmarks/workers.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench \\
        --redis-url redis://127.0.0.1:6379/0                   # K=200, 2000 msg/s, 1 and 2 workers
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import chat_relay
from processes import HOST, Bench, ServerProcess, cpu_seconds, free_port, log, run_cli
from report import aligned, figure, ratio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


def tree(pid: int) -> list[int]:
    """The process and its descendants (a supervisor and its workers)."""
    pids = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        pids += tree(int(child))
    return pids


def tree_cpu_seconds(pid: int) -> float:
    return sum(cpu_seconds(p) for p in tree(pid))


_status_kib = chat_relay.proc_status_kib


def tree_status_kib(pid: int, key: str) -> int:
    return sum(_status_kib(p, key) for p in tree(pid))


def machine_busy() -> tuple[int, int]:
    """(busy, total) clock ticks of every CPU since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


@dataclasses.dataclass
class Window:
    """What the sending window cost beyond chat_relay's own figures."""

    server_cpu_s: float = 0.0
    machine_busy_pct: float = 0.0
    commits: int = 0
    seconds: float = 0.0


class Probe:
    """Wraps chat_relay.send_paced to read the database's commits and the machine's CPU
    just before and after the sending window."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.pid = 0
        self.window = Window()

    async def commits(self) -> int:
        engine = create_async_engine(self.database_url)
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(text(
                    "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
                ))).scalar_one())
        finally:
            await engine.dispose()

    def install(self) -> None:
        send_paced = chat_relay.send_paced

        async def measured(*args: Any, **kwargs: Any) -> chat_relay.Pace:
            commits, busy, cpu, started = await self.commits(), machine_busy(), tree_cpu_seconds(self.pid), \
                time.perf_counter()
            pace = await send_paced(*args, **kwargs)
            seconds = time.perf_counter() - started
            busy_after = machine_busy()
            self.window = Window(
                server_cpu_s=tree_cpu_seconds(self.pid) - cpu,
                machine_busy_pct=100 * (busy_after[0] - busy[0]) / max(1, busy_after[1] - busy[1]),
                commits=0, seconds=seconds,
            )
            await asyncio.sleep(0.5)  # pg_stat_database is updated when a backend reports
            self.window.commits = await self.commits() - commits
            return pace

        chat_relay.send_paced = measured  # type: ignore[assignment]


@dataclasses.dataclass(frozen=True)
class Config(chat_relay.Config):
    database_url: str = ""
    redis_url: str = ""

    def start(self, target: str, script: str, env: Any, workdir: Path) -> ServerProcess:
        if target == "baseline":
            return super().start(target, script, env, workdir)
        n = target.removeprefix("workers-")
        port = free_port()
        command = [*self.helpline, "serve", "--host", HOST, "--port", str(port), "--always-open",
                   "--workers", n]
        log(f"{target}: starting `serve --workers {n}` on {HOST}:{port}")
        # Named "ours": chat_relay's load then logs in counsellors and lets the router assign.
        return ServerProcess.start("ours", command, port, env("ours", port, workdir), workdir, None)


async def reset(database_url: str) -> None:
    """The database migrated and emptied, so every run starts alike."""
    from helpline.store.migrate import upgrade
    from helpline.store.tables import Base

    await asyncio.to_thread(upgrade, database_url)
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {', '.join(Base.metadata.tables)} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


async def run(config: Config, targets: Sequence[str]) -> dict[str, tuple[chat_relay.Result, Window]]:
    from helpline.crypto import generate_entry

    keys = generate_entry(date.today())

    def server_env(workdir: Path | None) -> dict[str, str]:
        env = plain_env(workdir)
        if workdir is not None:
            env.update(HELPLINE_DATABASE_URL=config.database_url, HELPLINE_REDIS_URL=config.redis_url,
                       HELPLINE_DATA_KEYS=keys)
        return env

    plain_env = chat_relay.server_env
    chat_relay.server_env = server_env  # the counsellors are added to this database too
    chat_relay.cpu_seconds = tree_cpu_seconds  # a supervisor and its workers, all counted
    chat_relay.proc_status_kib = tree_status_kib
    probe = Probe(config.database_url)
    probe.install()
    results: dict[str, tuple[chat_relay.Result, Window]] = {}
    for target in targets:
        if target != "baseline":
            await reset(config.database_url)
        one = dataclasses.replace(config, targets=(target,))

        def env(name: str, _port: int, workdir: Path) -> dict[str, str]:
            return server_env(workdir if name == "ours" else None)

        async def load(server: ServerProcess, workdir: Path, one: Config = one
                       ) -> tuple[chat_relay.Recorder, chat_relay.Measured]:
            probe.pid = server.pid
            recorder = chat_relay.Recorder(config.conversations)
            return recorder, await chat_relay.load_server(server, one, workdir, recorder)

        outcomes = await one.run_targets(chat_relay.THIS_FILE, env, load)
        (recorder, measured), problems = outcomes[target]
        results[target] = (chat_relay.result_of(target, one, recorder, measured, len(problems)),
                           dataclasses.replace(probe.window) if target != "baseline" else Window())
    return results


def report(config: Config, results: dict[str, tuple[chat_relay.Result, Window]]) -> str:
    names = list(results)
    rows = [["", *names]]

    def row(label: str, cell: Any) -> None:
        rows.append([label, *(cell(*results[n]) for n in names)])

    row("delivered in window, msg/s", lambda r, w: figure(r.throughput, 1))
    row("lost / duplicates / out of order", lambda r, w: f"{r.lost} / {r.duplicates} / {r.out_of_order}")
    row("latency p50, ms", lambda r, w: figure(r.latency_ms["p50"], 2))
    row("latency p99, ms", lambda r, w: figure(r.latency_ms["p99"], 2))
    row("latency max, ms", lambda r, w: figure(r.latency_ms["max"], 2))
    row("ack latency p50 / p99, ms",
        lambda r, w: f"{figure(r.ack_latency_ms['p50'], 2)} / {figure(r.ack_latency_ms['p99'], 2)}")
    row("server CPU (all its processes), % of a core", lambda r, w: figure(r.server_cpu_pct, 0))
    row("machine busy (all cores), %", lambda r, w: figure(w.machine_busy_pct, 0) if w.seconds else "")
    row("database commits/s", lambda r, w: figure(w.commits / w.seconds, 0) if w.seconds else "")
    row("server RSS per socket, KiB", lambda r, w: figure(r.rss_kib["per_socket"], 1))
    row("unexpected closes / server log problems",
        lambda r, w: f"{sum(r.unexpected_closes.values())} / {r.server_log_problems}")
    head = (f"workers: {config.conversations} conversations, {config.rate:g} msg/s offered for "
            f"{config.duration:g} s, PostgreSQL + Redis on this machine, {os.cpu_count()} CPUs, "
            f"{'pinned' if config.pinned else 'unpinned'}")
    lines = [head, *aligned(rows, left=1)]
    one, two = results.get("workers-1"), results.get("workers-2")
    if one and two:
        throughput = ratio(two[0].throughput, one[0].throughput)
        p99 = ratio(two[0].latency_ms["p99"], one[0].latency_ms["p99"])
        lines.append(f"SUMMARY: 2 workers / 1 worker: throughput {figure(throughput, 2)}x, "
                     f"p99 {figure(p99, 2)}x")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", required=True, help="a PostgreSQL database this run may empty")
    p.add_argument("--redis-url", required=True)
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts (1,2)")
    p.add_argument("--no-baseline", action="store_true", help="skip the bare relay")
    p.add_argument("--conversations", "-k", type=int, default=200)
    p.add_argument("--rate", type=float, default=2000.0)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--drain", type=float, default=10.0)
    Bench.add_options(p)
    p.set_defaults(pin=False)
    args = p.parse_args(argv)
    args.targets = "ours"
    Bench.check_options(p, args)
    counts = [int(n) for n in args.workers.split(",")]
    targets = ([] if args.no_baseline else ["baseline"]) + [f"workers-{n}" for n in counts]
    config = Config(
        conversations=args.conversations, rate=args.rate, duration=args.duration, drain=args.drain,
        text_bytes=80, concurrency=50, setup_timeout=180.0, pin=args.pin, targets=tuple(targets),
        helpline=args.helpline, database_url=args.database_url, redis_url=args.redis_url,
    )
    chat_relay.raise_file_limit(config.conversations + config.counsellors)
    results = run_cli(run(config, targets))
    if isinstance(results, int):
        return results
    print(report(config, results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
