"""Another site's page cannot act with a counsellor's session cookie (cross-site request
forgery), a sibling subdomain included: SameSite alone does not stop those."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from helpline.domain.counsellor import Role
from tests.clients import Clients, Counsellor, Server
from tests.conftest import ServerFactory
from tests.integration.conftest import ClientsOf

EVIL = "https://evil.example"
PARTNER = "https://partner.example"
NEW_ADMIN = {"username": "mallory", "password": "long-enough", "role": "admin"}


async def _send(
    who: Counsellor | aiohttp.ClientSession, method: str, url: str, body: Any = None, **headers: str
) -> tuple[int, Any]:
    """A request as a form or fetch() on some page would make it: JSON as text/plain."""
    session = who.http if isinstance(who, Counsellor) else who
    data = None if body is None else json.dumps(body)
    async with session.request(
        method, url, data=data, headers={"Content-Type": "text/plain", **headers}
    ) as r:
        return r.status, (await r.json() if r.status != 204 else None)


async def _admin(server: Server, clients: Clients) -> Counsellor:
    return await clients.logged_in("root", role=Role.ADMIN)


async def _usernames(server: Server, root: Counsellor) -> list[str]:
    _, body = await _send(root, "GET", f"{server.url}/api/v1/admin/counsellors")
    return [c["username"] for c in body["counsellors"]]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "null"},  # a sandboxed frame
        {"Origin": "http://127.0.0.1:1"},  # same host, another port: another origin
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain
        {"Origin": EVIL, "Sec-Fetch-Site": "same-origin"},  # Origin decides when present
    ],
    ids=["evil", "null", "other-port", "cross-site", "same-site", "origin-wins"],
)
async def test_an_admin_cookie_used_from_another_site_creates_no_account(
    server: Server, clients: Clients, headers: dict[str, str]
) -> None:
    root = await _admin(server, clients)
    status, body = await _send(root, "POST", f"{server.url}/api/v1/admin/counsellors", NEW_ADMIN, **headers)
    assert (status, body["error"]["code"]) == (403, "origin_not_allowed")
    assert body["error"]["message"]
    assert await _usernames(server, root) == ["root"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "same"}, {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}],
    ids=["no-header", "same-origin", "fetch-same-origin", "fetch-none"],
)
async def test_the_console_itself_and_scripts_still_change_things(
    server: Server, clients: Clients, headers: dict[str, str]
) -> None:
    root = await _admin(server, clients)
    if headers.get("Origin") == "same":
        headers = {"Origin": server.url}
    status, body = await _send(root, "POST", f"{server.url}/api/v1/admin/counsellors", NEW_ADMIN, **headers)
    assert status == 201, body
    assert await _usernames(server, root) == ["root", "mallory"]


async def test_every_state_changing_method_is_guarded_and_reads_are_not(
    server: Server, clients: Clients
) -> None:
    root = await _admin(server, clients)
    url = f"{server.url}/api/v1/admin/canned"
    status, canned = await _send(root, "POST", url, {"title": "Accueil", "text": "Bonjour"})
    assert status == 201
    item = f"{url}/{canned['id']}"
    for method, body in [("PUT", {"title": "Piège", "text": "Clique ici"}), ("DELETE", None)]:
        status, got = await _send(root, method, item, body, Origin=EVIL)
        assert (status, got["error"]["code"]) == (403, "origin_not_allowed"), method
    status, got = await _send(root, "PATCH", f"{server.url}/api/v1/admin/counsellors/1",
                              {"display_name": "Pwned"}, Origin=EVIL)
    assert status == 403
    status, got = await _send(root, "GET", f"{server.url}/api/v1/canned", Origin=EVIL)
    assert status == 200 and got["responses"] == [{"id": canned["id"], "title": "Accueil", "text": "Bonjour"}]
    status, me = await _send(root, "GET", f"{server.url}/api/v1/auth/me", Origin=EVIL)
    assert (status, me["display_name"]) == (200, "root")


async def test_logout_and_login_from_another_site_are_refused(server: Server, clients: Clients) -> None:
    root = await _admin(server, clients)
    status, body = await _send(root, "POST", f"{server.url}/api/v1/auth/logout", Origin=EVIL)
    assert (status, body["error"]["code"]) == (403, "origin_not_allowed")
    assert (await _send(root, "GET", f"{server.url}/api/v1/auth/me"))[0] == 200  # still logged in

    credentials = {"username": "root", "password": "secret-pass"}
    login = f"{server.url}/api/v1/auth/login"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        for headers in ({"Origin": EVIL}, {"Sec-Fetch-Site": "cross-site"}):
            status, body = await _send(http, "POST", login, credentials, **headers)
            assert (status, body["error"]["code"]) == (403, "origin_not_allowed")
            assert len(http.cookie_jar) == 0  # no session was opened
        status, _ = await _send(http, "POST", login, credentials, Origin=server.url)
        assert status == 200 and len(http.cookie_jar) == 1

    status, _ = await _send(root, "POST", f"{server.url}/api/v1/auth/logout", Origin=server.url)
    assert status == 200
    assert (await _send(root, "GET", f"{server.url}/api/v1/auth/me"))[0] == 401


async def test_the_console_socket_refuses_another_sites_page_before_the_upgrade(
    server: Server, clients: Clients
) -> None:
    root = await _admin(server, clients)
    url = f"{server.ws_url}/api/v1/console/ws"
    for origin in (EVIL, "null"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as raised:
            await root.http.ws_connect(url, origin=origin)
        assert raised.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as raised:
        await root.http.ws_connect(url, headers={"Sec-Fetch-Site": "same-site"})
    assert raised.value.status == 403
    ws = await root.http.ws_connect(url, origin=server.url)
    await ws.send_json({"type": "hello", "after": {}})
    assert (await ws.receive_json(timeout=10))["type"] == "session"
    await ws.close()


async def test_with_a_public_url_only_that_origin_is_this_server(
    make_server: ServerFactory, clients_of: ClientsOf
) -> None:
    public = "https://helpline.example"
    server = await make_server(public_url=public, cookie_secure=False)  # the test speaks plain http
    root = await _admin(server, clients_of(server))
    url = f"{server.url}/api/v1/admin/counsellors"
    for origin in ("http://helpline.example", "https://helpline.example:8443", server.url):
        status, _ = await _send(root, "POST", url, NEW_ADMIN, Origin=origin)
        assert status == 403, origin
    assert (await _send(root, "POST", url, NEW_ADMIN, Origin="https://helpline.example:443"))[0] == 201


async def test_the_widget_endpoints_keep_their_own_rule_even_with_a_session_cookie(
    make_server: ServerFactory, clients_of: ClientsOf
) -> None:
    server = await make_server(widget_origins=[PARTNER])
    root = await _admin(server, clients_of(server))  # a counsellor's browser, cookie and all
    url = f"{server.url}/api/v1/contacts"
    status, created = await _send(root, "POST", url, {"channel": "chat"}, Origin=PARTNER,
                                  **{"Sec-Fetch-Site": "cross-site"})
    assert status == 201, created
    status, body = await _send(root, "POST", url, {"channel": "chat"}, Origin=EVIL)
    assert (status, body["error"]["code"]) == (403, "origin_not_allowed")  # the widget's rule
