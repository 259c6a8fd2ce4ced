"""The phone line: Twilio's webhooks, answered with TwiML, put callers in the same queue
as chats and through to counsellors; callers are known only by a keyed hash."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from helpline.domain.contact import ContactState
from tests.clients import Counsellor, Server
from tests.clock import FrozenClock
from tests.integration.conftest import ClientsOf
from tests.phone import NUMBER, PHONE_ENV, PUBLIC, Twilio, fake_commands, new_sid

WAIT = "/telephony/voice/wait?lang=fr"


@pytest.fixture(autouse=True)
def phone_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**PHONE_ENV, "HELPLINE_HOLD_ANNOUNCE_S": "20"}.items():
        monkeypatch.setenv(name, value)


@pytest_asyncio.fixture
async def twilio(server: Server) -> AsyncIterator[Twilio]:
    t = Twilio(server.url)
    yield t
    await t.close()


@dataclass
class Call:
    """A caller's call that Alice took: its CallSid, her console, the call as her console got it."""

    sid: str
    alice: Counsellor
    contact: dict[str, Any]

    @property
    def contact_id(self) -> str:
        return str(self.contact["contact_id"])


async def alice_on_a_call(
    server: Server, twilio: Twilio, clients_of: ClientsOf, endpoint: str = "client:alice"
) -> Call:
    """Alice, whose calls ring at ``endpoint``, takes a caller's call."""
    await server.add_counsellor("alice", voice_endpoint=endpoint)
    sid = await twilio.queued_call()
    alice = await clients_of(server).online("alice")
    return Call(sid, alice, (await alice.expect("assigned"))["contact"])


@pytest_asyncio.fixture
async def call(server: Server, twilio: Twilio, clients_of: ClientsOf) -> Call:
    """Alice, whose calls ring in her browser, took a caller's call."""
    return await alice_on_a_call(server, twilio, clients_of)


async def contact_of(server: Server, sid: str) -> Any:
    return await server.services.calls.find(sid)


async def stored(server: Server, contact_id: str) -> Any:
    return await server.services.conversations.get(contact_id)


async def open_calls(server: Server) -> dict[str, int]:
    """How many calls are queued and assigned, as the database has them."""
    from helpline.store.tables import Contact

    async with server.services.ctx.store.reading() as tx:
        rows = await tx.conn.execute(
            select(Contact.state, func.count()).where(Contact.channel == "voice").group_by(Contact.state)
        )
        counts = {row[0]: row[1] for row in rows}
    return {state: counts.get(state, 0) for state in ("queued", "assigned")}


# --- what a caller hears -----------------------------------------------------------------


async def test_an_open_line_welcomes_the_caller_as_free_anonymous_and_confidential_with_a_keypad_menu(
    twilio: Twilio,
) -> None:
    answer = await twilio.step("/telephony/voice/incoming", new_sid(), CallStatus="ringing")
    gather = answer.first("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == f"{PUBLIC}/telephony/voice/choice?lang=fr"
    says = [(s.get("language"), s.text or "") for s in gather.iter("Say")]
    assert says[0][0] == "fr-FR" and "gratuit, anonyme et confidentiel" in says[0][1]
    assert "tapez 1" in says[1][1] and "tapez 2" in says[1][1] and "tapez 3" in says[1][1]
    assert says[2] == ("en-GB", "For English, press 9.")
    # No key in time: the caller still goes on, without an answer.
    assert answer.verbs() == ["Gather", "Redirect"]
    assert answer.first("Redirect").text == f"{PUBLIC}/telephony/voice/choice?lang=fr"


async def test_pressing_2_puts_a_parent_in_the_same_queue_as_the_chats(
    server: Server, twilio: Twilio
) -> None:
    sid = await twilio.queued_call(digits="2")
    [entry] = await server.services.views.queue_list()
    assert entry["channel"] == "voice"
    contact = await contact_of(server, sid)
    assert contact.state is ContactState.QUEUED
    assert contact.profile == {"language": "fr", "role": "parent", "repeat_calls": 0}


async def test_no_key_pressed_joins_the_queue_without_a_profile(server: Server, twilio: Twilio) -> None:
    sid = new_sid()
    answer = await twilio.step("/telephony/voice/choice?lang=fr", sid)
    assert answer.first("Redirect").text == f"{PUBLIC}{WAIT}"
    assert (await contact_of(server, sid)).profile == {"language": "fr", "repeat_calls": 0}


async def test_pressing_9_carries_on_in_english(server: Server, twilio: Twilio) -> None:
    sid = new_sid()
    answer = await twilio.step("/telephony/voice/choice?lang=fr", sid, Digits="9")
    gather = answer.first("Gather")
    assert gather.get("action") == f"{PUBLIC}/telephony/voice/choice?lang=en"
    assert [s.get("language") for s in gather.iter("Say")] == ["en-GB", "en-GB", "fr-FR"]
    assert "free, anonymous and confidential" in answer.said()[0]
    queued = await twilio.step("/telephony/voice/choice?lang=en", sid, Digits="1")
    assert "stay on the line" in queued.said()[0]
    assert (await contact_of(server, sid)).profile["language"] == "en"


async def test_the_hold_loop_tells_the_place_in_the_queue_then_waits_and_comes_round_again(
    twilio: Twilio,
) -> None:
    await twilio.queued_call()
    second = await twilio.queued_call(number="+33699999999")
    answer = await twilio.step(WAIT, second)
    assert "Vous êtes en position 2 dans la file." in answer.said()
    assert answer.verbs()[-2:] == ["Pause", "Redirect"]
    assert answer.first("Pause").get("length") == "20"
    assert answer.first("Redirect").text == f"{PUBLIC}{WAIT}"


@pytest.mark.usefixtures("call")  # Alice is on that call: the next caller waits for her
async def test_the_hold_loop_says_the_estimated_wait_when_counsellors_who_take_calls_are_busy(
    twilio: Twilio,
) -> None:
    said = (await twilio.step(WAIT, await twilio.queued_call(number="+33699999999"))).said()
    assert said[0] == "Vous êtes le prochain appel."
    assert re.fullmatch(r"L'attente estimée est d'environ \d+ minutes\.", said[1]), said


async def test_a_closed_line_says_when_it_reopens_and_the_emergency_numbers_then_hangs_up(
    make_server: Any,
) -> None:
    server = await make_server(schedule="hours", clock=FrozenClock("2026-11-29T15:00"))  # a Sunday
    twilio = Twilio(server.url)
    try:
        answer = await twilio.step("/telephony/voice/incoming", new_sid(), CallStatus="ringing")
    finally:
        await twilio.close()
    said = " ".join(answer.said())
    assert "La ligne d'écoute est fermée en ce moment." in said
    assert "Nous rouvrons le lundi 30 novembre à 9 heures." in said
    for number in ("le 17.", "le 112.", "le 119.", "le 31 14."):
        assert number in said
    assert answer.verbs()[-1] == "Hangup"
    assert await server.services.views.queue_list() == []


async def test_a_call_that_lands_on_the_closing_time_while_choosing_is_turned_away(make_server: Any) -> None:
    clock = FrozenClock("2026-11-28T18:00")  # a Saturday, open
    server = await make_server(schedule="hours", clock=clock)
    twilio = Twilio(server.url)
    try:
        sid = new_sid()
        assert (await twilio.step("/telephony/voice/incoming", sid)).first("Gather") is not None
        clock.set("2026-11-28T20:00:30")
        answer = await twilio.step("/telephony/voice/choice?lang=fr", sid, Digits="1")
    finally:
        await twilio.close()
    assert "La ligne d'écoute est fermée en ce moment." in answer.said()
    assert await contact_of(server, sid) is None


# --- a call meets a counsellor -------------------------------------------------------------


async def test_an_assigned_call_is_put_through_to_the_counsellors_phone(
    server: Server, twilio: Twilio, call: Call
) -> None:
    sid, assigned = call.sid, call.contact
    assert assigned["channel"] == "voice" and assigned["profile"]["role"] == "young_person"
    assert len(assigned["caller"]) == 8 and NUMBER.strip("+") not in str(assigned)
    command = await server.app[_carrier_key()].next_command(sid, 10)
    assert command is not None and command.action == "redirect"
    assert command.url == f"{PUBLIC}/telephony/voice/connect?lang=fr"
    answer = await twilio.follow(command.url, sid)
    dial = answer.first("Dial")
    assert dial.get("timeout") == "20"
    assert dial.get("action") == f"{PUBLIC}/telephony/voice/dialed?lang=fr"
    assert answer.first("Client").text == "alice"


async def test_a_phone_number_endpoint_is_dialled_as_a_number(
    server: Server,
    twilio: Twilio,
    clients_of: ClientsOf,
) -> None:
    await server.add_counsellor("bob", voice_endpoint="+33155555555")
    sid = await twilio.queued_call()
    bob = await clients_of(server).online("bob")
    await bob.expect("assigned")
    assert (await twilio.step(WAIT, sid)).first("Number").text == "+33155555555"


async def test_a_counsellor_without_a_voice_endpoint_gets_chats_but_no_calls(
    server: Server,
    twilio: Twilio,
    clients_of: ClientsOf,
) -> None:
    await server.add_counsellor("carol")
    c = clients_of(server)
    sid = await twilio.queued_call()
    visitor = await c.waiting_visitor()
    carol = await c.online("carol")
    assert (await carol.expect("assigned"))["contact"]["contact_id"] == visitor.contact_id
    await server.services.floor.dispatch()
    assert (await contact_of(server, sid)).state is ContactState.QUEUED


async def test_no_answer_puts_the_call_back_at_the_front_and_the_counsellor_on_break(
    server: Server, twilio: Twilio, call: Call
) -> None:
    first, alice = call.sid, call.alice
    later = await twilio.queued_call(number="+33688888888")
    answer = await twilio.step("/telephony/voice/dialed?lang=fr", first, DialCallStatus="no-answer")
    assert "Vous gardez votre place, en tête de la file." in " ".join(answer.said())
    assert answer.first("Redirect").text == f"{PUBLIC}{WAIT}"
    contact = await contact_of(server, first)
    assert (await alice.expect("unassigned", contact_id=contact.id))["reason"] == "not_answered"
    await alice.expect("status", status="break")
    assert contact.state is ContactState.QUEUED
    assert "Vous êtes le prochain appel." in (await twilio.step(WAIT, first)).said()
    assert "Vous êtes en position 2 dans la file." in (await twilio.step(WAIT, later)).said()


async def test_the_counsellor_hangs_up_from_the_console_and_the_call_ends_with_its_durations(
    server: Server, twilio: Twilio, call: Call
) -> None:
    await call.alice.send_json({"type": "end", "contact_id": call.contact_id})
    await call.alice.expect("ended", contact_id=call.contact_id)
    hang_up = [c for c in fake_commands(server) if c.action == "hang_up"]
    assert [c.call_ref for c in hang_up] == [call.sid]
    assert (await twilio.hang_up(call.sid, duration=300)).status == 204
    ended = await stored(server, call.contact_id)
    assert ended.state is ContactState.ENDED and ended.end_reason == "counsellor"
    assert ended.carrier_ref is None  # the carrier's id of the call is not kept
    assert ended.talk_s is not None and ended.wait_s == 300 - ended.talk_s


async def test_a_call_that_ends_after_talking_records_wait_and_talk(
    server: Server, twilio: Twilio, call: Call
) -> None:
    # The caller hangs up while talking: Twilio reports the dial, then the call.
    await twilio.step(
        "/telephony/voice/dialed?lang=fr",
        call.sid,
        DialCallStatus="completed",
        DialCallDuration="240",
        CallStatus="completed",
    )
    await twilio.hang_up(call.sid, duration=400)
    assert (await call.alice.expect("ended", contact_id=call.contact_id))["reason"] == "visitor"
    ended = await stored(server, call.contact_id)
    assert (ended.wait_s, ended.talk_s) == (160, 240)


async def test_the_counsellors_phone_hanging_up_ends_the_conversation_and_the_caller_hears_goodbye(
    server: Server,
    twilio: Twilio,
    clients_of: ClientsOf,
) -> None:
    call = await alice_on_a_call(server, twilio, clients_of, endpoint="+33155555555")
    answer = await twilio.step(
        "/telephony/voice/dialed?lang=fr", call.sid, DialCallStatus="completed", DialCallDuration="60"
    )
    assert answer.verbs() == ["Say", "Hangup"] and "Merci de votre appel" in answer.said()[0]
    assert (await call.alice.expect("ended", contact_id=call.contact_id))["reason"] == "counsellor"


async def test_a_cold_transfer_takes_the_caller_back_to_the_hold_loop(server: Server, call: Call) -> None:
    alice = call.alice
    await alice.transfer(call.contact_id, {"skill": "legal"}, mode="warm")
    assert (await alice.expect("error"))["code"] == "no_warm_transfer_for_calls"
    await alice.transfer(call.contact_id, {"skill": "legal"})
    await alice.expect("unassigned", contact_id=call.contact_id)
    holds = [c for c in fake_commands(server) if c.action == "redirect" and c.url.endswith(WAIT)]
    assert [c.call_ref for c in holds] == [call.sid]


async def test_a_call_has_no_written_messages(server: Server, call: Call) -> None:
    await call.alice.send_json(
        {"type": "message", "contact_id": call.contact_id, "client_id": "m1", "text": "allô"}
    )
    assert (await call.alice.expect("error"))["code"] == "not_a_chat"
    assert await server.services.conversations.history(call.contact_id) == []


# --- an emergency: the caller put through to an emergency number ---------------------------

EMERGENCY_17 = f"{PUBLIC}/telephony/voice/emergency?lang=fr&number=17"


async def test_the_counsellor_puts_the_caller_through_to_17_and_the_call_ends_for_her(
    server: Server, twilio: Twilio, call: Call
) -> None:
    await call.alice.send_json({"type": "put_through", "contact_id": call.contact_id, "number": "17"})
    ended = await call.alice.expect("ended", contact_id=call.contact_id)
    assert ended["reason"] == "put_through"
    # The carrier took the live call to the emergency step; it was not hung up.
    last = fake_commands(server)[-1]
    assert (last.action, last.call_ref, last.url) == ("redirect", call.sid, EMERGENCY_17)
    assert "hang_up" not in [c.action for c in fake_commands(server)]
    answer = await twilio.follow(EMERGENCY_17, call.sid)
    assert answer.verbs() == ["Say", "Dial"]
    assert answer.said() == [
        "Nous vous mettons en relation avec le 17, Police secours (urgence immédiate). Restez en ligne."
    ]
    dial = answer.first("Dial")
    assert dial.get("action") is None  # nothing comes back to the helpline
    assert answer.first("Number").text == "17"
    contact = await stored(server, call.contact_id)
    assert (contact.state, contact.end_reason) == (ContactState.ENDED, "put_through")
    # The call goes on with the police; when it is over, its length is recorded, nothing reopens.
    assert (await twilio.hang_up(call.sid, duration=600)).status == 204
    contact = await stored(server, call.contact_id)
    assert (contact.state, contact.end_reason) == (ContactState.ENDED, "put_through")
    assert contact.carrier_ref is None and contact.wait_s is not None


async def test_an_english_caller_is_told_in_english(server: Server, twilio: Twilio, call: Call) -> None:
    answer = await twilio.step("/telephony/voice/emergency?lang=en&number=3114", call.sid)
    assert answer.said() == [
        "We are putting you through to 31 14, Suicide prevention, 24/7, free. Stay on the line."
    ]
    assert answer.first("Number").text == "3114"


@pytest.mark.parametrize(("number", "code"), [("114", "not_dialable"), ("15", "unknown_resource"),
                                              ("+33612345678", "unknown_resource")])
async def test_only_an_emergency_number_that_takes_calls_is_dialled(
    server: Server, call: Call, number: str, code: str
) -> None:
    before = len(fake_commands(server))
    await call.alice.send_json({"type": "put_through", "contact_id": call.contact_id, "number": number})
    assert (await call.alice.expect("error", contact_id=call.contact_id))["code"] == code
    assert len(fake_commands(server)) == before
    assert (await stored(server, call.contact_id)).state is ContactState.ASSIGNED


async def test_nobody_puts_through_someone_elses_caller(
    server: Server, call: Call, clients_of: ClientsOf
) -> None:
    await server.add_counsellor("bob", voice_endpoint="client:bob")
    bob = await clients_of(server).online("bob")
    before = len(fake_commands(server))
    await bob.send_json({"type": "put_through", "contact_id": call.contact_id, "number": "17"})
    assert (await bob.expect("error"))["code"] == "not_your_contact"
    assert len(fake_commands(server)) == before
    assert (await stored(server, call.contact_id)).state is ContactState.ASSIGNED


async def test_a_call_gets_no_resource_card(server: Server, call: Call) -> None:
    await call.alice.send_json(
        {"type": "resource", "contact_id": call.contact_id, "client_id": "r1", "resource": "17"}
    )
    assert (await call.alice.expect("error"))["code"] == "not_a_chat"
    assert await server.services.conversations.history(call.contact_id) == []


async def test_the_emergency_step_dials_no_number_the_line_does_not_list(twilio: Twilio, call: Call) -> None:
    for number in ("0899000000", "114", ""):
        answer = await twilio.step(f"/telephony/voice/emergency?lang=fr&number={number}", call.sid)
        assert "Dial" not in answer.verbs() and answer.verbs()[-1] == "Hangup"


# --- hanging up, callbacks ------------------------------------------------------------------


async def test_a_caller_hanging_up_while_waiting_leaves_the_queue_and_every_queue_view(
    server: Server,
    twilio: Twilio,
    clients_of: ClientsOf,
) -> None:
    c = clients_of(server)
    for name in ("alice", "bob"):
        await server.add_counsellor(name, voice_endpoint=f"client:{name}")
    consoles = [c.counsellor(name) for name in ("alice", "bob")]
    for console in consoles:
        await console.login()
        await console.connect(status="break")
    sid = await twilio.queued_call()
    contact = await contact_of(server, sid)
    for console in consoles:
        await _queue_view(console, lambda ids: contact.id in ids)
    assert (await twilio.hang_up(sid, duration=12)).status == 204
    assert await server.services.views.queue_list() == []  # at once, for everyone who asks
    ended = await stored(server, contact.id)
    assert (ended.state, ended.end_reason, ended.wait_s) == (ContactState.ABANDONED, "abandoned", 12)
    for console in consoles:
        await _queue_view(console, lambda ids: contact.id not in ids)


async def _queue_view(console: Any, wanted: Any) -> None:
    while True:
        event = await console.expect("queue")
        if "contacts" in event and wanted({e["contact_id"] for e in event["contacts"]}):
            return


async def test_repeated_and_late_status_callbacks_change_nothing(server: Server, twilio: Twilio) -> None:
    sid = await twilio.queued_call()
    contact = await contact_of(server, sid)
    for status, duration in (("completed", 30), ("completed", 99), ("no-answer", 5), ("ringing", 0)):
        assert (await twilio.hang_up(sid, duration=duration, status=status)).status == 204
    ended = await stored(server, contact.id)
    assert (ended.state, ended.wait_s) == (ContactState.ABANDONED, 30)
    assert (await twilio.step(WAIT, sid)).verbs() == ["Say", "Hangup"]  # lost: nothing left to wait for


async def test_a_carrier_retry_of_the_same_call_does_not_queue_it_twice(
    server: Server, twilio: Twilio
) -> None:
    sid = await twilio.queued_call()
    await twilio.step("/telephony/voice/choice?lang=fr", sid, Digits="1")
    again = await twilio.step("/telephony/voice/incoming", sid)
    assert again.first("Redirect").text == f"{PUBLIC}{WAIT}"
    assert len(await server.services.views.queue_list()) == 1


# --- an ended call stays ended, whatever arrives after ---------------------------------------

NOBODY = {"queued": 0, "assigned": 0}


async def test_a_replayed_choice_never_requeues_an_ended_call(
    server: Server, twilio: Twilio, clients_of: ClientsOf
) -> None:
    sid = await twilio.queued_call()
    assert len(await server.services.views.queue_list()) == 1
    assert (await twilio.hang_up(sid)).status == 204
    assert await server.services.views.queue_list() == []
    again = await twilio.step("/telephony/voice/choice?lang=fr", sid, Digits="1")
    assert again.verbs() == ["Say", "Hangup"] and "Merci de votre appel" in again.said()[0]
    assert await server.services.views.queue_list() == []
    await server.add_counsellor("alice", voice_endpoint="client:alice")
    alice = await clients_of(server).online("alice")
    await server.services.floor.dispatch()
    assert await open_calls(server) == NOBODY
    assert not [e for e in alice.events if e["type"] == "assigned"]


async def test_a_hang_up_reported_before_the_keypad_answer_leaves_nothing_queued(
    server: Server, twilio: Twilio
) -> None:
    sid = new_sid()
    welcome = await twilio.step("/telephony/voice/incoming", sid, CallStatus="ringing")
    assert welcome.first("Gather") is not None
    assert (await twilio.hang_up(sid, duration=4)).status == 204  # overtakes the keypad answer
    late = await twilio.step("/telephony/voice/choice?lang=fr", sid, Digits="1")
    assert late.verbs() == ["Say", "Hangup"]
    assert await contact_of(server, sid) is None
    assert await open_calls(server) == NOBODY


async def test_a_replayed_incoming_for_an_ended_call_says_goodbye(server: Server, twilio: Twilio) -> None:
    sid = await twilio.queued_call()
    await twilio.hang_up(sid)
    again = await twilio.step("/telephony/voice/incoming", sid, CallStatus="ringing")
    assert again.verbs() == ["Say", "Hangup"] and "Merci de votre appel" in again.said()[0]
    assert await open_calls(server) == NOBODY


async def test_callers_who_press_1_and_hang_up_at_once_are_neither_queued_nor_assigned(
    server: Server, twilio: Twilio, clients_of: ClientsOf
) -> None:
    await server.add_counsellor("alice", voice_endpoint="client:alice")
    await clients_of(server).online("alice")
    sids = [new_sid() for _ in range(30)]
    for sid in sids:
        await twilio.step("/telephony/voice/incoming", sid, CallStatus="ringing")
    answers = await asyncio.gather(*(
        request
        for sid in sids
        for request in (
            twilio.step("/telephony/voice/choice?lang=fr", sid, Digits="1"),
            twilio.hang_up(sid, duration=6),
        )
    ))
    assert {a.status for a in answers} <= {200, 204}
    await server.services.floor.dispatch()
    assert await open_calls(server) == NOBODY
    assert await server.services.views.queue_list() == []


@pytest.mark.parametrize("duration", ["9" * 30, "2147483648", "²", "-5", "1" * 5000, "12e3"])
async def test_odd_call_durations_still_end_the_call_with_sane_times(
    server: Server, twilio: Twilio, call: Call, duration: str
) -> None:
    sid = call.sid
    waiting = await twilio.queued_call(number="+33699999999")  # alice is busy: it waits
    waiting_id = (await contact_of(server, waiting)).id
    dialed = await twilio.step(
        "/telephony/voice/dialed?lang=fr", sid,
        DialCallStatus="completed", DialCallDuration=duration, CallStatus="completed",
    )
    assert dialed.status == 200, dialed.body
    assert (await twilio.step(
        "/telephony/voice/status", sid, CallStatus="completed", CallDuration=duration
    )).status == 204
    assert (await twilio.step(
        "/telephony/voice/status", waiting, CallStatus="completed", CallDuration=duration
    )).status == 204
    await call.alice.expect("ended", contact_id=call.contact_id)
    assert await open_calls(server) == NOBODY
    for contact_id in (call.contact_id, waiting_id):
        ended = await stored(server, contact_id)
        assert not ended.state.is_open
        assert 0 <= ended.wait_s <= 86400 and 0 <= ended.talk_s <= 86400, (ended.wait_s, ended.talk_s)


async def test_an_ended_call_is_remembered_for_a_day_then_forgotten(make_server: Any) -> None:
    from helpline.store.tables import CallSeen

    clock = FrozenClock("2026-11-28T10:00")
    server = await make_server(clock=clock)
    twilio = Twilio(server.url)
    try:
        sid = await twilio.queued_call()
        await twilio.hang_up(sid)
        clock.set("2026-11-29T09:00")
        await server.services.floor.sweep()
        late = await twilio.step("/telephony/voice/choice?lang=fr", sid, Digits="1")
        assert late.verbs() == ["Say", "Hangup"]  # still remembered after 23 hours
        clock.set("2026-11-29T10:01")
        await server.services.floor.sweep()
    finally:
        await twilio.close()
    async with server.services.ctx.store.reading() as tx:
        assert (await tx.conn.execute(select(func.count()).select_from(CallSeen))).scalar_one() == 0
    assert await open_calls(server) == NOBODY


# --- callers: repeat counts, blocks ----------------------------------------------------------


async def test_repeat_callers_are_counted_by_their_key_and_hidden_numbers_are_not(
    server: Server,
    twilio: Twilio,
) -> None:
    for _ in range(2):
        await twilio.hang_up(await twilio.queued_call(number="+33 6 12 34 56 78"))
    third = await contact_of(server, await twilio.queued_call(number="0033612345678"))
    assert third.profile["repeat_calls"] == 2
    hidden = await contact_of(server, await twilio.queued_call(number="anonymous"))
    assert hidden.caller_key is None and "repeat_calls" not in hidden.profile


async def test_a_supervisor_blocks_a_caller_who_then_hears_a_short_message_and_nothing_is_created(
    server: Server,
    twilio: Twilio,
    clients_of: ClientsOf,
) -> None:
    await server.add_counsellor("sam", role=_role("supervisor"))
    await server.add_counsellor("alice")
    first = await contact_of(server, await twilio.queued_call())
    c = clients_of(server)
    alice, sam = c.counsellor("alice"), c.counsellor("sam")
    for person in (alice, sam):
        await person.login()
    url = f"{server.url}/api/v1/contacts/{first.id}/caller-block"
    async with alice.http.post(url, json={"hours": 24, "reason": "insultes répétées"}) as r:
        assert r.status == 403
    async with sam.http.post(url, json={"hours": "long", "reason": "x"}) as r:
        assert r.status == 422
    async with sam.http.post(url, json={"hours": 24, "reason": "   "}) as r:
        assert (await r.json())["error"]["code"] == "invalid_reason"
    async with sam.http.post(url, json={"hours": 24, "reason": "insultes répétées"}) as r:
        assert r.status == 201, await r.text()
    sid = new_sid()
    answer = await twilio.step("/telephony/voice/incoming", sid)
    assert answer.said() == ["Cette ligne ne peut pas prendre votre appel pour le moment. Au revoir."]
    assert answer.verbs()[-1] == "Hangup"
    assert (await twilio.step("/telephony/voice/choice?lang=fr", sid, Digits="1")).verbs()[-1] == "Hangup"
    assert await contact_of(server, sid) is None
    other = await twilio.step("/telephony/voice/incoming", new_sid(), number="+33677777777")
    assert other.first("Gather") is not None  # only that caller
    async with sam.http.delete(url) as r:
        assert r.status == 204
    assert (await twilio.step("/telephony/voice/incoming", new_sid())).first("Gather") is not None
    hidden = await contact_of(server, await twilio.queued_call(number="anonymous"))
    async with sam.http.post(
        f"{server.url}/api/v1/contacts/{hidden.id}/caller-block", json={"hours": 1, "reason": "x"}
    ) as r:
        assert r.status == 409 and (await r.json())["error"]["code"] == "no_caller_number"


async def test_a_block_applies_to_the_caller_whatever_form_their_number_arrives_in(
    server: Server,
    twilio: Twilio,
    clients_of: ClientsOf,
) -> None:
    await server.add_counsellor("sam", role=_role("supervisor"))
    sam = clients_of(server).counsellor("sam")
    await sam.login()
    first = await contact_of(server, await twilio.queued_call(number="+33612345678"))
    async with sam.http.post(
        f"{server.url}/api/v1/contacts/{first.id}/caller-block", json={"hours": 24, "reason": "menaces"}
    ) as r:
        assert r.status == 201, await r.text()
    blocked = ["Cette ligne ne peut pas prendre votre appel pour le moment. Au revoir."]
    for number in ("0612345678", "06 12 34 56 78", "0033612345678", "+33 (0)6 12 34 56 78"):
        answer = await twilio.step("/telephony/voice/incoming", new_sid(), number=number)
        assert answer.said() == blocked, number
    other = await twilio.step("/telephony/voice/incoming", new_sid(), number="0677777777")
    assert other.first("Gather") is not None


def _role(name: str) -> Any:
    from helpline.domain.counsellor import Role

    return Role(name)


def _carrier_key() -> Any:
    from telephony.webhooks import CARRIER

    return CARRIER
