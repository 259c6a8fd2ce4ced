"""The counsellor and supervisor console: static files from helpline/widgets/console/, served under
/console/ with a strict Content-Security-Policy (scripts, styles and connections only to
this server; no inline script or style; never framed)."""

from __future__ import annotations

import re

from aiohttp import web

from ..resources import package_dir
from .errors import ApiError

CONSOLE_DIR = package_dir("widgets", "console")
_NAME = re.compile(r"^[a-z0-9_-]+\.(js|css|html|svg)$")
_TYPES = {"js": "application/javascript", "css": "text/css", "html": "text/html", "svg": "image/svg+xml"}


def content_security_policy(host: str) -> str:
    sockets = f"ws://{host} wss://{host}" if host else ""
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        f"connect-src 'self' {sockets}".strip(), "font-src 'self'", "object-src 'none'",
        "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ])


def _headers(request: web.Request) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(request.host or ""),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


def _file(name: str) -> tuple[bytes, str]:
    match = _NAME.match(name)
    path = CONSOLE_DIR / name
    if match is None or not path.is_file():
        raise ApiError(404, "not_found")
    return path.read_bytes(), _TYPES[match.group(1)]


async def console_index(request: web.Request) -> web.StreamResponse:
    """/console/: the console's single page (/console redirects here)."""
    if not request.path.endswith("/"):
        raise web.HTTPFound("/console/")
    body, content_type = _file("index.html")
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=_headers(request))


async def console_asset(request: web.Request) -> web.StreamResponse:
    body, content_type = _file(request.match_info["name"])
    response = web.Response(body=body, content_type=content_type, charset="utf-8", headers=_headers(request))
    response.enable_compression()
    return response
