"""Routing as counsellors, supervisors and young people see it, over real sockets."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from helpline.domain.counsellor import Role
from tests.clients import Clients, Counsellor, Server


async def test_a_cry_for_help_while_waiting_jumps_the_queue(server: Server, clients: Clients) -> None:
    await server.add_counsellor("alice", max_chats=1)
    calm = await clients.waiting_visitor()
    await calm.expect("queue", position=1)
    crying = await clients.waiting_visitor()
    await crying.expect("queue", position=2)
    await crying.say("je veux mourir, je n'en peux plus")
    assert (await crying.expect("queue", position=1))["position"] == 1  # now ahead of the calm one
    alice = await clients.online("alice")
    got = await alice.expect("assigned")
    assert got["contact"]["contact_id"] == crying.contact_id
    assert got["contact"]["priority"] == "urgent"
    assert not [e for e in crying.events if e["type"] == "priority"]  # triage is not shown to the child


async def test_consoles_see_the_anonymous_waiting_list(server: Server, clients: Clients) -> None:
    await server.add_counsellor("alice", max_chats=1)
    await server.add_counsellor("bob", max_chats=1)
    first = await clients.waiting_visitor(topic="cyberbullying")
    alice = await clients.online("alice")
    await alice.expect("assigned")
    await clients.waiting_visitor(topic="sextortion", role="young_person", age_band="11_14")
    bob = await clients.online("bob")
    await bob.expect("assigned")
    third = await clients.waiting_visitor(topic="hacked_account")
    listed = await alice.expect("queue")
    while [c["contact_id"] for c in listed["contacts"]] != [third.contact_id]:
        listed = await alice.expect("queue")  # the list is sent again after each change
    assert listed["contacts"][0] | {"waited_s": 0} == {
        "contact_id": third.contact_id,
        "channel": "chat",
        "skill": "technical",
        "priority": "normal",
        "topic": "hacked_account",
        "waited_s": 0,
    }
    assert set(listed["contacts"][0]) == {"contact_id", "channel", "skill", "priority", "topic", "waited_s"}
    assert first.contact_id not in str(listed)


async def test_a_cold_transfer_to_a_named_counsellor_carries_a_note_and_no_names(
    server: Server, clients: Clients
) -> None:
    visitor, alice, bob, bob_id = await clients.handover()
    await visitor.say("il me fait chanter")
    note = "Chantage à la webcam, 14 ans, a déjà payé une fois."
    await alice.transfer(visitor.contact_id, {"counsellor": bob_id}, mode="cold", note=note)
    assert (await alice.expect("unassigned"))["reason"] == "transferred"
    moved = await visitor.expect("requeued")
    assert moved == {"type": "requeued", "contact_id": visitor.contact_id, "reason": "transferred"}
    got = await bob.expect("assigned")
    assert got["contact"]["note"] == note
    assert (await bob.expect("message"))["text"] == "il me fait chanter"  # the history follows
    await visitor.expect("assigned", counsellor={"display_name": "Bob"})
    assert "Alice" not in str([e for e in visitor.events if e["type"] != "assigned"])
    await alice.send_json(
        {"type": "message", "contact_id": visitor.contact_id, "client_id": "late", "text": "encore là ?"}
    )
    assert (await alice.expect("error", client_id="late"))["code"] == "not_your_contact"


async def test_a_cold_transfer_to_a_skill_goes_to_a_specialist(server: Server, clients: Clients) -> None:
    visitor, alice = await clients.talking(skills=["general"])
    lawyer_id = await server.add_counsellor("lea", skills=["legal"])
    lea = await clients.online("lea")
    await alice.transfer(visitor.contact_id, {"skill": "legal"})
    got = await lea.expect("assigned")
    assert got["contact"]["skill"] == "legal"
    assert lawyer_id


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ({"skill": "astrology"}, "unknown_skill"),
        ({"counsellor": 999}, "unknown_counsellor"),
        ({}, "invalid_transfer"),
        ({"skill": "legal", "counsellor": 1}, "invalid_transfer"),
    ],
)
async def test_a_bad_transfer_is_refused_and_changes_nothing(
    server: Server, clients: Clients, to: dict[str, object], code: str
) -> None:
    visitor, alice = await clients.talking()
    await alice.transfer(visitor.contact_id, to)
    assert (await alice.expect("error", contact_id=visitor.contact_id))["code"] == code
    assert (await alice.say(visitor.contact_id, "toujours avec toi"))["seq"] == 1


async def test_a_transfer_to_a_colleague_who_cannot_take_it_now_is_refused_and_she_keeps_it(
    server: Server, clients: Clients
) -> None:
    offline_id = await server.add_counsellor("olga", display_name="Olga")  # never logged in
    visitor, alice = await clients.talking()
    for mode in ("cold", "warm"):
        await alice.send_json({"type": "transfer", "contact_id": visitor.contact_id,
                               "to": {"counsellor": offline_id}, "mode": mode})
        refused = await alice.expect("error", contact_id=visitor.contact_id)
        assert refused["code"] == "counsellor_unavailable"
    assert (await alice.say(visitor.contact_id, "je suis toujours là"))["seq"] == 1
    assert not [e for e in visitor.events if e["type"] == "requeued"]


async def _requeue(console: Counsellor, contact_id: str, **body: object) -> tuple[int, dict[str, Any]]:
    url = f"{console.server.url}/api/v1/supervisor/contacts/{contact_id}/requeue"
    async with console.http.post(url, json=body) as r:
        return r.status, (await r.json() if r.status != 204 else {})


async def test_a_supervisor_gives_a_stuck_conversation_to_a_colleague_and_everyone_is_told(
    server: Server, clients: Clients
) -> None:
    visitor, alice, bob, bob_id = await clients.handover()
    await server.add_counsellor("sam", role=Role.SUPERVISOR, max_chats=1)
    sam = clients.counsellor("sam")
    await sam.login()
    assert await _requeue(sam, visitor.contact_id, counsellor_id=bob_id) == (204, {})
    assert (await alice.expect("unassigned", contact_id=visitor.contact_id))["reason"] == "redirected"
    await bob.expect("assigned")
    await visitor.expect("requeued")
    await visitor.expect("assigned", counsellor={"display_name": "Bob"})
    assert (await bob.say(visitor.contact_id, "je prends le relais"))["seq"] == 1


async def test_requeueing_is_for_supervisors_and_refuses_what_cannot_be_done(
    server: Server, clients: Clients
) -> None:
    visitor, alice = await clients.talking()
    olga_id = await server.add_counsellor("olga")
    await server.add_counsellor("sam", role=Role.SUPERVISOR, max_chats=1)
    sam = clients.counsellor("sam")
    await sam.login()
    status, got = await _requeue(alice, visitor.contact_id)
    assert (status, got["error"]["code"]) == (403, "forbidden")
    status, got = await _requeue(sam, visitor.contact_id, counsellor_id=olga_id)
    assert (status, got["error"]["code"]) == (409, "counsellor_unavailable")
    status, got = await _requeue(sam, "0" * 32)
    assert (status, got["error"]["code"]) == (404, "unknown_contact")
    assert (await alice.say(visitor.contact_id, "rien n'a bougé"))["seq"] == 1
    await visitor.send_json({"type": "end"})
    await alice.expect("ended")
    status, got = await _requeue(sam, visitor.contact_id)
    assert (status, got["error"]["code"]) == (409, "contact_closed")


async def test_only_the_counsellor_or_a_supervisor_changes_a_priority(
    server: Server, clients: Clients
) -> None:
    await server.add_counsellor("alice")
    await server.add_counsellor("bob")
    await server.add_counsellor("sam", role=Role.SUPERVISOR, max_chats=1)
    visitor = await clients.waiting_visitor()
    alice = await clients.online("alice")
    await alice.expect("assigned")
    bob = await clients.online("bob")
    await bob.send_json({"type": "priority", "contact_id": visitor.contact_id, "priority": "urgent"})
    assert (await bob.expect("error", contact_id=visitor.contact_id))["code"] == "not_your_contact"
    await alice.send_json({"type": "priority", "contact_id": visitor.contact_id, "priority": "high"})
    assert (await alice.expect("priority"))["priority"] == "high"
    sam = await clients.online("sam")
    await sam.send_json({"type": "priority", "contact_id": visitor.contact_id, "priority": "urgent"})
    assert (await alice.expect("priority", priority="urgent"))["contact_id"] == visitor.contact_id
    await alice.send_json({"type": "priority", "contact_id": visitor.contact_id, "priority": "panic"})
    assert (await alice.expect("error"))["code"] == "invalid_frame"


async def test_the_supervisor_overview_shows_the_floor_and_today(server: Server, clients: Clients) -> None:
    await server.add_counsellor("alice", display_name="Alice", max_chats=1)
    await server.add_counsellor("sam", role=Role.SUPERVISOR, max_chats=1)
    answered = await clients.waiting_visitor()
    alice = await clients.online("alice")
    await alice.expect("assigned")
    gone = await clients.waiting_visitor(topic="sextortion")
    await gone.send_json({"type": "end"})
    await gone.expect("ended")
    await clients.waiting_visitor(topic="hacked_account")
    sam = clients.counsellor("sam")  # watching, not taking contacts (a login starts offline)
    await sam.login()
    await sam.connect(status=None)
    live = await sam.expect("overview")
    assert "skills" in live
    url = server.url + "/api/v1/supervisor/overview"
    async with sam.http.get(url) as r:
        assert r.status == 200
        overview = await r.json()
    skills = {s["skill"]: s for s in overview["skills"]}
    assert skills["technical"]["waiting"] == 1
    names = {c["display_name"]: c for c in overview["counsellors"]}
    assert names["Alice"]["active_chats"] == 1
    assert names["Alice"]["status"] == "available"
    assert overview["today"]["contacts"] == 3
    assert overview["today"]["answered"] >= 1
    assert overview["today"]["service_level"] is not None
    assert answered.contact_id not in str(overview)  # nothing that points to a young person


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), (Role.COUNSELLOR, 403), (Role.SUPERVISOR, 200), (Role.ADMIN, 200)]
)
async def test_who_may_see_the_overview(
    server: Server, clients: Clients, role: Role | None, status: int
) -> None:
    url = server.url + "/api/v1/supervisor/overview"
    if role is None:
        async with aiohttp.ClientSession() as http, http.get(url) as r:
            assert r.status == status
        return
    await server.add_counsellor("someone", role=role)
    who = clients.counsellor("someone")
    await who.login()
    async with who.http.get(url) as r:
        assert r.status == status


async def test_a_supervisor_monitoring_a_conversation_follows_it_through_a_cold_transfer(
    server: Server, clients: Clients
) -> None:
    visitor, alice = await clients.talking("alice")
    bob_id = await server.add_counsellor("bob")
    await server.add_counsellor("sam", role=Role.SUPERVISOR, max_chats=1)
    sam = await clients.online("sam")
    await sam.send_json({"type": "status", "status": "break"})
    await sam.expect("status", status="break")
    await sam.send_json({"type": "monitor", "contact_id": visitor.contact_id})
    await sam.expect("monitoring")
    bob = await clients.online("bob")
    await alice.transfer(visitor.contact_id, {"counsellor": bob_id})
    assert (await sam.expect("requeued"))["reason"] == "transferred"
    await bob.expect("assigned")
    await bob.say(visitor.contact_id, "c'est Bob")
    assert (await sam.expect("message", text="c'est Bob"))["contact_id"] == visitor.contact_id


async def test_the_colleagues_list_says_who_can_take_a_contact_now(server: Server, clients: Clients) -> None:
    await server.add_counsellor("olga", display_name="Olga")  # never logged in
    await server.add_counsellor("bob", display_name="Bob")
    await clients.online("bob")
    await server.add_counsellor("alice", display_name="Alice")
    alice = await clients.online("alice")
    async with alice.http.get(f"{server.url}/api/v1/console/colleagues") as r:
        listed = {c["display_name"]: c["can_take"] for c in (await r.json())["counsellors"]}
    assert listed == {"Olga": False, "Bob": True, "Alice": True}
