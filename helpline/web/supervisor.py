"""A supervisor's view of the floor and their powers over it: the overview, every
conversation in progress, putting a waiting or stuck contact back in the queue, blocking and
unblocking a caller."""

from __future__ import annotations

from aiohttp import web

from ..domain.access import may_block_callers, may_redirect, may_see_floor
from ..services.events import iso
from .errors import read_json
from .keys import SERVICES
from .params import contact_id
from .schemas import CallerBlockIn, RequeueIn
from .session import require_user


async def supervisor_overview(request: web.Request) -> web.Response:
    await require_user(request, may_see_floor)
    return web.json_response(await request.app[SERVICES].views.overview())


async def list_conversations(request: web.Request) -> web.Response:
    await require_user(request, may_see_floor)
    found = await request.app[SERVICES].views.conversations_in_progress()
    return web.json_response({"conversations": found})


async def block_caller(request: web.Request) -> web.Response:
    user = await require_user(request, may_block_callers)
    body = CallerBlockIn.model_validate(await read_json(request))
    until = await request.app[SERVICES].calls.block(contact_id(request), user, body.hours, body.reason)
    return web.json_response({"blocked_until": iso(until)}, status=201)


async def unblock_caller(request: web.Request) -> web.Response:
    user = await require_user(request, may_block_callers)
    await request.app[SERVICES].calls.unblock(contact_id(request), user)
    return web.Response(status=204)


async def requeue_contact(request: web.Request) -> web.Response:
    user = await require_user(request, may_redirect)
    body = RequeueIn.model_validate(await read_json(request))
    await request.app[SERVICES].floor.redirect(contact_id(request), user, body.counsellor_id)
    return web.Response(status=204)
