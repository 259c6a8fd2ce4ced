"""Logging in (throttled per client, see ``helpline.services.throttle``) and out, and who is
logged in."""

from __future__ import annotations

from aiohttp import web

from .client import client_key
from .csrf import opens_session
from .errors import ApiError, read_json
from .keys import LOGIN_THROTTLE, METRICS, SERVICES
from .schemas import Login, Me
from .session import clear_session_cookie, require_user, session_token, set_session_cookie


@opens_session  # refused from another site even without a cookie (csrf.py)
async def login(request: web.Request) -> web.Response:
    """Throttled per client (see ``helpline.services.throttle``)."""
    body = Login.model_validate(await read_json(request))
    services, throttle, client = request.app[SERVICES], request.app[LOGIN_THROTTLE], client_key(request)
    refused = throttle.admit(client, body.username, services.ctx.clock.now())
    if refused is not None:
        request.app[METRICS].rate_limited["login"].inc()
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
