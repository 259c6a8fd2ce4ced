"""The availability history the staffing planner reads: a span while a counsellor can take
contacts (available, console live), ended by a break, going offline, a console that closes,
or a process that died."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from helpline.store.tables import AvailabilitySpan, Counsellor
from tests.clients import Clients, Server

Span = tuple[datetime, datetime | None]


async def spans_of(server: Server, counsellor_id: int) -> list[Span]:
    async with server.services.ctx.store.reading() as tx:
        rows = await tx.conn.execute(
            select(AvailabilitySpan.started_at, AvailabilitySpan.ended_at)
            .where(AvailabilitySpan.counsellor_id == counsellor_id).order_by(AvailabilitySpan.id)
        )
        return [(r.started_at, r.ended_at) for r in rows]


async def spans_become(
    server: Server, counsellor_id: int, wanted: Callable[[list[Span]], bool], timeout: float = 10.0
) -> list[Span]:
    """Wait until the counsellor's spans satisfy ``wanted`` (a console's departure and the
    sweep are written a moment after what the test sees)."""
    async with asyncio.timeout(timeout):
        while True:
            spans = await spans_of(server, counsellor_id)
            if wanted(spans):
                return spans
            await asyncio.sleep(0.05)  # written by the server's own tasks: no event to wait on


async def test_a_span_runs_while_the_counsellor_is_available_and_ends_with_a_break(
    server: Server, clients: Clients
) -> None:
    alice_id = await server.add_counsellor("alice")
    assert await spans_of(server, alice_id) == []
    alice = await clients.online("alice")  # console open, available
    [(started, ended)] = await spans_of(server, alice_id)
    assert ended is None
    await alice.send_json({"type": "status", "status": "break"})
    await alice.expect("status", status="break")
    [(_, ended)] = await spans_of(server, alice_id)
    assert ended is not None and ended >= started
    await alice.send_json({"type": "status", "status": "available"})
    await alice.expect("status", status="available")
    spans = await spans_of(server, alice_id)
    assert len(spans) == 2 and spans[1][1] is None  # a new span, the first one kept
    await alice.send_json({"type": "status", "status": "offline"})
    await alice.expect("status", status="offline")
    assert all(end is not None for _, end in await spans_of(server, alice_id))


async def test_a_counsellor_who_connects_on_break_has_no_span(server: Server, clients: Clients) -> None:
    alice_id = await server.add_counsellor("alice")
    alice = clients.counsellor("alice")
    await alice.login()
    await alice.connect(status="break")
    assert await spans_of(server, alice_id) == []


async def test_a_console_that_drops_ends_the_span_and_one_back_opens_another(
    server: Server, clients: Clients
) -> None:
    alice_id = await server.add_counsellor("alice")
    alice = await clients.online("alice")
    await alice.drop()
    [(_, ended)] = await spans_become(server, alice_id, lambda s: len(s) == 1 and s[0][1] is not None)
    await alice.connect(status=None)  # the page reloads: still available, console live again
    spans = await spans_become(server, alice_id, lambda s: len(s) == 2)
    assert spans[1][1] is None and spans[1][0] >= ended


async def test_the_sweep_closes_the_span_a_dead_process_left_open_when_its_console_was_last_seen(
    server: Server,
) -> None:
    alice_id = await server.add_counsellor("alice")
    now = datetime.now(UTC).replace(microsecond=0)
    last_seen = now - timedelta(minutes=30)
    async with server.services.ctx.store.transaction() as tx:  # what a process that died leaves
        await tx.conn.execute(
            update(Counsellor).where(Counsellor.id == alice_id)
            .values(status="available", connected=True, seen_at=last_seen)
        )
        await tx.conn.execute(insert(AvailabilitySpan).values(
            counsellor_id=alice_id, started_at=now - timedelta(hours=2), ended_at=None,
            max_chats=3, max_voice=0,
        ))
    [(started, ended)] = await spans_become(server, alice_id, lambda s: s[0][1] is not None)
    assert (started, ended) == (now - timedelta(hours=2), last_seen)
