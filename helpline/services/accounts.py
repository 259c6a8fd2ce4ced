"""Counsellor accounts, passwords and console sessions."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..bus.base import SESSIONS
from ..domain.counsellor import (
    DEFAULT_MAX_VOICE,
    Role,
    validate_max_chats,
    validate_max_voice,
    validate_password,
    validate_skills,
    validate_voice_endpoint,
)
from ..domain.errors import Conflict, DomainError, Duplicate
from ..domain.records import CounsellorRecord
from . import events
from .context import Context
from .floor import Floor

_hasher = PasswordHasher()
# Each hash or check takes ~64 MiB and a core for a moment: at most this many at once
# (per server process), so a burst of logins waits its turn instead of exhausting
# memory. The login throttle lets each client hold at most one of them.
HASHING_SLOTS = 2
# Verified when the username is unknown, so a wrong username costs the same time.
_DUMMY_HASH = _hasher.hash("not a password")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class Accounts:
    def __init__(self, ctx: Context, floor: Floor) -> None:
        self.ctx = ctx
        self.floor = floor
        self.hashing = asyncio.Semaphore(HASHING_SLOTS)

    async def hashed(self, password: str) -> str:
        async with self.hashing:
            return await asyncio.to_thread(hash_password, password)

    async def add_counsellor(
        self, username: str, password: str, *, display_name: str | None = None,
        role: Role = Role.COUNSELLOR, max_chats: int | None = None,
        skills: Sequence[str] | None = None, max_voice: int = DEFAULT_MAX_VOICE,
        voice_endpoint: str | None = None, demo_account: bool = False,
    ) -> int:
        """A new account. ``demo_account`` waives the password length rule (``helpline demo``
        only)."""
        if not username or len(username) > 64 or not username.isprintable():
            raise DomainError("invalid_username")
        validate_password(password, demo_account=demo_account)
        max_chats = validate_max_chats(
            self.ctx.settings.default_max_chats if max_chats is None else max_chats
        )
        validate_max_voice(max_voice)
        known = self.ctx.settings.skill_list
        skills = validate_skills(known if skills is None else skills, known)  # by default, every skill
        password_hash = await self.hashed(password)
        try:
            async with self.ctx.store.transaction() as tx:
                if await tx.counsellors.by_username(username) is not None:
                    raise Conflict("username_taken")
                return await tx.counsellors.add(
                    username, display_name or username, password_hash, role, max_chats,
                    self.ctx.clock.now(), skills=skills, max_voice=max_voice,
                    voice_endpoint=validate_voice_endpoint(voice_endpoint),
                )
        except Duplicate:  # the same username, created at the same moment elsewhere
            raise Conflict("username_taken") from None

    async def login(self, username: str, password: str) -> tuple[CounsellorRecord, str] | None:
        """A new session token for the right password, else None."""
        async with self.ctx.store.reading() as tx:
            found = await tx.counsellors.credentials(username)
        user, password_hash = found if found else (None, _DUMMY_HASH)
        async with self.hashing:
            good = await asyncio.to_thread(_verify, password_hash, password)
        if user is None or not good or user.disabled:
            return None
        token = new_token()
        async with self.ctx.store.transaction() as tx:
            await tx.sessions.create(token_hash(token), user.id, self.ctx.clock.now())
        await self.floor.session_opened(user.id)
        return user, token

    async def user_for_session(self, token: str) -> CounsellorRecord | None:
        now = self.ctx.clock.now()
        idle = timedelta(seconds=self.ctx.settings.session_idle_s)
        digest = token_hash(token)
        async with self.ctx.store.reading() as tx:
            user = await tx.sessions.counsellor_for(digest, now - idle)
        if user is not None:
            async with self.ctx.store.transaction() as tx:
                await tx.sessions.touch(digest, now)
        return user

    async def get(self, counsellor_id: int) -> CounsellorRecord | None:
        async with self.ctx.store.reading() as tx:
            return await tx.counsellors.get(counsellor_id)

    async def session_alive(self, digest: str) -> bool:
        """The session exists, is not idle past its time, and its account is enabled."""
        idle = timedelta(seconds=self.ctx.settings.session_idle_s)
        async with self.ctx.store.reading() as tx:
            return await tx.sessions.counsellor_for(digest, self.ctx.clock.now() - idle) is not None

    async def touch_session(self, digest: str) -> None:
        async with self.ctx.store.transaction() as tx:
            await tx.sessions.touch(digest, self.ctx.clock.now())

    async def logout(self, token: str) -> None:
        """End the session; its consoles close, in every process."""
        digest = token_hash(token)
        async with self.ctx.store.transaction() as tx:
            await tx.sessions.delete(digest)
            tx.publish(SESSIONS, events.session_ended(session=digest))
