"""The route table: the one list from which both the router and OpenAPI are built."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from pydantic import BaseModel

from . import (
    admin,
    auth,
    console_pages,
    counsellor,
    handoffs,
    operations,
    planning,
    schemas,
    statistics,
    supervisor,
    visitor,
)
from .console import console_socket
from .widget import demo, widget_js

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
    query: tuple[str, ...] = ()
    websocket_frames: tuple[type[BaseModel], ...] = field(default=())


ROUTES: list[Route] = [
    Route("GET", "/healthz", operations.healthz, "200 when the database answers, else 503.", "operations",
          errors=(503,)),
    Route("GET", "/api/v1/status", visitor.status, "Is the line open, how many wait, how long.",
          "visitor", response=schemas.Status_),
    Route("POST", "/api/v1/contacts", visitor.create_contact, "Start an anonymous contact.", "visitor",
          body=schemas.ContactCreate, response=schemas.ContactCreated, status=201,
          errors=(400, 403, 422, 429, 503)),
    Route("GET", "/api/v1/contacts/{contact_id}/ws", visitor.visitor_socket,
          "Visitor WebSocket. First frame: hello {token, after_seq}. Bad token: close 4401. "
          "Without a WebSocket upgrade: 400; from a site not allowed: 403.",
          "visitor", errors=(400, 403, 404), websocket_frames=(schemas.VisitorHello, schemas.VisitorMessage,
                                       schemas.VisitorTyping, schemas.VisitorEnd)),
    Route("GET", "/api/v1/contacts/{contact_id}/messages", counsellor.transcript,
          "Transcript (after_seq=N): the assigned counsellor or a supervisor.", "console",
          response=schemas.Transcript, errors=(401, 403, 404, 422), auth=True, query=("after_seq",)),
    Route("POST", "/api/v1/auth/login", auth.login,
          "Log in; sets the session cookie. Throttled per client: 429 with Retry-After.", "console",
          body=schemas.Login, response=schemas.Me, errors=(400, 401, 422, 429)),
    Route("POST", "/api/v1/auth/logout", auth.logout, "Log out; ends the session server-side.",
          "console"),
    Route("GET", "/api/v1/auth/me", auth.me, "The logged-in counsellor.", "console",
          response=schemas.Me, errors=(401,), auth=True),
    Route("GET", "/api/v1/console/ws", console_socket,
          "Console WebSocket (session cookie). First frame: hello {after}. Without a WebSocket "
          "upgrade: 400; from another site (Origin): 403.", "console",
          errors=(400, 401, 403), auth=True,
          websocket_frames=(schemas.ConsoleHello, schemas.ConsoleStatus, schemas.ConsoleMessage,
                            schemas.ConsoleTyping, schemas.ConsoleEnd, schemas.ConsolePriority,
                            schemas.ConsoleTransfer, schemas.ConsoleAccept, schemas.ConsoleMonitor,
                            schemas.ConsoleUnmonitor)),
    Route("GET", "/api/v1/admin/schedule/exceptions", admin.list_schedule_exceptions,
          "Exceptional closures and openings (admin).", "admin", errors=(401, 403), auth=True),
    Route("POST", "/api/v1/admin/schedule/exceptions", admin.add_schedule_exception,
          "Add an exceptional closure or opening (admin).", "admin", body=schemas.ScheduleExceptionIn,
          response=schemas.ScheduleExceptionOut, status=201, errors=(400, 401, 403, 422), auth=True),
    Route("DELETE", "/api/v1/admin/schedule/exceptions/{exception_id}", admin.remove_schedule_exception,
          "Remove an exceptional closure or opening (admin).", "admin", status=204,
          errors=(401, 403, 404), auth=True),
    Route("GET", "/api/v1/supervisor/overview", supervisor.supervisor_overview,
          "The floor: queue per skill, every counsellor, today's figures (supervisor, admin).",
          "supervisor", errors=(401, 403), auth=True),
    Route("GET", "/metrics", operations.metrics,
          "Prometheus metrics (text format): off (404) unless HELPLINE_METRICS_TOKEN (a bearer token: "
          "401 without it) or HELPLINE_METRICS_ALLOW (addresses: 403 from elsewhere) is set.",
          "operations", errors=(401, 403, 404)),
    Route("GET", "/api/v1/openapi.json", operations.openapi, "This document.", "operations"),
    Route("POST", "/api/v1/contacts/{contact_id}/caller-block", supervisor.block_caller,
          "Block the caller of this call, or the sender of this live chat, for some hours "
          "(supervisor, admin); a blocked caller hears a short message and the call ends, a blocked "
          "sender's new chat is refused (403 chat_unavailable).", "supervisor",
          body=schemas.CallerBlockIn, status=201,
          errors=(400, 401, 403, 404, 409, 422), auth=True),
    Route("DELETE", "/api/v1/contacts/{contact_id}/caller-block", supervisor.unblock_caller,
          "Lift the block on the caller of this call or the sender of this live chat (supervisor, "
          "admin).", "supervisor", status=204,
          errors=(401, 403, 404, 409), auth=True),
    Route("POST", "/api/v1/contacts/{contact_id}/survey", visitor.survey,
          "The optional end-of-chat survey, once, for an ended contact (visitor token).", "visitor",
          body=schemas.SurveyIn, response=schemas.SurveyStored, status=201,
          errors=(400, 403, 409, 422)),
    Route("POST", "/api/v1/contacts/{contact_id}/end", visitor.end_contact,
          "The visitor ends their contact without the WebSocket (visitor token).", "visitor",
          body=schemas.VisitorEndIn, response=schemas.VisitorEnded, errors=(400, 403, 404, 422)),
    Route("GET", "/widget.js", widget_js, "The chat widget to embed (script, CSS inlined).", "widget"),
    Route("GET", "/demo", demo, "A plain page that embeds the widget, to try it.", "widget"),
    Route("GET", "/api/v1/taxonomy", counsellor.get_taxonomy,
          "The wrap-up lists (categories, who contacted, age bands...), fr and en labels.", "console",
          errors=(401,), auth=True),
    Route("PUT", "/api/v1/contacts/{contact_id}/wrapup", counsellor.put_wrapup,
          "Write the wrap-up of an ended contact (its counsellor, or a supervisor).", "console",
          body=schemas.WrapupIn, response=schemas.WrapupOut, errors=(400, 401, 403, 404, 409, 422),
          auth=True),
    Route("GET", "/api/v1/contacts/{contact_id}/wrapup", counsellor.get_wrapup,
          "The wrap-up of a contact (its counsellor, or a supervisor).", "console",
          response=schemas.WrapupOut, errors=(401, 403, 404), auth=True),
    Route("GET", "/api/v1/console/colleagues", counsellor.list_colleagues,
          "Every counsellor (id, name, status, skills): whom a contact can be transferred to.",
          "console", errors=(401,), auth=True),
    Route("GET", "/api/v1/console/queue", counsellor.queue_page,
          "A page of the waiting list in queue order (?offset=, ?limit= up to 200): what the queue "
          "frame leaves out past its first 50.", "console", errors=(401, 422), auth=True,
          query=("offset", "limit")),
    Route("GET", "/api/v1/supervisor/conversations", supervisor.list_conversations,
          "Every conversation in progress and who holds it (supervisor, admin).", "supervisor",
          errors=(401, 403), auth=True),
    Route("POST", "/api/v1/supervisor/contacts/{contact_id}/requeue", supervisor.requeue_contact,
          "Put a waiting or stuck contact back in the queue at its place, for anyone or for a "
          "colleague available now (supervisor, admin); whoever held it is told.", "supervisor",
          body=schemas.RequeueIn, status=204, errors=(400, 401, 403, 404, 409, 422), auth=True),
    Route("GET", "/api/v1/admin/counsellors", admin.list_accounts, "Every counsellor account (admin).",
          "admin", errors=(401, 403), auth=True),
    Route("POST", "/api/v1/admin/counsellors", admin.create_account, "Create a counsellor account (admin).",
          "admin", body=schemas.AccountIn, status=201, errors=(400, 401, 403, 409, 422), auth=True),
    Route("PATCH", "/api/v1/admin/counsellors/{counsellor_id}", admin.change_account,
          "Change an account: name, role, capacity, skills, disabled (admin).", "admin",
          body=schemas.AccountChange, errors=(400, 401, 403, 404, 422), auth=True),
    Route("POST", "/api/v1/admin/counsellors/{counsellor_id}/password", admin.reset_password,
          "Set a new password; the account's sessions end (admin).", "admin", body=schemas.PasswordIn,
          status=204, errors=(400, 401, 403, 404, 422), auth=True),
    Route("GET", "/api/v1/canned", counsellor.list_canned, "Canned responses (?q= words to look for).",
          "console", errors=(401,), auth=True, query=("q",)),
    Route("POST", "/api/v1/admin/canned", admin.add_canned, "Add a canned response (admin).", "admin",
          body=schemas.CannedIn, status=201, errors=(400, 401, 403, 422), auth=True),
    Route("PUT", "/api/v1/admin/canned/{canned_id}", admin.change_canned, "Change a canned response (admin).",
          "admin", body=schemas.CannedIn, errors=(400, 401, 403, 404, 422), auth=True),
    Route("DELETE", "/api/v1/admin/canned/{canned_id}", admin.remove_canned,
          "Remove a canned response (admin).", "admin", status=204, errors=(401, 403, 404), auth=True),
    Route("GET", "/api/v1/handoffs/targets", handoffs.list_targets,
          "Where a serious case can be handed off, what each target asks for, its guidance.", "handoffs",
          errors=(401,), auth=True),
    Route("POST", "/api/v1/contacts/{contact_id}/handoffs", handoffs.create,
          "Draft a hand-off for a contact you may read: only the target's fields, and the messages "
          "you tick; the contact is put on legal hold.", "handoffs", body=schemas.HandoffIn, status=201,
          errors=(400, 401, 403, 404, 422), auth=True),
    Route("GET", "/api/v1/handoffs", handoffs.listed,
          "Your hand-offs (a supervisor: every one), newest first; ?state= filters.", "handoffs",
          errors=(401, 422), auth=True, query=("state",)),
    Route("GET", "/api/v1/handoffs/{handoff_id}", handoffs.show,
          "One hand-off, whole (its author or a supervisor; the reading is audited).", "handoffs",
          errors=(401, 404), auth=True),
    Route("PATCH", "/api/v1/handoffs/{handoff_id}", handoffs.edit, "Change a draft (its author).",
          "handoffs", body=schemas.HandoffEdit, errors=(400, 401, 403, 404, 409, 422), auth=True),
    Route("POST", "/api/v1/handoffs/{handoff_id}/submit", handoffs.submit,
          "Submit a draft: to approval, to delivery, or (guidance, emergency) recorded.", "handoffs",
          errors=(401, 403, 404, 409), auth=True),
    Route("POST", "/api/v1/handoffs/{handoff_id}/approve", handoffs.approve,
          "Approve (a supervisor or admin other than the author): it is delivered.", "handoffs",
          errors=(401, 403, 404, 409), auth=True),
    Route("POST", "/api/v1/handoffs/{handoff_id}/cancel", handoffs.cancel,
          "Cancel a draft or a hand-off awaiting approval.", "handoffs", errors=(401, 404, 409), auth=True),
    Route("POST", "/api/v1/handoffs/{handoff_id}/retry", handoffs.retry,
          "Deliver a failed hand-off again, same idempotency key (supervisor, admin).", "handoffs",
          errors=(401, 403, 404, 409), auth=True),
    Route("POST", "/api/v1/handoffs/{handoff_id}/partner", handoffs.partner,
          "The partner's answer: their reference (a hand-off filed by hand is then delivered), a "
          "platform's decision and its date.", "handoffs", body=schemas.HandoffPartnerIn,
          errors=(400, 401, 404, 409, 422), auth=True),
    Route("GET", "/api/v1/admin/audit", handoffs.audit,
          "The append-only audit log of hand-offs (admin); ?format=csv downloads it.", "admin",
          errors=(401, 403, 422), auth=True, query=("handoff_id", "format")),
    Route("GET", "/api/v1/admin/legal-holds", handoffs.legal_holds,
          "The contacts on legal hold, which retention keeps: id, since, hand-off references (admin).",
          "admin", errors=(401, 403), auth=True),
    Route("POST", "/api/v1/admin/legal-holds/{contact_id}/release", handoffs.release_hold,
          "Release a contact's legal hold, with a reason (admin; audited); retention may then "
          "take it.", "admin",
          body=schemas.HoldReleaseIn, status=204, errors=(400, 401, 403, 404, 422), auth=True),
    Route("GET", "/api/v1/statistics/staffing", planning.staffing,
          "The staffing planner (supervisor, admin): per open hour of the week, the counsellors "
          "needed (Erlang C, Erlang A) for ?target= of contacts answered within ?within_s= seconds, "
          "from the last ?weeks= weeks of contacts, beside the counsellors who were available.",
          "supervisor", errors=(400, 401, 403), auth=True, query=("weeks", "target", "within_s")),
    Route("GET", "/api/v1/statistics", statistics.statistics_json,
          "The statistics of local days from..to (YYYY-MM-DD, three years at most) on a channel (all, "
          "chat, voice), each table beside the previous period of the same length; breakdown counts "
          "from 1 to 4 shown as \"<5\" (supervisor, admin).", "statistics",
          errors=(400, 401, 403), auth=True, query=("from", "to", "channel", "lang")),
    Route("GET", "/api/v1/statistics/export/{name}.csv", statistics.export_csv,
          "One table of the statistics as CSV; every count from 1 to 4 shown as \"<5\" and what derives "
          "from it left out (supervisor, admin).", "statistics",
          errors=(400, 401, 403, 404), auth=True, query=("from", "to", "channel")),
    Route("GET", "/api/v1/statistics/charts/{name}.svg", statistics.chart_svg,
          "One chart of the statistics as SVG, in the reader's language (supervisor, admin).", "statistics",
          errors=(400, 401, 403, 404), auth=True, query=("from", "to", "channel", "lang")),
    Route("GET", "/console", console_pages.console_index, "The console (redirects to /console/).",
          "console"),
    Route("GET", "/console/", console_pages.console_index, "The counsellor and supervisor console.",
          "console"),
    Route("GET", "/console/{name}", console_pages.console_asset, "The console's scripts and styles.",
          "console"),
]


def setup_routes(app: web.Application) -> None:
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler)
