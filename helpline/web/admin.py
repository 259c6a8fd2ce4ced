"""Admin endpoints of the console: counsellor accounts and canned responses (and, for every
counsellor, reading the canned responses)."""

from __future__ import annotations

from aiohttp import web

from ..domain.counsellor import Role
from ..services import staff
from .auth import require_user
from .errors import read_json
from .keys import SERVICES
from .params import row_id
from .schemas import AccountChange, AccountIn, CannedIn, PasswordIn


async def list_accounts(request: web.Request) -> web.Response:
    await require_user(request, Role.ADMIN)
    return web.json_response({"counsellors": await staff.list_accounts(request.app[SERVICES])})


async def create_account(request: web.Request) -> web.Response:
    await require_user(request, Role.ADMIN)
    body = AccountIn.model_validate(await read_json(request))
    created = await staff.create_account(
        request.app[SERVICES], body.username, body.password, display_name=body.display_name,
        role=Role(body.role), max_chats=body.max_chats, max_voice=body.max_voice, skills=body.skills,
        voice_endpoint=body.voice_endpoint,
    )
    return web.json_response(created, status=201)


async def change_account(request: web.Request) -> web.Response:
    user = await require_user(request, Role.ADMIN)
    counsellor_id = row_id(request, "counsellor_id")
    body = AccountChange.model_validate(await read_json(request))
    changed = await staff.update_account(
        request.app[SERVICES], user, counsellor_id, display_name=body.display_name,
        role=Role(body.role) if body.role else None, max_chats=body.max_chats,
        max_voice=body.max_voice, skills=body.skills, disabled=body.disabled,
        voice_endpoint=body.voice_endpoint,
    )
    return web.json_response(changed)


async def reset_password(request: web.Request) -> web.Response:
    user = await require_user(request, Role.ADMIN)
    counsellor_id = row_id(request, "counsellor_id")
    body = PasswordIn.model_validate(await read_json(request))
    await staff.reset_password(request.app[SERVICES], user, counsellor_id, body.password)
    return web.Response(status=204)


async def list_canned(request: web.Request) -> web.Response:
    await require_user(request)
    query = request.query.get("q", "")[:100]
    return web.json_response({"responses": await staff.canned_responses(request.app[SERVICES], query)})


async def add_canned(request: web.Request) -> web.Response:
    await require_user(request, Role.ADMIN)
    body = CannedIn.model_validate(await read_json(request))
    return web.json_response(await staff.add_canned(request.app[SERVICES], body.title, body.text), status=201)


async def change_canned(request: web.Request) -> web.Response:
    await require_user(request, Role.ADMIN)
    body = CannedIn.model_validate(await read_json(request))
    canned_id = row_id(request, "canned_id")
    changed = await staff.change_canned(request.app[SERVICES], canned_id, body.title, body.text)
    return web.json_response(changed)


async def remove_canned(request: web.Request) -> web.Response:
    await require_user(request, Role.ADMIN)
    await staff.remove_canned(request.app[SERVICES], row_id(request, "canned_id"))
    return web.Response(status=204)
