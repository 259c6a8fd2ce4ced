"""Console sessions: an HttpOnly, SameSite=Strict cookie naming a server-side session, and the
user it belongs to."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from ..domain.counsellor import Role
from ..domain.records import CounsellorRecord
from ..services.accounts import token_hash
from .errors import ApiError
from .keys import SERVICES, SETTINGS

COOKIE = "helpline_session"


def session_token(request: web.Request) -> str | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 256:
        return None
    return token


def session_digest(request: web.Request) -> str | None:
    """What names the request's session server-side (never the token itself)."""
    token = session_token(request)
    return token_hash(token) if token else None


async def current_user(request: web.Request) -> CounsellorRecord | None:
    token = session_token(request)
    if token is None:
        return None
    return await request.app[SERVICES].accounts.user_for_session(token)


async def require_user(request: web.Request, may: Callable[[Role], bool] | None = None
                       ) -> CounsellorRecord:
    """The logged-in user (401 without one); with ``may``, a rule of ``domain.access`` their
    role must pass (403)."""
    user = await current_user(request)
    if user is None:
        raise ApiError(401, "unauthenticated")
    if may is not None and not may(user.role):
        raise ApiError(403, "forbidden")
    return user


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    settings = request.app[SETTINGS]
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="Strict", secure=settings.secure_cookies, path="/",
        max_age=int(settings.session_idle_s),
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")
