"""A counsellor sends the young person a card for an emergency number: a message like any
other (stored, numbered, sent again after a reload, in the transcript in order) that carries
the number, its link and its one-line label. Only the line's own numbers; only their own chat."""

from __future__ import annotations

from typing import Any

import pytest

from tests.clients import Clients, Counsellor, Server

POLICE = {
    "number": "17",
    "href": "tel:17",
    "label": {"fr": "Police secours (urgence immédiate)", "en": "Police (immediate danger)"},
}


async def send_card(counsellor: Counsellor, contact_id: str, number: str, client_id: str = "card-1") -> None:
    await counsellor.send_json(
        {"type": "resource", "contact_id": contact_id, "client_id": client_id, "resource": number}
    )


async def history(server: Server, contact_id: str) -> list[Any]:
    return await server.services.conversations.history(contact_id)


async def test_a_card_reaches_the_young_person_and_the_console_and_comes_back_after_a_reload(
    server: Server, clients: Clients
) -> None:
    visitor, alice = await clients.talking()
    await visitor.say("j'ai peur, il est devant chez moi")
    await send_card(alice, visitor.contact_id, "17")
    ack = await alice.expect("ack", client_id="card-1")
    assert ack["seq"] == 2
    shown = await visitor.expect("message", seq=2)
    assert (shown["sender"], shown["text"], shown["resource"]) == ("counsellor", "17", POLICE)
    assert (await alice.expect("message", seq=2))["resource"] == POLICE
    await alice.say(visitor.contact_id, "Appelle-les maintenant, je reste là.")

    # A reload: the widget asks for everything again and gets the card in its place.
    await visitor.drop()
    await visitor.connect(after_seq=0)
    again = [await visitor.expect("message", seq=seq) for seq in (1, 2, 3)]
    assert [m.get("resource") for m in again] == [None, POLICE, None]

    # The transcript has it, in order, with its card.
    async with alice.http.get(f"{server.url}/api/v1/contacts/{visitor.contact_id}/messages") as r:
        assert r.status == 200
        messages = (await r.json())["messages"]
    assert [(m["seq"], m["text"], m["resource"]) for m in messages] == [
        (1, "j'ai peur, il est devant chez moi", None), (2, "17", POLICE),
        (3, "Appelle-les maintenant, je reste là.", None),
    ]


async def test_sending_the_same_card_twice_stores_it_once(server: Server, clients: Clients) -> None:
    visitor, alice = await clients.talking()
    for _ in range(2):
        await send_card(alice, visitor.contact_id, "3114", client_id="same")
        assert (await alice.expect("ack", client_id="same"))["seq"] == 1
    [stored] = await history(server, visitor.contact_id)
    assert (stored.text, stored.resource) == ("3114", "3114")


async def test_a_text_only_number_is_sent_as_an_sms_link(clients: Clients) -> None:
    visitor, alice = await clients.talking()
    await send_card(alice, visitor.contact_id, "114")
    assert (await visitor.expect("message"))["resource"]["href"] == "sms:114"


@pytest.mark.parametrize("number", ["15", "0800123456", "javascript:x", "tel:17", " 17"])
async def test_a_number_the_line_does_not_list_is_refused_and_nothing_is_sent(
    server: Server, clients: Clients, number: str
) -> None:
    visitor, alice = await clients.talking()
    await send_card(alice, visitor.contact_id, number)
    error = await alice.expect("error")
    assert (error["code"], error["client_id"]) == ("unknown_resource", "card-1")
    assert error["message"] == "Ce numéro n'est pas dans la liste des numéros d'urgence."
    assert await history(server, visitor.contact_id) == []


async def test_a_free_form_link_in_place_of_a_number_is_an_invalid_frame(
    server: Server, clients: Clients
) -> None:
    visitor, alice = await clients.talking()
    await send_card(alice, visitor.contact_id, "https://example.org/some/long/address")
    assert (await alice.expect("error"))["code"] == "invalid_frame"
    assert await history(server, visitor.contact_id) == []


async def test_nobody_sends_a_card_in_someone_elses_chat(server: Server, clients: Clients) -> None:
    visitor, _alice = await clients.talking()
    bob = await clients.logged_in("bob")
    await bob.connect()
    await send_card(bob, visitor.contact_id, "17")
    assert (await bob.expect("error"))["code"] == "not_your_contact"
    assert await history(server, visitor.contact_id) == []


async def test_a_chat_cannot_be_put_through_to_a_number(server: Server, clients: Clients) -> None:
    visitor, alice = await clients.talking()
    await alice.send_json({"type": "put_through", "contact_id": visitor.contact_id, "number": "17"})
    assert (await alice.expect("error"))["code"] == "not_a_call"
    contact = await server.services.conversations.get(visitor.contact_id)
    assert contact.state.value == "assigned"


async def test_the_console_is_told_the_numbers_it_can_send(clients: Clients, server: Server) -> None:
    await server.add_counsellor("alice")
    alice = clients.counsellor("alice")
    await alice.login()
    await alice._open(f"{server.ws_url}/api/v1/console/ws", {"type": "hello"})
    session = await alice.expect("session")
    assert session["emergency"][0] == POLICE
    assert [r["number"] for r in session["emergency"]] == ["17", "112", "119", "3114", "114"]
