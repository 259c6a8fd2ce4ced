"""REST endpoints. Each: parse, call one use case, shape the answer."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from ..domain.contact import Channel
from ..domain.counsellor import Role
from ..domain.schedule import Override
from ..services.conversations import LineClosed
from ..services.events import iso
from ..services.schedule import emergency_resources, validate_override
from .auth import clear_session_cookie, require_user, session_token, set_session_cookie
from .client import client_key
from .csrf import opens_session
from .errors import ApiError, error_body, read_json, request_lang
from .keys import LOGIN_THROTTLE, SERVICES
from .openapi import openapi_document
from .params import contact_id, row_id, seq_query
from .schemas import (
    CallerBlockIn,
    ContactCreate,
    ContactCreated,
    Login,
    Me,
    MessageOut,
    ScheduleExceptionIn,
    ScheduleExceptionOut,
    Transcript,
)
from .widget import widget_endpoint


async def healthz(request: web.Request) -> web.Response:
    """503 without the database (nothing works); 200 "degraded" without the bus (this
    process serves its own clients, but events do not reach the other processes)."""
    database, bus = await request.app[SERVICES].health()
    if not database:
        return web.json_response({"status": "unavailable", "database": False, "bus": bus}, status=503)
    return web.json_response({"status": "ok" if bus else "degraded", "database": True, "bus": bus})


@widget_endpoint(refuse=False)  # read by the widget from its host sites
async def status(request: web.Request) -> web.Response:
    return web.json_response(await request.app[SERVICES].views.status())


@widget_endpoint(refuse=True)  # a site not in HELPLINE_WIDGET_ORIGINS gets 403
async def create_contact(request: web.Request) -> web.Response:
    body = ContactCreate.model_validate(await read_json(request))
    services = request.app[SERVICES]
    try:
        contact, token = await services.conversations.start(
            Channel(body.channel), body.profile.model_dump(mode="json", exclude_none=True)
        )
    except LineClosed as closed:
        opens_at = closed.opens_at and closed.opens_at.astimezone(services.schedules.zone).isoformat()
        lang = request_lang(request)
        refused = error_body("closed", lang, opens_at=opens_at, emergency=emergency_resources())
        return web.json_response(refused, status=503)
    created = ContactCreated(
        contact_id=contact.id, token=token, state=contact.state.value,
        websocket_url=f"/api/v1/contacts/{contact.id}/ws",
    )
    return web.json_response(created.model_dump(), status=201)


async def transcript(request: web.Request) -> web.Response:
    user = await require_user(request)
    after_seq = seq_query(request, "after_seq")
    conversations = request.app[SERVICES].conversations
    contact, messages = await conversations.transcript(contact_id(request), user, after_seq)
    body = Transcript(
        contact_id=contact.id, state=contact.state.value,
        messages=[MessageOut(seq=m.seq, sender=m.sender.value, text=m.text, sent_at=iso(m.sent_at))
                  for m in messages],
    )
    return web.json_response(body.model_dump())


@opens_session  # refused from another site even without a cookie (csrf.py)
async def login(request: web.Request) -> web.Response:
    """Throttled per client (see ``helpline.services.throttle``)."""
    body = Login.model_validate(await read_json(request))
    services, throttle, client = request.app[SERVICES], request.app[LOGIN_THROTTLE], client_key(request)
    refused = throttle.admit(client, body.username, services.ctx.clock.now())
    if refused is not None:
        raise ApiError(429, refused.code, retry_after_s=refused.retry_after_s)
    result = succeeded = None
    try:
        async with throttle.turn(client):
            result = await services.accounts.login(body.username, body.password)
        succeeded = result is not None
    finally:
        throttle.finish(client, body.username, services.ctx.clock.now(), succeeded)
    if result is None:
        raise ApiError(401, "invalid_credentials")
    user, token = result
    response = web.json_response(_me(user).model_dump())
    set_session_cookie(request, response, token)
    return response


async def logout(request: web.Request) -> web.Response:
    token = session_token(request)
    if token:
        await request.app[SERVICES].accounts.logout(token)
    response = web.json_response({"ok": True})
    clear_session_cookie(response)
    return response


async def me(request: web.Request) -> web.Response:
    return web.json_response(_me(await require_user(request)).model_dump())


def _me(user: object) -> Me:
    return Me.model_validate(user, from_attributes=True)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def _exception_out(o: Override) -> dict[str, object]:
    return ScheduleExceptionOut(
        id=o.id or 0, kind=o.kind.value, first=o.first, last=o.last,
        start=str(o.window).split("-")[0] if o.window else None,
        end=str(o.window).split("-")[1] if o.window else None, reason=o.reason,
    ).model_dump(mode="json")


async def list_schedule_exceptions(request: web.Request) -> web.Response:
    await require_user(request, Role.ADMIN)
    overrides = await request.app[SERVICES].schedules.list_overrides()
    return web.json_response({"exceptions": [_exception_out(o) for o in overrides]})


async def add_schedule_exception(request: web.Request) -> web.Response:
    user = await require_user(request, Role.ADMIN)
    body = ScheduleExceptionIn.model_validate(await read_json(request))
    override = validate_override(body.kind, body.first, body.last, body.start, body.end, body.reason)
    schedules = request.app[SERVICES].schedules
    new_id = await schedules.add_override(override, user.id)
    return web.json_response(_exception_out(replace(override, id=new_id)), status=201)


async def remove_schedule_exception(request: web.Request) -> web.Response:
    await require_user(request, Role.ADMIN)
    exception_id = row_id(request, "exception_id")
    if not await request.app[SERVICES].schedules.remove_override(exception_id):
        raise ApiError(404, "not_found")
    return web.Response(status=204)


async def supervisor_overview(request: web.Request) -> web.Response:
    await require_user(request, Role.SUPERVISOR, Role.ADMIN)
    return web.json_response(await request.app[SERVICES].views.overview())


async def block_caller(request: web.Request) -> web.Response:
    user = await require_user(request, Role.SUPERVISOR, Role.ADMIN)
    body = CallerBlockIn.model_validate(await read_json(request))
    until = await request.app[SERVICES].calls.block(contact_id(request), user, body.hours, body.reason)
    return web.json_response({"blocked_until": iso(until)}, status=201)


async def unblock_caller(request: web.Request) -> web.Response:
    user = await require_user(request, Role.SUPERVISOR, Role.ADMIN)
    await request.app[SERVICES].calls.unblock(contact_id(request), user)
    return web.Response(status=204)
