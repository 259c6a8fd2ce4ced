"""What a young person and an admin see of the opening hours, through the API."""

from __future__ import annotations

from typing import Any

import aiohttp

from helpline.domain.counsellor import Role
from tests.clients import Clients, Server
from tests.clock import FrozenClock
from tests.conftest import ServerFactory


async def _get(server: Server, path: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(server.url + path) as r:
        assert r.status == 200
        return await r.json()  # type: ignore[no-any-return]


async def _start_contact(server: Server) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(server.url + "/api/v1/contacts", json={"channel": "chat"}) as r,
    ):
        return r.status, await r.json()


async def test_a_contact_is_refused_when_closed_with_where_to_get_help_now(
    make_server: ServerFactory,
) -> None:
    server = await make_server(schedule="hours", clock=FrozenClock("2026-11-29T15:00"))  # a Sunday
    status, body = await _start_contact(server)
    assert status == 503
    assert body["error"]["code"] == "closed"
    assert body["error"]["opens_at"] == "2026-11-30T09:00:00+01:00"
    assert [r["number"] for r in body["error"]["emergency"]] == ["17", "112", "119", "3114", "114"]
    assert (await _get(server, "/api/v1/status"))["queue_length"] == 0


async def test_in_the_last_minutes_new_contacts_are_refused_until_the_next_opening(
    make_server: ServerFactory,
) -> None:
    server = await make_server(schedule="hours", clock=FrozenClock("2026-11-28T19:55"))  # Saturday
    status, body = await _start_contact(server)
    assert status == 503
    assert body["error"]["opens_at"] == "2026-11-30T09:00:00+01:00"


async def test_the_status_shows_the_hours_of_the_coming_days_and_the_emergency_numbers(
    make_server: ServerFactory,
) -> None:
    server = await make_server(schedule="hours", clock=FrozenClock("2026-07-13T10:00"))
    status = await _get(server, "/api/v1/status")
    assert status["open"] is True
    assert status["accepting_contacts"] is True
    assert status["closes_at"] == "2026-07-13T20:00:00+02:00"
    assert status["opens_at"] is None
    assert status["timezone"] == "Europe/Paris"
    assert status["today"]["hours"] == [{"from": "09:00", "to": "20:00"}]
    assert len(status["days"]) == 7
    national_day = status["days"][1]
    assert national_day["date"] == "2026-07-14"
    assert national_day["hours"] == []
    assert national_day["holiday"] == {"fr": "Fête nationale", "en": "National Day"}
    child = next(r for r in status["emergency"] if r["number"] == "119")
    assert child["href"] == "tel:119"
    assert child["label"]["fr"].startswith("Allô Enfance en danger")
    assert next(r for r in status["emergency"] if r["number"] == "114")["href"] == "sms:114"


async def test_an_admin_closes_the_line_exceptionally_and_everyone_sees_it(
    make_server: ServerFactory,
) -> None:
    clock = FrozenClock("2026-12-24T15:00")
    server = await make_server(schedule="hours", clock=clock)
    await server.add_counsellor("root", role=Role.ADMIN)
    clients = Clients(server)
    admin = clients.counsellor("root")
    await admin.login()
    url = server.url + "/api/v1/admin/schedule/exceptions"
    try:
        closure = {
            "kind": "close",
            "first": "2026-12-24",
            "start": "14:00",
            "end": "20:00",
            "reason": "Veille de Noël",
        }
        async with admin.http.post(url, json=closure) as r:
            assert r.status == 201
            created = await r.json()
        assert created["start"] == "14:00"
        status = await _get(server, "/api/v1/status")
        assert status["open"] is False
        assert status["today"]["exceptions"] == ["Veille de Noël"]
        assert (await _start_contact(server))[0] == 503

        async with admin.http.get(url) as r:
            assert [e["reason"] for e in (await r.json())["exceptions"]] == ["Veille de Noël"]
        async with admin.http.delete(f"{url}/{created['id']}") as r:
            assert r.status == 204
        async with admin.http.delete(f"{url}/{created['id']}") as r:
            assert r.status == 404
        assert (await _get(server, "/api/v1/status"))["open"] is True
    finally:
        await clients.close()


async def test_only_admins_manage_exceptions_and_bad_ones_are_refused(
    server: Server, clients: Clients
) -> None:
    await server.add_counsellor("alice")
    await server.add_counsellor("root", role=Role.ADMIN)
    url = server.url + "/api/v1/admin/schedule/exceptions"
    good = {"kind": "close", "first": "2026-12-24", "reason": "Noël"}
    async with aiohttp.ClientSession() as anonymous, anonymous.post(url, json=good) as r:
        assert r.status == 401
    alice = clients.counsellor("alice")
    await alice.login()
    async with alice.http.post(url, json=good) as r:
        assert (r.status, (await r.json())["error"]["code"]) == (403, "forbidden")
    async with alice.http.get(url) as r:
        assert r.status == 403
    admin = clients.counsellor("root")
    await admin.login()
    for bad in (
        {**good, "kind": "maybe"},
        {**good, "first": "2026-02-30"},
        {**good, "start": "16:00"},  # no end
        {**good, "start": "18:00", "end": "16:00"},
        {**good, "start": "25:00", "end": "26:00"},
        {**good, "last": "2026-12-01"},  # ends before it starts
        {**good, "reason": ""},
        {**good, "reason": "x" * 201},
    ):
        async with admin.http.post(url, json=bad) as r:
            assert r.status == 422, bad
            assert (await r.json())["error"]["code"] in {"invalid_request", "invalid_hours", "invalid_reason"}
    async with admin.http.get(url) as r:
        assert (await r.json())["exceptions"] == []
    async with admin.http.delete(f"{url}/abc") as r:
        assert r.status == 404
