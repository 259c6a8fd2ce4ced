"""Structured JSON logs: ids and event names only, never text, tokens, IPs or numbers."""

from __future__ import annotations

import logging
import sys

import structlog
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse


def configure(level: str = "info") -> None:
    numeric = logging.getLevelName(level.upper())
    logging.basicConfig(stream=sys.stderr, level=numeric, format="%(message)s")
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
        route = request.match_info.route.resource if hasattr(request, "match_info") else None
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
