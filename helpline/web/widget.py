"""The embeddable chat widget's files: ``/widget.js`` (its CSS, its text and settings inlined)
and ``/demo``, a plain page that embeds it."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from aiohttp import web

from ..i18n import catalog_files, front_end_catalog
from ..logs import get_logger
from ..resources import package_dir
from .assets import CATALOG_SLOT, fill, stamp
from .errors import ApiError
from .keys import SETTINGS

log = get_logger("widget")

WIDGET_DIR = package_dir("widgets", "chat")
# Placeholders in widget.js, replaced when it is served (and CATALOG_SLOT: its text).
CSS_SLOT = '"__HELPLINE_CSS__"'
EXIT_SLOT = '"__HELPLINE_EXIT_URL__"'
LOCALES = ("fr", "en")


def _minify_css(css: str) -> str:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"\s+", " ", css)
    # Not around ":": ".a :b" (a descendant) and ".a:b" differ.
    return re.sub(r"\s*([{};,>])\s*", r"\1", css).strip()


@lru_cache(maxsize=4)
def _build(sources: tuple[int, ...], exit_url: str) -> tuple[bytes, str]:
    css = _minify_css((WIDGET_DIR / "widget.css").read_text("utf-8"))
    body = fill(WIDGET_DIR / "widget.js", {
        CSS_SLOT: css, EXIT_SLOT: exit_url, CATALOG_SLOT: front_end_catalog("widget"),
    })
    return body, 'W/"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def widget_bundle(exit_url: str) -> tuple[bytes, str]:
    """widget.js with its CSS, its text and the default quick-exit address inlined, and its
    ETag. Rebuilt when a source file (the widget's or a catalog) changes."""
    try:
        sources = stamp([WIDGET_DIR / "widget.js", WIDGET_DIR / "widget.css", *catalog_files()])
    except FileNotFoundError:
        log.warning("widget_files_missing", directory=str(WIDGET_DIR))
        raise ApiError(404, "not_found") from None
    return _build(sources, exit_url)


async def widget_js(request: web.Request) -> web.StreamResponse:
    body, etag = widget_bundle(request.app[SETTINGS].quick_exit_url)
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",  # loaded by other sites' pages
    }
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    response = web.Response(body=body, content_type="application/javascript", charset="utf-8",
                            headers=headers)
    response.enable_compression()
    return response


async def demo(request: web.Request) -> web.StreamResponse:
    """A plain host page that embeds the widget. ``?locale=en`` shows it in English."""
    try:
        page = (WIDGET_DIR / "demo.html").read_text("utf-8")
    except FileNotFoundError:
        raise ApiError(404, "not_found") from None
    locale = request.query.get("locale")
    if locale in LOCALES:
        page = page.replace('data-locale="fr"', f'data-locale="{locale}"')
    return web.Response(text=page, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"})
