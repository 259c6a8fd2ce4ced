"""For operators: is this process healthy, and the API's description."""

from __future__ import annotations

from aiohttp import web

from .keys import SERVICES
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
