"""The console's own endpoints: the wrap-up taxonomy and form, the throttled login, and
what a supervisor's console is told when it starts monitoring a contact."""

from __future__ import annotations

import weakref
from typing import Any

from aiohttp import web

from ..domain.counsellor import Role
from ..services import Services
from ..services.events import caller_label, iso
from ..services.supervision import colleagues, conversations_in_progress
from ..services.throttle import LoginThrottle
from ..services.wrapups import InvalidWrapup, WrapupDraft, read_wrapup, taxonomy, write_wrapup
from ..store.records import ContactRecord
from . import params, rest
from .auth import require_user
from .csrf import opens_session
from .errors import ApiError, read_json
from .keys import SERVICES
from .schemas import WrapupIn, WrapupOut

# One throttle per running application (per process), created on first use.
_throttles: weakref.WeakKeyDictionary[Services, LoginThrottle] = weakref.WeakKeyDictionary()


def login_throttle(services: Services) -> LoginThrottle:
    throttle = _throttles.get(services)
    if throttle is None:
        throttle = _throttles[services] = LoginThrottle()
    return throttle


@opens_session  # refused from another site even without a cookie (csrf.py)
async def login(request: web.Request) -> web.StreamResponse:
    """POST /api/v1/auth/login, refused with 429 ``too_many_attempts`` after 5 failures for
    the same username in 15 minutes."""
    body = await read_json(request)  # the body is kept: the login handler reads it again
    username = body.get("username") if isinstance(body, dict) else None
    if not isinstance(username, str):
        return await rest.login(request)  # 422 as usual
    services = request.app[SERVICES]
    throttle = login_throttle(services)
    now = services.ctx.clock.now()
    wait = throttle.retry_after_s(username, now)
    if wait is not None:
        raise ApiError(429, "too_many_attempts", retry_after_s=wait)
    try:
        response = await rest.login(request)
    except ApiError as e:
        if e.code == "invalid_credentials":
            throttle.failed(username, now)
        raise
    throttle.succeeded(username)
    return response


async def get_taxonomy(request: web.Request) -> web.Response:
    await require_user(request)
    return web.json_response(taxonomy())


def _wrapup_out(contact_id: str, stored: dict[str, Any]) -> dict[str, Any]:
    return WrapupOut(
        contact_id=contact_id, counsellor_id=stored["counsellor_id"],
        written_at=iso(stored["written_at"]),
        **{k: stored[k] for k in ("categories", "contacted_by", "age_band", "gender", "platforms",
                                  "outcomes", "note")},
    ).model_dump()


async def put_wrapup(request: web.Request) -> web.Response:
    user = await require_user(request)
    contact_id = params.contact_id(request)
    body = WrapupIn.model_validate(await read_json(request))
    services = request.app[SERVICES]
    draft = WrapupDraft(body.categories, body.contacted_by, body.age_band, body.gender,
                        body.platforms, body.outcomes, body.note)
    try:
        await write_wrapup(services, contact_id, user, draft)
    except InvalidWrapup as e:
        problem = [{"field": e.field, "problem": "unknown_value"}]
        raise ApiError(422, "invalid_wrapup", details=problem) from None
    stored = await read_wrapup(services, contact_id, user)
    assert stored is not None
    return web.json_response(_wrapup_out(contact_id, stored))


async def get_wrapup(request: web.Request) -> web.Response:
    user = await require_user(request)
    contact_id = params.contact_id(request)
    stored = await read_wrapup(request.app[SERVICES], contact_id, user)
    if stored is None:
        raise ApiError(404, "no_wrapup")
    return web.json_response(_wrapup_out(contact_id, stored))


def monitoring_event(contact: ContactRecord) -> dict[str, Any]:
    """Sent to a supervisor's console when it starts monitoring ``contact``; its messages follow."""
    return {"type": "monitoring", "contact": {
        "contact_id": contact.id, "state": contact.state.value, "channel": contact.channel.value,
        "profile": contact.profile, "skill": contact.skill, "priority": contact.priority.label,
        "counsellor_id": contact.counsellor_id, "last_seq": contact.last_seq,
        **({"caller": caller_label(contact.caller_key)} if contact.caller_key else {}),
    }}


async def list_colleagues(request: web.Request) -> web.Response:
    await require_user(request)
    return web.json_response({"counsellors": await colleagues(request.app[SERVICES])})


async def list_conversations(request: web.Request) -> web.Response:
    await require_user(request, Role.SUPERVISOR, Role.ADMIN)
    found = await conversations_in_progress(request.app[SERVICES])
    return web.json_response({"conversations": found})
