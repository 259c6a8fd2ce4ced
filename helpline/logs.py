"""Structured JSON logs: ids and event names only, never text, tokens, IPs or numbers.

Every line on standard error is one JSON object. Ours come from structlog with their
fields. The standard library's loggers (aiohttp, asyncio, alembic, twilio...) go through
the same JSON rendering with only their logger name, level and message *template*: a
library puts the client's address, a bad header line or an SQL value in the arguments
or the exception message, which are never written."""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType
from typing import Any

import structlog
from aiohttp import hdrs
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse
from structlog.typing import EventDict, WrappedLogger

# Libraries that format values into the message itself (twilio's HTTP client writes the
# request's URL, parameters and headers at INFO): only their warnings and errors.
QUIET = ("twilio",)


def _foreign(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """A standard library record: its template's first line, and its exception without
    the message (only the type and where it was raised)."""
    record: logging.LogRecord = event_dict["_record"]
    template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
    event_dict["event"] = template.split("\n", 1)[0]  # asyncio appends the failed task's repr
    event_dict.pop("stack_info", None)
    exc_info = event_dict.pop("exc_info", None)
    if isinstance(exc_info, tuple) and exc_info[0] is not None:
        event_dict["exception"] = exception_outline(exc_info[0], exc_info[2])
    return event_dict


def exception_outline(kind: type[BaseException], tb: TracebackType | None) -> dict[str, Any]:
    """An exception's type and frames (file, line, function): its message is left out,
    it quotes what failed to parse (header lines, SQL values)."""
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    frames = [{"file": f.filename, "line": f.lineno, "function": f.name} for f in traceback.extract_tb(tb)]
    return {"type": name, "frames": frames}


def configure(level: str = "info") -> None:
    numeric = logging.getLevelName(level.upper())
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                _foreign,
                structlog.stdlib.add_logger_name,
                structlog.processors.add_log_level,
                timestamper,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            use_get_message=False,  # never the arguments
        )
    )
    logging.basicConfig(handlers=[handler], level=numeric, force=True)
    logging.captureWarnings(True)  # Python's warnings too, as JSON lines
    for name in QUIET:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            timestamper,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),  # a line in one write
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]


def _route(request: BaseRequest) -> str:
    """The matched route's pattern; "-" for no route, or a request refused before routing
    (malformed HTTP: aiohttp then passes a request whose match_info asserts)."""
    try:
        resource = request.match_info.route.resource  # type: ignore[attr-defined]
    except (AttributeError, AssertionError):
        return "-"
    return resource.canonical if resource is not None else "-"


class RedactedAccessLogger(AbstractAccessLogger):
    """One line per request: method, route, status, duration. No IP, no agent, no query."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        get_logger("access").info(
            "http_request",
            method=request.method if request.method in hdrs.METH_ALL else "other",
            route=_route(request),
            status=response.status,
            duration_ms=round(time * 1000, 2),
        )

    @property
    def enabled(self) -> bool:
        return True
