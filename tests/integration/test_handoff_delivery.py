"""Hand-off delivery to real partners on loopback: a webhook receiver that checks the signature
and counts effects by idempotency key, and an SMTP server that collects what it is sent."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from helpline.domain.handoffs import FieldType, Localised, Target, TargetField, TargetKind
from helpline.handoffs_delivery import (
    Delivery,
    DeliveryFailed,
    deliver,
    message_id,
    sign,
    verify_signature,
)

SECRET = "s3cret-shared-with-the-partner"
ENVIRON = {"PARTNER_SECRET": SECRET, "SMTP_PASSWORD": "relay-password"}
HELPLINE = {"helpline_name": "Ligne d'écoute", "helpline_email": "contact@ligne.example"}
MARKER = "Kevin, 13 ans, 12 rue des Lilas"  # payload text that must never reach a failure's reason
SENT_AT = datetime.now(UTC).replace(microsecond=0)

FIELDS = (
    TargetField("facts", FieldType.TEXT, Localised("Les faits", "The facts"), required=True),
    TargetField("urls", FieldType.URLS, Localised("Adresses du contenu", "Content addresses")),
    TargetField("place", FieldType.LINE, Localised("Lieu de vie", "Where they live")),
)
PAYLOAD: dict[str, object] = {
    "facts": f"{MARKER}\nmenacé de publication",
    "urls": ["https://social.example/p/1", "https://social.example/p/2"],
}


def delivery(connector: str, settings: dict[str, str], key: str = "handoff-41-a") -> Delivery:
    target = Target(id="platform", name=Localised("Plateforme : signalement", "Platform: notice"),
                    kind=TargetKind.NOTICE, fields=FIELDS, connector=connector, settings=settings)
    return Delivery(reference="H-7KQ2M9", idempotency_key=key, target=target, payload=PAYLOAD,
                    sent_at=SENT_AT)


def expected_document(d: Delivery) -> dict[str, object]:
    return {
        "reference": "H-7KQ2M9", "idempotency_key": d.idempotency_key, "target": "platform",
        "sent_at": SENT_AT.isoformat(),
        "helpline": {"name": "Ligne d'écoute", "email": "contact@ligne.example"},
        "fields": PAYLOAD,
    }


# --- webhook ------------------------------------------------------------------------------------


class Receiver:
    """A partner's endpoint: /hook checks the signature and acts once per idempotency key."""

    def __init__(self) -> None:
        self.effects: dict[str, int] = {}
        self.bodies: list[dict[str, Any]] = []
        self.rejected = 0
        self.never = asyncio.Event()
        self.url = ""

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify_signature(SECRET, request.headers.get("X-Helpline-Signature", ""), body,
                                datetime.now(UTC)):
            self.rejected += 1
            return web.json_response({"error": "bad signature"}, status=401)
        key = request.headers["Idempotency-Key"]
        if key not in self.effects:
            self.effects[key] = 1
            self.bodies.append(json.loads(body))
        return web.json_response({"reference": f"P-{len(self.effects)}"})

    async def status(self, request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="no")

    async def silent(self, request: web.Request) -> web.Response:
        await self.never.wait()
        return web.Response()


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    partner = Receiver()
    app = web.Application()
    app.router.add_post("/hook", partner.hook)
    app.router.add_post("/status/{code}", partner.status)
    app.router.add_post("/silent", partner.silent)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    partner.url = f"http://127.0.0.1:{port}"
    yield partner
    partner.never.set()  # lets the silent handler end so the server can stop
    await runner.cleanup()


def webhook(url: str, key: str = "handoff-41-a") -> Delivery:
    return delivery("webhook", {"url": url, "secret_env": "PARTNER_SECRET"}, key)


async def test_a_signed_delivery_acts_once_per_key_and_returns_the_partners_reference(
    receiver: Receiver,
) -> None:
    d = webhook(f"{receiver.url}/hook")
    assert await deliver(d, ENVIRON, **HELPLINE) == "P-1"
    assert await deliver(d, ENVIRON, **HELPLINE) == "P-1"  # a retry: the partner de-duplicates
    assert receiver.effects == {"handoff-41-a": 1}
    assert receiver.bodies == [expected_document(d)]


async def test_a_delivery_signed_with_another_secret_is_rejected_and_not_retried(
    receiver: Receiver,
) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await deliver(webhook(f"{receiver.url}/hook"), {"PARTNER_SECRET": "not-the-secret"},
                      **HELPLINE)
    assert (failed.value.retryable, failed.value.reason) == (False, "http_401")
    assert receiver.rejected == 1
    assert receiver.effects == {}


def test_verify_signature_refuses_a_wrong_secret_a_changed_body_and_a_stale_time() -> None:
    body = b'{"reference":"H-7KQ2M9"}'
    t = int(SENT_AT.timestamp())
    header = sign(SECRET, body, t)
    assert verify_signature(SECRET, header, body, SENT_AT + timedelta(seconds=299))
    assert verify_signature(SECRET, f"{sign('old-secret', body, t)},{header.split(',')[1]}", body,
                            SENT_AT)  # while a secret changes, either v1 may match
    assert not verify_signature("another", header, body, SENT_AT)
    assert not verify_signature(SECRET, header, body + b" ", SENT_AT)
    assert not verify_signature(SECRET, header, body, SENT_AT + timedelta(seconds=301))
    assert not verify_signature(SECRET, header, body, SENT_AT - timedelta(seconds=301))
    assert not verify_signature(SECRET, header.split(",")[1], body, SENT_AT)  # no time
    assert not verify_signature(SECRET, "", body, SENT_AT)


@pytest.mark.parametrize(("code", "retryable"), [(503, True), (429, True), (408, True),
                                                  (400, False), (404, False)])
async def test_the_partners_status_decides_whether_to_retry(
    receiver: Receiver, code: int, retryable: bool
) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await deliver(webhook(f"{receiver.url}/status/{code}"), ENVIRON, **HELPLINE)
    assert (failed.value.retryable, failed.value.reason) == (retryable, f"http_{code}")


async def test_a_partner_that_never_answers_is_a_retryable_timeout(receiver: Receiver) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await deliver(webhook(f"{receiver.url}/silent"), ENVIRON, **HELPLINE, timeout_s=0.2)
    assert (failed.value.retryable, failed.value.reason) == (True, "timeout")


async def test_a_partner_that_is_down_is_retried() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nobody listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DeliveryFailed) as failed:
        await deliver(webhook(f"http://127.0.0.1:{port}/hook"), ENVIRON, **HELPLINE)
    assert (failed.value.retryable, failed.value.reason) == (True, "connection")


@pytest.mark.parametrize("url", ["http://partner.example/hook", "http://10.0.0.8/hook",
                                 "ftp://partner.example/hook"])
async def test_a_url_without_tls_to_another_machine_is_refused(url: str) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await deliver(webhook(url), ENVIRON, **HELPLINE)
    assert (failed.value.retryable, failed.value.reason) == (False, "insecure_url")


async def test_an_answer_without_a_reference_is_a_delivery_without_one(receiver: Receiver) -> None:
    assert await deliver(webhook(f"{receiver.url}/status/202"), ENVIRON, **HELPLINE) is None


async def test_a_missing_secret_is_not_retried() -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await deliver(webhook("https://partner.example/hook"), {}, **HELPLINE)
    assert (failed.value.retryable, failed.value.reason) == (False, "missing_secret")


@pytest.mark.parametrize("connector", ["manual", "none"])
async def test_manual_and_none_targets_are_not_sent_by_a_connector(connector: str) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await deliver(delivery(connector, {}), ENVIRON, **HELPLINE)
    assert (failed.value.retryable, failed.value.reason) == (False, "not_sent_by_connector")


# --- e-mail -------------------------------------------------------------------------------------


class Mailbox:
    """What an SMTP server received; it may answer a recipient or the data with a refusal."""

    def __init__(self, rcpt_reply: str | None = None, data_reply: str | None = None) -> None:
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.messages: list[EmailMessage] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"relay-password")


class LoopbackController(Controller):
    """aiosmtpd's controller on a port the system chooses."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


SmtpServer = Callable[..., tuple[Mailbox, int]]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    started: list[Controller] = []

    def start(mailbox: Mailbox, **options: Any) -> tuple[Mailbox, int]:
        controller = LoopbackController(mailbox, hostname="127.0.0.1", port=0, **options)
        controller.start()
        started.append(controller)
        return mailbox, controller.port

    yield start
    for controller in started:
        controller.stop()


def emailed(port: int, key: str = "handoff-41-a", **extra: str) -> Delivery:
    settings = {"to": "reports@platform.example", "from": "handoffs@ligne.example",
                "host": "127.0.0.1", "port": str(port), **extra}
    return delivery("email", settings, key)


EXPECTED_TEXT = f"""Signalement de la ligne d'écoute / Hand-off from the helpline

Référence / Reference : H-7KQ2M9
Destinataire / Sent to : Plateforme : signalement

Les faits :
{MARKER}
menacé de publication

Adresses du contenu :
https://social.example/p/1
https://social.example/p/2
"""


async def test_an_email_carries_the_text_and_the_json_and_nothing_else(
    smtp_server: SmtpServer,
) -> None:
    mailbox, port = smtp_server(Mailbox())
    first = emailed(port)
    assert await deliver(first, ENVIRON, **HELPLINE) is None
    await deliver(first, ENVIRON, **HELPLINE)  # a retry
    await deliver(emailed(port, key="handoff-42-a"), ENVIRON, **HELPLINE)

    message = mailbox.messages[0]
    assert message["To"] == "reports@platform.example"
    assert message["Reply-To"] == "contact@ligne.example"
    assert "H-7KQ2M9" in message["Subject"]
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content().replace("\r\n", "\n")  # lines end in CRLF on the wire
    assert text == EXPECTED_TEXT  # "Lieu de vie" was not sent: it is not there
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/json"
    assert attachment.get_filename() == "H-7KQ2M9.json"
    assert json.loads(attachment.get_content()) == expected_document(first)

    ids = [m["Message-ID"] for m in mailbox.messages]
    assert ids[0] == ids[1] == message_id("handoff-41-a", "handoffs@ligne.example")
    assert ids[2] != ids[0]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_an_email_relay_is_logged_in_to_with_the_password_from_the_environment(
    smtp_server: SmtpServer,
) -> None:
    mailbox = Mailbox()
    _, port = smtp_server(mailbox, authenticator=mailbox.authenticate, auth_required=True,
                          auth_require_tls=False)
    await deliver(emailed(port, username="ligne", password_env="SMTP_PASSWORD"), ENVIRON,
                  **HELPLINE)
    assert mailbox.logins == [(b"ligne", b"relay-password")]
    assert len(mailbox.messages) == 1


@pytest.mark.parametrize(("mailbox", "retryable", "reason"), [
    (Mailbox(rcpt_reply="550 5.1.1 No such mailbox"), False, "smtp_550"),
    (Mailbox(data_reply="451 4.3.0 Try again later"), True, "smtp_451"),
    (Mailbox(data_reply="554 5.6.0 Message refused"), False, "smtp_554"),
])
async def test_the_relays_answer_decides_whether_to_retry(
    smtp_server: SmtpServer, mailbox: Mailbox, retryable: bool, reason: str
) -> None:
    _, port = smtp_server(mailbox)
    with pytest.raises(DeliveryFailed) as failed:
        await deliver(emailed(port), ENVIRON, **HELPLINE)
    assert (failed.value.retryable, failed.value.reason) == (retryable, reason)
    assert mailbox.messages == []


# --- what a failure says ------------------------------------------------------------------------


async def test_a_failures_reason_never_holds_payload_text(
    receiver: Receiver, smtp_server: SmtpServer
) -> None:
    _, refusing = smtp_server(Mailbox(data_reply=f"554 {MARKER}"))  # a relay echoing the text
    attempts = [
        webhook(f"{receiver.url}/status/400"), webhook(f"{receiver.url}/status/503"),
        webhook(f"{receiver.url}/silent"), webhook(f"http://partner.example/{MARKER}"),
        emailed(refusing),
        replace(webhook(f"{receiver.url}/hook"), reference=MARKER),
    ]
    for attempt in attempts:
        with pytest.raises(DeliveryFailed) as failed:
            await deliver(attempt, {"PARTNER_SECRET": "wrong"}, **HELPLINE, timeout_s=0.2)
        assert re.fullmatch(r"[a-z0-9_]+", failed.value.reason)
        for said in (str(failed.value), repr(failed.value)):
            assert "Lilas" not in said and "Kevin" not in said
