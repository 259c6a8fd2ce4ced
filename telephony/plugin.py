"""How the phone channel plugs into a helpline server and its command line
(entry point group ``helpline.channels``, name ``voice``)."""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator

from aiohttp import web

from helpline.config import Settings
from helpline.domain.errors import DomainError
from helpline.domain.records import ContactRecord, CounsellorRecord
from helpline.domain.resources import Resource
from helpline.logs import get_logger
from helpline.web.keys import SERVICES

from .carrier import Carrier, CarrierError, FakeCarrier, TwilioCarrier
from .config import TelephonySettings
from .webhooks import CARRIER, EMERGENCY_STEP, TELEPHONY, add_routes, url

log = get_logger("telephony")


class VoiceLine:
    """The core's hold on live calls (``helpline.services.calls.CallControl``), through
    the carrier."""

    def __init__(self, carrier: Carrier, settings: TelephonySettings) -> None:
        self.carrier = carrier
        self.settings = settings

    def _lang(self, contact: ContactRecord) -> str:
        return str(contact.profile.get("language", "fr"))

    async def connect(self, contact: ContactRecord, counsellor: CounsellorRecord) -> None:
        if contact.carrier_ref is not None:
            await self.carrier.redirect(
                contact.carrier_ref, url(self.settings, "connect", self._lang(contact))
            )
            log.info("call_connecting", contact_id=contact.id, counsellor_id=counsellor.id)

    async def hold(self, contact: ContactRecord) -> None:
        if contact.carrier_ref is not None:
            try:
                await self.carrier.redirect(
                    contact.carrier_ref, url(self.settings, "wait", self._lang(contact))
                )
            except CarrierError as exc:
                log.warning("call_hold_failed", contact_id=contact.id, error=str(exc))

    async def hang_up(self, contact: ContactRecord) -> None:
        if contact.carrier_ref is not None:
            try:
                await self.carrier.hang_up(contact.carrier_ref)
            except CarrierError as exc:
                log.warning("call_hang_up_failed", contact_id=contact.id, error=str(exc))


    async def dial_out(self, contact: ContactRecord, resource: Resource) -> None:
        """Redirect the live call to TwiML that dials the emergency number; the helpline is
        out of the call from then on. A carrier that refuses leaves the call as it was."""
        assert contact.carrier_ref is not None
        to = f"{url(self.settings, EMERGENCY_STEP, self._lang(contact))}&number={resource.number}"
        try:
            await self.carrier.redirect(contact.carrier_ref, to)
        except CarrierError as exc:
            log.warning("call_put_through_failed", contact_id=contact.id, error=str(exc))
            raise DomainError("carrier_error") from None


def make_carrier(settings: TelephonySettings) -> Carrier:
    if settings.carrier == "twilio":
        assert settings.twilio_account_sid is not None
        return TwilioCarrier(settings.twilio_account_sid, settings.token)
    return FakeCarrier()


def setup(app: web.Application, core: Settings, settings: TelephonySettings | None = None) -> None:
    """Add the webhooks; once the services run, plug the phone line into them."""
    settings = settings or TelephonySettings()
    settings.public_url = settings.public_url or core.public_base
    longest_turn = max(1, int(core.visitor_grace_s / 2))
    if settings.hold_announce_s > longest_turn:  # a caller on hold is gone once the loop stops coming round
        log.warning("hold_announce_shortened", seconds=longest_turn)
        settings.hold_announce_s = longest_turn
    app[TELEPHONY] = settings
    add_routes(app, fake=settings.carrier == "fake")

    async def line(app: web.Application) -> AsyncIterator[None]:
        carrier = make_carrier(settings)
        app[CARRIER] = carrier
        app[SERVICES].calls.plug(VoiceLine(carrier, settings))
        if not settings.enabled:
            log.warning("phone_line_off", why="HELPLINE_TWILIO_AUTH_TOKEN is not set")
        yield
        await carrier.close()

    app.cleanup_ctx.append(line)


def demo() -> str:
    """`helpline demo`: a phone line on the fake carrier that the simulator can call."""
    from .cli import DEMO_TOKEN

    os.environ.setdefault("HELPLINE_TWILIO_AUTH_TOKEN", DEMO_TOKEN)
    return "Phone line (fake carrier): helpline telephony simulate --caller +33612345678 --press 1\n"


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from .cli import add_commands as add

    add(commands)
