"""The anonymous chat loop, end to end over real sockets, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.clients import Clients, Server


async def test_visitor_and_counsellor_talk_until_the_visitor_ends(server: Server, clients: Clients) -> None:
    await server.add_counsellor("alice", display_name="Alice")
    visitor = clients.visitor()
    await visitor.start(profile={"role": "young_person", "topic": "cyberbullying"})
    await visitor.connect()
    queued = await visitor.expect("queue")
    assert queued["position"] == 1

    first = await visitor.say("Bonjour, quelqu'un me harcèle")
    assert first["seq"] == 1

    alice = await clients.online("alice")
    assigned = await alice.expect("assigned")
    assert assigned["contact"]["contact_id"] == visitor.contact_id
    assert assigned["contact"]["profile"] == {"role": "young_person", "topic": "cyberbullying"}
    backlog = await alice.expect("message", seq=1)
    assert backlog["text"] == "Bonjour, quelqu'un me harcèle"
    assert (await visitor.expect("assigned"))["counsellor"] == {"display_name": "Alice"}

    reply = await alice.say(visitor.contact_id, "Je suis là. Que se passe-t-il ?")
    assert reply["seq"] == 2
    got = await visitor.expect("message", seq=2)
    assert got["sender"] == "counsellor"
    assert got["text"] == "Je suis là. Que se passe-t-il ?"

    await visitor.send_json({"type": "end"})
    assert (await visitor.expect("ended"))["reason"] == "visitor"
    assert (await alice.expect("ended", contact_id=visitor.contact_id))["reason"] == "visitor"
