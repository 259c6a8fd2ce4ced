"""Bad input from any client gets a clear error, changes nothing, and never a 500
or a dropped connection."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.clients import Clients, Server


async def _post(server: Server, path: str, data: bytes | str, **headers: str) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(server.url + path, data=data, headers={"Content-Type": "application/json", **headers}) as r,
    ):
        return r.status, await r.json()


async def _queue_length(server: Server) -> int:
    async with aiohttp.ClientSession() as http, http.get(server.url + "/api/v1/status") as r:
        return int((await r.json())["queue_length"])


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "invalid_json"),
        ("[1, 2]", 422, "invalid_request"),
        ('{"channel": "fax"}', 422, "invalid_request"),
        ('{"channel": "chat", "profile": {"role": "wizard"}}', 422, "invalid_request"),
        ('{"channel": "chat", "profile": {"age_band": 14}}', 422, "invalid_request"),
        ('{"channel": "chat", "name": "Léa"}', 422, "invalid_request"),
        ('{"channel": "chat", "profile": "x"}', 422, "invalid_request"),
    ],
)
async def test_a_malformed_contact_request_is_refused_and_creates_nothing(
    server: Server, body: str, status: int, code: str
) -> None:
    got_status, got = await _post(server, "/api/v1/contacts", body)
    assert (got_status, got["error"]["code"]) == (status, code)
    assert got["error"]["message"]
    assert await _queue_length(server) == 0


async def test_an_oversize_body_is_refused(server: Server) -> None:
    status, got = await _post(server, "/api/v1/contacts", json.dumps({"channel": "chat", "x": "a" * 100_000}))
    assert (status, got["error"]["code"]) == (413, "payload_too_large")


async def test_errors_speak_english_when_asked(server: Server) -> None:
    _, got = await _post(server, "/api/v1/contacts", "{", **{"Accept-Language": "en"})
    assert got["error"]["message"] == "The message received is not valid JSON."
    _, got = await _post(server, "/api/v1/contacts", "{")
    assert got["error"]["message"] == "Le message reçu n'est pas du JSON valide."


async def test_an_unknown_route_is_a_json_404(server: Server) -> None:
    async with aiohttp.ClientSession() as http, http.get(server.url + "/api/v1/nope") as r:
        assert r.status == 404
        assert (await r.json())["error"]["code"] == "not_found"


async def test_a_wrong_method_is_a_json_405(server: Server) -> None:
    async with aiohttp.ClientSession() as http, http.delete(server.url + "/api/v1/contacts") as r:
        assert r.status == 405
        assert (await r.json())["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{oops", "invalid_json"),
        ('"hello"', "invalid_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "message", "client_id": "a1"}', "invalid_frame"),
        ('{"type": "message", "client_id": "a1", "text": 42}', "invalid_frame"),
        ('{"type": "message", "client_id": "a1", "text": ""}', "empty_text"),
        ('{"type": "message", "client_id": "a1", "text": "   "}', "empty_text"),
        ('{"type": "message", "client_id": "a1", "text": "' + "x" * 4001 + '"}', "text_too_long"),
        ('{"type": "message", "client_id": "a b", "text": "hi"}', "invalid_client_id"),
    ],
)
async def test_a_bad_visitor_frame_gets_an_error_and_the_socket_stays_usable(
    clients: Clients, frame: str, code: str
) -> None:
    visitor = await clients.waiting_visitor()
    await visitor.send_json(frame)
    error = await visitor.expect("error")
    assert error["code"] == code
    assert error["message"]
    ack = await visitor.say("toujours là ?")
    assert ack["seq"] == 1  # the bad frame stored nothing


async def test_a_frame_before_hello_is_answered_with_hello_required(clients: Clients) -> None:
    visitor = clients.visitor()
    await visitor.start()
    ws = await visitor.http.ws_connect(f"{clients.server.ws_url}/api/v1/contacts/{visitor.contact_id}/ws")
    await ws.send_json({"type": "message", "client_id": "x1", "text": "avant hello"})
    first = await ws.receive_json(timeout=5)
    assert first["code"] == "hello_required"
    await ws.send_json({"type": "hello", "token": visitor.token})
    await ws.send_json({"type": "message", "client_id": "x2", "text": "après hello"})
    seen = [await ws.receive_json(timeout=5) for _ in range(3)]
    assert {"type": "ack", "client_id": "x2", "seq": 1} in seen
    await ws.close()


@pytest.mark.parametrize("which", ["token", "contact"])
async def test_a_bad_token_or_unknown_contact_closes_with_4401(clients: Clients, which: str) -> None:
    visitor = clients.visitor()
    await visitor.start()
    if which == "token":
        await visitor.connect(token="not-the-token")
    else:
        visitor.contact_id = "0" * 32
        await visitor.connect()
    assert await visitor.closed() == 4401


async def test_a_token_opens_only_its_own_contact(clients: Clients) -> None:
    first, second = clients.visitor(), clients.visitor()
    await first.start()
    await second.start()
    await first.connect(token=second.token)
    assert await first.closed() == 4401


async def test_a_counsellor_cannot_write_to_or_end_someone_elses_contact(
    server: Server, clients: Clients
) -> None:
    await server.add_counsellor("alice")
    await server.add_counsellor("bob")
    visitor = await clients.waiting_visitor()
    alice = await clients.online("alice")
    await alice.expect("assigned")
    bob = await clients.online("bob")
    cid = visitor.contact_id

    await bob.send_json({"type": "message", "contact_id": cid, "client_id": "b1", "text": "intrus"})
    assert (await bob.expect("error", client_id="b1"))["code"] == "not_your_contact"
    await bob.send_json({"type": "end", "contact_id": cid})
    assert (await bob.expect("error", contact_id=cid))["code"] == "not_your_contact"
    await bob.send_json({"type": "typing", "contact_id": cid})
    assert (await bob.expect("error", contact_id=cid))["code"] == "not_your_contact"

    ack = await alice.say(cid, "c'est moi qui suis là")
    assert ack["seq"] == 1  # nothing of bob's was stored
    assert (await visitor.expect("message", seq=1))["sender"] == "counsellor"


async def test_an_unknown_contact_id_is_a_clear_console_error(server: Server, clients: Clients) -> None:
    await server.add_counsellor("alice")
    alice = await clients.online("alice")
    await alice.send_json({"type": "message", "contact_id": "nope", "client_id": "z1", "text": "?"})
    assert (await alice.expect("error", client_id="z1"))["code"] == "unknown_contact"
    await alice.send_json({"type": "status", "status": "sleeping"})
    assert (await alice.expect("error"))["code"] == "invalid_frame"
    await alice.send_json({"type": "status", "status": "break"})
    await alice.expect("status", status="break")


async def test_the_console_socket_needs_a_session(server: Server) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as raised:
            await http.ws_connect(f"{server.ws_url}/api/v1/console/ws")
        assert raised.value.status == 401
        headers = {"Cookie": "helpline_session=forged"}
        with pytest.raises(aiohttp.WSServerHandshakeError) as raised:
            await http.ws_connect(f"{server.ws_url}/api/v1/console/ws", headers=headers)
        assert raised.value.status == 401


async def test_a_number_in_an_address_is_plain_digits_or_refused_never_a_500(
    server: Server, clients: Clients
) -> None:
    from helpline.domain.counsellor import Role

    await server.add_counsellor("root", role=Role.ADMIN)
    root = clients.counsellor("root")
    await root.login()
    superscript_two = "%C2%B2"  # "²" passes str.isdigit() but is no number for int()
    for method, path in (
        ("DELETE", f"/api/v1/admin/canned/{superscript_two}"),
        ("PATCH", f"/api/v1/admin/counsellors/{superscript_two}"),
        ("DELETE", f"/api/v1/admin/schedule/exceptions/{superscript_two}"),
    ):
        async with root.http.request(method, server.url + path, json={}) as r:
            assert (r.status, (await r.json())["error"]["code"]) == (404, "not_found"), path
    url = f"{server.url}/api/v1/contacts/{'0' * 32}/messages?after_seq={superscript_two}"
    async with root.http.get(url) as r:
        assert (r.status, (await r.json())["error"]["code"]) == (422, "invalid_request")
