"""The staffing planner's figures (supervisor, admin)."""

from __future__ import annotations

import math

from aiohttp import web

from ..domain.access import may_see_floor
from ..services.staffing import DEFAULT_TARGET, DEFAULT_WEEKS, DEFAULT_WITHIN_S, Ask
from .errors import ApiError
from .keys import SERVICES
from .session import require_user


async def staffing(request: web.Request) -> web.Response:
    await require_user(request, may_see_floor)
    ask = _ask(request)
    return web.json_response(await request.app[SERVICES].staffing.plan(ask))


def _ask(request: web.Request) -> Ask:
    """?weeks= (1-52), ?target= (0.5-0.99, or a percentage 50-99), ?within_s= (1-3600);
    anything else is a 400 naming the field, and nothing is read."""
    q = request.query
    name = "weeks"
    try:
        weeks = int(_number(q.get("weeks"), DEFAULT_WEEKS))
        name = "target"
        target = _number(q.get("target"), DEFAULT_TARGET)
        if target >= 1:  # "80" means 80%
            target /= 100
        name = "within_s"
        within_s = int(_number(q.get("within_s"), DEFAULT_WITHIN_S))
        return Ask(weeks, target, within_s)
    except ValueError as e:
        field = str(e) if str(e) in {"weeks", "target", "within_s"} else name
        raise ApiError(400, "invalid_staffing_request", details=[{"field": field}]) from None


def _number(raw: str | None, default: float) -> float:
    if raw is None:
        return default
    if not raw.isascii() or len(raw) > 12:
        raise ValueError(raw)
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(raw)
    return value
