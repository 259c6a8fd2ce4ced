"""What the chat widget needs from the server: its script and demo page, the Origin rule
on contact creation and the visitor WebSocket, and the anonymous end-of-chat survey."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pydantic
import pytest
from sqlalchemy import text

from helpline.config import Settings
from tests.clients import Clients, Server, Visitor
from tests.conftest import ServerFactory
from tests.integration.conftest import ClientsOf

PARTNER = "https://partner.example"
STRANGER = "https://stranger.example"


async def _post(server: Server, path: str, body: Any, **headers: str) -> tuple[int, dict[str, Any], Any]:
    data = body if isinstance(body, str) else json.dumps(body)
    async with aiohttp.ClientSession() as http, http.post(server.url + path, data=data, headers=headers) as r:
        return r.status, await r.json(), r.headers


async def _queue_length(server: Server) -> int:
    async with aiohttp.ClientSession() as http, http.get(server.url + "/api/v1/status") as r:
        return int((await r.json())["queue_length"])


# --- the Origin rule ------------------------------------------------------------------------


async def test_a_site_not_listed_cannot_create_a_contact(make_server: ServerFactory) -> None:
    server = await make_server(widget_origins=[PARTNER])
    status, body, headers = await _post(server, "/api/v1/contacts", {"channel": "chat"}, Origin=STRANGER)
    assert (status, body["error"]["code"]) == (403, "origin_not_allowed")
    assert body["error"]["message"] == "Cette demande vient d'un site qui n'est pas autorisé ici."
    assert headers["Access-Control-Allow-Origin"] == STRANGER  # so the widget can say why
    assert await _queue_length(server) == 0


@pytest.mark.parametrize("origin", [PARTNER, "https://PARTNER.example", "same", None])
async def test_listed_sites_the_server_itself_and_non_browsers_may_create_contacts(
    make_server: ServerFactory, origin: str | None
) -> None:
    server = await make_server(widget_origins=[PARTNER])
    headers = {} if origin is None else {"Origin": server.url if origin == "same" else origin}
    # text/plain, as the widget sends it (no CORS preflight)
    status, body, answer = await _post(
        server, "/api/v1/contacts", {"channel": "chat"}, **headers, **{"Content-Type": "text/plain"}
    )
    assert status == 201, body
    assert body["token"]
    if origin is not None:
        assert answer["Access-Control-Allow-Origin"] == headers["Origin"]
        assert "Origin" in answer.getall("Vary")
        assert "Access-Control-Allow-Credentials" not in answer
    assert await _queue_length(server) == 1


async def test_a_star_allows_any_site(make_server: ServerFactory) -> None:
    server = await make_server(widget_origins=["*"])
    status, _, _ = await _post(server, "/api/v1/contacts", {"channel": "chat"}, Origin=STRANGER)
    assert status == 201


async def test_the_visitor_socket_refuses_a_site_not_listed(make_server: ServerFactory) -> None:
    server = await make_server(widget_origins=[PARTNER])
    visitor = Visitor(server)
    try:
        await visitor.start()
        url = f"{server.ws_url}/api/v1/contacts/{visitor.contact_id}/ws"
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(url, origin=STRANGER)
            assert refused.value.status == 403
            async with http.ws_connect(url, origin=PARTNER) as ws:
                await ws.send_json({"type": "hello", "token": visitor.token})
                assert (await ws.receive_json(timeout=10))["type"] == "queue"
    finally:
        await visitor.close()


async def test_the_status_is_readable_from_any_site(server: Server) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(server.url + "/api/v1/status", headers={"Origin": STRANGER}) as r,
    ):
        assert r.status == 200
        assert r.headers["Access-Control-Allow-Origin"] == STRANGER


@pytest.mark.parametrize(
    ("origin", "allowed"), [(PARTNER, True), (STRANGER, False), ("same", True), (None, True)]
)
async def test_the_status_says_whether_the_page_may_use_the_widget(
    make_server: ServerFactory, origin: str | None, allowed: bool
) -> None:
    server = await make_server(widget_origins=[PARTNER])
    headers = {} if origin is None else {"Origin": server.url if origin == "same" else origin}
    async with aiohttp.ClientSession() as http, http.get(server.url + "/api/v1/status", headers=headers) as r:
        body = await r.json()
    assert r.status == 200
    assert body["origin_allowed"] is allowed
    assert "accepting_contacts" in body and "emergency" in body  # the public status, whoever asks


def test_widget_origins_are_read_as_a_comma_separated_list() -> None:
    settings = Settings(widget_origins="https://A.example/, http://localhost:3000")  # type: ignore[arg-type]
    assert settings.widget_origins == ["https://a.example", "http://localhost:3000"]
    for bad in ("partner.example", "ftp://partner.example", "https://partner.example/page"):
        with pytest.raises(pydantic.ValidationError):
            Settings(widget_origins=bad)  # type: ignore[arg-type]
    with pytest.raises(pydantic.ValidationError):
        Settings(quick_exit_url="javascript:alert(1)")


# --- /widget.js and /demo ------------------------------------------------------------------


async def test_the_widget_script_is_served_with_its_css_and_exit_inlined(make_server: ServerFactory) -> None:
    server = await make_server(quick_exit_url="https://weather.example/paris")
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/widget.js") as r:
            assert r.status == 200
            assert r.content_type == "application/javascript"
            source = await r.text()
            etag = r.headers["ETag"]
        assert "__HELPLINE_" not in source
        assert '"https://weather.example/paris"' in source
        assert ":host{" in source  # the stylesheet, minified
        async with http.get(server.url + "/widget.js", headers={"If-None-Match": etag}) as r:
            assert r.status == 304


@pytest.mark.parametrize(("query", "locale"), [("", "fr"), ("?locale=en", "en"), ("?locale=<b>", "fr")])
async def test_the_demo_page_embeds_the_widget(server: Server, query: str, locale: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(server.url + "/demo" + query) as r:
        assert r.status == 200
        assert r.content_type == "text/html"
        page = await r.text()
    assert f'<script src="/widget.js" async data-locale="{locale}"></script>' in page
    assert "<b>" not in page


# --- the survey ----------------------------------------------------------------------------


async def _ended(clients: Clients) -> Visitor:
    visitor = await clients.waiting_visitor()
    await visitor.send_json({"type": "end"})
    await visitor.expect("ended")
    return visitor


def _survey_path(visitor: Visitor) -> str:
    return f"/api/v1/contacts/{visitor.contact_id}/survey"


async def _stored(server: Server) -> list[dict[str, Any]]:
    async with server.services.ctx.store.reading() as tx:
        rows = await tx.conn.execute(text("SELECT * FROM surveys"))
        return [dict(r._mapping) for r in rows]


async def test_the_survey_is_stored_once_with_nothing_identifying(server: Server, clients: Clients) -> None:
    visitor = await _ended(clients)
    status, body, _ = await _post(
        server, _survey_path(visitor), {"token": visitor.token, "helpful": "yes", "again": None}
    )
    assert (status, body) == (201, {"helpful": "yes", "again": None})
    stored = await _stored(server)
    assert len(stored) == 1
    assert set(stored[0]) == {"contact_id", "helpful", "again", "answered_on"}
    assert (stored[0]["helpful"], stored[0]["again"]) == ("yes", None)
    assert visitor.token not in json.dumps(stored, default=str)

    status, body, _ = await _post(
        server, _survey_path(visitor), {"token": visitor.token, "helpful": "no", "again": "no"}
    )
    assert (status, body["error"]["code"]) == (409, "survey_already_answered")
    assert len(await _stored(server)) == 1


async def test_the_survey_needs_the_visitors_token(server: Server, clients: Clients) -> None:
    visitor = await _ended(clients)
    for path in (_survey_path(visitor), f"/api/v1/contacts/{'0' * 32}/survey"):
        status, body, _ = await _post(server, path, {"token": "x" * 43, "helpful": "yes"})
        assert (status, body["error"]["code"]) == (403, "bad_token"), body
    status, body, _ = await _post(server, "/api/v1/contacts/nosuchcontact/survey", {"token": "x" * 43})
    assert (status, body["error"]["code"]) == (404, "unknown_contact")  # cannot be a contact id
    assert await _stored(server) == []


async def test_the_survey_waits_for_the_end_of_the_conversation(server: Server, clients: Clients) -> None:
    visitor = clients.visitor()
    await visitor.start()
    status, body, _ = await _post(server, _survey_path(visitor), {"token": visitor.token, "helpful": "yes"})
    assert (status, body["error"]["code"]) == (409, "contact_not_ended")
    assert body["error"]["message"]
    assert await _stored(server) == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{nope", 400, "invalid_json"),
        ("[]", 422, "invalid_request"),
        ({"helpful": "yes"}, 422, "invalid_request"),
        ({"token": "T", "helpful": "maybe"}, 422, "invalid_request"),
        ({"token": "T", "helpful": True}, 422, "invalid_request"),
        ({"token": "T", "comment": "my name is Léa"}, 422, "invalid_request"),
    ],
)
async def test_a_malformed_survey_is_refused_clearly(
    server: Server, clients: Clients, body: Any, status: int, code: str
) -> None:
    visitor = await _ended(clients)
    if isinstance(body, dict) and body.get("token") == "T":
        body["token"] = visitor.token
    got_status, got, _ = await _post(server, _survey_path(visitor), body)
    assert (got_status, got["error"]["code"]) == (status, code)
    assert got["error"]["message"]
    assert await _stored(server) == []


async def test_a_site_not_listed_cannot_answer_a_survey(
    make_server: ServerFactory, clients_of: ClientsOf
) -> None:
    server = await make_server(widget_origins=[PARTNER])
    clients = clients_of(server)
    visitor = await _ended(clients)
    answers = {"token": visitor.token}
    status, body, _ = await _post(server, _survey_path(visitor), answers, Origin=STRANGER)
    assert (status, body["error"]["code"]) == (403, "origin_not_allowed")
    assert await _stored(server) == []


async def test_the_api_description_covers_the_survey(server: Server) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/api/v1/openapi.json") as r:
        doc = await r.json()
    assert "post" in doc["paths"]["/api/v1/contacts/{contact_id}/survey"]
    assert "SurveyIn" in doc["components"]["schemas"]


# --- ending a contact without the WebSocket ---------------------------------------------------


def _end_path(visitor: Visitor) -> str:
    return f"/api/v1/contacts/{visitor.contact_id}/end"


async def _state(server: Server, visitor: Visitor) -> str:
    return (await server.services.conversations.get(visitor.contact_id)).state.value


async def test_a_visitor_ends_their_contact_over_http(server: Server, clients: Clients) -> None:
    visitor = clients.visitor()
    await visitor.start()
    status, body, _ = await _post(server, _end_path(visitor), {"token": visitor.token},
                                  **{"Content-Type": "text/plain"})
    assert (status, body) == (200, {"contact_id": visitor.contact_id, "state": "ended"})
    assert await _queue_length(server) == 0
    status, body, _ = await _post(server, _end_path(visitor), {"token": visitor.token})
    assert (status, body["state"]) == (200, "ended")  # twice is harmless


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{nope", 400, "invalid_json"),
        ("[]", 422, "invalid_request"),
        ({}, 422, "invalid_request"),
        ({"token": ""}, 422, "invalid_request"),
        ({"token": "T", "reason": "bored"}, 422, "invalid_request"),
        ({"token": "x" * 43}, 403, "bad_token"),
    ],
)
async def test_ending_a_contact_over_http_needs_its_token_and_a_clean_body(
    server: Server, clients: Clients, body: Any, status: int, code: str
) -> None:
    visitor = clients.visitor()
    await visitor.start()
    if isinstance(body, dict) and body.get("token") == "T":
        body["token"] = visitor.token
    got_status, got, _ = await _post(server, _end_path(visitor), body)
    assert (got_status, got["error"]["code"]) == (status, code)
    assert got["error"]["message"]
    assert await _state(server, visitor) == "queued"


async def test_ending_an_unknown_contact_or_from_a_site_not_listed_is_refused(
    make_server: ServerFactory, clients_of: ClientsOf
) -> None:
    server = await make_server(widget_origins=[PARTNER])
    visitor = clients_of(server).visitor()
    await visitor.start()
    status, body, _ = await _post(server, _end_path(visitor), {"token": visitor.token}, Origin=STRANGER)
    assert (status, body["error"]["code"]) == (403, "origin_not_allowed")
    status, body, _ = await _post(server, f"/api/v1/contacts/{'0' * 32}/end", {"token": visitor.token})
    assert (status, body["error"]["code"]) == (403, "bad_token")
    status, body, _ = await _post(server, "/api/v1/contacts/nosuchcontact/end", {"token": visitor.token})
    assert (status, body["error"]["code"]) == (404, "unknown_contact")
    assert await _state(server, visitor) == "queued"
