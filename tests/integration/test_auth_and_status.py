"""Counsellor sessions, the public status, health and the API description."""

from __future__ import annotations

from typing import Any

import aiohttp

from helpline.domain.counsellor import Role
from tests.clients import Clients, Counsellor, Server, queue_length_becomes
from tests.conftest import ServerFactory
from tests.integration.conftest import ClientsOf


async def test_login_sets_an_httponly_strict_session_cookie(server: Server) -> None:
    await server.add_counsellor("alice", display_name="Alice", role=Role.SUPERVISOR)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{server.url}/api/v1/auth/login", json={"username": "alice", "password": "secret-pass"}
        ) as r,
    ):
        assert r.status == 200
        assert (await r.json())["display_name"] == "Alice"
        cookie = r.headers["Set-Cookie"]
    assert "helpline_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


async def test_a_wrong_password_or_unknown_user_gets_401(server: Server) -> None:
    await server.add_counsellor("alice")
    async with aiohttp.ClientSession() as http:
        for body in ({"username": "alice", "password": "nope"}, {"username": "ghost", "password": "x"}):
            async with http.post(f"{server.url}/api/v1/auth/login", json=body) as r:
                assert r.status == 401
                assert (await r.json())["error"]["code"] == "invalid_credentials"
                assert "Set-Cookie" not in r.headers
        async with http.post(f"{server.url}/api/v1/auth/login", json={"username": "alice"}) as r:
            assert r.status == 422


async def test_logout_ends_the_session_on_the_server(server: Server, clients: Clients) -> None:
    await server.add_counsellor("alice")
    alice = clients.counsellor("alice")
    await alice.login()
    token = next(c.value for c in alice.http.cookie_jar if c.key == "helpline_session")
    async with alice.http.post(f"{server.url}/api/v1/auth/logout") as r:
        assert r.status == 200
    # The old cookie, replayed, no longer opens anything.
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/api/v1/auth/me", headers={"Cookie": f"helpline_session={token}"}) as r,
    ):
        assert r.status == 401


async def test_the_status_shows_the_queue_and_an_estimate(server: Server, clients: Clients) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/api/v1/status") as r:
            empty = await r.json()
        assert empty["open"] is True
        assert empty["queue_length"] == 0
        assert empty["estimated_wait_s"] is None  # nobody to serve: no made-up figure
        visitor = clients.visitor()
        await visitor.start()
        await queue_length_becomes(server.url, 1)


async def test_health_answers_when_the_database_does(server: Server) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/healthz") as r:
        assert r.status == 200
        assert (await r.json())["database"] is True


async def test_the_openapi_document_describes_every_route(server: Server) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/api/v1/openapi.json") as r:
        doc = await r.json()
    assert doc["openapi"].startswith("3.1")
    for path in (
        "/api/v1/contacts",
        "/api/v1/contacts/{contact_id}/ws",
        "/api/v1/console/ws",
        "/api/v1/auth/login",
        "/api/v1/status",
        "/healthz",
    ):
        assert path in doc["paths"]
    assert "ContactCreate" in doc["components"]["schemas"]
    assert "VisitorMessage" in doc["components"]["schemas"]


async def test_the_openapi_document_states_the_limits_the_server_enforces(server: Server) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/api/v1/openapi.json") as r:
        doc = await r.json()
    schemas, paths = doc["components"]["schemas"], doc["paths"]
    for model in ("AccountIn", "PasswordIn"):
        assert schemas[model]["properties"]["password"]["minLength"] == 8
    voice = schemas["AccountIn"]["properties"]["voice_endpoint"]["anyOf"][0]
    assert voice["pattern"] == r"^(\+[1-9][0-9]{7,14}|client:[A-Za-z0-9_.-]{1,100})?$"
    assert schemas["WrapupIn"]["properties"]["contacted_by"]["pattern"] == "^[a-z0-9_]{1,32}$"
    assert "start before end" in schemas["ScheduleExceptionIn"]["properties"]["start"]["description"]
    assert schemas["Login"]["properties"]["username"]["pattern"] == r"^[^\x00-\x1f\x7f-\x9f\ud800-\udfff]*$"
    assert schemas["VisitorHello"]["properties"]["after_seq"]["maximum"] == 2**31 - 1
    assert list(schemas["ConsoleHello"]["properties"]["after"]["patternProperties"]) == ["^[0-9a-f]{32}$"]
    patch = paths["/api/v1/admin/counsellors/{counsellor_id}"]["patch"]
    assert patch["parameters"][0]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    transcript = paths["/api/v1/contacts/{contact_id}/messages"]["get"]
    assert [p["name"] for p in transcript["parameters"]] == ["contact_id", "after_seq"]
    assert {"400", "403", "404"} <= set(paths["/api/v1/contacts/{contact_id}/ws"]["get"]["responses"])
    assert {"400", "401", "403"} <= set(paths["/api/v1/console/ws"]["get"]["responses"])


def _session(console: Counsellor) -> dict[str, Any]:
    return next(e for e in console.events if e["type"] == "session")


async def test_a_new_login_starts_offline_though_the_last_session_was_left_available(
    server: Server, clients: Clients
) -> None:
    await server.add_counsellor("alice")
    before = await clients.online("alice")  # available, then the browser is closed
    await before.drop()
    visitor = await clients.waiting_visitor()
    alice = clients.counsellor("alice")
    await alice.login()
    await alice.connect(status=None)
    assert _session(alice)["status"] == "offline"
    assert await server.services.floor.dispatch() == []  # nothing reaches her before she chooses
    await alice.send_json({"type": "status", "status": "available"})
    await alice.expect("assigned")
    await visitor.expect("assigned")


async def test_logging_in_on_a_second_device_stops_new_contacts_until_chosen_again(
    server: Server, clients: Clients
) -> None:
    await server.add_counsellor("alice")
    first = await clients.online("alice")
    second = clients.counsellor("alice")
    await second.login()
    await first.expect("status", status="offline")
    await second.connect(status=None)
    assert _session(second)["status"] == "offline"


async def test_the_console_session_carries_the_line_skills_and_the_counsellors_own(
    make_server: ServerFactory, clients_of: ClientsOf
) -> None:
    server = await make_server(skills="general,legal,lgbt")
    await server.add_counsellor("alice", skills=["general", "lgbt"])
    alice = await clients_of(server).online("alice")
    session = _session(alice)
    assert session["skills"] == ["general", "legal", "lgbt"]
    assert session["counsellor"]["skills"] == ["general", "lgbt"]
