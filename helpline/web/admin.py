"""Admin endpoints of the console: counsellor accounts, canned responses and the exceptional
closures and openings of the line."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from ..domain.access import may_administer
from ..domain.counsellor import Role
from ..domain.schedule import Override
from ..services import staff
from ..services.schedule import validate_override
from .errors import ApiError, read_json
from .keys import SERVICES
from .params import row_id
from .schemas import AccountChange, AccountIn, CannedIn, PasswordIn, ScheduleExceptionIn, ScheduleExceptionOut
from .session import require_user


async def list_accounts(request: web.Request) -> web.Response:
    await require_user(request, may_administer)
    return web.json_response({"counsellors": await staff.list_accounts(request.app[SERVICES])})


async def create_account(request: web.Request) -> web.Response:
    await require_user(request, may_administer)
    body = AccountIn.model_validate(await read_json(request))
    created = await staff.create_account(
        request.app[SERVICES], body.username, body.password, display_name=body.display_name,
        role=Role(body.role), max_chats=body.max_chats, max_voice=body.max_voice, skills=body.skills,
        voice_endpoint=body.voice_endpoint,
    )
    return web.json_response(created, status=201)


async def change_account(request: web.Request) -> web.Response:
    user = await require_user(request, may_administer)
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
    user = await require_user(request, may_administer)
    counsellor_id = row_id(request, "counsellor_id")
    body = PasswordIn.model_validate(await read_json(request))
    await staff.reset_password(request.app[SERVICES], user, counsellor_id, body.password)
    return web.Response(status=204)


async def add_canned(request: web.Request) -> web.Response:
    await require_user(request, may_administer)
    body = CannedIn.model_validate(await read_json(request))
    return web.json_response(await staff.add_canned(request.app[SERVICES], body.title, body.text), status=201)


async def change_canned(request: web.Request) -> web.Response:
    await require_user(request, may_administer)
    body = CannedIn.model_validate(await read_json(request))
    canned_id = row_id(request, "canned_id")
    changed = await staff.change_canned(request.app[SERVICES], canned_id, body.title, body.text)
    return web.json_response(changed)


async def remove_canned(request: web.Request) -> web.Response:
    await require_user(request, may_administer)
    await staff.remove_canned(request.app[SERVICES], row_id(request, "canned_id"))
    return web.Response(status=204)


def _exception_out(o: Override) -> dict[str, object]:
    return ScheduleExceptionOut(
        id=o.id or 0, kind=o.kind.value, first=o.first, last=o.last,
        start=str(o.window).split("-")[0] if o.window else None,
        end=str(o.window).split("-")[1] if o.window else None, reason=o.reason,
    ).model_dump(mode="json")


async def list_schedule_exceptions(request: web.Request) -> web.Response:
    await require_user(request, may_administer)
    overrides = await request.app[SERVICES].schedules.list_overrides()
    return web.json_response({"exceptions": [_exception_out(o) for o in overrides]})


async def add_schedule_exception(request: web.Request) -> web.Response:
    user = await require_user(request, may_administer)
    body = ScheduleExceptionIn.model_validate(await read_json(request))
    override = validate_override(body.kind, body.first, body.last, body.start, body.end, body.reason)
    schedules = request.app[SERVICES].schedules
    new_id = await schedules.add_override(override, user.id)
    return web.json_response(_exception_out(replace(override, id=new_id)), status=201)


async def remove_schedule_exception(request: web.Request) -> web.Response:
    await require_user(request, may_administer)
    exception_id = row_id(request, "exception_id")
    if not await request.app[SERVICES].schedules.remove_override(exception_id):
        raise ApiError(404, "not_found")
    return web.Response(status=204)
