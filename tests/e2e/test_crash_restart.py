"""The real server is killed (SIGKILL) in the middle of a conversation and started
again on the same database: nothing acknowledged is lost, nothing is stored or
delivered twice, the contact stays with its counsellor and the talk goes on.

Clients resume as the protocol says: the visitor with ``hello {token, after_seq}``,
the console with ``hello {after: {contact_id: seq}}``, and each resends what was not
acknowledged under the same ``client_id``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.clients import TIMEOUT, Client, Counsellor, Visitor
from tests.e2e.server_process import ServerProcess

pytestmark = pytest.mark.e2e

PASSWORD = "secret-pass"
SESSION_COOKIE = "helpline_session"
SCENARIO_TIMEOUT = 60.0

Event = dict[str, Any]


async def until(client: Client, what: str, predicate: Callable[[Event], bool], since: int = 0) -> Event:
    """The first event at or after index ``since`` of ``client.events`` that satisfies
    ``predicate``, waiting for it if it has not come yet. Unlike ``Client.expect``, an event
    that an earlier ``expect`` skipped still counts."""
    start = since
    try:
        async with asyncio.timeout(TIMEOUT):
            while True:
                for event in client.events[start:]:
                    if predicate(event):
                        return event
                start = len(client.events)
                event = await client._unread.get()
                if event["type"] == "_closed":
                    raise AssertionError(f"socket closed ({event['code']}) while waiting for {what}")
    except TimeoutError:
        raise AssertionError(f"no {what} within {TIMEOUT}s; events since: {client.events[since:]}") from None


def is_message(contact_id: str, seq: int) -> Callable[[Event], bool]:
    return lambda e: e["type"] == "message" and e.get("contact_id") == contact_id and e["seq"] == seq


def is_ack(client_id: str) -> Callable[[Event], bool]:
    return lambda e: e["type"] == "ack" and e["client_id"] == client_id


def acked(client: Client) -> dict[str, set[int]]:
    """client_id -> every seq an ack gave it."""
    seqs: dict[str, set[int]] = {}
    for e in client.events:
        if e["type"] == "ack":
            seqs.setdefault(e["client_id"], set()).add(e["seq"])
    return seqs


def last_seq(client: Client, contact_id: str) -> int:
    return max((e["seq"] for e in client.messages() if e["contact_id"] == contact_id), default=0)


@dataclass
class Conversation:
    """What happened: every message sent (client_id -> sender, text), what each side got."""

    contact_id: str
    token: str
    session_cookie: str
    marker: str
    sent: dict[str, tuple[str, str]] = field(default_factory=dict)
    unacked_at_crash: list[str] = field(default_factory=list)
    acks: dict[str, set[int]] = field(default_factory=dict)
    visitor_messages: list[Event] = field(default_factory=list)
    console_messages: list[Event] = field(default_factory=list)
    transcript: list[Event] = field(default_factory=list)


async def crash_and_restart(server: ServerProcess) -> Conversation:
    async with asyncio.timeout(SCENARIO_TIMEOUT):
        visitor = Visitor(server)  # type: ignore[arg-type]  # duck-typed: url and ws_url
        alice = Counsellor(server, "alice", PASSWORD)  # type: ignore[arg-type]
        try:
            return await _conversation(server, visitor, alice)
        finally:
            await visitor.close()
            await alice.close()


async def _conversation(server: ServerProcess, visitor: Visitor, alice: Counsellor) -> Conversation:
    marker = f"zq{secrets.token_hex(8)}"  # in every text: found nowhere unless a text leaked
    n = 0
    sent: dict[str, tuple[str, str]] = {}

    def new_message(sender: str) -> tuple[str, str]:
        nonlocal n
        n += 1
        client_id, text = f"{sender[0]}-{n}", f"{sender} message {n} {marker}"
        sent[client_id] = (sender, text)
        return client_id, text

    async def visitor_says(expected_seq: int) -> None:
        client_id, text = new_message("visitor")
        ack = await visitor.say(text, client_id=client_id)
        assert ack["seq"] == expected_seq, f"visitor ack for {client_id}: {ack}, expected seq {expected_seq}"
        got = await until(
            alice, f"visitor message seq {expected_seq} at the console", is_message(contact_id, expected_seq)
        )
        assert (got["text"], got["sender"]) == (text, "visitor"), got

    async def alice_says(expected_seq: int) -> None:
        client_id, text = new_message("counsellor")
        ack = await alice.say(contact_id, text, client_id=client_id)
        assert ack["seq"] == expected_seq, f"console ack for {client_id}: {ack}, expected seq {expected_seq}"
        got = await until(
            visitor,
            f"counsellor message seq {expected_seq} at the visitor",
            is_message(contact_id, expected_seq),
        )
        assert (got["text"], got["sender"]) == (text, "counsellor"), got

    # --- first run: the contact waits, alice takes it, they talk ------------------------------
    await server.start()
    await server.add_counsellor("alice", PASSWORD)

    created = await visitor.start()
    contact_id = created["contact_id"]
    await visitor.connect()
    assert (await visitor.expect("queue"))["position"] == 1

    client_id, text = new_message("visitor")  # written while waiting
    assert (await visitor.say(text, client_id=client_id))["seq"] == 1

    await alice.login()
    session_cookie = next(c.value for c in alice.http.cookie_jar if c.key == SESSION_COOKIE)
    await alice.connect()
    assigned = await until(alice, "assigned at the console", lambda e: e["type"] == "assigned")
    assert assigned["contact"]["contact_id"] == contact_id, assigned
    assert (await until(visitor, "assigned at the visitor", lambda e: e["type"] == "assigned"))[
        "counsellor"
    ] == {"display_name": "alice"}
    backlog = await until(alice, "the message written while waiting", is_message(contact_id, 1))
    assert backlog["text"] == text, backlog

    await alice_says(2)
    await visitor_says(3)
    await alice_says(4)
    await visitor_says(5)
    last_acked_visitor_message = "v-5"

    # --- the crash: messages in flight, nobody waits for their ack ----------------------------
    in_flight_visitor = [new_message("visitor") for _ in range(2)]
    in_flight_console = [new_message("counsellor")]
    for client_id, text in in_flight_visitor:
        await visitor.send_json({"type": "message", "client_id": client_id, "text": text})
    for client_id, text in in_flight_console:
        await alice.send_json(
            {"type": "message", "contact_id": contact_id, "client_id": client_id, "text": text}
        )
    await server.kill()

    await visitor.closed()
    await alice.closed()
    await visitor.drop()
    await alice.drop()
    acks_before = {**acked(visitor), **acked(alice)}
    unacked = [cid for cid, _ in in_flight_visitor + in_flight_console if cid not in acks_before]
    visitor_seen, console_seen = last_seq(visitor, contact_id), last_seq(alice, contact_id)
    assert visitor_seen >= 5 and console_seen >= 5, (visitor_seen, console_seen)

    # --- second run, same database and port: both sides resume ---------------------------------
    await server.start()

    v_mark = len(visitor.events)
    await visitor.connect(after_seq=visitor_seen)
    again = await until(visitor, "assigned after the restart", lambda e: e["type"] == "assigned", v_mark)
    assert again["contact_id"] == contact_id and again["counsellor"] == {"display_name": "alice"}, (
        f"the contact should still be alice's after the restart: {again}"
    )

    a_mark = len(alice.events)
    await alice.connect(after={contact_id: console_seen})  # same session cookie as before the crash
    again = await until(
        alice,
        "the contact announced after the restart",
        lambda e: e["type"] == "assigned" and "contact" in e,
        a_mark,
    )
    assert again["contact"]["contact_id"] == contact_id, (
        f"the console should be given the same contact after the restart: {again}"
    )

    for client_id, text in in_flight_visitor:
        if client_id in unacked:
            await visitor.send_json({"type": "message", "client_id": client_id, "text": text})
    for client_id, text in in_flight_console:
        if client_id in unacked:
            await alice.send_json(
                {"type": "message", "contact_id": contact_id, "client_id": client_id, "text": text}
            )
    for client_id in unacked:
        client: Client = visitor if client_id.startswith("v-") else alice
        await until(
            client,
            f"the ack of the resent {client_id}",
            is_ack(client_id),
            v_mark if client is visitor else a_mark,
        )

    # A resend of a message acknowledged before the crash is recognised as the same message.
    _, text = sent[last_acked_visitor_message]
    dup = await visitor.say(text, client_id=last_acked_visitor_message)
    assert dup["seq"] == 5, f"a resend after the restart must keep the original seq 5: {dup}"

    stored = len(sent)
    await until(visitor, f"every message up to seq {stored} at the visitor", is_message(contact_id, stored))
    await until(alice, f"every message up to seq {stored} at the console", is_message(contact_id, stored))

    # --- the talk goes on, then ends ------------------------------------------------------------
    await visitor_says(stored + 1)
    await alice_says(stored + 2)

    await visitor.send_json({"type": "end"})
    ended = await until(visitor, "ended at the visitor", lambda e: e["type"] == "ended", v_mark)
    assert ended["reason"] == "visitor", ended
    ended = await until(
        alice,
        "ended at the console",
        lambda e: e["type"] == "ended" and e["contact_id"] == contact_id,
        a_mark,
    )
    assert ended["reason"] == "visitor", ended

    async with alice.http.get(f"{server.url}/api/v1/contacts/{contact_id}/messages") as r:
        assert r.status == 200, await r.text()
        transcript = (await r.json())["messages"]

    await server.stop()
    return Conversation(
        contact_id=contact_id,
        token=created["token"],
        session_cookie=session_cookie,
        marker=marker,
        sent=sent,
        unacked_at_crash=unacked,
        acks={**acked(visitor), **acked(alice)},
        visitor_messages=[m for m in visitor.messages() if m["contact_id"] == contact_id],
        console_messages=[m for m in alice.messages() if m["contact_id"] == contact_id],
        transcript=transcript,
    )


def check_exactly_once(side: str, messages: list[Event], run: Conversation) -> None:
    seqs = [m["seq"] for m in messages]
    total = len(run.sent)
    repeated = sorted(s for s, k in Counter(seqs).items() if k > 1)
    missing = sorted(set(range(1, total + 1)) - set(seqs))
    assert not repeated, f"{side} received seq(s) {repeated} more than once: {seqs}"
    assert not missing, f"{side} never received seq(s) {missing}: {seqs}"
    assert seqs == list(range(1, total + 1)), f"{side} got seqs {seqs}, expected 1..{total} in order"
    client_ids = Counter(m["client_id"] for m in messages)
    assert client_ids == Counter(run.sent), (
        f"{side}: each message sent must be received exactly once; got {dict(client_ids)}"
    )
    for m in messages:
        sender, text = run.sent[m["client_id"]]
        assert (m["sender"], m["text"]) == (sender, text), f"{side} got {m} for {m['client_id']}"


async def test_a_crash_loses_nothing_acknowledged_and_duplicates_nothing(
    server_process: ServerProcess,
) -> None:
    run = await crash_and_restart(server_process)
    total = len(run.sent)

    assert all(len(seqs) == 1 for seqs in run.acks.values()), (
        f"a message was acknowledged with two different seqs: {run.acks}"
    )
    assert set(run.acks) == set(run.sent), (
        f"every message, resent ones included, ends up acknowledged: acks {run.acks}, sent {list(run.sent)}"
    )
    assert sorted(s for (s,) in run.acks.values()) == list(range(1, total + 1)), (
        f"acks must number the messages 1..{total} with no gap: {run.acks}"
    )
    check_exactly_once("the visitor", run.visitor_messages, run)
    check_exactly_once("the console", run.console_messages, run)
    assert [(m["seq"], m["text"]) for m in run.transcript] == [
        (m["seq"], m["text"]) for m in run.visitor_messages
    ], f"the stored transcript differs from what was delivered: {run.transcript}"


async def test_logs_hold_no_message_text_and_the_database_no_address(server_process: ServerProcess) -> None:
    run = await crash_and_restart(server_process)

    logs = server_process.output()
    assert b"contact_assigned" in logs, "the server's logs were not captured"
    assert run.marker.encode() not in logs, "message text was written to the server's logs"
    for secret, name in ((run.token, "visitor token"), (run.session_cookie, "session cookie")):
        assert secret.encode() not in logs, f"the {name} was written to the server's logs"

    db = b"".join(path.read_bytes() for path in sorted(server_process.directory.glob("e2e.db*")))
    assert run.marker.encode() in db, "the transcript should be in the database (is this the right file?)"
    assert b"127.0.0.1" not in db, "an IP address was written to the database"
    for secret, name in ((run.token, "visitor token"), (run.session_cookie, "session cookie")):
        assert secret.encode() not in db, f"the {name} was stored in clear in the database"
