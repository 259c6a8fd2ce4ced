"""Hand-offs to partners, for counsellors (draft, submit, record the partner's answer),
supervisors (approve, retry) and admins (the audit log, releasing a legal hold)."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..domain.handoffs import HandoffState, Target
from ..domain.records import HandoffRecord
from ..services.events import iso
from . import params
from .errors import ApiError, read_json, request_lang
from .keys import SERVICES
from .schemas import HandoffEdit, HandoffIn, HandoffPartnerIn, HoldReleaseIn
from .session import require_user


def _out(h: HandoffRecord, *, whole: bool = True) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "id": h.id, "reference": h.reference, "contact_id": h.contact_id, "target": h.target_id,
        "state": h.state.value, "author_id": h.author_id, "approver_id": h.approver_id,
        "created_at": iso(h.created_at), "updated_at": iso(h.updated_at), "review_needed": h.review_needed,
        "partner_reference": h.partner_reference, "decision": h.decision,
        "decision_on": h.decision_on.isoformat() if h.decision_on else None, "last_error": h.last_error,
    }
    if whole:
        summary.update(fields=h.payload, excerpts=h.excerpts)
    return summary


def _target_out(t: Target, lang: str) -> dict[str, Any]:
    return {
        "id": t.id, "kind": t.kind.value, "name": t.name.get(lang), "approval": t.approval and t.sends,
        "sends": t.sends, "connector": t.connector, "guidance": t.guidance.get(lang) if t.guidance else None,
        "address": t.settings.get("address"), "statement": t.settings.get("good_faith"),
        "fields": [{"id": f.id, "type": f.type.value, "required": f.required, "label": f.label.get(lang),
                    "help": f.help.get(lang) if f.help else None, "choices": list(f.choices)}
                   for f in t.fields],
    }


def _handoff_id(request: web.Request) -> int:
    return params.row_id(request, "handoff_id")


async def list_targets(request: web.Request) -> web.Response:
    await require_user(request)
    lang = request_lang(request)
    targets = request.app[SERVICES].handoffs.targets.values()
    return web.json_response({"targets": [_target_out(t, lang) for t in targets]})


async def create(request: web.Request) -> web.Response:
    user = await require_user(request)
    body = HandoffIn.model_validate(await read_json(request))
    h = await request.app[SERVICES].handoffs.draft(params.contact_id(request), user, body.target, body.fields,
                                                   body.excerpts)
    return web.json_response(_out(h), status=201)


async def listed(request: web.Request) -> web.Response:
    user = await require_user(request)
    state = request.query.get("state")
    if state is not None and state not in {s.value for s in HandoffState}:
        raise ApiError(422, "invalid_request", details=[{"field": "state", "problem": "unknown_value"}])
    found = await request.app[SERVICES].handoffs.listed(user, HandoffState(state) if state else None)
    return web.json_response({"handoffs": [_out(h, whole=False) for h in found]})


async def show(request: web.Request) -> web.Response:
    user = await require_user(request)
    handoffs = request.app[SERVICES].handoffs
    h = await handoffs.view(_handoff_id(request), user)
    steps = await handoffs.timeline(h.id, user)
    return web.json_response({**_out(h), "timeline": [{**s, "at": iso(s["at"])} for s in steps]})


async def edit(request: web.Request) -> web.Response:
    user = await require_user(request)
    body = HandoffEdit.model_validate(await read_json(request))
    h = await request.app[SERVICES].handoffs.edit(_handoff_id(request), user, body.fields, body.excerpts)
    return web.json_response(_out(h))


def _step(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """submit, approve, cancel, retry: no body, the hand-off as it is after."""

    async def handler(request: web.Request) -> web.Response:
        user = await require_user(request)
        h = await getattr(request.app[SERVICES].handoffs, name)(_handoff_id(request), user)
        return web.json_response(_out(h))

    handler.__name__ = name
    return handler


submit, approve, cancel, retry = (_step(n) for n in ("submit", "approve", "cancel", "retry"))


async def partner(request: web.Request) -> web.Response:
    user = await require_user(request)
    body = HandoffPartnerIn.model_validate(await read_json(request))
    h = await request.app[SERVICES].handoffs.record(
        _handoff_id(request), user, partner_reference=body.partner_reference, decision=body.decision,
        decision_on=body.decision_on)
    return web.json_response(_out(h))


AUDIT_COLUMNS = ("id", "at", "actor_id", "action", "handoff_id", "contact_id", "detail")


async def audit(request: web.Request) -> web.StreamResponse:
    """The audit log (admin), as JSON or, with ``?format=csv``, as a CSV file."""
    user = await require_user(request)
    records = await request.app[SERVICES].handoffs.audit_log(user, params.row_query(request, "handoff_id"))
    rows = [{**r, "at": iso(r["at"])} for r in records]
    if request.query.get("format") != "csv":
        return web.json_response({"records": rows})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=AUDIT_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="audit.csv"'})


async def legal_holds(request: web.Request) -> web.Response:
    user = await require_user(request)
    held = await request.app[SERVICES].handoffs.legal_holds(user)
    return web.json_response({"holds": [{**h, "since": iso(h["since"])} for h in held]})


async def release_hold(request: web.Request) -> web.Response:
    user = await require_user(request)
    body = HoldReleaseIn.model_validate(await read_json(request))
    await request.app[SERVICES].handoffs.release_hold(params.contact_id(request), user, body.reason)
    return web.Response(status=204)
