"""A caller, played against a running helpline server as Twilio would: each webhook
signed with the auth token, the TwiML followed (Say, Play, Pause, Gather, Redirect,
Dial, Hangup), what the caller would hear printed. With the fake carrier, what the
server does to the live call (put through, hang up) reaches the simulator as it
would reach Twilio. A caller put through to an emergency number (a Dial that reports
nothing back) is where the simulation stops: the helpline has left that call."""

from __future__ import annotations

import asyncio
import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from twilio.request_validator import RequestValidator

HOLD_MUSIC_S = 10.0  # how long the simulator "plays" a hold track


class CallOver(Exception):
    """The call ended (either side)."""


class CallerHangsUp(CallOver):
    pass


@dataclass
class Caller:
    server: str  # where requests go, e.g. http://127.0.0.1:8080
    token: str  # the Twilio auth token the server checks
    number: str
    public_url: str | None = None  # what Twilio would sign (the server's public address)
    press: str | None = None
    hangup_after: float | None = None
    answer: bool = True  # the counsellor's phone picks up (fake carrier)
    say: Callable[[str], None] = print
    sid: str = field(default_factory=lambda: "CA" + secrets.token_hex(16))
    heard: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = self.server.rstrip("/")
        self.public = (self.public_url or self.server).rstrip("/")
        self.validator = RequestValidator(self.token)
        self.started = time.monotonic()
        self.http: aiohttp.ClientSession | None = None

    # --- talking to the server as Twilio does -------------------------------------------

    def _local(self, url: str) -> str:
        """A public URL the server gave, sent to where the server really listens."""
        return self.server + url[len(self.public) :] if url.startswith(self.public) else url

    def _params(self, extra: dict[str, str]) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.number,
            "To": "+33800000000",
            "Direction": "inbound",
            "CallStatus": "in-progress",
            **extra,
        }

    async def _post(self, url: str, extra: dict[str, str] | None = None) -> str:
        assert self.http is not None
        params = self._params(extra or {})
        signature = self.validator.compute_signature(url, params)
        async with self.http.post(
            self._local(url), data=params, headers={"X-Twilio-Signature": signature}
        ) as response:
            body = await response.text()
            if response.status >= 400:
                raise RuntimeError(f"{url} answered {response.status}: {body}")
            return body

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def hear(self, line: str) -> None:
        self.heard.append(line)
        self.say(f"[{self.elapsed():6.1f} s] {line}")

    # --- the call ------------------------------------------------------------------------

    async def run(self) -> list[str]:
        """Play the whole call; returns what was heard."""
        async with aiohttp.ClientSession() as self.http:
            self.hear(f"calling the helpline from {self.number}")
            try:
                url, extra = self.public + "/telephony/voice/incoming", {"CallStatus": "ringing"}
                while True:
                    step = await self._follow(await self._post(url, extra))
                    if step is None:  # the end of a document: Twilio hangs up
                        raise CallOver("the line went quiet")
                    url, extra = step
            except CallOver as over:
                self.hear(f"call over: {over}")
                await self._post(
                    self.public + "/telephony/voice/status",
                    {"CallStatus": "completed", "CallDuration": str(round(self.elapsed()))},
                )
        return self.heard

    async def _follow(self, document: str) -> tuple[str, dict[str, str]] | None:
        """Do what one TwiML document says; the next request to make, if any."""
        for verb in ET.fromstring(document):  # noqa: S314 (our own server's answer)
            if verb.tag == "Say":
                self.hear(f'hears ({verb.get("language")}): "{verb.text}"')
            elif verb.tag == "Play":
                self.hear("hears hold music")
                if (step := await self._idle(HOLD_MUSIC_S)) is not None:
                    return step
            elif verb.tag == "Pause":
                if (step := await self._idle(float(verb.get("length", "1")))) is not None:
                    return step
            elif verb.tag == "Gather":
                for inner in verb:
                    if inner.tag == "Say":
                        self.hear(f'hears ({inner.get("language")}): "{inner.text}"')
                if self.press is not None:
                    digits, self.press = self.press, None
                    self.hear(f"presses {digits}")
                    return verb.get("action", ""), {"Digits": digits}
                if (step := await self._idle(float(verb.get("timeout", "5")))) is not None:
                    return step
            elif verb.tag == "Redirect":
                return (verb.text or "").strip(), {}
            elif verb.tag == "Dial":
                return await self._dial(verb)
            elif verb.tag == "Hangup":
                raise CallOver("the helpline hung up")
        return None

    async def _dial(self, dial: ET.Element) -> tuple[str, dict[str, str]] | None:
        target = next(iter(dial), None)
        who = f"{target.tag.lower()} {target.text}" if target is not None else "nobody"
        action = dial.get("action", "")
        if not action:  # nothing comes back to the helpline: the call is handed on for good
            number = target.text if target is not None else "nobody"
            self.hear(f"the call is dialled to {number} (the helpline has left the call)")
            raise CallOver(f"put through to {number}")
        self.hear(f"rings {who}")
        if not self.answer:
            step = await self._idle(float(dial.get("timeout", "20")))
            if step is not None:
                return step
            self.hear("nobody answers")
            return action, {"DialCallStatus": "no-answer"}
        self.hear("a counsellor answers")
        answered = time.monotonic()
        try:
            step = await self._idle(None)
        except CallerHangsUp:  # Twilio reports the dial's end first, then the call's
            talk = str(round(time.monotonic() - answered))
            await self._post(
                action, {"DialCallStatus": "completed", "DialCallDuration": talk, "CallStatus": "completed"}
            )
            raise
        return step

    async def _idle(self, seconds: float | None) -> tuple[str, dict[str, str]] | None:
        """Listen for ``seconds`` (None: until something happens). Returns where a redirect
        sends the call; raises CallOver when either side hangs up."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            now = time.monotonic()
            limits = [d for d in (deadline, self._hangup_at()) if d is not None]
            until = min(limits) if limits else now + 30
            if self.hangup_after is not None and now >= self.started + self.hangup_after:
                raise CallerHangsUp("the caller hung up")
            if deadline is not None and now >= deadline:
                return None
            command = await self._command(max(0.0, min(until - now, 30.0)))
            if command is not None:
                if command["action"] == "hang_up":
                    raise CallOver("the counsellor hung up")
                self.hear("is put through by the helpline")
                return str(command["url"]), {}

    def _hangup_at(self) -> float | None:
        return None if self.hangup_after is None else self.started + self.hangup_after

    async def _command(self, wait_s: float) -> dict[str, Any] | None:
        """What the server did to the call meanwhile (fake carrier), waiting up to wait_s."""
        assert self.http is not None
        path = f"/telephony/fake/calls/{self.sid}?wait={wait_s:.2f}"
        signature = self.validator.compute_signature(self.public + path, {})
        async with self.http.get(self.server + path, headers={"X-Twilio-Signature": signature}) as response:
            if response.status == 200:
                return dict(await response.json())
            if response.status == 404:  # not a fake carrier: nothing will come; just wait
                await asyncio.sleep(wait_s)
            return None
