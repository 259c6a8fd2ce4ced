"""`helpline serve` as a child process on a loopback port, with its own SQLite database
and captured output in a given directory; or `helpline serve --workers N` (on PostgreSQL
and Redis), a supervisor and its N worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path
from typing import IO

import aiohttp

from tests.clients import NO_LIMITS, TEST_DATA_KEYS

READY_TIMEOUT = 20.0  # a cold start upgrades the database first
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def helpline_command() -> list[str]:
    """The `helpline` script installed next to this interpreter, else `python -m helpline.cli`."""
    script = Path(sys.executable).parent / "helpline"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "helpline.cli"]


class ServerProcess:
    """`helpline serve` in a child process. Exposes ``url`` and ``ws_url`` like the
    in-process ``tests.clients.Server``, so the test clients work against it unchanged.

    Every start writes its stdout and stderr to new files in ``directory``; the port and
    the database stay the same across restarts."""

    def __init__(self, directory: Path, command: list[str] | None = None, workers: int = 1,
                 **settings: str) -> None:
        """``settings``: HELPLINE_* variables by their short name (``redis_url=...``); a test
        may add more to ``self.settings`` (full names) before a start. ``command``: how to
        run `helpline`, the one installed next to this interpreter unless given. ``workers``:
        above 1, `serve --workers N` (give it a PostgreSQL and a Redis)."""
        self.directory = directory
        self.command = command or helpline_command()
        self.workers = workers
        self.settings = {f"HELPLINE_{k.upper()}": v for k, v in settings.items()}
        self.port = free_port()
        self.db_path = directory / "e2e.db"
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.log_files: list[Path] = []

    @classmethod
    def pair(cls, root: Path, first_workers: int = 1, **settings: str) -> tuple[ServerProcess, ServerProcess]:
        """Two servers with the same settings (one database), each in its own directory; the
        first may be `serve --workers N`."""
        servers = (cls(root / "a", workers=first_workers, **settings), cls(root / "b", **settings))
        for server in servers:
            server.directory.mkdir()
        return servers

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    def env(self) -> dict[str, str]:
        # Only our settings: a HELPLINE_* variable from the developer's shell (a Redis URL,
        # another database) must not leak into the server under test.
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
        env.update(
            {
                "HELPLINE_DATABASE_URL": f"sqlite+aiosqlite:///{self.db_path}",
                "HELPLINE_LOG_LEVEL": "info",
                **{f"HELPLINE_{k.upper()}": v for k, v in NO_LIMITS.items()},
                "PYTHONUNBUFFERED": "1",  # nothing held in a buffer when the process is killed
                **self.settings,
            }
        )
        if env["HELPLINE_DATABASE_URL"].startswith("postgresql"):
            env.setdefault("HELPLINE_DATA_KEYS", TEST_DATA_KEYS)
        return env

    def _open_logs(self) -> tuple[IO[bytes], IO[bytes]]:
        self.starts += 1
        out = self.directory / f"serve-{self.starts}.stdout.log"
        err = self.directory / f"serve-{self.starts}.stderr.log"
        self.log_files += [out, err]
        return out.open("wb"), err.open("wb")

    def output(self, streams: tuple[str, ...] = ("stdout", "stderr")) -> bytes:
        """Everything every run of the server has written so far on these streams."""
        return b"".join(
            path.read_bytes()
            for path in self.log_files
            if path.exists() and path.name.split(".")[-2] in streams
        )

    def database_bytes(self) -> bytes:
        """The raw bytes of the database and of its -wal and -shm files, if any."""
        files = [self.db_path, *(self.db_path.with_name(self.db_path.name + s) for s in ("-wal", "-shm"))]
        return b"".join(path.read_bytes() for path in files if path.exists())

    def stderr_tail(self, limit: int = 4000) -> str:
        if not self.log_files:
            return ""
        return self.log_files[-1].read_bytes()[-limit:].decode(errors="replace")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        assert not self.running, "the server is already running"
        out, err = self._open_logs()
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--always-open",  # a crash test, not an opening-hours one: never closed
                *(["--workers", str(self.workers)] if self.workers > 1 else []),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=self.env(),
                cwd=self.directory,
            )
        finally:  # the child holds its own copies
            out.close()
            err.close()
        await self.wait_ready()

    def worker_pids(self) -> list[int]:
        """With ``workers`` above 1: the supervisor's children, the workers running now."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        with contextlib.suppress(FileNotFoundError):
            return [int(pid) for pid in children.read_text().split()]
        return []

    def worker_of(self, client_port: int) -> int:
        """The pid of the worker holding the connection from this loopback client port (the
        kernel's socket table, then each worker's open descriptors)."""
        local, remote = f"0100007F:{self.port:04X}", f"0100007F:{client_port:04X}"
        inode = next(
            fields[9]
            for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
            if (fields := line.split())[1:3] == [local, remote]
        )
        for pid in self.worker_pids():
            with contextlib.suppress(FileNotFoundError, PermissionError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(FileNotFoundError):
                        if os.readlink(fd) == f"socket:[{inode}]":
                            return pid
        raise AssertionError(f"no worker holds the connection from port {client_port}")

    async def wait_ready(self) -> None:
        """Poll /healthz until the server answers 200 (with several workers, until every one
        has: the port is theirs once each has answered). The short pause between attempts is
        only for the port to open; the process exiting fails at once."""
        assert self.proc is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        last_error = "no attempt"
        if self.workers > 1:
            await self._wait_workers_listening(deadline)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2.0)) as http:
            while loop.time() < deadline:
                if self.proc.returncode is not None:
                    raise AssertionError(
                        f"the server exited with {self.proc.returncode} before it was ready; "
                        f"stderr:\n{self.stderr_tail()}"
                    )
                try:
                    async with http.get(f"{self.url}/healthz") as r:
                        if r.status == 200 and (await r.json()).get("status") == "ok":
                            return
                        last_error = f"HTTP {r.status}: {await r.text()}"
                except (aiohttp.ClientError, TimeoutError) as e:
                    last_error = repr(e)
                await asyncio.sleep(0.05)
        raise AssertionError(
            f"the server was not ready within {READY_TIMEOUT}s (last: {last_error}); "
            f"stderr:\n{self.stderr_tail()}"
        )

    def _workers_listening(self) -> int:
        """How many of the workers hold a listening socket on the port."""
        inodes = {
            fields[9]
            for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
            if (fields := line.split())[1] == f"0100007F:{self.port:04X}" and fields[3] == "0A"
        }
        listening = 0
        for pid in self.worker_pids():
            with contextlib.suppress(FileNotFoundError, PermissionError):
                if any(os.readlink(fd).removeprefix("socket:[").rstrip("]") in inodes
                       for fd in Path(f"/proc/{pid}/fd").iterdir()):
                    listening += 1
        return listening

    async def _wait_workers_listening(self, deadline: float) -> None:
        """Until each of the N workers listens on the port (another process: no event to
        wait on, so the kernel's table is read again and again)."""
        loop = asyncio.get_running_loop()
        assert self.proc is not None
        while loop.time() < deadline and self.proc.returncode is None:
            if self._workers_listening() >= self.workers:
                return
            await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """SIGKILL: a crash, with no shutdown code run at all (every worker, then their
        supervisor, with several)."""
        assert self.proc is not None and self.running, "no server to kill"
        if self.workers > 1:
            self.proc.send_signal(signal.SIGSTOP)  # so that it restarts none of them meanwhile
            for pid in self.worker_pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT)

    async def stop(self) -> int | None:
        """Stop gracefully (SIGTERM), or kill if it does not stop in time. Idempotent.
        The exit code; None if it had to be killed."""
        if not self.running:
            return self.proc.returncode if self.proc else None
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):  # it may have exited just now
            self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_TIMEOUT * (2 if self.workers > 1 else 1)):
                return await self.proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()
            return None

    async def cli(self, *args: str, stdin: str = "") -> tuple[int, str, str]:
        """Run `helpline <args>` against the same database; (exit code, stdout, stderr)."""
        proc = await asyncio.create_subprocess_exec(
            *self.command,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env(),
            cwd=self.directory,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), CLI_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"`helpline {' '.join(args)}` did not finish in {CLI_TIMEOUT}s") from None
        assert proc.returncode is not None
        return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    async def add_counsellor(self, username: str, password: str) -> None:
        code, out, err = await self.cli(
            "counsellor", "add", username, "--password-stdin", stdin=password + "\n"
        )
        assert code == 0, f"`helpline counsellor add {username}` exited with {code}: {out}{err}"
