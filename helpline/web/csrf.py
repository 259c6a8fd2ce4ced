"""Cross-site request forgery: a page on another site (a sibling subdomain included, which
SameSite does not stop) must not act with a counsellor's session cookie.

A state-changing request (POST, PUT, PATCH, DELETE) that carries the session cookie, and
the login itself, is refused with 403 ``origin_not_allowed`` when its ``Origin`` is not
this server, or when it has no ``Origin`` and its ``Sec-Fetch-Site`` is neither
``same-origin`` nor ``none``. Requests with neither header (scripts, curl) are not a
browser acting for another site and pass. The console WebSocket handshake applies the
same rule (``refuse_cross_site``).

"This server" is the origin of ``HELPLINE_PUBLIC_URL`` when it is set (scheme, host and
port), else the request's own ``Host`` (host and port: a proxy in front may terminate TLS).

Endpoints that other sites call by design (the widget's, marked with ``cross_site``)
have their own Origin rule and no cookie, and are left alone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

from aiohttp import web

from ..logs import get_logger
from .errors import ApiError
from .keys import SETTINGS
from .session import COOKIE

log = get_logger("csrf")

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAME_SITE_FETCH = frozenset({"same-origin", "none"})
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}

H = TypeVar("H")


def cross_site(handler: H) -> H:
    """Mark an endpoint other sites call by design (no cookie, its own Origin rule)."""
    setattr(handler, "_cross_site", True)  # noqa: B010 (any callable)
    return handler


def opens_session(handler: H) -> H:
    """Mark an endpoint guarded even without a cookie: the login (no login CSRF)."""
    setattr(handler, "_opens_session", True)  # noqa: B010
    return handler


def _netloc(scheme: str, netloc: str) -> str:
    """host[:port], lower case, without the scheme's default port."""
    netloc = netloc.lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default and netloc.endswith(f":{default}"):
        return netloc[: -len(default) - 1]
    return netloc


def is_this_server(request: web.Request, origin: str) -> bool:
    """Whether ``origin`` (an ``Origin`` header) is this server."""
    sent = urlsplit(origin.strip().lower())
    if not sent.scheme or not sent.netloc:
        return False  # "null" (a sandboxed or opaque origin), or junk
    public = request.app[SETTINGS].public_url
    if public:
        ours = urlsplit(public)
        return (sent.scheme, _netloc(sent.scheme, sent.netloc)) == (
            ours.scheme.lower(), _netloc(ours.scheme, ours.netloc)
        )
    host = request.host or ""
    return bool(host) and _netloc(sent.scheme, sent.netloc) == _netloc(sent.scheme, host)


def from_another_site(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is not None:
        return not is_this_server(request, origin)
    fetch_site = request.headers.get("Sec-Fetch-Site")
    return fetch_site is not None and fetch_site.strip().lower() not in SAME_SITE_FETCH


def refuse_cross_site(request: web.Request) -> None:
    """403 ``origin_not_allowed`` for a request another site's page made."""
    if from_another_site(request):
        route = request.match_info.route.resource
        log.warning("cross_site_refused", method=request.method,
                    route=route.canonical if route else None)
        raise ApiError(403, "origin_not_allowed")


@web.middleware
async def csrf_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if request.method in STATE_CHANGING:
        route_handler = request.match_info.handler
        if not getattr(route_handler, "_cross_site", False) and (
            COOKIE in request.cookies or getattr(route_handler, "_opens_session", False)
        ):
            refuse_cross_site(request)
    return await handler(request)
