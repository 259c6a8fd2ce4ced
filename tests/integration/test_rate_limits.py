"""Floods, through a real server: starting contacts is limited per client address (behind
a trusted proxy, the forwarded one) and for the whole line; a visitor's messages per socket
and per contact; a supervisor blocks a live chat's sender; waiting chats nobody is behind
are shown to supervisors and count in nobody's place.

Different clients are different loopback addresses (all of 127.0.0.0/8 is loopback)."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from helpline.domain.counsellor import Role
from helpline.domain.errors import RateLimited
from helpline.store.tables import CallerBlock, Contact
from tests.clients import Clients, Server, Visitor
from tests.clock import FrozenClock


@pytest_asyncio.fixture
async def sessions() -> AsyncIterator[Callable[[str], aiohttp.ClientSession]]:
    opened: list[aiohttp.ClientSession] = []

    def at(address: str) -> aiohttp.ClientSession:
        opened.append(aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0))))
        return opened[-1]

    yield at
    for s in opened:
        await s.close()


async def start(http: aiohttp.ClientSession, server: Server, forwarded_for: str | None = None,
                body: Any = None, data: bytes | None = None) -> tuple[int, dict[str, Any], str | None]:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    payload = {"json": body if body is not None else {"channel": "chat", "profile": {}}}
    if data is not None:
        payload = {"data": data}  # type: ignore[dict-item]
    async with http.post(f"{server.url}/api/v1/contacts", headers=headers, **payload) as r:
        return r.status, await r.json(), r.headers.get("Retry-After")


async def stored_contacts(server: Server) -> int:
    async with server.services.ctx.store.reading() as tx:
        return len(await tx.contacts.waiting())


async def test_a_flood_from_one_address_behind_the_proxy_is_refused_while_another_gets_through(
    make_server: Any, sessions: Any,
) -> None:
    server = await make_server(trusted_proxies="127.0.0.1",
                               limit_contacts_per_client="1/h,burst=5")
    proxy = sessions("127.0.0.1")
    answers = [await start(proxy, server, "203.0.113.9") for _ in range(12)]
    assert [status for status, _, _ in answers] == [201] * 5 + [429] * 7
    _, body, retry_after = answers[5]
    assert body["error"]["code"] == "rate_limited" and body["error"]["message"]
    assert 3500 <= body["error"]["retry_after_s"] <= 3600  # one more an hour
    assert retry_after == str(body["error"]["retry_after_s"])
    # Another young person behind the same proxy still starts a chat.
    assert (await start(proxy, server, "198.51.100.4"))[0] == 201
    # A client can put anything to the left: the proxy's own entry is the one believed.
    assert (await start(proxy, server, "10.9.9.9, 203.0.113.9"))[0] == 429
    assert (await start(proxy, server, "203.0.113.9, 198.51.100.77"))[0] == 201
    assert await stored_contacts(server) == 7


async def test_an_untrusted_peers_forwarded_for_changes_nothing(make_server: Any, sessions: Any) -> None:
    server = await make_server(trusted_proxies="127.0.0.9", limit_contacts_per_client="1/h,burst=3")
    stranger = sessions("127.0.0.2")
    statuses = [(await start(stranger, server, f"198.51.100.{i}"))[0] for i in range(6)]
    assert statuses == [201] * 3 + [429] * 3  # every one counted as 127.0.0.2
    assert (await start(sessions("127.0.0.3"), server))[0] == 201


async def test_the_whole_line_takes_so_many_new_contacts_whatever_the_addresses(
    make_server: Any, sessions: Any,
) -> None:
    server = await make_server(limit_contacts_overall="1/h,burst=4")
    statuses = [(await start(sessions(f"127.0.1.{i}"), server))[0] for i in range(1, 7)]
    assert statuses == [201] * 4 + [429] * 2


async def test_refused_or_bad_requests_are_4xx_and_count_for_nothing(make_server: Any, sessions: Any) -> None:
    server = await make_server(limit_contacts_per_client="1/h,burst=2")
    http = sessions("127.0.0.2")
    assert (await start(http, server, data=b"{not json"))[0] == 400
    assert (await start(http, server, body={"channel": "chat", "profile": {"age_band": 12}}))[0] == 422
    assert (await start(http, server, body={"channel": "fax"}))[0] == 422
    oversize = json.dumps({"channel": "chat", "x": "a" * 70_000}).encode()
    assert (await start(http, server, data=oversize))[0] == 413
    assert [(await start(http, server))[0] for _ in range(3)] == [201, 201, 429]
    assert await stored_contacts(server) == 2


async def test_a_message_flood_on_one_socket_gets_error_frames_and_the_socket_stays_open(
    make_server: Any,
) -> None:
    server = await make_server(limit_messages_per_socket="1/h,burst=5")
    clients = Clients(server)
    try:
        visitor = await clients.waiting_visitor()
        for i in range(12):
            await visitor.send_json({"type": "message", "client_id": f"m{i}", "text": f"morceau {i}"})
        acks = [await visitor.expect("ack", client_id=f"m{i}") for i in range(5)]
        errors = [await visitor.expect("error", client_id=f"m{i}") for i in range(5, 12)]
        assert [a["seq"] for a in acks] == [1, 2, 3, 4, 5]
        assert {e["code"] for e in errors} == {"rate_limited"}
        assert all(3500 <= e["retry_after_s"] <= 3600 for e in errors) and errors[0]["message"]
        # Still open: it is heard, and nothing over the limit was stored (a resend neither).
        await visitor.send_json({"type": "message", "client_id": "m5", "text": "morceau 5"})
        assert (await visitor.expect("error", client_id="m5"))["code"] == "rate_limited"
        await visitor.send_json({"type": "typing"})
        assert visitor.ws is not None and not visitor.ws.closed
        async with server.services.ctx.store.reading() as tx:
            stored = await tx.messages.after(visitor.contact_id, 0)
        assert [m.client_id for m in stored] == [f"m{i}" for i in range(5)]
    finally:
        await clients.close()


async def test_a_contact_is_limited_over_all_its_sockets(make_server: Any) -> None:
    server = await make_server(limit_messages_per_contact="1/h,burst=4")
    clients = Clients(server)
    try:
        first = await clients.waiting_visitor()
        second = clients.visitor()
        second.contact_id, second.token = first.contact_id, first.token
        await second.connect()
        assert (await first.say("un"))["seq"] == 1
        assert (await second.say("deux"))["seq"] == 2
        assert (await first.say("trois"))["seq"] == 3
        assert (await second.say("quatre"))["seq"] == 4
        await first.send_json({"type": "message", "client_id": "five", "text": "cinq"})
        assert (await first.expect("error", client_id="five"))["code"] == "rate_limited"
        await second.send_json({"type": "message", "client_id": "six", "text": "six"})
        assert (await second.expect("error", client_id="six"))["code"] == "rate_limited"
    finally:
        await clients.close()


# --- blocking a chat's sender -------------------------------------------------------------------

async def _post(session: aiohttp.ClientSession, url: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    async with session.post(url, json=body) as r:
        return r.status, (await r.json() if r.status != 204 else {})


async def test_a_supervisor_blocks_a_chats_sender_who_then_sees_a_neutral_refusal(
    make_server: Any, sessions: Any, database_url: str,
) -> None:
    server = await make_server(trusted_proxies="127.0.0.1")
    clients = Clients(server)
    proxy = sessions("127.0.0.1")
    engine = create_async_engine(database_url)
    try:
        await server.add_counsellor("sam", role=Role.SUPERVISOR)
        await server.add_counsellor("carl")
        status, created, _ = await start(proxy, server, "203.0.113.9")
        assert status == 201
        cid = created["contact_id"]
        visitor = Visitor(server)
        clients.opened.append(visitor)
        visitor.contact_id, visitor.token = cid, created["token"]
        await visitor.connect()
        sam, carl = clients.counsellor("sam"), clients.counsellor("carl")
        await sam.login()
        await carl.login()
        url = f"{server.url}/api/v1/contacts/{cid}/caller-block"
        assert (await _post(carl.http, url, {"hours": 24, "reason": "insultes"}))[0] == 403
        assert (await _post(proxy, url, {"hours": 24, "reason": "insultes"}))[0] == 401
        assert (await _post(sam.http, url, {"hours": -1, "reason": "insultes"}))[0] == 422
        blank = await _post(sam.http, url, {"hours": 24, "reason": " "})
        assert blank[1]["error"]["code"] == "invalid_reason"
        unknown = f"{server.url}/api/v1/contacts/{'0' * 32}/caller-block"
        assert (await _post(sam.http, unknown, {"hours": 24, "reason": "insultes"}))[0] == 404
        status, blocked = await _post(sam.http, url, {"hours": 24, "reason": "insultes répétées"})
        assert status == 201, blocked

        status, refused, _ = await start(proxy, server, "203.0.113.9")
        assert status == 403
        assert refused["error"]["code"] == "chat_unavailable"
        assert refused["error"]["emergency"] and "bloqu" not in json.dumps(refused, ensure_ascii=False)
        assert (await start(proxy, server, "198.51.100.4"))[0] == 201  # only that sender

        async with sam.http.delete(url) as r:  # lifted while the chat is live
            assert r.status == 204
        assert (await start(proxy, server, "203.0.113.9"))[0] == 201
        assert (await _post(sam.http, url, {"hours": 2, "reason": "menaces"}))[0] == 201

        await visitor.send_json({"type": "end"})
        await visitor.expect("ended")
        # The chat over, its sender's key is gone from it; the block stands, by its hash only.
        async with engine.connect() as conn:
            key = (await conn.execute(select(Contact.sender_key).where(Contact.id == cid))).scalar_one()
            blocks = (await conn.execute(select(CallerBlock.caller_key))).scalars().all()
        assert key is None and len(blocks) == 1 and "203.0.113.9" not in blocks[0]
        status, gone = await _post(sam.http, url, {"hours": 1, "reason": "x"})
        assert (status, gone["error"]["code"]) == (409, "sender_unknown")
        assert (await start(proxy, server, "203.0.113.9"))[0] == 403  # still blocked
    finally:
        await engine.dispose()
        await clients.close()


# --- waiting chats nobody is behind -------------------------------------------------------------

async def test_waiting_chats_with_nobody_behind_are_counted_for_supervisors_not_in_places(
    make_server: Any,
) -> None:
    clock = FrozenClock("2026-11-23T10:00:00")
    server = await make_server(clock=clock)
    clients = Clients(server)
    try:
        gone = clients.visitor()
        await gone.start(profile={})  # a chat started by a script: no socket ever
        clock.set("2026-11-23T10:00:01")
        there = await clients.waiting_visitor()
        assert (await there.expect("queue"))["position"] == 2
        overview = await server.services.views.overview()
        assert overview["unattended"] == 0  # a moment to open its socket
        clock.set("2026-11-23T10:00:31")
        await server.services.floor.visitors_live([there.contact_id])  # the heartbeat
        server.services.views.forget_snapshot()
        assert (await server.services.views.overview())["unattended"] == 1
        snapshot = await server.services.views.snapshot(fresh=True)  # not the one half a second old
        assert snapshot.standings[there.contact_id].position == 1
        assert snapshot.length == 1
        status = await server.services.views.status()
        assert status["queue_length"] == 1
        assert gone.contact_id in snapshot.standings  # it keeps its place till the grace rule
    finally:
        await clients.close()


async def test_the_sender_key_migration_runs_both_ways(database_url: str) -> None:
    from sqlalchemy import inspect

    from helpline.store.migrate import downgrade, upgrade

    async def columns() -> set[str]:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as conn:
                found = await conn.run_sync(lambda sync: inspect(sync).get_columns("contacts"))
        finally:
            await engine.dispose()
        return {c["name"] for c in found}

    assert "sender_key" in await columns()
    await asyncio.to_thread(downgrade, database_url, "0012")
    assert "sender_key" not in await columns()
    await asyncio.to_thread(upgrade, database_url)
    assert "sender_key" in await columns()


@pytest.mark.redis
async def test_a_burst_of_checks_beyond_the_redis_connections_waits_for_one_and_still_counts(
    redis_url: str,
) -> None:
    """Hundreds of messages checked at once (a busy process) share the process's Redis
    connections: none makes the limits fall open, and every one is counted."""
    from helpline.config import Settings
    from helpline.services.limits import REDIS_CONNECTIONS, Limits

    limits = Limits(Settings(redis_url=redis_url, limit_messages_per_socket="1/min,burst=1",
                             limit_messages_per_contact="1000/s,burst=100000"))
    try:
        socket = secrets.token_hex(8)
        outcomes = await asyncio.gather(
            *(limits.visitor_message(socket, f"contact-{i}") for i in range(REDIS_CONNECTIONS * 6)),
            return_exceptions=True,
        )
        assert limits._redis_back_at == 0.0, "Redis was taken as unavailable: the limits fell open"
        refused = [o for o in outcomes if isinstance(o, RateLimited)]
        assert len(refused) == len(outcomes) - 1, "one message passes, every other is over the limit"
        assert [o for o in outcomes if o is not None and not isinstance(o, RateLimited)] == []
    finally:
        await limits.close()
