"""The webhooks Twilio calls during a call. Each one is signed by Twilio; each answers
with TwiML. The call's own id (CallSid) ties the requests of one call together."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from twilio.request_validator import RequestValidator, get_signature_algorithm

from helpline.domain.contact import ContactState
from helpline.domain.errors import DomainError
from helpline.domain.profile import VisitorRole
from helpline.domain.resources import dialable
from helpline.logs import get_logger
from helpline.services import Services
from helpline.services.calls import LONGEST_CALL_S, Admission
from helpline.web.errors import ApiError
from helpline.web.keys import METRICS, SERVICES

from .callers import caller_key
from .carrier import Carrier, FakeCarrier
from .config import TelephonySettings
from .twiml import SWITCH_DIGIT, Voice, other

log = get_logger("telephony")

TELEPHONY: web.AppKey[TelephonySettings] = web.AppKey("telephony_settings")
CARRIER: web.AppKey[Carrier] = web.AppKey("telephony_carrier")

PREFIX = "/telephony/voice"
EMERGENCY_STEP = "emergency"  # ?number=17: a caller put through to an emergency number
CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
KEYPAD = {"1": VisitorRole.YOUNG_PERSON, "2": VisitorRole.PARENT, "3": VisitorRole.PROFESSIONAL}
# Statuses after which the call is over (https://www.twilio.com/docs/voice/api/call-resource).
CALL_OVER = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
NOT_ANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})


def url(settings: TelephonySettings, step: str, lang: str) -> str:
    """The address Twilio is given for the next step (as it sees this server)."""
    return f"{settings.public_url}{PREFIX}/{step}?lang={lang}"


class Call:
    """One checked webhook request: its parameters, the call's id, the caller's language."""

    def __init__(self, request: web.Request, params: MultiDictProxy[Any]) -> None:
        self.params = params
        self.settings = request.app[TELEPHONY]
        self.services: Services = request.app[SERVICES]
        sid = params.get("CallSid", "")
        if not isinstance(sid, str) or not CALL_SID.fullmatch(sid):
            raise ApiError(400, "invalid_call")
        self.sid = sid
        self.query = request.query
        lang = request.query.get("lang", "fr")
        self.lang = lang if lang in ("fr", "en") else "fr"
        self.voice = Voice(self.settings, self.lang)

    def param(self, name: str) -> str:
        value = self.params.get(name, "")
        return value if isinstance(value, str) else ""

    def seconds(self, name: str) -> int:
        """A duration the carrier reports: ASCII digits, else 0; never more than the
        longest call (a status callback is never refused: refusing it would leave the
        call queued)."""
        value = self.param(name)
        if not (value.isascii() and value.isdigit()):
            return 0
        digits = value.lstrip("0")
        return int(digits or "0") if len(digits) <= len(str(LONGEST_CALL_S)) else LONGEST_CALL_S

    def caller_key(self) -> str | None:
        return caller_key(self.settings.caller_secret(), self.param("From"), self.settings.phone_region)

    def url(self, step: str, lang: str | None = None) -> str:
        return url(self.settings, step, lang or self.lang)


async def checked_params(request: web.Request) -> MultiDictProxy[Any]:
    """The request's parameters, if Twilio signed it with our auth token; else 403."""
    settings = request.app[TELEPHONY]
    params: MultiDictProxy[Any] = await request.post()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not settings.enabled or not signature:
        log.warning("telephony_unsigned_request", path=request.path)
        raise ApiError(403, "bad_signature")
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
    seen_by_twilio = settings.public_url + request.rel_url.path_qs
    if not RequestValidator(settings.token).validate(seen_by_twilio, params, signature, algorithm):
        log.warning("telephony_bad_signature", path=request.path)
        raise ApiError(403, "bad_signature")
    return params


def twiml(handler: Callable[[Call], Awaitable[str]]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        call = Call(request, await checked_params(request))
        return web.Response(text=await handler(call), content_type="text/xml")

    return handle


async def refused(call: Call, admission: Admission) -> str:
    if admission.blocked:
        return call.voice.ending("blocked")
    await call.services.statistics.refused("voice")  # closed: counted, nothing else kept
    opens_at = admission.opens_at
    return call.voice.closed(opens_at.astimezone(call.services.schedules.zone) if opens_at else None)


@twiml
async def incoming(call: Call) -> str:
    """A call rings: blocked, closed, or welcome and the keypad menu."""
    if await call.services.calls.is_over(call.sid):  # a replayed request for an ended call
        return call.voice.ending("goodbye")
    admission = await call.services.calls.admit(call.caller_key())
    if not admission.open:
        return await refused(call, admission)
    if await call.services.calls.find(call.sid) is not None:  # the carrier asked twice: already queued
        return call.voice.queued(call.url("wait"))
    return call.voice.welcome(call.url("choice"))


@twiml
async def choice(call: Call) -> str:
    """The keypad answer (none if no key was pressed in time); the caller joins the queue."""
    digits = call.param("Digits")
    if digits == SWITCH_DIGIT:
        switched = Voice(call.settings, other(call.lang))
        return switched.welcome(call.url("choice", switched.lang))
    key = call.caller_key()
    admission = await call.services.calls.admit(key)  # it may have closed while they listened
    if not admission.open:
        return await refused(call, admission)
    profile: dict[str, Any] = {"language": call.lang}
    if digits in KEYPAD:
        profile["role"] = KEYPAD[digits].value
    if await call.services.calls.enqueue(call.sid, key, profile) is None:  # it ended meanwhile
        return call.voice.ending("goodbye")
    return call.voice.queued(call.url("wait"))


@twiml
async def wait(call: Call) -> str:
    """The hold loop, and where a redirected call lands: on hold while queued, put
    through once a counsellor is assigned."""
    waiting = await call.services.calls.waiting(call.sid)
    if waiting is None:
        return call.voice.ending("lost")
    contact = waiting.contact
    if contact.state is ContactState.QUEUED:
        return call.voice.hold(waiting.standing, call.url("wait"))
    if contact.state is ContactState.ASSIGNED:
        endpoint = await call.services.calls.endpoint_of(contact)
        if endpoint is not None:
            return call.voice.dial(endpoint, call.url("dialed"))
        await call.services.calls.not_answered(contact.id, "no_endpoint")
        return call.voice.hold(None, call.url("wait"))
    return call.voice.ending("goodbye")


@twiml
async def dialed(call: Call) -> str:
    """The counsellor's phone rang: not answered (back to the front of the queue), or the
    conversation happened and one side hung up."""
    contact = await call.services.calls.find(call.sid)
    if contact is None:
        return call.voice.ending("goodbye")
    outcome = call.param("DialCallStatus")
    if outcome in NOT_ANSWERED:
        await call.services.calls.not_answered(contact.id, outcome)
        return call.voice.not_answered(call.url("wait"))
    await call.services.calls.talked(contact.id, call.seconds("DialCallDuration"))
    if call.param("CallStatus") not in CALL_OVER:  # the counsellor hung up; the caller is still there
        await call.services.calls.counsellor_left(contact.id)
    return call.voice.ending("goodbye")


@twiml
async def emergency(call: Call) -> str:
    """Where a counsellor's redirect sends a caller they put through to an emergency number:
    they are told, then dialled to it. Nothing comes back to the helpline after."""
    try:
        resource = dialable(call.query.get("number", ""))
    except DomainError:
        return call.voice.ending("lost")
    return call.voice.put_through(resource)


async def status(request: web.Request) -> web.Response:
    """Call status callback. Only the end matters: a caller who was waiting abandoned, one
    who was talking ended the call. Repeated or late callbacks change nothing."""
    call = Call(request, await checked_params(request))
    if call.param("CallStatus") in CALL_OVER:
        await call.services.calls.ended(call.sid, call.seconds("CallDuration"))
    return web.Response(status=204)


async def fake_commands(request: web.Request) -> web.Response:
    """Fake carrier only: what the server did to this call (a redirect, a hang-up), waited
    for up to ``wait`` seconds. The simulator plays it, as Twilio would."""
    await checked_params(request)
    sid = request.match_info["call_sid"]
    if not CALL_SID.fullmatch(sid):
        raise ApiError(400, "invalid_call")
    try:
        wait_s = min(60.0, max(0.0, float(request.query.get("wait", "30"))))
    except ValueError:
        raise ApiError(400, "invalid_call") from None
    carrier = request.app[CARRIER]
    assert isinstance(carrier, FakeCarrier)
    command = await carrier.next_command(sid, wait_s)
    if command is None:
        return web.Response(status=204)
    return web.json_response({"action": command.action, "url": command.url})


def timed(step: str, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
          ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The handler, its answer timed in the webhook latency metric under its step's name."""

    async def handle(request: web.Request) -> web.StreamResponse:
        started = perf_counter()
        try:
            return await handler(request)
        finally:
            request.app[METRICS].webhook.labels(step).observe(perf_counter() - started)

    return handle


def add_routes(app: web.Application, *, fake: bool) -> None:
    for step, handler in (
        ("incoming", incoming),
        ("choice", choice),
        ("wait", wait),
        ("connect", wait),
        ("dialed", dialed),
        (EMERGENCY_STEP, emergency),
        ("status", status),
    ):
        app.router.add_post(f"{PREFIX}/{step}", timed(step, handler))
    if fake:
        app.router.add_get("/telephony/fake/calls/{call_sid}", fake_commands)
