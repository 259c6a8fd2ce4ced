"""A surge of young people: joining does not read the whole queue again each time, every
one gets their place at once, and the consoles' queue frame stays the same size however
long the queue (the rest is paged)."""

from __future__ import annotations

import json

import aiohttp
import pytest

from helpline.domain.counsellor import Role
from tests.clients import Clients, Server

LONG = 500


async def start_contacts(server: Server, n: int, **profile: str) -> list[str]:
    """``n`` contacts started (no socket: they are listed all the same), in order."""
    ids: list[str] = []
    async with aiohttp.ClientSession() as http:
        for _ in range(n):
            async with http.post(f"{server.url}/api/v1/contacts",
                                 json={"channel": "chat", "profile": profile}) as r:
                assert r.status == 201
                ids.append((await r.json())["contact_id"])
    return ids


async def test_a_long_queue_gives_consoles_a_bounded_frame_and_the_rest_in_pages(
    server: Server, clients: Clients,
) -> None:
    legal = await start_contacts(server, 100, topic="sextortion")  # legal, high priority: first
    general = await start_contacts(server, LONG - 100)
    sam = await clients.logged_in("sam", role=Role.SUPERVISOR)
    await sam.connect(status=None)
    frame = await sam.expect("queue")
    assert frame["total"] == LONG
    assert len(json.dumps(frame)) < 16_000  # bounded: 50 entries and a few counts
    assert [c["contact_id"] for c in frame["contacts"]] == legal[:50]
    counts = {(c["skill"], c["priority"]): c["waiting"] for c in frame["counts"]}
    assert counts == {("legal", "high"): 100, ("general", "normal"): LONG - 100}
    assert all(c["channel"] == "chat" and c["longest_wait_s"] >= 0 for c in frame["counts"])

    paged: list[str] = []
    for offset in range(50, LONG, 200):
        async with sam.http.get(f"{server.url}/api/v1/console/queue?offset={offset}") as r:
            assert r.status == 200
            page = await r.json()
        assert page["offset"] == offset and page["limit"] == 200
        paged += [c["contact_id"] for c in page["contacts"]]
    assert legal[:50] + paged[:50] == legal  # queue order: the high priority ones first
    assert sorted(paged[50:]) == sorted(general)  # the rest, each once
    async with sam.http.get(f"{server.url}/api/v1/console/queue?offset={LONG}&limit=5") as r:
        assert (await r.json())["contacts"] == []


@pytest.mark.parametrize("query", ["offset=-1", "offset=abc", "limit=0", "limit=201", "limit=x",
                                   "offset=1e3"])
async def test_a_bad_page_request_is_refused(server: Server, clients: Clients, query: str) -> None:
    await start_contacts(server, 3)
    sam = await clients.logged_in("sam", role=Role.SUPERVISOR)
    async with sam.http.get(f"{server.url}/api/v1/console/queue?{query}") as r:
        assert r.status == 422
        assert (await r.json())["error"]["code"] == "invalid_request"
    assert len(await server.services.views.queue_list()) == 3  # nothing changed


async def test_the_queue_pages_are_for_the_staff_only(server: Server) -> None:
    await start_contacts(server, 2)
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/api/v1/console/queue") as r:
        assert r.status == 401


async def test_a_burst_of_joins_places_each_at_once_without_reading_the_queue_each_time(
    server: Server, clients: Clients,
) -> None:
    views = server.services.views
    reads = 0
    compute = views._compute_snapshot

    async def counted():  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        return await compute()

    views._compute_snapshot = counted  # type: ignore[method-assign]
    joins = 40
    visitors = []
    for i in range(joins):
        v = await clients.waiting_visitor()
        first = await v.expect("queue")
        assert first["position"] == i + 1  # placed among those already there
        visitors.append(v)
    assert reads < joins / 2, f"{reads} readings of the queue for {joins} joins"
    # and the counted positions agree with a full reading
    snapshot = await views.snapshot(fresh=True)
    assert [snapshot.standings[v.contact_id].position for v in visitors] == list(range(1, joins + 1))


async def test_a_young_person_hears_a_change_in_their_place(server: Server, clients: Clients) -> None:
    await server.add_counsellor("alice", max_chats=1)
    first = await clients.waiting_visitor()
    second = await clients.waiting_visitor()
    assert (await second.expect("queue"))["position"] == 2
    await first.send_json({"type": "end"})
    await first.expect("ended")
    moved = await second.expect("queue", position=1)
    assert moved["contact_id"] == second.contact_id


async def test_a_console_hears_each_arrival_in_its_queue_summary(server: Server, clients: Clients) -> None:
    """Arrivals are placed in the queue each process holds rather than read again: the
    consoles' counts still follow them, within a second, not at the next 10 s refresh."""
    sup = await clients.logged_in("sup", role=Role.SUPERVISOR)
    await sup.connect(status=None)
    assert (await sup.expect("queue"))["total"] == 0
    for n in range(1, 4):
        await clients.waiting_visitor()
        frame = await sup.expect("queue", timeout=3.0)
        while frame["total"] < n:
            frame = await sup.expect("queue", timeout=3.0)
        assert frame["total"] == n
