"""For operators: is this process healthy, its metrics, and the API's description."""

from __future__ import annotations

import hmac

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from .client import request_ip
from .errors import ApiError, error_response, request_lang
from .keys import METRICS, SERVICES, SETTINGS
from .openapi import openapi_document


async def healthz(request: web.Request) -> web.Response:
    """503 without the database (nothing works); 200 "degraded" without the bus (this
    process serves its own clients, but events do not reach the other processes)."""
    database, bus = await request.app[SERVICES].health()
    if not database:
        return web.json_response({"status": "unavailable", "database": False, "bus": bus}, status=503)
    return web.json_response({"status": "ok" if bus else "degraded", "database": True, "bus": bus})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics (see docs/operations.md). Off unless a token or allowed addresses
    are set: 404. An address not allowed: 403; a token missing or wrong: 401."""
    settings = request.app[SETTINGS]
    if not settings.metrics_enabled:
        raise ApiError(404, "not_found")
    if settings.metrics_allow:
        address = request_ip(request)
        if address is None or not any(address in network for network in settings.metrics_allow):
            raise ApiError(403, "forbidden")
    if settings.metrics_token is not None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        expected = settings.metrics_token.get_secret_value()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
            refused = error_response(401, "metrics_token", request_lang(request))
            refused.headers["WWW-Authenticate"] = "Bearer"
            return refused
    floor = await request.app[SERVICES].views.operations()
    body = request.app[METRICS].exposition(floor)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
