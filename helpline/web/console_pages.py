"""The counsellor and supervisor console: static files from helpline/widgets/console/, served under
/console/ with a strict Content-Security-Policy (scripts, styles and connections only to
this server; no inline script or style; never framed). i18n.js is served with the
console's text, the ``[console]`` table of each catalog, written into it."""

from __future__ import annotations

import re
from functools import lru_cache

from aiohttp import web

from ..i18n import catalog_files, front_end_catalog
from ..resources import package_dir
from .assets import CATALOG_SLOT, fill, stamp
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


@lru_cache(maxsize=2)
def _i18n_js(sources: tuple[int, ...]) -> bytes:
    return fill(CONSOLE_DIR / "i18n.js", {CATALOG_SLOT: front_end_catalog("console")})


def _file(name: str) -> tuple[bytes, str]:
    match = _NAME.match(name)
    path = CONSOLE_DIR / name
    if match is None or not path.is_file():
        raise ApiError(404, "not_found")
    if name == "i18n.js":  # rebuilt when it or a catalog changes
        return _i18n_js(stamp([path, *catalog_files()])), _TYPES["js"]
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
