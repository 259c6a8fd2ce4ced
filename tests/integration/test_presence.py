"""People going away: grace periods, requeue at the front, server restarts."""

from __future__ import annotations

import asyncio

import pytest

from helpline.domain.counsellor import Role
from tests.clients import Clients, Server
from tests.conftest import ServerFactory
from tests.integration.conftest import ClientsOf


@pytest.fixture
async def short_grace(make_server: ServerFactory) -> Server:
    return await make_server(visitor_grace_s=1.0, counsellor_grace_s=1.0)  # type: ignore[no-any-return]


async def test_a_visitor_gone_past_the_grace_period_is_abandoned_and_the_counsellor_told(
    short_grace: Server,
    clients_of: ClientsOf,
) -> None:
    visitor, alice = await clients_of(short_grace).talking()
    await visitor.drop()
    ended = await alice.expect("ended", contact_id=visitor.contact_id)
    assert ended["reason"] == "abandoned"
    await visitor.connect()
    assert (await visitor.expect("ended"))["reason"] == "abandoned"


async def test_a_visitor_back_within_the_grace_period_keeps_the_conversation(
    server: Server, clients: Clients
) -> None:
    visitor, alice = await clients.talking()
    await visitor.drop()
    await visitor.connect(after_seq=0)
    await visitor.expect("assigned")
    await alice.say(visitor.contact_id, "toujours là")
    assert (await visitor.expect("message"))["text"] == "toujours là"


async def test_the_counsellor_is_told_at_once_that_the_young_person_left_and_when_they_are_back(
    server: Server, clients: Clients
) -> None:
    visitor, alice = await clients.talking()
    await visitor.drop()  # the tab closed, or the network went
    gone = await alice.expect("visitor_presence", contact_id=visitor.contact_id)
    assert gone["present"] is False
    await visitor.connect(after_seq=0)
    back = await alice.expect("visitor_presence", contact_id=visitor.contact_id)
    assert back["present"] is True
    assert not [e for e in visitor.events if e["type"] == "visitor_presence"]  # not for the teen


async def test_a_console_that_reconnects_learns_whether_the_young_person_is_there(
    server: Server, clients: Clients
) -> None:
    visitor, alice = await clients.talking()
    assert next(e for e in alice.events if e["type"] == "assigned")["contact"]["visitor_present"] is True
    await visitor.drop()
    await alice.expect("visitor_presence", contact_id=visitor.contact_id, present=False)
    await alice.drop()  # the counsellor's page reloads while the young person is away
    await alice.connect(status=None)
    again = await alice.expect("assigned")
    assert again["contact"]["visitor_present"] is False
    second = clients.visitor()  # a second tab of the same young person, then the first returns
    second.contact_id, second.token = visitor.contact_id, visitor.token
    await second.connect()
    await second.expect("assigned")  # the server has it
    await visitor.connect()
    await visitor.expect("assigned")
    await second.drop()  # one of the two closes: someone is still reading
    told = [await alice.expect("visitor_presence", contact_id=visitor.contact_id) for _ in range(3)]
    assert [e["present"] for e in told] == [True, True, True]


async def test_the_floor_shows_at_once_that_a_counsellors_console_closed(
    server: Server, clients: Clients
) -> None:
    await server.add_counsellor("sam", role=Role.SUPERVISOR)
    await server.add_counsellor("alice", display_name="Alice")
    sam = await clients.online("sam")
    alice = await clients.online("alice")
    await alice.drop()
    async with asyncio.timeout(10):
        while True:  # overviews come as the floor changes; the one after the drop says it
            floor = await sam.expect("overview")
            if {c["display_name"]: c for c in floor["counsellors"]}["Alice"]["connected"] is False:
                break


async def test_a_counsellor_gone_past_grace_gives_contacts_back_at_the_front(
    short_grace: Server, clients_of: ClientsOf
) -> None:
    clients = clients_of(short_grace)
    first, alice = await clients.talking(max_chats=1)
    second = clients.visitor()  # arrives later, waits behind
    await second.start()
    await second.connect()
    await second.expect("queue", position=1)

    await alice.drop()
    requeued = await first.expect("requeued")
    assert requeued["reason"] == "counsellor_disconnected"
    assert (await first.expect("queue"))["position"] == 1  # kept its original place
    assert (await second.expect("queue", position=2))["position"] == 2

    await short_grace.add_counsellor("bob", max_chats=1)
    bob = await clients.online("bob")
    assert (await bob.expect("assigned"))["contact"]["contact_id"] == first.contact_id


async def test_a_restart_keeps_queued_and_active_contacts(
    make_server: ServerFactory, clients_of: ClientsOf
) -> None:
    server = await make_server()
    clients = Clients(server)
    await server.add_counsellor("alice", max_chats=1)
    talking, waiting = clients.visitor(), clients.visitor()
    await talking.start()
    await talking.connect()
    alice = await clients.online("alice")
    await alice.expect("assigned")
    await waiting.start()
    await waiting.connect()
    await waiting.expect("queue", position=1)
    await talking.say("avant")
    await clients.close()
    await server.stop()

    restarted = await make_server()
    clients = clients_of(restarted)
    talking2, waiting2 = clients.visitor(), clients.visitor()
    talking2.contact_id, talking2.token = talking.contact_id, talking.token
    waiting2.contact_id, waiting2.token = waiting.contact_id, waiting.token
    await talking2.connect(after_seq=1)
    await talking2.expect("assigned")
    await waiting2.connect()
    assert (await waiting2.expect("queue"))["position"] == 1
    alice2 = clients.counsellor("alice")
    await alice2.login()
    await alice2.connect(after={talking.contact_id: 1})
    assert (await alice2.expect("assigned"))["contact"]["contact_id"] == talking.contact_id
    await alice2.say(talking.contact_id, "après")
    assert (await talking2.expect("message"))["text"] == "après"
