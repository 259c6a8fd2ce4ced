"""`helpline serve --workers N`: a supervisor process runs N server processes that all
listen on the same address and port (SO_REUSEPORT: the kernel spreads new connections
over them). PostgreSQL is the truth they share and Redis carries the events from one to
the others, so a young person may be on one worker and their counsellor on another.

The supervisor restarts a worker that dies (a worker dying over and over soon after its
start is a crash loop: it backs off, then gives up and exits 1), and on SIGTERM or SIGINT
asks every worker to stop (SIGTERM: each runs its own graceful shutdown) and waits for
them. Each worker watches a pipe from the supervisor: if the supervisor dies, however it
dies, the pipe closes and the worker stops gracefully by itself."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence

from aiohttp import web
from prometheus_client.multiprocess import mark_process_dead

from .config import Settings
from .logs import get_logger
from .metrics import MULTIPROCESS_DIR

log = get_logger("workers")

MIN_UPTIME_S = 10.0  # a worker that dies sooner than this after its start counts towards a loop
CRASH_LOOP = 5  # quick deaths in a row of one worker: the supervisor gives up
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)  # before restarting after the 1st, 2nd... quick death
STOP_TIMEOUT_S = 20.0  # a worker's own shutdown is bounded well within this; then SIGKILL


def refusal(settings: Settings) -> str | None:
    """Why these settings cannot run several processes on one machine, or None."""
    if settings.is_sqlite:
        return ("--workers needs PostgreSQL (HELPLINE_DATABASE_URL=postgresql+asyncpg://...): "
                "SQLite is one process's database")
    if not settings.redis_url:
        return ("--workers needs Redis (HELPLINE_REDIS_URL=redis://...): without it a worker "
                "never hears what happens on the others")
    return None


class Supervisor:
    """Keeps ``count`` workers running ``helpline serve <worker_args> --reuse-port``."""

    def __init__(self, count: int, worker_args: Sequence[str], *, metrics: bool = False) -> None:
        self.count = count
        self.metrics = metrics  # the workers' counters, added up (see helpline.metrics)
        self.metrics_dir: str | None = None
        self.command = [sys.executable, "-m", "helpline.cli", "serve", *worker_args, "--reuse-port"]
        self.stopping = asyncio.Event()
        self.crash_loop = False
        self.unclean = False
        self.pids: dict[int, int] = {}  # worker index -> pid of its current process

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        env = dict(os.environ)
        # One caller and sender key for every worker: unset, each would make its own, and a
        # block made on one worker would not hold on the others.
        if not env.get("HELPLINE_SECRET_KEY"):
            import secrets

            env["HELPLINE_SECRET_KEY"] = secrets.token_hex(32)
        if self.metrics:  # a fresh directory each run: counters start from zero with the server
            self.metrics_dir = env[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="helpline-metrics-")
        self.env = env
        try:
            await asyncio.gather(*(self._keep(i) for i in range(self.count)))
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            if self.metrics_dir is not None:
                shutil.rmtree(self.metrics_dir, ignore_errors=True)
        log.info("workers_stopped", crash_loop=self.crash_loop, unclean=self.unclean)
        return 1 if self.crash_loop or self.unclean else 0

    async def _keep(self, index: int) -> None:
        """Run worker ``index`` until the supervisor stops, restarting it when it dies."""
        loop = asyncio.get_running_loop()
        quick_deaths = 0
        while not self.stopping.is_set():
            started = loop.time()
            proc = await asyncio.create_subprocess_exec(
                *self.command, env=self.env, stdin=asyncio.subprocess.PIPE,
                start_new_session=True,  # a terminal's Ctrl+C reaches the supervisor only
            )
            self.pids[index] = proc.pid
            log.info("worker_started", worker=index, pid=proc.pid)
            code = await self._wait(proc)
            if self.metrics_dir is not None:  # its open sockets no longer count; its counters do
                mark_process_dead(proc.pid, self.metrics_dir)  # type: ignore[no-untyped-call]
            if code is None:  # stopped by the supervisor
                return
            uptime = loop.time() - started
            quick_deaths = quick_deaths + 1 if uptime < MIN_UPTIME_S else 0
            log.error("worker_died", worker=index, pid=proc.pid, code=code, uptime_s=round(uptime, 1))
            if quick_deaths >= CRASH_LOOP:
                log.error("worker_crash_loop", worker=index, deaths=quick_deaths)
                self.crash_loop = True
                self.stopping.set()
                return
            if quick_deaths:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(BACKOFF_S[quick_deaths - 1]):
                        await self.stopping.wait()

    async def _wait(self, proc: asyncio.subprocess.Process) -> int | None:
        """The worker's exit code if it died by itself; None once it was stopped because
        the supervisor is stopping (SIGTERM, then SIGKILL if it does not stop in time)."""
        exited = asyncio.ensure_future(proc.wait())
        stopping = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait((exited, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not self.stopping.is_set():
            return exited.result()
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                code = await exited
        except TimeoutError:
            log.error("worker_would_not_stop", pid=proc.pid)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            code = await proc.wait()
        if code != 0:
            self.unclean = True
        log.info("worker_stopped", pid=proc.pid, code=code)
        return None


def watch_supervisor(app: web.Application) -> None:
    """In a worker: stop gracefully (as on SIGTERM) once the supervisor's pipe on standard
    input closes, that is once the supervisor is gone, even killed."""

    async def start(_app: web.Application) -> None:
        loop = asyncio.get_running_loop()

        def readable() -> None:
            if not os.read(0, 4096):  # end of file: the supervisor is gone
                loop.remove_reader(0)
                os.kill(os.getpid(), signal.SIGTERM)

        loop.add_reader(0, readable)

    async def stop(_app: web.Application) -> None:
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(0)

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
