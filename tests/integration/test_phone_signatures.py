"""Only Twilio, signing with the helpline's auth token for the address Twilio sees, can
drive a call. Anything else gets a clear error and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from twilio.request_validator import RequestValidator

from tests.clients import Server, start_server
from tests.phone import PHONE_ENV, PUBLIC, Twilio, new_sid

INCOMING = "/telephony/voice/incoming"
CHOICE = "/telephony/voice/choice?lang=fr"


@pytest_asyncio.fixture
async def line(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> AsyncIterator[tuple[Server, Twilio]]:
    for name, value in PHONE_ENV.items():
        monkeypatch.setenv(name, value)
    server = await start_server(database_url=sqlite_url)
    twilio = Twilio(server.url)
    yield server, twilio
    await twilio.close()
    await server.stop()


async def nothing_queued(server: Server) -> bool:
    return await server.services.views.queue_list() == []


async def test_a_correctly_signed_request_is_answered(line: tuple[Server, Twilio]) -> None:
    server, twilio = line
    sid = new_sid()
    assert (await twilio.step(CHOICE, sid, Digits="1")).status == 200
    assert not await nothing_queued(server)


async def test_a_request_without_a_signature_is_refused_and_creates_nothing(
    line: tuple[Server, Twilio],
) -> None:
    server, twilio = line
    answer = await twilio.post(CHOICE, twilio.params(new_sid(), Digits="1"), signature="")
    assert answer.status == 403 and '"bad_signature"' in answer.body
    assert await nothing_queued(server)


async def test_a_request_signed_with_another_token_is_refused(line: tuple[Server, Twilio]) -> None:
    server, _ = line
    forger = Twilio(server.url, token="not-the-token")
    try:
        answer = await forger.step(CHOICE, new_sid(), Digits="1")
    finally:
        await forger.close()
    assert answer.status == 403
    assert await nothing_queued(server)


async def test_a_parameter_changed_after_signing_is_refused(line: tuple[Server, Twilio]) -> None:
    server, twilio = line
    sent = twilio.params(new_sid(), Digits="1")
    answer = await twilio.post(CHOICE, sent, signed_params={**sent, "From": "+33600000000"})
    assert answer.status == 403
    assert await nothing_queued(server)


async def test_the_signature_is_checked_against_the_public_address_behind_the_proxy(
    line: tuple[Server, Twilio],
) -> None:
    server, twilio = line
    params = twilio.params(new_sid(), Digits="1")
    # Signed for the address the server listens on, not the one Twilio was given: refused.
    local = await twilio.post(CHOICE, params, signed_url=server.url + CHOICE)
    assert local.status == 403
    # The query is signed too: another language than the one signed is refused.
    other_query = await twilio.post(CHOICE, params, signed_url=PUBLIC + "/telephony/voice/choice?lang=en")
    assert other_query.status == 403
    assert await nothing_queued(server)
    assert (await twilio.post(CHOICE, params)).status == 200


async def test_without_an_auth_token_the_phone_line_refuses_every_call(
    monkeypatch: pytest.MonkeyPatch,
    sqlite_url: str,
) -> None:
    monkeypatch.delenv("HELPLINE_TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("HELPLINE_PUBLIC_URL", PUBLIC)
    server = await start_server(database_url=sqlite_url)
    twilio = Twilio(server.url)
    try:
        assert (await twilio.step(INCOMING, new_sid())).status == 403
    finally:
        await twilio.close()
        await server.stop()


@pytest.mark.parametrize("sid", ["", "CA123", "XX" + "0" * 32, "CA" + "g" * 32, "CA" + "0" * 33])
async def test_a_malformed_call_id_gets_a_clear_error(line: tuple[Server, Twilio], sid: str) -> None:
    server, twilio = line
    answer = await twilio.step(CHOICE, sid, Digits="1")
    assert answer.status == 400 and '"invalid_call"' in answer.body
    assert await nothing_queued(server)


async def test_odd_but_signed_input_never_breaks_a_call(line: tuple[Server, Twilio]) -> None:
    server, twilio = line
    sid = new_sid()
    # Unknown keys, a strange number, a very long one, a JSON body: still a normal answer.
    assert (await twilio.step(CHOICE, sid, number="<script>", Digits="7")).status == 200
    assert (await twilio.step("/telephony/voice/wait?lang=xx", sid, number="+" + "9" * 400)).status == 200
    assert (
        await twilio.step("/telephony/voice/dialed?lang=fr", new_sid(), DialCallStatus="??")
    ).status == 200
    assert (await twilio.step("/telephony/voice/status", sid, CallDuration="-5")).status == 204
    signature = RequestValidator(twilio.token).compute_signature(PUBLIC + CHOICE, {})
    async with twilio.http.post(
        server.url + CHOICE,
        data=b'{"CallSid": 1}',
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/json"},
    ) as r:
        assert r.status == 400
    async with twilio.http.post(
        server.url + CHOICE,
        data={"CallSid": new_sid(), "x": "y" * 100_000},
        headers={"X-Twilio-Signature": "x"},
    ) as r:
        assert r.status == 413


async def test_the_fake_carriers_call_feed_is_signed_too(line: tuple[Server, Twilio]) -> None:
    server, twilio = line
    sid = new_sid()
    async with twilio.http.get(f"{server.url}/telephony/fake/calls/{sid}?wait=0") as r:
        assert r.status == 403
    path = f"/telephony/fake/calls/{sid}?wait=0"
    signature = RequestValidator(twilio.token).compute_signature(PUBLIC + path, {})
    async with twilio.http.get(server.url + path, headers={"X-Twilio-Signature": signature}) as r:
        assert r.status == 204  # signed, and nothing happened to that call
