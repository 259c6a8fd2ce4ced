"""What the benchmarks share: starting a server process (ours or a baseline) pinned to
some CPUs, reading its CPU time and its log, waiting until it answers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import aiohttp

HOST = "127.0.0.1"


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
