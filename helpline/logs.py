"""Structured JSON logs: ids and event names only, never text, tokens, IPs or numbers.

Every line on standard error is one JSON object. Ours come from structlog with their
fields. The standard library's loggers (aiohttp, asyncio, alembic, twilio...) go through
the same JSON rendering with only their logger name, level and message *template*: a
library puts the client's address, a bad header line or an SQL value in the arguments,
which are never written. No exception's message is written either, only its type and
frames."""

from __future__ import annotations

import logging
import sys
import traceback
import warnings
from types import TracebackType
from typing import TextIO

import structlog
from aiohttp import hdrs
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse
from structlog.typing import EventDict, WrappedLogger

# Libraries that format values into the message itself (twilio's HTTP client writes the
# request's URL, parameters and headers at INFO): only their warnings and errors.
QUIET = ("twilio",)


def _foreign(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """A standard library record: its template's first line only."""
    record: logging.LogRecord = event_dict["_record"]
    template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
    event_dict["event"] = template.split("\n", 1)[0]  # asyncio appends the failed task's repr
    event_dict.pop("stack_info", None)
    return event_dict


def _exception(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """``exc_info`` becomes the exception's type and frames (file, line, function). Its
    message is left out: it quotes what failed (a header line, the values of an SQL
    statement, a message's text)."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if isinstance(exc_info, tuple) and exc_info[0] is not None:
        kind: type[BaseException] = exc_info[0]
        tb: TracebackType | None = exc_info[2]
        name = kind.__qualname__
        frames = traceback.extract_tb(tb)
        event_dict["exception"] = {
            "type": name if kind.__module__ == "builtins" else f"{kind.__module__}.{name}",
            "frames": [{"file": f.filename, "line": f.lineno, "function": f.name} for f in frames],
        }
    return event_dict


def _warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int,
    file: TextIO | None = None, line: str | None = None,
) -> None:
    """A Python warning: its category and where it was raised, not its text."""
    get_logger("warnings").warning("python_warning", category=category.__name__, file=filename, line=lineno)


def configure(level: str = "info") -> None:
    numeric = logging.getLevelName(level.upper())
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                _foreign,
                _exception,
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
    warnings.showwarning = _warning
    for name in QUIET:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            timestamper,
            _exception,
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
