"""The carrier port: what the helpline asks of the phone network, and its two
implementations, Twilio's REST API and a local fake."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import defaultdict
from dataclasses import dataclass
from typing import Any


class CarrierError(Exception):
    """The carrier refused or could not be reached."""


class Carrier(ABC):
    @abstractmethod
    async def redirect(self, call_ref: str, url: str) -> None:
        """Make the live call fetch its next instructions (TwiML) from ``url``."""

    @abstractmethod
    async def hang_up(self, call_ref: str) -> None:
        """End the live call."""

    @abstractmethod
    async def point_number(self, number: str, voice_url: str, status_url: str) -> str:
        """Send the number's incoming calls and status callbacks to these webhooks."""

    async def close(self) -> None:
        return None


class TwilioCarrier(Carrier):
    def __init__(self, account_sid: str, auth_token: str) -> None:
        from twilio.http.async_http_client import AsyncTwilioHttpClient
        from twilio.rest import Client

        self._http = AsyncTwilioHttpClient(timeout=10)
        self.client = Client(account_sid, auth_token, http_client=self._http)

    async def redirect(self, call_ref: str, url: str) -> None:
        await self._update(call_ref, url=url, method="POST")

    async def hang_up(self, call_ref: str) -> None:
        await self._update(call_ref, status="completed")

    async def _update(self, call_ref: str, **changes: Any) -> None:
        from twilio.base.exceptions import TwilioException

        try:
            await self.client.calls(call_ref).update_async(**changes)
        except TwilioException as exc:
            raise CarrierError(type(exc).__name__) from None

    async def point_number(self, number: str, voice_url: str, status_url: str) -> str:
        from twilio.base.exceptions import TwilioException

        try:
            found = await self.client.incoming_phone_numbers.list_async(phone_number=number, limit=1)
            if not found:
                raise CarrierError(f"{number} is not a number of this Twilio account")
            await found[0].update_async(
                voice_url=voice_url,
                voice_method="POST",
                status_callback=status_url,
                status_callback_method="POST",
            )
        except TwilioException as exc:
            raise CarrierError(str(exc)) from None
        return str(found[0].sid)

    async def close(self) -> None:
        await self._http.close()


@dataclass(frozen=True, slots=True)
class Command:
    """What the server asked the carrier to do to a call."""

    action: str  # "redirect" or "hang_up"
    call_ref: str
    url: str | None = None


class FakeCarrier(Carrier):
    """Records what it is asked, and hands each call's commands to whoever plays that
    call (the simulator polls ``/telephony/fake/calls/{CallSid}``), as a real carrier
    would act on the live call."""

    def __init__(self) -> None:
        self.commands: list[Command] = []
        self._pending: defaultdict[str, asyncio.Queue[Command]] = defaultdict(asyncio.Queue)

    async def redirect(self, call_ref: str, url: str) -> None:
        self._record(Command("redirect", call_ref, url))

    async def hang_up(self, call_ref: str) -> None:
        self._record(Command("hang_up", call_ref))

    def _record(self, command: Command) -> None:
        self.commands.append(command)
        self._pending[command.call_ref].put_nowait(command)

    async def next_command(self, call_ref: str, wait_s: float) -> Command | None:
        """The next thing done to this call, waiting up to ``wait_s`` seconds."""
        queue = self._pending[call_ref]
        try:
            async with asyncio.timeout(wait_s):
                return await queue.get()
        except TimeoutError:
            return None
        finally:
            if queue.empty():
                self._pending.pop(call_ref, None)

    async def point_number(self, number: str, voice_url: str, status_url: str) -> str:
        self.commands.append(Command("point_number", number, voice_url))
        return "PN-fake"
