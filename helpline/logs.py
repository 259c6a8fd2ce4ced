"""Structured JSON logs: ids and event names only, never text, tokens, IPs or numbers."""

from __future__ import annotations

import logging
import sys

import structlog
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse


class _NoClientAddress(logging.Filter):
    """aiohttp's server logs "Error handling request from <client address>" and a
    traceback when a request cannot be parsed (a NUL in a header, say): keep the event
    and the error's name, drop the address and the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and " from %s" in record.msg:
            error = record.exc_info[1] if record.exc_info else None
            record.msg = record.msg.replace(" from %s", "") + (f": {type(error).__name__}" if error else "")
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


def configure(level: str = "info") -> None:
    numeric = logging.getLevelName(level.upper())
    logging.basicConfig(stream=sys.stderr, level=numeric, format="%(message)s")
    logging.getLogger("aiohttp.server").addFilter(_NoClientAddress())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]


class RedactedAccessLogger(AbstractAccessLogger):
    """One line per request: method, route, status, duration. No IP, no agent, no query."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        try:
            route = request.match_info.route.resource  # type: ignore[attr-defined]
        except (AttributeError, AssertionError):  # a request that could not be parsed
            route = None
        path = route.canonical if route is not None else "-"
        get_logger("access").info(
            "http_request",
            method=request.method,
            route=path,
            status=response.status,
            duration_ms=round(time * 1000, 2),
        )

    @property
    def enabled(self) -> bool:
        return True
