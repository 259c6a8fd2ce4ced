"""Twilio as tests play it: webhooks signed with the auth token for the public address
the server is told it has, sent to the server's real socket; TwiML answers parsed."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import aiohttp
from twilio.request_validator import RequestValidator

TOKEN = "test-auth-token"
PUBLIC = "https://ligne.example.org/ecoute"  # behind a proxy that strips /ecoute
PHONE_ENV = {
    "HELPLINE_TWILIO_AUTH_TOKEN": TOKEN,
    "HELPLINE_PUBLIC_URL": PUBLIC,
    "HELPLINE_CARRIER": "fake",
    "HELPLINE_COOKIE_SECURE": "false",  # the public URL is https, the tests speak plain http
}
NUMBER = "+33612345678"


def new_sid() -> str:
    return "CA" + secrets.token_hex(16)


@dataclass
class Answer:
    status: int
    body: str

    @property
    def twiml(self) -> ET.Element:
        assert self.status == 200, f"{self.status}: {self.body}"
        return ET.fromstring(self.body)

    def said(self) -> list[str]:
        return [e.text or "" for e in self.twiml.iter("Say")]

    def verbs(self) -> list[str]:
        return [e.tag for e in self.twiml]

    def first(self, tag: str) -> ET.Element:
        found = next(self.twiml.iter(tag), None)
        assert found is not None, f"no <{tag}> in {self.body}"
        return found


class Twilio:
    """Sends a call's webhooks as Twilio would."""

    def __init__(self, server_url: str, token: str = TOKEN, public: str = PUBLIC) -> None:
        self.server_url, self.token, self.public = server_url.rstrip("/"), token, public
        self.http = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.http.close()

    def params(self, sid: str, number: str = NUMBER, **extra: str) -> dict[str, str]:
        return {
            "CallSid": sid,
            "AccountSid": "AC" + "1" * 32,
            "From": number,
            "To": "+33800000000",
            "CallStatus": "in-progress",
            "Direction": "inbound",
            **extra,
        }

    async def post(
        self,
        path: str,
        params: dict[str, str],
        *,
        signature: str | None = None,
        signed_params: dict[str, str] | None = None,
        signed_url: str | None = None,
    ) -> Answer:
        """POST ``path`` (with its query); signed over ``signed_url`` and ``signed_params``
        (by default what is sent, at the public address), or with ``signature`` as given."""
        if signature is None:
            signature = RequestValidator(self.token).compute_signature(
                signed_url or self.public + path, signed_params if signed_params is not None else params
            )
        headers = {"X-Twilio-Signature": signature} if signature else {}
        async with self.http.post(self.server_url + path, data=params, headers=headers) as r:
            return Answer(r.status, await r.text())

    async def step(self, path: str, sid: str, number: str = NUMBER, **extra: str) -> Answer:
        return await self.post(path, self.params(sid, number, **extra))

    async def follow(self, url: str, sid: str, number: str = NUMBER, **extra: str) -> Answer:
        """Request a URL the server gave in its TwiML (a public one)."""
        assert url.startswith(self.public), url
        return await self.step(url[len(self.public) :], sid, number, **extra)

    async def queued_call(self, number: str = NUMBER, digits: str = "1") -> str:
        """A caller who listened to the welcome, pressed a key and is now waiting."""
        sid = new_sid()
        welcome = await self.step("/telephony/voice/incoming", sid, number, CallStatus="ringing")
        action = welcome.first("Gather").get("action", "")
        queued = await self.follow(action, sid, number, Digits=digits)
        assert queued.first("Redirect").text, queued.body
        return sid

    async def hang_up(self, sid: str, duration: int = 30, status: str = "completed") -> Answer:
        return await self.step("/telephony/voice/status", sid, CallStatus=status, CallDuration=str(duration))


def fake_commands(server: Any) -> list[Any]:
    """What the server asked the (fake) carrier to do, in order."""
    from telephony.webhooks import CARRIER

    return list(server.app[CARRIER].commands)
