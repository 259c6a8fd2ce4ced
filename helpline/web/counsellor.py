"""What a counsellor's console reads and writes besides its WebSocket: a contact's
transcript, the wrap-up (its lists and the form), the colleagues to transfer to and the
canned responses."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..services import staff
from ..services.events import iso, resource_card
from ..services.views import QUEUE_PAGE_MAX
from ..services.wrapups import InvalidWrapup, WrapupDraft, read_wrapup, taxonomy, write_wrapup
from . import params
from .errors import ApiError, read_json
from .keys import SERVICES
from .schemas import MessageOut, ResourceCard, Transcript, WrapupIn, WrapupOut
from .session import require_user


async def transcript(request: web.Request) -> web.Response:
    user = await require_user(request)
    after_seq = params.seq_query(request, "after_seq")
    conversations = request.app[SERVICES].conversations
    contact, messages = await conversations.transcript(params.contact_id(request), user, after_seq)
    body = Transcript(
        contact_id=contact.id, state=contact.state.value,
        messages=[MessageOut(seq=m.seq, sender=m.sender.value, text=m.text, sent_at=iso(m.sent_at),
                             resource=_card(m.resource))
                  for m in messages],
    )
    return web.json_response(body.model_dump())


def _card(number: str | None) -> ResourceCard | None:
    found = resource_card(number) if number is not None else None
    return ResourceCard.model_validate(found) if found is not None else None


async def get_taxonomy(request: web.Request) -> web.Response:
    await require_user(request)
    return web.json_response(taxonomy())


def _wrapup_out(contact_id: str, stored: dict[str, Any]) -> dict[str, Any]:
    return WrapupOut(
        contact_id=contact_id, counsellor_id=stored["counsellor_id"],
        written_at=iso(stored["written_at"]),
        **{k: stored[k] for k in ("categories", "contacted_by", "age_band", "gender", "platforms",
                                  "outcomes", "note")},
    ).model_dump()


async def put_wrapup(request: web.Request) -> web.Response:
    user = await require_user(request)
    contact_id = params.contact_id(request)
    body = WrapupIn.model_validate(await read_json(request))
    services = request.app[SERVICES]
    draft = WrapupDraft(body.categories, body.contacted_by, body.age_band, body.gender,
                        body.platforms, body.outcomes, body.note)
    try:
        await write_wrapup(services, contact_id, user, draft)
    except InvalidWrapup as e:
        problem = [{"field": e.field, "problem": "unknown_value"}]
        raise ApiError(422, "invalid_wrapup", details=problem) from None
    stored = await read_wrapup(services, contact_id, user)
    assert stored is not None
    return web.json_response(_wrapup_out(contact_id, stored))


async def get_wrapup(request: web.Request) -> web.Response:
    user = await require_user(request)
    contact_id = params.contact_id(request)
    stored = await read_wrapup(request.app[SERVICES], contact_id, user)
    if stored is None:
        raise ApiError(404, "no_wrapup")
    return web.json_response(_wrapup_out(contact_id, stored))


async def list_colleagues(request: web.Request) -> web.Response:
    await require_user(request)
    return web.json_response({"counsellors": await request.app[SERVICES].views.colleagues()})


async def queue_page(request: web.Request) -> web.Response:
    """A page of the waiting list, past the first entries the ``queue`` frame carries:
    ``offset`` (default 0), ``limit`` (default and at most ``QUEUE_PAGE_MAX``); 422 otherwise."""
    await require_user(request)
    offset = params.seq_query(request, "offset")
    limit = params.row_query(request, "limit") or QUEUE_PAGE_MAX
    if limit > QUEUE_PAGE_MAX:
        raise ApiError(422, "invalid_request", details=[{"field": "limit", "problem": "out_of_range"}])
    views = request.app[SERVICES].views
    contacts = await views.queue_list(offset=offset, limit=limit)
    return web.json_response({"offset": offset, "limit": limit, "contacts": contacts})


async def list_canned(request: web.Request) -> web.Response:
    await require_user(request)
    query = request.query.get("q", "")[:100]
    return web.json_response({"responses": await staff.canned_responses(request.app[SERVICES], query)})
