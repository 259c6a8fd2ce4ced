"""What the benchmarks share: starting a server process (ours or a baseline) pinned to
some CPUs, reading its CPU time and its log, waiting until it answers; running each target
in turn and cleaning up whatever happens, with the command line options that say which."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypeVar

import aiohttp
from aiohttp import web

HOST = "127.0.0.1"
T = TypeVar("T")


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def helpline_command() -> list[str]:
    """The ``helpline`` script next to this interpreter, else ``python -m helpline.cli``."""
    sibling = Path(sys.executable).with_name("helpline")
    if sibling.exists():
        return [str(sibling)]
    return [sys.executable, "-m", "helpline.cli"]


def cpu_plan(pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """(server CPUs, load generator CPUs): the last CPU for the load generator, the rest
    for the server; nothing pinned if asked not to or with a single CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return None, None
    return set(cpus[:-1]), {cpus[-1]}


@dataclass
class ServerProcess:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    log_file: TextIO

    @classmethod
    def start(cls, name: str, command: Sequence[str], port: int, env: dict[str, str], workdir: Path,
              cpus: set[int] | None) -> ServerProcess:
        log_path = workdir / f"{name}.log"
        log_file = log_path.open("w")
        mine = os.sched_getaffinity(0)
        try:
            if cpus:  # the child inherits the affinity, its threads too
                os.sched_setaffinity(0, cpus)
            proc = subprocess.Popen(list(command), cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                    stdout=log_file, stderr=subprocess.STDOUT)
        finally:
            os.sched_setaffinity(0, mine)
        return cls(name, port, proc, log_path, log_file)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()

    def log_lines(self) -> list[str]:
        if not self.log_file.closed:
            self.log_file.flush()
        return self.log_path.read_text(errors="replace").splitlines()

    def problems(self) -> list[str]:
        """Log lines at warning level or above, and tracebacks."""
        return [line for line in self.log_lines()
                if '"level": "warning"' in line or '"level": "error"' in line or "Traceback" in line]

    async def wait_healthy(self, within_s: float) -> None:
        deadline = time.monotonic() + within_s
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    tail = "\n".join(self.log_lines()[-20:])
                    raise RuntimeError(f"{self.name} server exited ({self.proc.returncode}):\n{tail}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(f"{self.url}/healthz", timeout=aiohttp.ClientTimeout(total=2)) as r:
                        if r.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} server not healthy after {within_s:.0f} s")


# --- each target in turn ------------------------------------------------------------------


Env = Callable[[str, int, Path], dict[str, str]]  # (target, port, workdir) -> its environment


@dataclass(frozen=True)
class Bench:
    """The settings every benchmark has (its own settings extend these): the servers it
    loads one after the other, how to run ours, whether to pin CPUs. Ours runs ``helpline
    serve --always-open``; the baseline runs the benchmark's own script with
    ``--baseline-server``."""

    targets: tuple[str, ...]
    helpline: tuple[str, ...]
    pin: bool

    @property
    def pinned(self) -> bool:
        return cpu_plan(self.pin)[0] is not None

    @staticmethod
    def add_options(p: argparse.ArgumentParser) -> None:
        """The options every benchmark takes: which servers, pinned or not, how to run ours,
        the output's form; and the hidden ones that run the baseline server."""
        p.add_argument("--targets", default="ours,baseline", help="comma-separated: ours, baseline")
        p.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                       help="run the servers and the load generator on different CPUs (default on)")
        p.add_argument("--helpline", help="the helpline command (default: the script next to this "
                       "Python, else `python -m helpline.cli`)")
        p.add_argument("--json", action="store_true", help="print machine-readable results only")
        p.add_argument("--baseline-server", action="store_true", help=argparse.SUPPRESS)
        p.add_argument("--port", type=int, help=argparse.SUPPRESS)

    @staticmethod
    def check_options(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        """``args.targets`` as a tuple of names, ``args.helpline`` as a command."""
        targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
        if not targets or set(targets) - {"ours", "baseline"}:
            p.error("--targets takes ours, baseline or both")
        args.targets = targets
        args.helpline = tuple(shlex.split(args.helpline) if args.helpline else helpline_command())

    def start(self, target: str, script: str, env: Env, workdir: Path) -> ServerProcess:
        port = free_port()
        if target == "ours":
            command = [*self.helpline, "serve", "--host", HOST, "--port", str(port), "--always-open"]
        else:
            command = [sys.executable, script, "--baseline-server", "--port", str(port)]
        log(f"{target}: starting server on {HOST}:{port}")
        return ServerProcess.start(target, command, port, env(target, port, workdir), workdir,
                                   cpu_plan(self.pin)[0])

    async def run_targets(
        self, script: str, env: Env, load: Callable[[ServerProcess, Path], Awaitable[T]],
    ) -> dict[str, tuple[T, list[str]]]:
        """Each target in turn, the baseline first (its small figures are the ones a used
        process would disturb): start its server, ``load`` it from the load generator's CPU,
        stop it. What each load returned and the problem lines of its server's log, by
        target. Every server is stopped and the temporary directory removed whatever happens."""
        workdir = Path(tempfile.mkdtemp(prefix=f"{Path(script).stem}-bench-"))
        servers: list[ServerProcess] = []
        outcomes: dict[str, tuple[T, list[str]]] = {}
        mine = os.sched_getaffinity(0)
        loadgen_cpus = cpu_plan(self.pin)[1]
        try:
            for target in sorted(self.targets, key=lambda t: t != "baseline"):
                server = self.start(target, script, env, workdir)
                servers.append(server)
                if loadgen_cpus:
                    os.sched_setaffinity(0, loadgen_cpus)
                try:
                    measured = await load(server, workdir)
                finally:
                    os.sched_setaffinity(0, mine)
                    await asyncio.to_thread(server.stop)
                problems = server.problems()
                for line in problems[:5]:
                    log(f"{target} server log: {line[:300]}")
                if len(problems) > 5:
                    log(f"{target} server log: ... {len(problems) - 5} more problem lines")
                outcomes[target] = measured, problems
        finally:
            os.sched_setaffinity(0, mine)
            for server in servers:
                server.stop()  # already stopped unless something failed
            shutil.rmtree(workdir, ignore_errors=True)
        return {target: outcomes[target] for target in self.targets}


def serve_baseline(app: web.Application, port: int) -> int:
    """Run a benchmark's baseline server (in its own process) until it is stopped."""
    web.run_app(app, host=HOST, port=port, print=None, access_log=None, shutdown_timeout=5.0)
    return 0


def run_cli(main: Coroutine[Any, Any, T]) -> T | int:
    """Run a benchmark's load; the exit status instead if it was interrupted or failed."""
    try:
        return asyncio.run(main)
    except KeyboardInterrupt:
        log("interrupted; servers stopped, temporary directory removed")
        return 130
    except RuntimeError as e:  # a server that would not start, or a setup that failed
        log(f"failed: {e}")
        return 1
