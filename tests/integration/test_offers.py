"""Offer mode (a counsellor must accept in time) and warm transfers (the first
counsellor keeps the contact until the new one accepts)."""

from __future__ import annotations

import pytest

from tests.clients import Clients, Server
from tests.conftest import ServerFactory
from tests.integration.conftest import ClientsOf


@pytest.fixture
async def offering(make_server: ServerFactory) -> Server:
    return await make_server(offer_mode=True, offer_timeout_s=1.0)  # type: ignore[no-any-return]


async def test_in_offer_mode_a_contact_is_offered_then_accepted(
    offering: Server, clients_of: ClientsOf
) -> None:
    visitor, alice = await clients_of(offering).meeting("alice", display_name="Alice")
    offer = await alice.expect("offer")
    assert offer["contact"]["contact_id"] == visitor.contact_id
    assert offer["warm_transfer"] is False
    assert not [e for e in visitor.events if e["type"] == "assigned"]  # not theirs until accepted
    await alice.send_json({"type": "accept", "contact_id": visitor.contact_id})
    await alice.expect("assigned")
    assert (await visitor.expect("assigned"))["counsellor"] == {"display_name": "Alice"}
    await alice.send_json({"type": "accept", "contact_id": visitor.contact_id})
    assert (await alice.expect("error", contact_id=visitor.contact_id))["code"] == "no_offer"


async def test_a_missed_offer_goes_to_the_next_counsellor_and_the_first_goes_on_break(
    offering: Server, clients_of: ClientsOf
) -> None:
    clients = clients_of(offering)
    visitor, alice = await clients.meeting()
    await alice.expect("offer")
    await offering.add_counsellor("bob")
    bob = await clients.online("bob")
    withdrawn = await alice.expect("offer_withdrawn")
    assert withdrawn == {"type": "offer_withdrawn", "contact_id": visitor.contact_id, "reason": "timeout"}
    await alice.expect("status", status="break")
    assert (await bob.expect("offer"))["contact"]["contact_id"] == visitor.contact_id
    await alice.send_json({"type": "accept", "contact_id": visitor.contact_id})
    assert (await alice.expect("error"))["code"] == "no_offer"  # too late: it is bob's now


async def test_going_on_break_gives_the_offer_back(offering: Server, clients_of: ClientsOf) -> None:
    visitor, alice = await clients_of(offering).meeting()
    await alice.expect("offer")
    await alice.send_json({"type": "status", "status": "break"})
    assert (await alice.expect("offer_withdrawn"))["reason"] == "status"
    assert (await visitor.expect("queue"))["position"] == 1


async def test_a_warm_transfer_keeps_the_first_counsellor_until_the_second_accepts(
    server: Server, clients: Clients
) -> None:
    visitor, alice, bob, bob_id = await clients.handover()
    await visitor.say("il a mes photos")
    await alice.transfer(
        visitor.contact_id, {"counsellor": bob_id}, mode="warm", note="Sextorsion, a besoin d'aide juridique."
    )
    offer = await bob.expect("offer")
    assert offer["warm_transfer"] is True
    assert offer["contact"]["note"] == "Sextorsion, a besoin d'aide juridique."
    assert (await visitor.expect("transferring")) == {
        "type": "transferring",
        "contact_id": visitor.contact_id,
    }
    assert (await alice.say(visitor.contact_id, "je reste avec toi le temps du relais"))["seq"] == 2

    await bob.send_json({"type": "accept", "contact_id": visitor.contact_id})
    assert (await alice.expect("unassigned"))["reason"] == "transferred"
    await bob.expect("assigned")
    history = [await bob.expect("message") for _ in range(2)]
    assert [m["seq"] for m in history] == [1, 2]
    await visitor.expect("assigned", counsellor={"display_name": "Bob"})
    await alice.send_json({"type": "end", "contact_id": visitor.contact_id})
    assert (await alice.expect("error", contact_id=visitor.contact_id))["code"] == "not_your_contact"


async def test_an_unanswered_warm_transfer_stays_with_the_first_counsellor(
    make_server: ServerFactory, clients_of: ClientsOf
) -> None:
    server = await make_server(offer_timeout_s=1.0)
    visitor, alice, bob, bob_id = await clients_of(server).handover()
    await alice.transfer(visitor.contact_id, {"counsellor": bob_id}, mode="warm")
    await bob.expect("offer")
    assert (await alice.expect("transfer_failed"))["reason"] == "timeout"
    await bob.expect("status", status="break")
    await visitor.expect("assigned", counsellor={"display_name": "Alice"})
    assert (await alice.say(visitor.contact_id, "toujours moi"))["seq"] == 1


async def test_a_warm_transfer_to_a_skill_nobody_has_free_is_refused(
    server: Server, clients: Clients
) -> None:
    visitor, alice = await clients.talking()
    await alice.transfer(visitor.contact_id, {"skill": "legal"}, mode="warm")
    assert (await alice.expect("error", contact_id=visitor.contact_id))["code"] == "nobody_available"
