"""`helpline serve --workers 2` on PostgreSQL and Redis: a young person on one worker and
their counsellor on the other talk as on one server; a worker killed mid-conversation is
restarted and the talk goes on through the other; SIGTERM to the supervisor stops every
worker cleanly and keeps what they acknowledged; a supervisor killed takes its workers
with it; a worker that cannot start is a crash loop the supervisor gives up on; SQLite
and a missing Redis are refused with one line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.clients import Counsellor, Visitor
from tests.e2e.redis_process import RedisProcess
from tests.e2e.server_process import ServerProcess, helpline_command
from tests.e2e.test_shutdown import keep_talking

pytestmark = pytest.mark.e2e

PASSWORD = "secret-pass"
GOING_AWAY = 1001
SCENARIO_TIMEOUT = 90.0


@pytest_asyncio.fixture
async def workers(tmp_path: Path, postgres_url: str, redis: RedisProcess) -> AsyncIterator[ServerProcess]:
    """`serve --workers 2`, started, with alice's account; stopped at the end."""
    server = ServerProcess(tmp_path, workers=2, database_url=postgres_url, redis_url=redis.url)
    try:
        await server.start()
        await server.cli("counsellor", "add", "alice", "--password-stdin", "--max-chats", "20",
                         stdin=PASSWORD + "\n")
        yield server
    finally:
        await server.stop()


def client_port(client: Visitor | Counsellor) -> int:
    assert client.ws is not None
    return int(client.ws.get_extra_info("sockname")[1])


async def stored_client_ids(url: str) -> set[tuple[str, str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT contact_id, client_id FROM messages"))
            return {(r[0], r[1]) for r in rows}
    finally:
        await engine.dispose()


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to read its exit."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll another process's state (its children) until ``condition()`` holds."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - another process's children: no event
            await asyncio.sleep(0.05)


@pytest.mark.postgres
async def test_a_worker_killed_mid_conversation_the_talk_goes_on_through_the_other(
    workers: ServerProcess,
) -> None:
    visitor, alice = Visitor(workers), Counsellor(workers, "alice")  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(SCENARIO_TIMEOUT):
            await visitor.start()
            await visitor.connect()
            await visitor.expect("queue")
            await alice.login()
            await alice.connect()
            contact = visitor.contact_id
            await alice.expect("assigned")
            await visitor.expect("assigned")
            # The kernel spreads connections over the workers: alice comes back until she is
            # on the other one than the young person.
            for _ in range(50):
                if workers.worker_of(client_port(alice)) != workers.worker_of(client_port(visitor)):
                    break
                await alice.drop()
                await alice.connect(after={contact: 0})
                await alice.expect("assigned")
            visitor_worker = workers.worker_of(client_port(visitor))
            assert workers.worker_of(client_port(alice)) != visitor_worker, "never on two workers"

            sent: dict[str, str] = {}
            for n in range(1, 7):  # across the workers, both ways, through Redis
                if n % 2:
                    sent[f"v{n}"] = f"visitor {n}"
                    assert (await visitor.say(sent[f"v{n}"], client_id=f"v{n}"))["seq"] == n
                    await alice.expect("message", contact_id=contact, seq=n)
                else:
                    sent[f"c{n}"] = f"alice {n}"
                    assert (await alice.say(contact, sent[f"c{n}"], client_id=f"c{n}"))["seq"] == n
                    await visitor.expect("message", seq=n)

            os.kill(visitor_worker, signal.SIGKILL)
            await visitor.closed()
            await visitor.drop()
            # alice's worker lives on: she is still connected and still writes.
            sent["c7"] = "alice 7, while the young person is away"
            assert (await alice.say(contact, sent["c7"], client_id="c7"))["seq"] == 7
            assert alice.close_code is None

            await visitor.connect(after_seq=6)  # on the other worker, or the restarted one
            assert (await visitor.expect("assigned"))["counsellor"] == {"display_name": "alice"}
            assert (await visitor.expect("message", seq=7))["text"] == sent["c7"]
            sent["v8"] = "visitor 8, back"
            assert (await visitor.say(sent["v8"], client_id="v8"))["seq"] == 8
            assert (await alice.expect("message", contact_id=contact, seq=8))["text"] == sent["v8"]

            await until(lambda: len(pids := workers.worker_pids()) == 2 and visitor_worker not in pids)
            assert workers.running
            assert b'"worker_died"' in workers.output(("stderr",))

            await visitor.send_json({"type": "end"})
            await alice.expect("ended", contact_id=contact)
            async with alice.http.get(f"{workers.url}/api/v1/contacts/{contact}/messages") as r:
                transcript = (await r.json())["messages"]
            assert [(m["seq"], m["text"]) for m in transcript] == list(enumerate(sent.values(), start=1))
            alice_seqs = [m["seq"] for m in alice.messages() if m["contact_id"] == contact]
            assert alice_seqs == list(range(1, 9)), f"alice got each message once, in order: {alice_seqs}"
    finally:
        await visitor.close()
        await alice.close()


@pytest.mark.postgres
async def test_sigterm_to_the_supervisor_stops_every_worker_cleanly_and_keeps_what_they_acked(
    workers: ServerProcess, postgres_url: str
) -> None:
    visitors = [Visitor(workers) for _ in range(4)]  # type: ignore[arg-type]
    alice = Counsellor(workers, "alice")  # type: ignore[arg-type]
    acked: set[str] = set()
    try:
        async with asyncio.timeout(SCENARIO_TIMEOUT):
            await alice.login()
            await alice.connect()
            for v in visitors:
                await v.start()
                await v.connect()
                await v.expect("assigned")
            pids = workers.worker_pids()
            flowing = asyncio.Event()

            async def say(v: Visitor, client_id: str) -> None:
                await v.say("je suis là", client_id=client_id)
                if len(acked) >= 40:  # the traffic is flowing
                    flowing.set()

            talks = [asyncio.create_task(keep_talking(partial(say, v), acked, f"v{i}-"))
                     for i, v in enumerate(visitors)]
            await flowing.wait()
            assert await workers.stop() == 0, "the supervisor must exit 0 by itself"
            await asyncio.gather(*talks)
            assert all(v.close_code == GOING_AWAY for v in visitors), [v.close_code for v in visitors]
            assert not [pid for pid in pids if alive(pid)], "a worker outlived its supervisor"
    finally:
        for c in (*visitors, alice):
            await c.close()
    stored = {client_id for _, client_id in await stored_client_ids(postgres_url)}
    assert acked - stored == set(), "every acknowledged message is in the database"
    assert workers.output(("stderr",)).count(b'"worker_stopped"') == 2


@pytest.mark.postgres
async def test_a_killed_supervisor_takes_its_workers_with_it(workers: ServerProcess) -> None:
    pids = workers.worker_pids()
    assert len(pids) == 2
    assert workers.proc is not None
    workers.proc.send_signal(signal.SIGKILL)
    await workers.proc.wait()
    # Each worker sees its pipe from the supervisor close and shuts down gracefully.
    await until(lambda: not any(alive(pid) for pid in pids))


@pytest.mark.postgres
async def test_a_worker_that_cannot_start_is_a_crash_loop_the_supervisor_gives_up_on(
    tmp_path: Path, postgres_url: str, redis: RedisProcess
) -> None:
    server = ServerProcess(tmp_path, workers=2, database_url=postgres_url, redis_url=redis.url)
    with socket.socket() as taken:  # the port is held by someone else, without SO_REUSEPORT
        taken.bind(("127.0.0.1", server.port))
        taken.listen()
        out = server.directory / "loop.log"
        proc = await asyncio.create_subprocess_exec(
            *server.command, "serve", "--host", "127.0.0.1", "--port", str(server.port),
            "--workers", "2", env=server.env(), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=out.open("wb"),
        )
        try:
            async with asyncio.timeout(60):
                code = await proc.wait()
        finally:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
    assert code == 1
    log = out.read_text()
    assert log.count('"worker_died"') >= 5
    assert '"worker_crash_loop"' in log


@pytest.mark.parametrize(
    ("settings", "needs"),
    [({"HELPLINE_DATABASE_URL": "sqlite+aiosqlite:///x.db"}, "PostgreSQL"),
     ({"HELPLINE_DATABASE_URL": "postgresql+asyncpg://h@127.0.0.1:1/h"}, "Redis")],
)
def test_several_workers_are_refused_on_sqlite_and_without_redis(
    tmp_path: Path, settings: dict[str, str], needs: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")} | settings
    result = subprocess.run([*helpline_command(), "serve", "--workers", "2"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: --workers needs " + needs)
    assert not (tmp_path / "x.db").exists(), "nothing was created"
