"""What admins manage from the console: counsellor accounts and canned responses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..bus.base import SESSIONS
from ..domain.counsellor import (
    Role,
    Status,
    validate_max_chats,
    validate_max_voice,
    validate_password,
    validate_skills,
    validate_voice_endpoint,
)
from ..domain.errors import DomainError, NotFound
from ..domain.records import CounsellorRecord
from ..logs import get_logger
from . import events

if TYPE_CHECKING:
    from .facade import Services

log = get_logger("staff")


def account(c: CounsellorRecord) -> dict[str, Any]:
    return {
        "id": c.id, "username": c.username, "display_name": c.display_name, "role": c.role.value,
        "max_chats": c.max_chats, "max_voice": c.max_voice, "skills": sorted(c.skills),
        "voice_endpoint": c.voice_endpoint,
        "status": c.status.value, "disabled": c.disabled,
    }


async def list_accounts(services: Services) -> list[dict[str, Any]]:
    async with services.ctx.store.reading() as tx:
        return [account(c) for c in await tx.counsellors.all()]


async def get_account(services: Services, counsellor_id: int) -> dict[str, Any]:
    async with services.ctx.store.reading() as tx:
        found = await tx.counsellors.get(counsellor_id)
    if found is None:
        raise NotFound("unknown_counsellor")
    return account(found)


async def update_account(
    services: Services, by: CounsellorRecord, counsellor_id: int, *, display_name: str | None = None,
    role: Role | None = None, max_chats: int | None = None, max_voice: int | None = None,
    skills: Sequence[str] | None = None, disabled: bool | None = None, voice_endpoint: str | None = None,
) -> dict[str, Any]:
    """Change an account. An admin cannot disable or demote themselves (nobody would be
    left to undo it). Disabling ends the account's sessions and sets it offline."""
    if counsellor_id == by.id and (disabled or (role is not None and role is not Role.ADMIN)):
        raise DomainError("cannot_change_self")
    values: dict[str, Any] = {}
    if display_name is not None:
        if not display_name.strip() or len(display_name) > 80:
            raise DomainError("invalid_display_name")
        values["display_name"] = display_name.strip()
    if role is not None:
        values["role"] = role.value
    if max_chats is not None:
        values["max_chats"] = validate_max_chats(max_chats)
    if max_voice is not None:
        values["max_voice"] = validate_max_voice(max_voice)
    if skills is not None:
        values["skills"] = validate_skills(skills, services.ctx.settings.skill_list)
    if voice_endpoint is not None:  # "" takes the endpoint away
        values["voice_endpoint"] = validate_voice_endpoint(voice_endpoint)
    if disabled is not None:
        values["disabled"] = disabled
    async with services.ctx.store.transaction() as tx:
        if values and not await tx.counsellors.update(counsellor_id, values):
            raise NotFound("unknown_counsellor")
        if disabled:
            await tx.counsellors.end_sessions(counsellor_id)
            tx.publish(SESSIONS, events.session_ended(counsellor_id=counsellor_id))
        tx.floor_changed()
    if disabled:
        await services.floor.set_status(counsellor_id, Status.OFFLINE)
    log.info("account_changed", counsellor_id=counsellor_id, by=by.id, fields=sorted(values))
    return await get_account(services, counsellor_id)


async def reset_password(services: Services, by: CounsellorRecord, counsellor_id: int, password: str) -> None:
    """A new password; every session of the account ends."""
    validate_password(password)
    password_hash = await services.accounts.hashed(password)
    async with services.ctx.store.transaction() as tx:
        if await tx.counsellors.get(counsellor_id) is None:
            raise NotFound("unknown_counsellor")
        await tx.counsellors.set_password(counsellor_id, password_hash)
        await tx.counsellors.end_sessions(counsellor_id)
        tx.publish(SESSIONS, events.session_ended(counsellor_id=counsellor_id))
    log.info("password_reset", counsellor_id=counsellor_id, by=by.id)


# --- canned responses ----------------------------------------------------------------------


def _check_canned(title: str, text: str) -> tuple[str, str]:
    title, text = title.strip(), text.strip()
    if not title or not text:
        raise DomainError("invalid_canned")
    return title, text


async def canned_responses(services: Services, query: str = "") -> list[dict[str, Any]]:
    """Every canned response, or those whose title or text holds every word of ``query``."""
    async with services.ctx.store.reading() as tx:
        found = await tx.canned.all()
    words = query.casefold().split()
    return [c for c in found if all(w in f"{c['title']} {c['text']}".casefold() for w in words)]


async def add_canned(services: Services, title: str, text: str) -> dict[str, Any]:
    title, text = _check_canned(title, text)
    async with services.ctx.store.transaction() as tx:
        new_id = await tx.canned.add(title, text, services.ctx.clock.now())
    return {"id": new_id, "title": title, "text": text}


async def change_canned(services: Services, canned_id: int, title: str, text: str) -> dict[str, Any]:
    title, text = _check_canned(title, text)
    async with services.ctx.store.transaction() as tx:
        if not await tx.canned.update(canned_id, title, text):
            raise NotFound("not_found")
    return {"id": canned_id, "title": title, "text": text}


async def remove_canned(services: Services, canned_id: int) -> None:
    async with services.ctx.store.transaction() as tx:
        if not await tx.canned.remove(canned_id):
            raise NotFound("not_found")


async def create_account(
    services: Services, username: str, password: str, *, display_name: str | None, role: Role,
    max_chats: int | None, max_voice: int, skills: Sequence[str] | None, voice_endpoint: str | None = None,
) -> dict[str, Any]:
    new_id = await services.accounts.add_counsellor(
        username.strip(), password, display_name=display_name, role=role, max_chats=max_chats,
        skills=skills, max_voice=max_voice, voice_endpoint=voice_endpoint,
    )
    return await get_account(services, new_id)
