"""The route table: the one list from which both the router and OpenAPI are built."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from pydantic import BaseModel

from . import rest, schemas
from .console import console_socket
from .visitor import visitor_socket

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    auth: bool = False
    websocket_frames: tuple[type[BaseModel], ...] = field(default=())


ROUTES: list[Route] = [
    Route("GET", "/healthz", rest.healthz, "200 when the database answers, else 503.", "operations",
          errors=(503,)),
    Route("GET", "/api/v1/status", rest.status, "Is the line open, how many wait, how long.",
          "visitor", response=schemas.Status_),
    Route("POST", "/api/v1/contacts", rest.create_contact, "Start an anonymous contact.", "visitor",
          body=schemas.ContactCreate, response=schemas.ContactCreated, status=201,
          errors=(400, 422, 503)),
    Route("GET", "/api/v1/contacts/{contact_id}/ws", visitor_socket,
          "Visitor WebSocket. First frame: hello {token, after_seq}. Bad token: close 4401.",
          "visitor", websocket_frames=(schemas.VisitorHello, schemas.VisitorMessage,
                                       schemas.VisitorTyping, schemas.VisitorEnd)),
    Route("GET", "/api/v1/contacts/{contact_id}/messages", rest.transcript,
          "Transcript (after_seq=N): the assigned counsellor or a supervisor.", "console",
          response=schemas.Transcript, errors=(401, 403, 404, 422), auth=True),
    Route("POST", "/api/v1/auth/login", rest.login, "Log in; sets the session cookie.", "console",
          body=schemas.Login, response=schemas.Me, errors=(400, 401, 422)),
    Route("POST", "/api/v1/auth/logout", rest.logout, "Log out; ends the session server-side.",
          "console"),
    Route("GET", "/api/v1/auth/me", rest.me, "The logged-in counsellor.", "console",
          response=schemas.Me, errors=(401,), auth=True),
    Route("GET", "/api/v1/console/ws", console_socket,
          "Console WebSocket (session cookie). First frame: hello {after}.", "console",
          errors=(401,), auth=True,
          websocket_frames=(schemas.ConsoleHello, schemas.ConsoleStatus, schemas.ConsoleMessage,
                            schemas.ConsoleTyping, schemas.ConsoleEnd)),
    Route("GET", "/api/v1/admin/schedule/exceptions", rest.list_schedule_exceptions,
          "Exceptional closures and openings (admin).", "admin", errors=(401, 403), auth=True),
    Route("POST", "/api/v1/admin/schedule/exceptions", rest.add_schedule_exception,
          "Add an exceptional closure or opening (admin).", "admin", body=schemas.ScheduleExceptionIn,
          response=schemas.ScheduleExceptionOut, status=201, errors=(400, 401, 403, 422), auth=True),
    Route("DELETE", "/api/v1/admin/schedule/exceptions/{exception_id}", rest.remove_schedule_exception,
          "Remove an exceptional closure or opening (admin).", "admin", status=204,
          errors=(401, 403, 404), auth=True),
    Route("GET", "/api/v1/openapi.json", rest.openapi, "This document.", "operations"),
]


def setup_routes(app: web.Application) -> None:
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler)
