"""Several server processes on one PostgreSQL and one Redis: events cross between
them and an assignment is made once, whoever dispatches."""

from __future__ import annotations

import asyncio

import pytest

from helpline.bus.redis import RedisBus
from helpline.domain.contact import Channel
from tests.clients import Clients, start_server

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def test_a_visitor_on_one_server_talks_with_a_counsellor_on_another(
    postgres_url: str, redis_url: str
) -> None:
    a = await start_server(database_url=postgres_url, redis_url=redis_url)
    b = await start_server(database_url=postgres_url, redis_url=redis_url)
    on_a, on_b = Clients(a), Clients(b)
    try:
        await a.add_counsellor("alice")
        visitor = await on_a.waiting_visitor()
        alice = await on_b.online("alice")
        await alice.expect("assigned")
        await visitor.expect("assigned")
        await visitor.say("depuis A")
        assert (await alice.expect("message"))["text"] == "depuis A"
        await alice.say(visitor.contact_id, "depuis B")
        assert (await visitor.expect("message", sender="counsellor"))["text"] == "depuis B"
    finally:
        await on_a.close()
        await on_b.close()
        await a.stop()
        await b.stop()


async def test_two_dispatchers_racing_never_assign_a_contact_twice_nor_overfill(
    postgres_url: str, redis_url: str
) -> None:
    a = await start_server(database_url=postgres_url, redis_url=redis_url)
    b = await start_server(database_url=postgres_url, redis_url=redis_url)
    clients = Clients(a)
    try:
        for name in ("c1", "c2", "c3"):
            await a.add_counsellor(name, max_chats=2)
        visitors = [clients.visitor() for _ in range(10)]
        for v in visitors:
            await v.start()
        for name in ("c1", "c2", "c3"):
            c = clients.counsellor(name)
            await c.login()
            await c.connect()
        for _ in range(5):  # both processes dispatch at once, again and again
            await asyncio.gather(a.services.floor.dispatch(), b.services.floor.dispatch())
        async with a.services.ctx.store.reading() as tx:
            loads = {c: (await tx.contacts.active_counts(c))[Channel.CHAT] for c in (1, 2, 3)}
            waiting = await tx.contacts.waiting()
        assert loads == {1: 2, 2: 2, 3: 2}
        assert len(waiting) == 4
        assigned = [e for c in clients.opened[10:] for e in c.events if e["type"] == "assigned"]
        ids = [e["contact"]["contact_id"] for e in assigned]
        assert len(ids) == len(set(ids)) == 6
    finally:
        await clients.close()
        await a.stop()
        await b.stop()


async def test_the_redis_bus_delivers_to_each_subscriber_once(redis_url: str) -> None:
    publisher, receiver = RedisBus(redis_url), RedisBus(redis_url)
    await publisher.start()
    await receiver.start()
    got: list[dict] = []
    arrived = asyncio.Event()

    def handler(event: dict) -> None:
        got.append(event)
        if len(got) == 3:
            arrived.set()

    try:
        sub = await receiver.subscribe("contact:test", handler)
        for i in range(3):
            await publisher.publish("contact:test", {"n": i})
        await asyncio.wait_for(arrived.wait(), 5)
        assert got == [{"n": 0}, {"n": 1}, {"n": 2}]
        await sub.close()
    finally:
        await publisher.close()
        await receiver.close()
