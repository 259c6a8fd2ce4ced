"""REST endpoints. Each: parse, call one use case, shape the answer."""

from __future__ import annotations

from aiohttp import web

from ..domain.access import may_read_transcript
from ..domain.contact import Channel
from ..domain.errors import DomainError
from ..services.events import iso
from .auth import COOKIE, clear_session_cookie, require_user, set_session_cookie
from .errors import ApiError, error_body, read_json, request_lang
from .keys import SERVICES
from .openapi import openapi_document
from .schemas import ContactCreate, ContactCreated, Login, Me, MessageOut, Transcript


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[SERVICES].ctx.store.ping()
    except Exception:
        return web.json_response({"status": "unavailable", "database": False}, status=503)
    return web.json_response({"status": "ok", "database": True})


async def status(request: web.Request) -> web.Response:
    return web.json_response(await request.app[SERVICES].floor.status())


async def create_contact(request: web.Request) -> web.Response:
    body = ContactCreate.model_validate(await read_json(request))
    services = request.app[SERVICES]
    try:
        contact, token = await services.conversations.start(
            Channel(body.channel), body.profile.model_dump(mode="json", exclude_none=True)
        )
    except DomainError as e:
        if e.code == "closed":
            return web.json_response(error_body("closed", request_lang(request)), status=503)
        raise
    created = ContactCreated(
        contact_id=contact.id, token=token, state=contact.state.value,
        websocket_url=f"/api/v1/contacts/{contact.id}/ws",
    )
    return web.json_response(created.model_dump(), status=201)


def _after_seq(request: web.Request) -> int:
    raw = request.query.get("after_seq", "0")
    if not raw.isdigit() or len(raw) > 12:
        raise ApiError(422, "invalid_request", details=[{"field": "after_seq", "problem": "int_parsing"}])
    return int(raw)


async def transcript(request: web.Request) -> web.Response:
    user = await require_user(request)
    after_seq = _after_seq(request)
    services = request.app[SERVICES]
    contact = await services.conversations.get(request.match_info["contact_id"])
    if not may_read_transcript(user.role, user.id, contact.counsellor_id):
        raise ApiError(403, "not_your_contact")
    messages = await services.conversations.history(contact.id, after_seq)
    body = Transcript(
        contact_id=contact.id, state=contact.state.value,
        messages=[MessageOut(seq=m.seq, sender=m.sender.value, text=m.text, sent_at=iso(m.sent_at))
                  for m in messages],
    )
    return web.json_response(body.model_dump())


async def login(request: web.Request) -> web.Response:
    body = Login.model_validate(await read_json(request))
    result = await request.app[SERVICES].accounts.login(body.username, body.password)
    if result is None:
        raise ApiError(401, "invalid_credentials")
    user, token = result
    response = web.json_response(_me(user).model_dump())
    set_session_cookie(request, response, token)
    return response


async def logout(request: web.Request) -> web.Response:
    token = request.cookies.get(COOKIE)
    if token and len(token) <= 256:
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
