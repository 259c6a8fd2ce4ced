"""Bad input from any client gets a clear error, changes nothing, and never a 500
or a dropped connection."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from helpline.domain.counsellor import Role
from tests.clients import Clients, Counsellor, Server


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
    unknown = "0" * 32
    await alice.send_json({"type": "message", "contact_id": unknown, "client_id": "z1", "text": "?"})
    assert (await alice.expect("error", client_id="z1"))["code"] == "unknown_contact"
    await alice.send_json({"type": "message", "contact_id": "nope", "client_id": "z2", "text": "?"})
    assert (await alice.expect("error"))["code"] == "invalid_frame"  # not a contact id at all
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
    root = await clients.logged_in("root", role=Role.ADMIN)
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


# --- JSON the server will not take in: too deep, NaN, lone surrogates -------------------

DEEP = "[" * 30_000
SILLY_JSON = [DEEP, '{"a":' * 40 + "1" + "}" * 40, '{"username": NaN, "password": "x"}',
              '{"username": "\\ud800", "password": "secret-pass"}']


@pytest.mark.parametrize("path", ["/api/v1/contacts", "/api/v1/auth/login"])
@pytest.mark.parametrize("body", SILLY_JSON, ids=["deep", "nested", "nan", "surrogate"])
async def test_json_too_deep_or_not_standard_is_invalid_json(server: Server, path: str, body: str) -> None:
    status, got = await _post(server, path, body)
    assert (status, got["error"]["code"]) == (400, "invalid_json")
    assert await _queue_length(server) == 0


@pytest.mark.parametrize("frame", SILLY_JSON, ids=["deep", "nested", "nan", "surrogate"])
async def test_json_too_deep_on_the_visitor_socket_is_an_error_and_the_socket_stays(
    clients: Clients, frame: str
) -> None:
    visitor = await clients.waiting_visitor()
    await visitor.send_json(frame)
    assert (await visitor.expect("error"))["code"] == "invalid_json"
    assert (await visitor.say("toujours là ?"))["seq"] == 1


async def test_json_too_deep_on_the_console_socket_is_an_error_and_the_socket_stays(
    server: Server, clients: Clients
) -> None:
    await server.add_counsellor("alice")
    alice = await clients.online("alice")
    await alice.send_json(DEEP)
    assert (await alice.expect("error"))["code"] == "invalid_json"
    await alice.send_json({"type": "status", "status": "break"})
    await alice.expect("status", status="break")


# --- numbers the database cannot hold ---------------------------------------------------


async def test_a_visitor_hello_after_seq_beyond_the_database_is_an_invalid_frame(clients: Clients) -> None:
    visitor = clients.visitor()
    await visitor.start()
    await visitor.connect(after_seq=2**63)
    assert (await visitor.expect("error"))["code"] == "invalid_frame"
    await visitor.send_json({"type": "hello", "token": visitor.token, "after_seq": 0})
    assert (await visitor.say("me voilà"))["seq"] == 1


async def test_a_console_hello_after_beyond_the_database_is_an_invalid_frame(
    server: Server, clients: Clients
) -> None:
    await server.add_counsellor("alice")
    visitor = await clients.waiting_visitor()
    alice = clients.counsellor("alice")
    await alice.login()
    await alice._open(f"{server.ws_url}/api/v1/console/ws",
                      {"type": "hello", "after": {visitor.contact_id: 2**70}})
    assert (await alice.expect("error"))["code"] == "invalid_frame"
    await alice.send_json({"type": "hello", "after": {}})
    await alice.expect("session")


async def test_a_transfer_to_a_counsellor_id_beyond_the_database_is_an_invalid_frame(
    clients: Clients,
) -> None:
    visitor, alice = await clients.talking()
    await alice.send_json({"type": "transfer", "contact_id": visitor.contact_id, "to": {"counsellor": 2**70}})
    error = await alice.expect("error")
    assert error["code"] == "invalid_frame"
    assert (await alice.say(visitor.contact_id, "je suis toujours là"))["seq"] == 1  # still hers


async def test_ids_in_the_path_beyond_the_database_are_not_found(server: Server, clients: Clients) -> None:
    root = await clients.logged_in("root", role=Role.ADMIN)
    huge, url = str(2**70), server.url
    for method, path, body in [
        ("PATCH", f"/api/v1/admin/counsellors/{huge}", {"max_chats": 2}),
        ("PATCH", "/api/v1/admin/counsellors/9999999999", {"max_chats": 2}),
        ("POST", f"/api/v1/admin/counsellors/{huge}/password", {"password": "long-enough"}),
        ("PUT", f"/api/v1/admin/canned/{huge}", {"title": "t", "text": "x"}),
        ("DELETE", "/api/v1/admin/canned/2147483648", None),
        ("DELETE", f"/api/v1/admin/schedule/exceptions/{huge}", None),
    ]:
        status, got = await _call(root, method, url + path, body)
        assert (status, got["error"]["code"]) == (404, "not_found"), path
    for contact_id in ("%00", "x" * 33, "0" * 31 + "%00", "A" * 32):
        status, got = await _call(root, "GET", f"{url}/api/v1/contacts/{contact_id}/messages")
        assert (status, got["error"]["code"]) == (404, "unknown_contact"), contact_id
        status, got = await _call(root, "PUT", f"{url}/api/v1/contacts/{contact_id}/wrapup", {})
        assert (status, got["error"]["code"]) == (404, "unknown_contact"), contact_id
    visitor = await clients.waiting_visitor()
    for after in (str(2**63), "2147483648", "-1", "1e3"):
        status, got = await _call(root, "GET", f"{url}/api/v1/contacts/{visitor.contact_id}/messages"
                                               f"?after_seq={after}")
        assert (status, got["error"]["code"]) == (422, "invalid_request"), after


async def test_a_visitor_socket_for_something_that_cannot_be_a_contact_is_a_404(server: Server) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as raised:
            await http.ws_connect(f"{server.ws_url}/api/v1/contacts/%00/ws")
        assert raised.value.status == 404


# --- control characters (NUL breaks a PostgreSQL statement) -------------------------------


async def _call(who: Counsellor, method: str, url: str, body: Any = None) -> tuple[int, Any]:
    async with who.http.request(method, url, json=body) as r:
        return r.status, (await r.json() if r.status != 204 else None)


def _control_character(got: dict[str, Any]) -> bool:
    return got["error"]["code"] == "invalid_request" and any(
        d["problem"] == "control_character" for d in got["error"]["details"]
    )


@pytest.mark.parametrize("username", ["ali\x00ce", "alice\n", "ali\x7fce", "\x9b"])
async def test_a_control_character_in_a_username_at_login_is_refused(server: Server, username: str) -> None:
    await server.add_counsellor("alice")
    body = json.dumps({"username": username, "password": "secret-pass"})
    status, got = await _post(server, "/api/v1/auth/login", body)
    assert status == 422 and _control_character(got), got


async def test_control_characters_in_names_texts_and_reasons_are_refused_and_change_nothing(
    server: Server, clients: Clients
) -> None:
    root = await clients.logged_in("root", role=Role.ADMIN, display_name="Root")
    admin, url = f"{server.url}/api/v1/admin", server.url
    for method, path, body in [
        ("POST", "/counsellors", {"username": "ni\x00na", "password": "long-enough"}),
        ("POST", "/counsellors", {"username": "nina", "password": "long-enough", "display_name": "Ni\x00na"}),
        ("POST", "/counsellors", {"username": "nina", "password": "long-enough", "skills": ["general\x00"]}),
        ("PATCH", "/counsellors/1", {"display_name": "Ro\x00ot"}),
        ("POST", "/canned", {"title": "Accueil\x00", "text": "Bonjour"}),
        ("POST", "/canned", {"title": "Accueil", "text": "Bonjour\x00"}),
        ("POST", "/canned", {"title": "Accueil\n", "text": "Bonjour"}),
        ("POST", "/schedule/exceptions", {"kind": "close", "first": "2026-12-25", "reason": "Noël\x00"}),
    ]:
        status, got = await _call(root, method, admin + path, body)
        assert status == 422 and _control_character(got), (path, body, got)
    _, accounts = await _call(root, "GET", admin + "/counsellors")
    assert [(c["username"], c["display_name"]) for c in accounts["counsellors"]] == [("root", "Root")]
    assert (await _call(root, "GET", url + "/api/v1/canned"))[1]["responses"] == []
    assert (await _call(root, "GET", admin + "/schedule/exceptions"))[1]["exceptions"] == []
    # Multi-line text keeps its line breaks and tabs.
    text = "Bonjour,\n\tje t'écoute."
    status, got = await _call(root, "POST", admin + "/canned", {"title": "Accueil", "text": text})
    assert status == 201 and got["text"] == text


async def test_control_characters_in_a_transfer_note_a_wrapup_or_a_block_reason_are_refused(
    server: Server, clients: Clients
) -> None:
    await server.add_counsellor("bob")
    await server.add_counsellor("sam", role=Role.SUPERVISOR)
    visitor, alice = await clients.talking()
    cid = visitor.contact_id
    bob_id = (await server.services.accounts.login("bob", "secret-pass"))[0].id
    await alice.send_json({"type": "transfer", "contact_id": cid, "to": {"counsellor": bob_id},
                           "note": "elle a 13 ans\x00"})
    assert (await alice.expect("error"))["code"] == "invalid_frame"
    assert (await alice.say(cid, "je suis toujours là"))["seq"] == 1  # not transferred

    sam = clients.counsellor("sam")
    await sam.login()
    status, got = await _call(sam, "POST", f"{server.url}/api/v1/contacts/{cid}/caller-block",
                              {"hours": 1, "reason": "insultes\x00"})
    assert status == 422 and _control_character(got), got

    await alice.send_json({"type": "end", "contact_id": cid})
    await alice.expect("ended")
    wrapup = {"categories": ["sextortion"], "contacted_by": "young_person", "age_band": "15_17",
              "outcomes": ["advice"], "note": "rappeler\x00"}
    url = f"{server.url}/api/v1/contacts/{cid}/wrapup"
    status, got = await _call(alice, "PUT", url, wrapup)
    assert status == 422 and _control_character(got), got
    status, got = await _call(alice, "PUT", url, {**wrapup, "note": None, "categories": ["sext\x00rtion"]})
    assert (status, got["error"]["code"]) == (422, "invalid_request")
    assert (await _call(alice, "GET", url))[1]["error"]["code"] == "no_wrapup"
    status, got = await _call(alice, "PUT", url, {**wrapup, "note": "rappeler\nlundi"})
    assert status == 200 and got["note"] == "rappeler\nlundi"


# --- what HTTP says -------------------------------------------------------------------------


async def test_a_405_names_the_methods_allowed(server: Server) -> None:
    async with aiohttp.ClientSession() as http, http.delete(server.url + "/api/v1/contacts") as r:
        assert r.status == 405
        assert r.headers["Allow"] == "POST"
    async with aiohttp.ClientSession() as http, http.put(server.url + "/api/v1/admin/counsellors") as r:
        assert r.status == 405
        assert set(r.headers["Allow"].split(",")) == {"GET", "POST"}


async def test_a_plain_get_on_a_websocket_route_is_a_400(server: Server) -> None:
    url = f"{server.url}/api/v1/contacts/{'0' * 32}/ws"
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        assert (r.status, (await r.json())["error"]["code"]) == (400, "invalid_request")


async def test_exceptional_hours_must_be_a_real_time_with_the_start_before_the_end(
    server: Server, clients: Clients
) -> None:
    root = await clients.logged_in("root", role=Role.ADMIN)
    url = f"{server.url}/api/v1/admin/schedule/exceptions"
    day = {"kind": "close", "first": "2026-12-24", "reason": "Réveillon"}
    for hours, problem in [({"start": "18:00", "end": "16:00"}, "hours_order"),
                           ({"start": "16:00", "end": "16:00"}, "hours_order"),
                           ({"start": "16:00"}, "hours_incomplete"),
                           ({"start": "16:00", "end": "24:30"}, "string_pattern_mismatch")]:
        status, got = await _call(root, "POST", url, {**day, **hours})
        assert (status, got["error"]["code"]) == (422, "invalid_request"), hours
        assert [d["problem"] for d in got["error"]["details"]] == [problem], hours
    assert (await _call(root, "GET", url))[1]["exceptions"] == []
    status, got = await _call(root, "POST", url, {**day, "start": "16:00", "end": "24:00"})
    assert status == 201 and (got["start"], got["end"]) == ("16:00", "24:00")
