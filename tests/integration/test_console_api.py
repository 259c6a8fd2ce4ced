"""What the counsellor console uses on the server: the wrap-up, the taxonomy, monitoring,
the console pages and their CSP, and who may call what."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from helpline.domain.counsellor import Role
from tests.clients import Clients, Counsellor, Server, Visitor
from tests.clock import FrozenClock
from tests.conftest import ServerFactory
from tests.integration.conftest import ClientsOf

WRAPUP: dict[str, Any] = {
    "categories": ["sextortion", "grooming"],
    "contacted_by": "young_person",
    "age_band": "11_14",
    "gender": "girl",
    "platforms": ["snapchat"],
    "outcomes": ["advice", "takedown"],
    "note": "Conseils donnés, signalement fait.",
}


async def conversation(clients: Clients, counsellor: str = "alice") -> tuple[Visitor, Counsellor, str]:
    """A visitor taken by ``counsellor`` (logged in, available)."""
    c = clients.counsellor(counsellor)
    await c.login()
    await c.connect()
    v = await clients.waiting_visitor()
    assigned = await c.expect("assigned")
    return v, c, assigned["contact"]["contact_id"]


async def put_wrapup(
    who: Counsellor | None, server: Server, contact_id: str, body: Any = None
) -> tuple[int, dict[str, Any]]:
    session = who.http if who else aiohttp.ClientSession()
    try:
        async with session.put(
            f"{server.url}/api/v1/contacts/{contact_id}/wrapup", json=WRAPUP if body is None else body
        ) as r:
            return r.status, await r.json()
    finally:
        if who is None:
            await session.close()


# --- the wrap-up -------------------------------------------------------------------------


async def test_the_counsellor_wraps_up_an_ended_contact(server: Server, clients: Clients) -> None:
    await server.add_counsellor("alice")
    v, alice, contact_id = await conversation(clients)
    await v.say("bonjour")
    await alice.send_json({"type": "end", "contact_id": contact_id})
    await alice.expect("ended", contact_id=contact_id)
    status, body = await put_wrapup(alice, server, contact_id)
    assert status == 200, body
    assert body["categories"] == ["grooming", "sextortion"]
    assert body["outcomes"] == ["advice", "takedown"] and body["note"] == WRAPUP["note"]
    # A correction replaces it; GET reads it back.
    status, body = await put_wrapup(
        alice, server, contact_id, {**WRAPUP, "categories": ["other"], "note": None}
    )
    assert status == 200 and body["categories"] == ["other"] and body["note"] is None
    async with alice.http.get(f"{server.url}/api/v1/contacts/{contact_id}/wrapup") as r:
        assert r.status == 200 and (await r.json())["categories"] == ["other"]


async def test_the_taxonomy_lists_every_field_in_french_and_english(server: Server, clients: Clients) -> None:
    await server.add_counsellor("alice")
    alice = clients.counsellor("alice")
    await alice.login()
    async with alice.http.get(f"{server.url}/api/v1/taxonomy") as r:
        assert r.status == 200
        taxonomy = await r.json()
    assert set(taxonomy) == {"categories", "contacted_by", "age_bands", "genders", "platforms", "outcomes"}
    ids = {c["id"] for c in taxonomy["categories"]}
    assert {"cyberbullying", "sextortion", "grooming", "mental_health", "other"} <= ids
    assert all(c["label"]["fr"] and c["label"]["en"] for c in taxonomy["categories"])
    async with aiohttp.ClientSession() as anonymous, anonymous.get(f"{server.url}/api/v1/taxonomy") as r:
        assert r.status == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"categories": ["not_a_category"]}, "categories"),
        ({"contacted_by": "neighbour"}, "contacted_by"),
        ({"age_band": "40_plus"}, "age_band"),
        ({"gender": "x"}, "gender"),
        ({"platforms": ["myspace"]}, "platforms"),
        ({"outcomes": ["nothing"]}, "outcomes"),
    ],
)
async def test_a_value_outside_the_taxonomy_is_refused(
    server: Server, clients: Clients, change: dict[str, Any], field: str
) -> None:
    await server.add_counsellor("alice")
    v, alice, contact_id = await conversation(clients)
    await v.send_json({"type": "end"})
    await alice.expect("ended")
    status, body = await put_wrapup(alice, server, contact_id, {**WRAPUP, **change})
    assert status == 422
    assert body["error"]["code"] == "invalid_wrapup"
    assert body["error"]["details"] == [{"field": field, "problem": "unknown_value"}]


@pytest.mark.parametrize(
    "body",
    [
        {**WRAPUP, "categories": []},  # at least one
        {**WRAPUP, "outcomes": []},
        {k: v for k, v in WRAPUP.items() if k != "age_band"},
        {**WRAPUP, "note": "x" * 4001},
        {**WRAPUP, "extra": 1},
        ["not", "an", "object"],
    ],
)
async def test_a_malformed_wrapup_is_refused(server: Server, clients: Clients, body: Any) -> None:
    await server.add_counsellor("alice")
    v, alice, contact_id = await conversation(clients)
    await v.send_json({"type": "end"})
    await alice.expect("ended")
    status, answer = await put_wrapup(alice, server, contact_id, body)
    assert status == 422 and answer["error"]["code"] == "invalid_request"
    assert answer["error"]["details"]


async def test_the_wrapup_waits_for_the_end_and_belongs_to_its_counsellor(
    server: Server, clients: Clients
) -> None:
    await server.add_counsellor("alice")
    await server.add_counsellor("bob")
    sam_id = await server.add_counsellor("sam", role=Role.SUPERVISOR)
    _visitor, alice, contact_id = await conversation(clients)
    status, body = await put_wrapup(alice, server, contact_id)
    assert (status, body["error"]["code"]) == (409, "contact_not_ended")
    await alice.send_json({"type": "end", "contact_id": contact_id})
    await alice.expect("ended")
    bob = clients.counsellor("bob")
    await bob.login()
    status, body = await put_wrapup(bob, server, contact_id)
    assert (status, body["error"]["code"]) == (403, "not_your_contact")
    status, body = await put_wrapup(None, server, contact_id)
    assert (status, body["error"]["code"]) == (401, "unauthenticated")
    status, body = await put_wrapup(alice, server, "no-such-contact")
    assert (status, body["error"]["code"]) == (404, "unknown_contact")
    async with alice.http.put(f"{server.url}/api/v1/contacts/{contact_id}/wrapup", data=b"{nope") as r:
        assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_json"
    sam = clients.counsellor("sam")
    await sam.login()
    status, body = await put_wrapup(sam, server, contact_id)
    assert status == 200 and body["counsellor_id"] == sam_id


# --- monitoring ----------------------------------------------------------------------------


async def test_a_supervisor_monitors_a_conversation_read_only(server: Server, clients: Clients) -> None:
    await server.add_counsellor("alice", display_name="Alice Martin")
    await server.add_counsellor("sam", role=Role.SUPERVISOR, max_chats=1)
    v, alice, contact_id = await conversation(clients)
    await v.say("avant")
    sam = clients.counsellor("sam")
    await sam.login()
    await sam.connect(status="break")
    await sam.send_json({"type": "monitor", "contact_id": contact_id})
    watching = await sam.expect("monitoring")
    assert watching["contact"]["contact_id"] == contact_id and watching["contact"]["state"] == "assigned"
    assert watching["contact"]["counsellor"] == "Alice Martin"  # the console names who has it
    first = await sam.expect("message", contact_id=contact_id)
    assert (first["seq"], first["text"]) == (1, "avant")
    await alice.say(contact_id, "réponse")
    assert (await sam.expect("message", seq=2))["text"] == "réponse"
    await v.say("après")
    assert (await sam.expect("message", seq=3))["text"] == "après"
    # Read-only: the supervisor cannot write on it.
    await sam.send_json({"type": "message", "contact_id": contact_id, "client_id": "s1", "text": "hop"})
    assert (await sam.expect("error", client_id="s1"))["code"] == "not_your_contact"
    await sam.send_json({"type": "unmonitor", "contact_id": contact_id})
    await sam.expect("unmonitored", contact_id=contact_id)
    await v.say("plus vu")
    await alice.expect("message", seq=4)
    assert [m["seq"] for m in sam.events if m["type"] == "message"] == [1, 2, 3]


async def test_a_reconnected_console_is_told_since_when_it_has_each_contact(
    make_server: ServerFactory, clients_of: ClientsOf
) -> None:
    clock = FrozenClock("2026-11-23T10:00:00")
    # Grace periods longer than the jump: the sweep must not take the contact back meanwhile.
    server = await make_server(clock=clock, visitor_grace_s=3600, counsellor_grace_s=3600)
    await server.add_counsellor("alice")
    clients = clients_of(server)
    _, alice, contact_id = await conversation(clients)
    first = next(e for e in alice.events if e["type"] == "assigned")
    assert first["contact"]["assigned_s"] == 0
    clock.set("2026-11-23T10:02:30")
    await alice.drop()
    await alice.connect(status=None)  # as a reloaded page: hello, then the contacts it has
    again = await alice.expect("assigned")
    assert again["contact"]["contact_id"] == contact_id and again["contact"]["assigned_s"] == 150


async def test_a_counsellor_may_not_monitor(server: Server, clients: Clients) -> None:
    await server.add_counsellor("alice")
    await server.add_counsellor("bob")
    v, alice, contact_id = await conversation(clients)
    bob = clients.counsellor("bob")
    await bob.login()
    await bob.connect(status="break")
    await bob.send_json({"type": "monitor", "contact_id": contact_id})
    error = await bob.expect("error", contact_id=contact_id)
    assert error["code"] == "forbidden"
    await v.say("secret")
    await alice.expect("message", text="secret")
    assert not [e for e in bob.events if e["type"] in ("message", "monitoring")]


async def test_monitoring_an_unknown_contact_is_an_error(server: Server, clients: Clients) -> None:
    await server.add_counsellor("sam", role=Role.SUPERVISOR)
    sam = clients.counsellor("sam")
    await sam.login()
    await sam.connect(status=None)
    await sam.send_json({"type": "monitor", "contact_id": "0" * 32})
    assert (await sam.expect("error", contact_id="0" * 32))["code"] == "unknown_contact"


async def login_status(
    session: aiohttp.ClientSession, server: Server, username: str, password: str
) -> tuple[int, dict[str, Any]]:
    async with session.post(
        f"{server.url}/api/v1/auth/login", json={"username": username, "password": password}
    ) as r:
        return r.status, await r.json()


# --- the console pages -----------------------------------------------------------------------


async def test_the_console_is_served_with_a_strict_policy(server: Server) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/console", allow_redirects=False) as r:
            assert r.status == 302 and r.headers["Location"] == "/console/"
        async with http.get(f"{server.url}/console/") as r:
            assert r.status == 200 and r.content_type == "text/html"
            page = await r.text()
            csp = r.headers["Content-Security-Policy"]
        host = server.url.removeprefix("http://")
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
        assert f"connect-src 'self' ws://{host} wss://{host}" in csp
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert "<script>" not in page and "style=" not in page
        async with http.get(f"{server.url}/console/app.js") as r:
            assert r.status == 200 and r.content_type == "application/javascript"
            assert "innerHTML" not in await r.text()
        for bad in ("../pyproject.toml", "%2e%2e%2fpyproject.toml", "nope.js", "app.py"):
            async with http.get(f"{server.url}/console/{bad}") as r:
                assert r.status == 404, bad


# --- who may call what -------------------------------------------------------------------------

WHO = ["anonymous", "counsellor_own", "counsellor_other", "supervisor", "admin"]
# the status each of WHO gets -> the endpoints that answer so (the contact has ended and is the owner's)
MATRIX: dict[tuple[int, ...], list[str]] = {
    (401, 200, 200, 200, 200): [
        "GET /api/v1/auth/me", "GET /api/v1/taxonomy", "GET /api/v1/console/colleagues", "GET /api/v1/canned"
    ],
    (401, 200, 403, 200, 200): [
        "GET /api/v1/contacts/{id}/messages",
        "PUT /api/v1/contacts/{id}/wrapup",
        "GET /api/v1/contacts/{id}/wrapup",
    ],
    (401, 403, 403, 200, 200): ["GET /api/v1/supervisor/overview", "GET /api/v1/supervisor/conversations"],
    (401, 403, 403, 403, 200): ["GET /api/v1/admin/schedule/exceptions", "GET /api/v1/admin/counsellors"],
    (200, 200, 200, 200, 200): ["POST /api/v1/auth/logout"],
}


async def test_each_console_endpoint_for_each_kind_of_user(server: Server, clients: Clients) -> None:
    await server.add_counsellor("owner")
    await server.add_counsellor("other")
    await server.add_counsellor("sup", role=Role.SUPERVISOR)
    await server.add_counsellor("adm", role=Role.ADMIN)
    v, owner, contact_id = await conversation(clients, "owner")
    await v.say("bonjour")
    await owner.send_json({"type": "end", "contact_id": contact_id})
    await owner.expect("ended")
    sessions: dict[str, aiohttp.ClientSession] = {"anonymous": aiohttp.ClientSession()}
    for who, username in [
        ("counsellor_own", "owner"),
        ("counsellor_other", "other"),
        ("supervisor", "sup"),
        ("admin", "adm"),
    ]:
        c = clients.counsellor(username)
        await c.login()
        sessions[who] = c.http
    failures = []
    try:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await sessions["anonymous"].ws_connect(f"{server.ws_url}/api/v1/console/ws")
        assert refused.value.status == 401
        for expected, endpoints in MATRIX.items():
            for method, path in (endpoint.split(" ") for endpoint in endpoints):
                if path.endswith("/logout"):
                    continue  # last, below
                url = server.url + path.format(id=contact_id)
                for who, status in zip(WHO, expected, strict=True):
                    body = WRAPUP if method == "PUT" else None
                    async with sessions[who].request(method, url, json=body) as r:
                        if r.status != status:
                            failures.append(f"{method} {path} as {who}: {r.status}, expected {status}")
        for who in WHO:
            async with sessions[who].post(server.url + "/api/v1/auth/logout") as r:
                assert r.status == 200
            async with sessions[who].get(server.url + "/api/v1/auth/me") as r:
                assert r.status == 401, who  # the session is gone
    finally:
        await sessions["anonymous"].close()
    assert not failures, failures


# --- admin: accounts and canned responses -------------------------------------------------------


async def call(
    c: Counsellor | aiohttp.ClientSession, method: str, url: str, body: Any = None
) -> tuple[int, Any]:
    session = c.http if isinstance(c, Counsellor) else c
    async with session.request(method, url, json=body) as r:
        return r.status, (await r.json() if r.status != 204 else None)


async def test_an_admin_manages_counsellor_accounts(server: Server, clients: Clients) -> None:
    admin_id = await server.add_counsellor("root", role=Role.ADMIN)
    await server.add_counsellor("alice")
    root = clients.counsellor("root")
    await root.login()
    base = f"{server.url}/api/v1/admin/counsellors"
    status, body = await call(
        root,
        "POST",
        base,
        {
            "username": "nina",
            "password": "long-enough",
            "display_name": "Nina",
            "max_chats": 2,
            "skills": ["legal", "general"],
        },
    )
    assert status == 201, body
    assert (body["display_name"], body["max_chats"], body["skills"]) == ("Nina", 2, ["general", "legal"])
    nina_id = body["id"]
    assert (await call(root, "POST", base, {"username": "nina", "password": "long-enough"}))[1]["error"][
        "code"
    ] == "username_taken"
    status, body = await call(root, "POST", base, {"username": "x", "password": "short"})
    assert (status, body["error"]["code"]) == (422, "password_too_short")
    status, body = await call(root, "GET", base)
    assert [c["username"] for c in body["counsellors"]] == ["root", "alice", "nina"]

    status, body = await call(
        root, "PATCH", f"{base}/{nina_id}", {"max_chats": 5, "skills": ["technical"], "role": "supervisor"}
    )
    assert status == 200 and (body["max_chats"], body["skills"], body["role"]) == (
        5,
        ["technical"],
        "supervisor",
    )
    for change, code in [
        ({"max_chats": 0}, "invalid_capacity"),
        ({"skills": ["cooking"]}, "unknown_skill"),
        ({"display_name": " "}, "invalid_display_name"),
    ]:
        status, body = await call(root, "PATCH", f"{base}/{nina_id}", change)
        assert (status, body["error"]["code"]) == (422, code), change
    assert (await call(root, "PATCH", f"{base}/999", {"max_chats": 2}))[0] == 404
    status, body = await call(root, "PATCH", f"{base}/{admin_id}", {"disabled": True})
    assert (status, body["error"]["code"]) == (422, "cannot_change_self")

    # A password reset ends the sessions; disabling refuses the login.
    nina = clients.counsellor("nina", "long-enough")
    await nina.login()
    assert (await call(root, "POST", f"{base}/{nina_id}/password", {"password": "another-one"}))[0] == 204
    assert (await call(nina, "GET", f"{server.url}/api/v1/auth/me"))[0] == 401
    nina.password = "another-one"
    await nina.login()
    assert (await call(root, "PATCH", f"{base}/{nina_id}", {"disabled": True}))[1]["disabled"] is True
    assert (await call(nina, "GET", f"{server.url}/api/v1/auth/me"))[0] == 401
    async with aiohttp.ClientSession() as http:
        assert (await login_status(http, server, "nina", "another-one"))[0] == 401

    alice = clients.counsellor("alice")
    await alice.login()
    assert (await call(alice, "POST", base, {"username": "z", "password": "long-enough"}))[0] == 403
    assert (await call(alice, "PATCH", f"{base}/{nina_id}", {"disabled": False}))[0] == 403


async def test_canned_responses_are_kept_by_admins_and_searched_by_counsellors(
    server: Server, clients: Clients
) -> None:
    await server.add_counsellor("root", role=Role.ADMIN)
    await server.add_counsellor("alice")
    root, alice = clients.counsellor("root"), clients.counsellor("alice")
    await root.login()
    await alice.login()
    admin_url, url = f"{server.url}/api/v1/admin/canned", f"{server.url}/api/v1/canned"
    status, first = await call(root, "POST", admin_url, {"title": "Accueil", "text": "Bonjour, je t'écoute."})
    assert status == 201
    await call(root, "POST", admin_url, {"title": "Pharos", "text": "Tu peux signaler sur Pharos."})
    status, body = await call(alice, "GET", url + "?q=signaler")
    assert [c["title"] for c in body["responses"]] == ["Pharos"]
    status, body = await call(alice, "GET", url)
    assert [c["title"] for c in body["responses"]] == ["Accueil", "Pharos"]
    assert (await call(alice, "POST", admin_url, {"title": "x", "text": "y"}))[0] == 403
    status, body = await call(root, "POST", admin_url, {"title": " ", "text": "y"})
    assert (status, body["error"]["code"]) == (422, "invalid_canned")
    status, body = await call(
        root, "PUT", f"{admin_url}/{first['id']}", {"title": "Accueil", "text": "Salut !"}
    )
    assert status == 200 and body["text"] == "Salut !"
    assert (await call(root, "DELETE", f"{admin_url}/{first['id']}"))[0] == 204
    assert (await call(root, "DELETE", f"{admin_url}/{first['id']}"))[0] == 404
    status, body = await call(alice, "GET", url)
    assert [c["title"] for c in body["responses"]] == ["Pharos"]
