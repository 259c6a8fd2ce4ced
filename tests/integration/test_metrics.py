"""GET /metrics: off unless configured, then only with the token and from the allowed
addresses; the counts come from what really happened (a conversation, a call, hand-offs,
refusals, a purge), and no label ever carries an id, a number, an address or a text."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpline.domain.contact import Channel
from helpline.domain.counsellor import Role, Status
from helpline.domain.messages import Sender
from helpline.domain.retention import Kind
from helpline.metrics import (
    COMMIT_BUCKETS,
    DELIVERY_BUCKETS,
    HANDOFF_OUTCOMES,
    RATE_RULES,
    SOCKETS,
    WEBHOOK_BUCKETS,
)
from tests.clients import Server
from tests.clock import FrozenClock
from tests.conftest import ServerFactory
from tests.handoff_targets import webhook_target
from tests.integration import test_handoff_delivery
from tests.integration.conftest import ClientsOf
from tests.integration.test_handoff_delivery import SECRET, Receiver
from tests.integration.test_handoffs import call, logged_in
from tests.phone import PHONE_ENV, Twilio

receiver = test_handoff_delivery.receiver  # the partner's endpoint, a fixture

TOKEN = "scrape-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
SKILLS = ("general", "psychological", "legal", "technical")
WEBHOOK_STEPS = ("incoming", "choice", "wait", "connect", "dialed", "emergency", "status")
BOUNDS = {str(float(b)) for b in (*DELIVERY_BUCKETS, *WEBHOOK_BUCKETS, *COMMIT_BUCKETS)} | {"+Inf"}
# Every label the metrics may carry, and every value it may take: small fixed sets.
ALLOWED = {
    "skill": set(SKILLS),
    "channel": {c.value for c in Channel},
    "status": {s.value for s in Status},
    "sender": {s.value for s in Sender},
    "socket": set(SOCKETS),
    "step": set(WEBHOOK_STEPS),
    "outcome": set(HANDOFF_OUTCOMES),
    "kind": {k.value for k in Kind},
    "rule": set(RATE_RULES),
    "le": BOUNDS,  # a histogram's bucket bounds: ours, fixed
}

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(server: Server, headers: dict[str, str] | None = None) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/metrics", headers=headers) as r:
        return r.status, await r.text(), r.headers


async def samples(server: Server) -> Samples:
    status, body, headers = await scrape(server, BEARER)
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def becomes(server: Server, check: Callable[[Samples], bool], timeout: float = 10.0) -> Samples:
    """Scrape until ``check`` holds (what happens after commit may take a moment)."""
    async with asyncio.timeout(timeout):
        while not check(found := await samples(server)):  # noqa: ASYNC110 - read from outside, as Prometheus
            await asyncio.sleep(0.05)
    return found


# --- who may read them ------------------------------------------------------------------------------


async def test_metrics_are_off_unless_configured(server: Server) -> None:
    status, body, _ = await scrape(server, BEARER)
    assert status == 404 and '"not_found"' in body


async def test_a_missing_or_wrong_token_is_refused(make_server: ServerFactory) -> None:
    server = await make_server(metrics_token=TOKEN)
    for headers in (None, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": TOKEN}, {"Authorization": f"Bearer {TOKEN}x"}):
        status, body, answer = await scrape(server, headers)
        assert status == 401 and '"metrics_token"' in body, headers
        assert answer["WWW-Authenticate"] == "Bearer"
    status, body, _ = await scrape(server, BEARER)
    assert status == 200 and "helpline_messages_stored_total" in body


async def test_only_allowed_addresses_may_read_them_as_the_trusted_proxy_says(
    make_server: ServerFactory,
) -> None:
    elsewhere = await make_server(metrics_allow="10.0.0.0/8, 192.168.1.7")
    status, body, _ = await scrape(elsewhere)
    assert status == 403 and '"forbidden"' in body
    # A client's own X-Forwarded-For is not believed: the peer (loopback) is no trusted proxy.
    assert (await scrape(elsewhere, {"X-Forwarded-For": "10.1.2.3"}))[0] == 403

    here = await make_server(metrics_allow="127.0.0.1")
    assert (await scrape(here))[0] == 200

    behind_proxy = await make_server(metrics_allow="10.0.0.0/8", trusted_proxies="127.0.0.1")
    assert (await scrape(behind_proxy, {"X-Forwarded-For": "10.1.2.3"}))[0] == 200
    assert (await scrape(behind_proxy, {"X-Forwarded-For": "10.1.2.3, 203.0.113.9"}))[0] == 403
    assert (await scrape(behind_proxy))[0] == 403  # the proxy itself is not in the list


async def test_with_both_an_allowed_address_needs_the_token_and_the_token_needs_the_address(
    make_server: ServerFactory,
) -> None:
    both = await make_server(metrics_allow="127.0.0.0/8", metrics_token=TOKEN)
    assert (await scrape(both))[0] == 401
    assert (await scrape(both, BEARER))[0] == 200
    far = await make_server(metrics_allow="10.0.0.0/8", metrics_token=TOKEN)
    assert (await scrape(far, BEARER))[0] == 403


def test_a_bad_allowed_address_or_a_short_token_is_refused_at_start_and_an_empty_one_is_off() -> None:
    from pydantic import ValidationError

    from helpline.config import Settings

    with pytest.raises(ValidationError, match="metrics_allow"):
        Settings(metrics_allow="10.0.0.0/8, localhost")
    with pytest.raises(ValidationError, match="16 characters"):
        Settings(metrics_token="guessable")
    assert not Settings(metrics_token="  ").metrics_enabled  # never "Bearer " with nothing after


async def test_a_bad_setting_stops_the_server_before_it_starts_without_showing_the_token(
    tmp_path: Path,
) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "HELPLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
           "HELPLINE_METRICS_TOKEN": "guessable", "HELPLINE_METRICS_ALLOW": "somewhere"}
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "helpline.cli", "serve"],
                                   env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "HELPLINE_METRICS_TOKEN is not valid" in done.stderr and "guessable" not in done.stderr
    assert "HELPLINE_METRICS_ALLOW='somewhere' is not valid" in done.stderr


# --- what they count ---------------------------------------------------------------------------------


async def test_the_floor_shows_who_waits_who_is_on_duty_and_the_sockets_open(
    make_server: ServerFactory, clients_of: ClientsOf
) -> None:
    server = await make_server(metrics_token=TOKEN)
    clients = clients_of(server)
    empty = await samples(server)
    for skill in SKILLS:  # a row for every skill and channel, even when nobody waits
        for channel in ("chat", "voice"):
            assert ("helpline_contacts_waiting", (("channel", channel), ("skill", skill))) in empty
    assert value(empty, "helpline_sockets_open", socket="visitor") == 0

    visitor = await clients.waiting_visitor()
    # Waiting from its POST; its socket counted once the widget's hello is through.
    found = await becomes(server, lambda s: value(s, "helpline_contacts_waiting", skill="general",
                                                  channel="chat") == 1
                          and value(s, "helpline_sockets_open", socket="visitor") == 1)
    assert value(found, "helpline_longest_wait_seconds", skill="general", channel="chat") >= 0
    assert value(found, "helpline_contacts_active", channel="chat") == 0

    await server.add_counsellor("alice")
    alice = await clients.online("alice")
    await visitor.expect("assigned")
    # The queue is read from the snapshot the process shares (at most a second old).
    found = await becomes(server, lambda s: value(s, "helpline_contacts_active", channel="chat") == 1
                          and value(s, "helpline_contacts_waiting", skill="general", channel="chat") == 0)
    assert value(found, "helpline_counsellors", status="available") == 1
    assert value(found, "helpline_sockets_open", socket="console") == 1

    await visitor.close()
    await alice.close()
    await becomes(server, lambda s: value(s, "helpline_sockets_open", socket="visitor") == 0
                  and value(s, "helpline_sockets_open", socket="console") == 0)


async def test_after_a_conversation_a_call_and_hand_offs_every_label_is_from_a_fixed_set(
    make_server: ServerFactory, clients_of: ClientsOf, receiver: Receiver, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, setting in PHONE_ENV.items():
        monkeypatch.setenv(name, setting)
    monkeypatch.setenv("PARTNER_SECRET", SECRET)
    targets = tmp_path / "targets.toml"
    targets.write_text("\n".join(
        webhook_target(tmp_path / f"{tid}.toml", tid, tid, f"{receiver.url}{path}", "PARTNER_SECRET")
        .read_text("utf-8")
        for tid, path in (("partner", "/hook"), ("refuses", "/status/400"), ("down", "/status/503"))))
    server = await make_server(metrics_token=TOKEN, handoff_targets_file=targets,
                               limit_messages_per_socket="1/min,burst=3")
    clients = clients_of(server)

    # A conversation, its counsellor's answers, and a visitor who writes too fast.
    visitor, alice = await clients.talking()
    for text in ("bonjour", "on me harcèle", "sur un réseau social"):
        await visitor.say(text)
    await alice.say(visitor.contact_id, "Je t'écoute.")
    await visitor.send_json({"type": "message", "client_id": "x-4", "text": "encore"})
    await visitor.expect("error", code="rate_limited")
    await alice.expect("message", text="sur un réseau social")

    # Hand-offs: one delivered, one refused for good, one the partner cannot take now.
    for target in ("partner", "refuses", "down"):
        status, draft = await call(alice, "POST", f"/contacts/{visitor.contact_id}/handoffs",
                                   {"target": target, "fields": {"urls": ["https://social.example/p/1"]}})
        assert status == 201, draft
        await call(alice, "POST", f"/handoffs/{draft['id']}/submit")

    # A call, taken by a colleague.
    twilio = Twilio(server.url)
    try:
        await server.add_counsellor("bob", voice_endpoint="client:bob")
        await twilio.queued_call()
        bob = await clients.online("bob")
        await bob.expect("assigned")
    finally:
        await twilio.close()

    await visitor.send_json({"type": "end"})  # the young person ends the conversation
    await alice.expect("ended", contact_id=visitor.contact_id)

    # Logins refused by the throttle.
    for _ in range(6):
        async with aiohttp.ClientSession() as http, http.post(
            f"{server.url}/api/v1/auth/login", json={"username": "alice", "password": "wrong"}) as r:
            last = r.status
    assert last == 429

    found = await becomes(server, lambda s: sum(
        value(s, "helpline_handoff_deliveries_total", outcome=o) for o in HANDOFF_OUTCOMES) >= 3)
    assert value(found, "helpline_messages_stored_total", sender="visitor") == 3
    assert value(found, "helpline_messages_stored_total", sender="counsellor") == 1
    assert value(found, "helpline_message_delivery_seconds_count", socket="console") >= 3
    assert value(found, "helpline_message_delivery_seconds_count", socket="visitor") >= 4  # its own too
    assert value(found, "helpline_message_commit_seconds_count") >= 1
    assert value(found, "helpline_webhook_seconds_count", step="incoming") == 1
    assert value(found, "helpline_webhook_seconds_count", step="choice") == 1
    assert value(found, "helpline_handoff_deliveries_total", outcome="delivered") == 1
    assert value(found, "helpline_handoff_deliveries_total", outcome="failed") == 1
    assert value(found, "helpline_handoff_deliveries_total", outcome="retry") == 1
    assert value(found, "helpline_handoff_outbox_backlog") == 1  # the one to try again
    assert value(found, "helpline_rate_limited_total", rule="message") == 1
    assert value(found, "helpline_rate_limited_total", rule="login") >= 1
    assert value(found, "helpline_contacts_active", channel="voice") == 1
    assert value(found, "helpline_contacts_active", channel="chat") == 0

    names = {name for name, _ in found}
    assert all(name.startswith("helpline_") for name in names)
    for (name, labels), _ in found.items():
        for label, label_value in labels:
            assert label in ALLOWED, (name, label)
            assert label_value in ALLOWED[label], (name, label, label_value)


async def test_the_purge_counts_what_it_erased_per_kind(
    make_server: ServerFactory, clients_of: ClientsOf
) -> None:
    clock = FrozenClock("2026-03-02 10:00")
    server = await make_server(metrics_token=TOKEN, clock=clock, retain_messages_days=1)
    clients = clients_of(server)
    visitor, alice = await clients.talking()
    await visitor.say("bonjour")
    await alice.say(visitor.contact_id, "bonjour, je t'écoute")
    await visitor.send_json({"type": "end"})
    await alice.expect("ended")
    assert value(await samples(server), "helpline_purge_last_completed_timestamp_seconds") == 0

    clock.at += timedelta(days=2)
    gone = await server.services.purge.run()
    assert gone is not None and gone[Kind.MESSAGES] >= 2
    found = await samples(server)
    assert value(found, "helpline_purged_rows_total", kind="messages") == gone[Kind.MESSAGES]
    assert value(found, "helpline_purge_last_completed_timestamp_seconds") > 0


async def test_each_server_counts_its_own(make_server: ServerFactory, clients_of: ClientsOf) -> None:
    first = await make_server(metrics_token=TOKEN)
    second = await make_server(metrics_token=TOKEN)
    visitor, _ = await clients_of(first).talking()
    await visitor.say("bonjour")
    await becomes(first, lambda s: value(s, "helpline_messages_stored_total", sender="visitor") == 1)
    assert value(await samples(second), "helpline_messages_stored_total", sender="visitor") == 0


async def test_a_supervisor_still_sees_todays_service_level_as_before(
    make_server: ServerFactory, clients_of: ClientsOf
) -> None:
    server = await make_server(metrics_token=TOKEN)
    clients = clients_of(server)
    await clients.talking()
    sam = await logged_in(server, clients, "sam", Role.SUPERVISOR)
    status, overview = await call(sam, "GET", "/supervisor/overview")
    assert status == 200
    assert overview["today"]["answered"] == 1 and overview["today"]["service_level"] == 1.0
    found = await samples(server)
    assert value(found, "helpline_service_level_last_hour") == 1.0
