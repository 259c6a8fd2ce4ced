"""The embeddable chat widget: ``/widget.js`` and ``/demo``, the Origin rule of the
endpoints a widget calls, and its end-of-chat survey.

The Origin rule: a request that carries an ``Origin`` header (every browser request
from another site, and WebSocket handshakes) is accepted only from this server's own
host or from a site listed in ``HELPLINE_WIDGET_ORIGINS``; anything else gets 403
``origin_not_allowed`` and nothing is created. Requests without ``Origin`` (apps,
scripts, servers) are not browsers acting for a visiting page and stay allowed.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Awaitable, Callable
from functools import lru_cache

from aiohttp import web

from ..i18n import catalog_files, front_end_catalog
from ..logs import get_logger
from ..resources import package_dir
from ..services.surveys import answer_survey
from . import params
from .assets import CATALOG_SLOT, fill, stamp
from .csrf import cross_site, is_this_server
from .errors import ApiError, error_middleware, error_response, read_json, request_lang
from .keys import SERVICES, SETTINGS
from .schemas import SurveyIn, SurveyStored

log = get_logger("widget")

WIDGET_DIR = package_dir("widgets", "chat")
# Placeholders in widget.js, replaced when it is served (and CATALOG_SLOT: its text).
CSS_SLOT = '"__HELPLINE_CSS__"'
EXIT_SLOT = '"__HELPLINE_EXIT_URL__"'
LOCALES = ("fr", "en")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# --- the Origin rule ---------------------------------------------------------------------


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


# --- /widget.js and /demo ------------------------------------------------------------------


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


# --- the survey ------------------------------------------------------------------------------


@widget_endpoint(refuse=True)
async def survey(request: web.Request) -> web.Response:
    body = SurveyIn.model_validate(await read_json(request))
    await answer_survey(request.app[SERVICES], params.contact_id(request), body.token,
                        body.helpful, body.again)
    stored = SurveyStored(helpful=body.helpful, again=body.again)
    return web.json_response(stored.model_dump(), status=201)
