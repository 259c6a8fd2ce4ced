"""The Origin rule of the endpoints the chat widget calls from its host sites.

A request that carries an ``Origin`` header (every browser request from another site, and
WebSocket handshakes) is accepted only from this server's own host or from a site listed in
``HELPLINE_WIDGET_ORIGINS``; anything else gets 403 ``origin_not_allowed`` and nothing is
created. Requests without ``Origin`` (apps, scripts, servers) are not browsers acting for a
visiting page and stay allowed.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from aiohttp import web

from .csrf import cross_site, is_this_server
from .errors import ApiError, error_middleware, error_response, request_lang
from .keys import SETTINGS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]



def origin_allowed(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    allowed = request.app[SETTINGS].widget_origins
    if "*" in allowed or origin.strip().lower().rstrip("/") in allowed:
        return True
    return is_this_server(request, origin)  # a page this server served (the demo, say)


def check_origin(request: web.Request) -> None:
    """403 ``origin_not_allowed`` unless the request's Origin may use the widget endpoints."""
    if not origin_allowed(request):
        raise ApiError(403, "origin_not_allowed")


def widget_endpoint(*, refuse: bool) -> Callable[[Handler], Handler]:
    """An endpoint the widget calls from its host page. With ``refuse``, a disallowed Origin
    gets 403 ``origin_not_allowed`` before the handler runs.

    Answers carry ``Access-Control-Allow-Origin`` for the requesting origin, errors
    included, so the widget can read why it was refused; no credentials are ever allowed.
    The widget sends its JSON as ``text/plain``, a CORS "simple" request: no preflight."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            if refuse and not origin_allowed(request):
                response: web.StreamResponse = error_response(
                    403, "origin_not_allowed", request_lang(request)
                )
            else:
                response = await error_middleware(request, handler)
            origin = request.headers.get("Origin")
            if origin:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers.add("Vary", "Origin")
            return response

        return cross_site(wrapped)  # the console's CSRF rule is not for these

    return decorate
