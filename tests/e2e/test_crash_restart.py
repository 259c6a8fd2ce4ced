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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.clients import Client, Counsellor, Visitor
from tests.e2e.redis_process import RedisProcess
from tests.e2e.server_process import ServerProcess

pytestmark = pytest.mark.e2e

PASSWORD = "secret-pass"
SESSION_COOKIE = "helpline_session"
SCENARIO_TIMEOUT = 60.0

Event = dict[str, Any]


async def received(client: Client, contact_id: str, seq: int) -> Event:
    """Message ``seq`` of the contact as this client got it: already (before a reconnect,
    say), or next."""
    for m in client.messages():
        if m["contact_id"] == contact_id and m["seq"] == seq:
            return m
    try:
        return await client.expect("message", contact_id=contact_id, seq=seq)
    except TimeoutError:
        got = [m["seq"] for m in client.messages() if m["contact_id"] == contact_id]
        raise AssertionError(f"{type(client).__name__} never got message seq {seq}; got {got}") from None


def acks(*clients: Client) -> dict[str, list[int]]:
    """client_id -> the seq of every ack received for it, on both connections of each client."""
    seqs: dict[str, list[int]] = {}
    for client in clients:
        for e in client.events:
            if e["type"] == "ack":
                seqs.setdefault(e["client_id"], []).append(e["seq"])
    return seqs


def last_seq(client: Client, contact_id: str) -> int:
    return max((m["seq"] for m in client.messages() if m["contact_id"] == contact_id), default=0)


@dataclass
class Conversation:
    """What happened: every message sent (client_id -> (sender, text)) and what each side got."""

    contact_id: str
    token: str
    session_cookie: str
    marker: str
    sent: dict[str, tuple[str, str]]
    in_flight: list[str]  # sent right before the crash, with no wait for the ack
    resent: list[str]  # in flight and not acknowledged: sent again after the restart
    acks: dict[str, list[int]] = field(default_factory=dict)
    visitor_messages: list[Event] = field(default_factory=list)
    console_messages: list[Event] = field(default_factory=list)
    transcript: list[Event] = field(default_factory=list)


class Talk:
    """A visitor and alice on one contact; every message sent is recorded with a text that
    carries the run's marker, so the marker is found only where a text was written."""

    def __init__(self, server: ServerProcess) -> None:
        self.visitor = Visitor(server)  # type: ignore[arg-type]  # duck-typed: url and ws_url
        self.alice = Counsellor(server, "alice", PASSWORD)  # type: ignore[arg-type]
        self.marker = f"zq{secrets.token_hex(8)}"
        self.sent: dict[str, tuple[str, str]] = {}
        self.contact_id = ""

    def new(self, sender: str) -> tuple[str, str]:
        n = len(self.sent) + 1
        client_id, text = f"{sender[0]}-{n}", f"{sender} message {n} {self.marker}"
        self.sent[client_id] = (sender, text)
        return client_id, text

    async def visitor_says(self, expected_seq: int) -> None:
        client_id, text = self.new("visitor")
        ack = await self.visitor.say(text, client_id=client_id)
        assert ack["seq"] == expected_seq, f"visitor ack {ack}; expected seq {expected_seq}"
        got = await received(self.alice, self.contact_id, expected_seq)
        assert (got["sender"], got["text"]) == ("visitor", text), f"the console got {got}"

    async def alice_says(self, expected_seq: int) -> None:
        client_id, text = self.new("counsellor")
        ack = await self.alice.say(self.contact_id, text, client_id=client_id)
        assert ack["seq"] == expected_seq, f"console ack {ack}; expected seq {expected_seq}"
        got = await received(self.visitor, self.contact_id, expected_seq)
        assert (got["sender"], got["text"]) == ("counsellor", text), f"the visitor got {got}"

    async def visitor_sends(self, client_id: str) -> None:
        """Send (or send again) without waiting for the ack."""
        await self.visitor.send_json(
            {"type": "message", "client_id": client_id, "text": self.sent[client_id][1]}
        )

    async def alice_sends(self, client_id: str) -> None:
        await self.alice.send_json(
            {
                "type": "message",
                "contact_id": self.contact_id,
                "client_id": client_id,
                "text": self.sent[client_id][1],
            }
        )

    async def close(self) -> None:
        await self.visitor.close()
        await self.alice.close()


async def crash_and_restart(server: ServerProcess) -> Conversation:
    talk = Talk(server)
    try:
        async with asyncio.timeout(SCENARIO_TIMEOUT):
            return await _crash_and_restart(server, talk)
    finally:
        await talk.close()


async def _crash_and_restart(server: ServerProcess, talk: Talk) -> Conversation:
    visitor, alice = talk.visitor, talk.alice

    # --- first run: the contact waits, alice takes it, they talk -----------------------------
    await server.start()
    await server.add_counsellor("alice", PASSWORD)

    created = await visitor.start()
    contact_id = talk.contact_id = created["contact_id"]
    await visitor.connect()
    assert (await visitor.expect("queue"))["position"] == 1

    client_id, text = talk.new("visitor")  # written while waiting
    assert (await visitor.say(text, client_id=client_id))["seq"] == 1

    await alice.login()
    session_cookie = next(c.value for c in alice.http.cookie_jar if c.key == SESSION_COOKIE)
    await alice.connect()
    assigned = await alice.expect("assigned")
    assert assigned["contact"]["contact_id"] == contact_id, assigned
    assert (await visitor.expect("assigned"))["counsellor"] == {"display_name": "alice"}
    assert (await received(alice, contact_id, 1))["text"] == text

    await talk.alice_says(2)
    await talk.visitor_says(3)
    await talk.alice_says(4)
    await talk.visitor_says(5)
    acked_before_crash = "v-5"

    # --- the crash, with messages in flight whose acks nobody waits for ----------------------
    # The kill comes once the server is busy with the burst (its first message has reached
    # the console), so the later ones may or may not have been stored, or acknowledged.
    in_flight = [
        talk.new("visitor")[0],
        talk.new("visitor")[0],
        talk.new("visitor")[0],
        talk.new("counsellor")[0],
    ]
    for client_id in in_flight:
        await (talk.visitor_sends if client_id.startswith("v-") else talk.alice_sends)(client_id)
    await alice.expect("message", contact_id=contact_id, client_id=in_flight[0])
    await server.kill()

    await visitor.closed()
    await alice.closed()
    await visitor.drop()
    await alice.drop()
    acked_at_crash = acks(visitor, alice)
    resent = [client_id for client_id in in_flight if client_id not in acked_at_crash]
    visitor_seen, console_seen = last_seq(visitor, contact_id), last_seq(alice, contact_id)
    assert min(visitor_seen, console_seen) >= 5, (visitor_seen, console_seen)

    # --- second run on the same database and port: both sides resume ------------------------
    await server.start()

    await visitor.connect(after_seq=visitor_seen)
    again = await visitor.expect("assigned")
    assert (again["contact_id"], again["counsellor"]) == (contact_id, {"display_name": "alice"}), (
        f"the contact should still be alice's after the restart: {again}"
    )

    await alice.connect(after={contact_id: console_seen})  # the session cookie from before the crash
    again = await alice.expect("assigned")
    assert again["contact"]["contact_id"] == contact_id, (
        f"the console should be given its contact back after the restart: {again}"
    )

    for client_id in resent:
        await (talk.visitor_sends if client_id.startswith("v-") else talk.alice_sends)(client_id)
    for client_id in resent:
        await (visitor if client_id.startswith("v-") else alice).expect("ack", client_id=client_id)

    # A resend of a message acknowledged before the crash is still the same message.
    dup = await visitor.say(talk.sent[acked_before_crash][1], client_id=acked_before_crash)
    assert dup["seq"] == 5, f"a resend after the restart must get the original seq 5: {dup}"

    stored = len(talk.sent)
    await received(visitor, contact_id, stored)
    await received(alice, contact_id, stored)

    # --- the talk goes on, then ends ------------------------------------------------------------
    await talk.visitor_says(stored + 1)
    await talk.alice_says(stored + 2)

    await visitor.send_json({"type": "end"})
    assert (await visitor.expect("ended"))["reason"] == "visitor"
    assert (await alice.expect("ended", contact_id=contact_id))["reason"] == "visitor"

    async with alice.http.get(f"{server.url}/api/v1/contacts/{contact_id}/messages") as r:
        assert r.status == 200, await r.text()
        transcript = (await r.json())["messages"]

    await server.stop()
    return Conversation(
        contact_id=contact_id,
        token=created["token"],
        session_cookie=session_cookie,
        marker=talk.marker,
        sent=talk.sent,
        in_flight=in_flight,
        resent=resent,
        acks=acks(visitor, alice),
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
    assert seqs == list(range(1, total + 1)), f"{side} got seqs {seqs}; expected 1..{total} in order"
    for m in messages:
        assert m["client_id"] in run.sent, f"{side} got a message nobody sent: {m}"
        assert (m["sender"], m["text"]) == run.sent[m["client_id"]], f"{side} got {m}"
    times = Counter(m["client_id"] for m in messages)
    assert times == Counter(list(run.sent)), f"{side} must get each message sent exactly once: {dict(times)}"


async def test_a_crash_loses_nothing_acknowledged_and_duplicates_nothing(
    server_process: ServerProcess,
) -> None:
    check_nothing_lost_or_doubled(await crash_and_restart(server_process))


@pytest.mark.postgres
async def test_a_crash_of_every_worker_loses_nothing_acknowledged_and_duplicates_nothing(
    tmp_path: Path, postgres_url: str, redis: RedisProcess
) -> None:
    """The same with `serve --workers 2`: its supervisor and both workers SIGKILLed at once."""
    server = ServerProcess(tmp_path, workers=2, database_url=postgres_url, redis_url=redis.url)
    try:
        check_nothing_lost_or_doubled(await crash_and_restart(server))
    finally:
        await server.stop()


def check_nothing_lost_or_doubled(run: Conversation) -> None:
    total = len(run.sent)

    assert set(run.acks) == set(run.sent), (
        f"every message, resent ones included, must end up acked: acks {run.acks}, sent {list(run.sent)}"
    )
    twice = {cid: seqs for cid, seqs in run.acks.items() if len(set(seqs)) != 1}
    assert not twice, f"a message was acknowledged with different seqs: {twice}"
    seq_of = {cid: seqs[0] for cid, seqs in run.acks.items()}
    assert sorted(seq_of.values()) == list(range(1, total + 1)), (
        f"the acks must number the {total} messages 1..{total}, each once: {seq_of}"
    )
    check_exactly_once("the visitor", run.visitor_messages, run)
    check_exactly_once("the console", run.console_messages, run)
    for side, messages in (("the visitor", run.visitor_messages), ("the console", run.console_messages)):
        for client_id in run.in_flight:
            times = sum(m["client_id"] == client_id for m in messages)
            resent = "resent" if client_id in run.resent else "acknowledged before the crash"
            assert times == 1, f"{side} got the in-flight message {client_id} ({resent}) {times} times"
    for m in run.visitor_messages:
        acked_as = seq_of[m["client_id"]]
        assert acked_as == m["seq"], f"message {m} was acknowledged as seq {acked_as}"
    assert [(m["seq"], m["text"]) for m in run.transcript] == [
        (m["seq"], m["text"]) for m in run.visitor_messages
    ], f"the stored transcript differs from what was delivered: {run.transcript}"


async def test_the_logs_hold_no_message_text_and_the_database_no_address(
    server_process: ServerProcess,
) -> None:
    run = await crash_and_restart(server_process)
    secrets_ = {"visitor token": run.token, "session cookie": run.session_cookie}

    logs = server_process.output()
    assert b"contact_assigned" in logs, "the server's logs were not captured"
    assert run.marker.encode() not in logs, "message text was written to the server's logs"
    for name, value in secrets_.items():
        assert value.encode() not in logs, f"the {name} was written to the server's logs"
    # The startup banner on stdout names the address the server listens on; the logs
    # proper (stderr) must not name the clients' address.
    assert b"127.0.0.1" not in server_process.output(("stderr",)), "a client address was logged"

    db = server_process.database_bytes()
    assert run.contact_id.encode() in db, "the contact should be in the database (is this the right file?)"
    assert run.marker.encode() not in db, "message text was stored in the clear (it is sealed)"
    assert b"127.0.0.1" not in db, "an IP address was written to the database"
    for name, value in secrets_.items():
        assert value.encode() not in db, f"the {name} was stored in the clear in the database"
