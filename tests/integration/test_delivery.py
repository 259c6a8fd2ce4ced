"""Nothing acknowledged is lost; nothing is stored or delivered twice."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.clients import Clients, Server


async def test_a_resend_with_the_same_client_id_returns_the_original_seq(
    server: Server, clients: Clients
) -> None:
    visitor, alice = await clients.talking(display_name="Alice")
    first = await visitor.say("j'ai peur", client_id="m-1")
    again = await visitor.say("j'ai peur", client_id="m-1")
    assert first["seq"] == again["seq"] == 1
    await visitor.say("suite", client_id="m-2")
    received = [m["seq"] for m in [await alice.expect("message"), await alice.expect("message")]]
    assert received == [1, 2]
    history = await server.services.conversations.history(visitor.contact_id)
    assert [(m.seq, m.text) for m in history] == [(1, "j'ai peur"), (2, "suite")]


async def test_concurrent_resends_store_one_message(server: Server, clients: Clients) -> None:
    visitor, _ = await clients.talking(display_name="Alice")
    second_tab = clients.visitor()
    second_tab.contact_id, second_tab.token = visitor.contact_id, visitor.token
    await second_tab.connect()
    await asyncio.gather(
        visitor.send_json({"type": "message", "client_id": "dup", "text": "une fois"}),
        second_tab.send_json({"type": "message", "client_id": "dup", "text": "une fois"}),
    )
    acks = await asyncio.gather(visitor.expect("ack"), second_tab.expect("ack"))
    assert acks[0]["seq"] == acks[1]["seq"] == 1
    history = await server.services.conversations.history(visitor.contact_id)
    assert len(history) == 1


async def test_a_reconnecting_visitor_gets_exactly_what_they_missed_in_order(
    server: Server, clients: Clients
) -> None:
    visitor, alice = await clients.talking(display_name="Alice")
    await visitor.say("un")
    await visitor.expect("message", seq=1)
    await visitor.drop()
    for text in ("deux", "trois", "quatre"):
        await alice.say(visitor.contact_id, text)
    await visitor.connect(after_seq=1)
    missed = [await visitor.expect("message") for _ in range(3)]
    assert [(m["seq"], m["text"]) for m in missed] == [(2, "deux"), (3, "trois"), (4, "quatre")]
    await visitor.say("cinq")
    assert (await visitor.expect("message"))["seq"] == 5
    seqs = [m["seq"] for m in visitor.messages()]
    assert seqs == sorted(set(seqs))


async def test_messages_written_while_waiting_reach_the_counsellor_on_assignment(
    server: Server, clients: Clients
) -> None:
    await server.add_counsellor("alice")
    visitor = await clients.waiting_visitor()
    await visitor.expect("queue")
    for text in ("allo", "il y a quelqu'un ?"):
        await visitor.say(text)
    alice = await clients.online("alice")
    await alice.expect("assigned")
    got = [await alice.expect("message") for _ in range(2)]
    assert [m["text"] for m in got] == ["allo", "il y a quelqu'un ?"]


async def test_every_tab_of_the_visitor_sees_the_whole_conversation(server: Server, clients: Clients) -> None:
    visitor, alice = await clients.talking(display_name="Alice")
    other_tab = clients.visitor()
    other_tab.contact_id, other_tab.token = visitor.contact_id, visitor.token
    await other_tab.connect()
    await visitor.say("depuis l'onglet 1")
    await alice.say(visitor.contact_id, "réponse")
    got = [await other_tab.expect("message") for _ in range(2)]
    assert [(m["sender"], m["text"]) for m in got] == [
        ("visitor", "depuis l'onglet 1"),
        ("counsellor", "réponse"),
    ]


async def test_a_reconnecting_console_resyncs_from_its_last_seq(server: Server, clients: Clients) -> None:
    visitor, alice = await clients.talking(display_name="Alice")
    await visitor.say("un")
    await alice.expect("message", seq=1)
    await alice.drop()
    await visitor.say("deux")
    await visitor.say("trois")
    await alice.connect(after={visitor.contact_id: 1}, status=None)
    assert (await alice.expect("assigned"))["contact"]["contact_id"] == visitor.contact_id
    got = [await alice.expect("message") for _ in range(2)]
    assert [m["text"] for m in got] == ["deux", "trois"]


async def test_typing_reaches_the_other_side_only(server: Server, clients: Clients) -> None:
    visitor, alice = await clients.talking(display_name="Alice")
    await visitor.send_json({"type": "typing"})
    assert (await alice.expect("typing"))["contact_id"] == visitor.contact_id
    await alice.send_json({"type": "typing", "contact_id": visitor.contact_id})
    assert (await visitor.expect("typing"))["sender"] == "counsellor"
    assert not [e for e in visitor.events if e["type"] == "typing" and e.get("sender") == "visitor"]


async def test_the_transcript_is_for_the_assigned_counsellor_or_a_supervisor(
    server: Server, clients: Clients
) -> None:
    from helpline.domain.counsellor import Role

    visitor, alice = await clients.talking(display_name="Alice")
    await visitor.say("confidentiel")
    await alice.say(visitor.contact_id, "reçu")
    await server.add_counsellor("bob")
    await server.add_counsellor("sam", role=Role.SUPERVISOR)
    url = f"{server.url}/api/v1/contacts/{visitor.contact_id}/messages"

    async with alice.http.get(url + "?after_seq=1") as r:
        assert r.status == 200
        assert [m["text"] for m in (await r.json())["messages"]] == ["reçu"]
    async with alice.http.get(url + "?after_seq=-1") as r:
        assert (r.status, (await r.json())["error"]["code"]) == (422, "invalid_request")
    bob = clients.counsellor("bob")
    await bob.login()
    async with bob.http.get(url) as r:
        assert (r.status, (await r.json())["error"]["code"]) == (403, "not_your_contact")
    sam = clients.counsellor("sam")
    await sam.login()
    async with sam.http.get(url) as r:
        assert r.status == 200
        assert len((await r.json())["messages"]) == 2
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url) as r:
        assert (r.status, (await r.json())["error"]["code"]) == (401, "unauthenticated")
    async with alice.http.get(f"{server.url}/api/v1/contacts/{'f' * 32}/messages") as r:
        assert (r.status, (await r.json())["error"]["code"]) == (404, "unknown_contact")


async def test_nobody_writes_after_the_end(server: Server, clients: Clients) -> None:
    visitor, alice = await clients.talking(display_name="Alice")
    await alice.send_json({"type": "end", "contact_id": visitor.contact_id})
    assert (await visitor.expect("ended"))["reason"] == "counsellor"
    await alice.expect("ended")
    await visitor.send_json({"type": "message", "client_id": "late", "text": "attends"})
    assert (await visitor.expect("error", client_id="late"))["code"] == "contact_closed"
    await visitor.send_json({"type": "end"})  # ending twice is harmless
    await visitor.send_json({"type": "message", "client_id": "late3", "text": "?"})
    assert (await visitor.expect("error", client_id="late3"))["code"] == "contact_closed"
