"""`helpline serve` stopped (SIGTERM) in the middle of live traffic, twenty times in a
row: it always exits by itself, cleanly and soon, telling every socket it is going away
(1001), and every message it acknowledged is in the database."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import pytest

from tests.clients import Counsellor, Visitor
from tests.e2e.server_process import ServerProcess

pytestmark = pytest.mark.e2e

ROUNDS = 20
GOING_AWAY = 1001
PASSWORD = "secret-pass"


async def keep_talking(say: Callable[..., Awaitable[object]], acked: set[str], prefix: str) -> None:
    """Send message after message, each after the last one's ack, until the socket closes."""
    n = 0
    with contextlib.suppress(AssertionError, ConnectionError, RuntimeError, TimeoutError):
        while True:
            n += 1
            await say(client_id=f"{prefix}{n}")
            acked.add(f"{prefix}{n}")


async def test_sigterm_during_live_traffic_always_stops_the_server_and_keeps_what_it_acked(
    tmp_path: Path,
) -> None:
    server = ServerProcess(tmp_path)
    acked: dict[str, set[str]] = {}
    exits: list[int | None] = []
    try:
        await server.start()
        await server.cli("counsellor", "add", "alice", "--password-stdin", "--max-chats", "20",
                         stdin=PASSWORD + "\n")
        for round_ in range(ROUNDS):
            if round_:
                await server.start()
            visitor, alice = Visitor(server), Counsellor(server, "alice")  # type: ignore[arg-type]
            try:
                await visitor.start()
                await visitor.connect()
                await alice.login()
                await alice.connect()
                await alice.expect("assigned", timeout=15)
                await visitor.expect("assigned")
                contact = visitor.contact_id
                mine = acked[contact] = set()
                talks = [
                    asyncio.create_task(keep_talking(partial(visitor.say, "je suis là"), mine, "v")),
                    asyncio.create_task(keep_talking(partial(alice.say, contact, "je t'écoute"), mine, "c")),
                ]
                while len(mine) < 10:  # the traffic is flowing
                    await visitor.expect("message")
                exits.append(await server.stop())
                await asyncio.gather(*talks)
                assert visitor.close_code == GOING_AWAY, f"round {round_}: {visitor.close_code}"
            finally:
                await visitor.close()
                await alice.close()
    finally:
        await server.stop()
    assert exits == [0] * ROUNDS  # every time it stopped by itself, cleanly (None: it had to be killed)
    with contextlib.closing(sqlite3.connect(server.db_path)) as db:
        stored = set(db.execute("SELECT contact_id, client_id FROM messages").fetchall())
    missing = [(c, m) for c, ms in acked.items() for m in ms if (c, m) not in stored]
    assert missing == []
    assert sum(len(ms) for ms in acked.values()) >= ROUNDS * 10
