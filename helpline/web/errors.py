"""Every error a client can cause becomes ``{"error": {"code", "message"}}`` with the
right status. Nothing a client sends yields a 500 or a traceback."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from ..crypto import SealedDataError
from ..domain.errors import Conflict, DomainError, Forbidden, NotFound, RateLimited
from ..i18n import negotiate, translate
from ..logs import get_logger

log = get_logger("web")


class ApiError(Exception):
    def __init__(self, status: int, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.status, self.code, self.extra = status, code, extra


def request_lang(request: web.Request) -> str:
    return negotiate(request.query.get("lang") or request.headers.get("Accept-Language"))


def error_body(code: str, lang: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": translate(f"error.{code}", lang), **extra}}


def error_response(status: int, code: str, lang: str, **extra: Any) -> web.Response:
    """The error as JSON; a ``retry_after_s`` also goes in a ``Retry-After`` header."""
    retry = extra.get("retry_after_s")
    headers = {"Retry-After": str(retry)} if isinstance(retry, int) else None
    return web.json_response(error_body(code, lang, **extra), status=status, headers=headers)


UNREADABLE = "data_unreadable"  # stored data sealed under a key this server lacks (or altered)


def log_unreadable(error: SealedDataError) -> None:
    """One clear line for the operator: which key is missing, for what (never any text)."""
    log.error("sealed_data_unreadable", problem=error.problem, key_id=error.key_id, what=error.what)


def domain_status(error: DomainError) -> int:
    if isinstance(error, RateLimited):
        return 429
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, Conflict):
        return 409
    return 422


def validation_details(error: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]), "problem": e["type"]}
        for e in error.errors(include_url=False, include_input=False)
    ]


_HTTP_CODES = {400: "invalid_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "payload_too_large"}


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    lang = request_lang(request)
    try:
        return await handler(request)
    except ApiError as e:
        return error_response(e.status, e.code, lang, **e.extra)
    except DomainError as e:
        field = getattr(e, "field", None)  # an error about one field says which, and what is wrong
        details = {"details": [{"field": field, "problem": getattr(e, "problem", e.code)}]} if field else {}
        return error_response(domain_status(e), e.code, lang, **details, **getattr(e, "extra", {}))
    except ValidationError as e:
        return error_response(422, "invalid_request", lang, details=validation_details(e))
    except SealedDataError as e:
        log_unreadable(e)
        return error_response(503, UNREADABLE, lang)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        response = error_response(e.status, _HTTP_CODES.get(e.status, "invalid_request"), lang)
        if "Allow" in e.headers:  # a 405 says which methods the resource takes
            response.headers["Allow"] = e.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled_error", route=request.match_info.route.resource.canonical
                      if request.match_info.route.resource else None)
        return error_response(500, "internal", lang)


MAX_JSON_DEPTH = 32


class InvalidJson(ValueError):
    """Not JSON, or JSON this server refuses to take in."""


def _no_constant(name: str) -> Any:
    raise InvalidJson(name)  # NaN, Infinity: not JSON


def load_json(data: str | bytes) -> Any:
    """Parse a body or a frame: standard JSON (no NaN or Infinity) nested at most
    ``MAX_JSON_DEPTH`` deep, whose strings are all encodable as UTF-8 (no lone surrogate
    from a ``\\ud800`` escape). Anything else raises ``InvalidJson``."""
    try:
        value = json.loads(data, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidJson("not JSON") from None
    _check(value)
    return value


def _check(value: Any) -> None:
    """Walk the parsed value without recursion: depth and strings."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _check_text(item)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise InvalidJson("too deep")
        if isinstance(item, dict):
            for key in item:
                _check_text(key)
            item = item.values()
        pending.extend((child, depth + 1) for child in item)


def _check_text(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidJson("lone surrogate") from None


async def read_json(request: web.Request) -> Any:
    """The request body as JSON, or a 400 ``invalid_json``."""
    try:
        return load_json(await request.read() or b"null")
    except InvalidJson:
        raise ApiError(400, "invalid_json") from None
