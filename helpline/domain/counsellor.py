"""Counsellors: roles, availability, skills and capacity per channel."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from .contact import Channel
from .errors import DomainError

DEFAULT_MAX_CHATS = 3
DEFAULT_MAX_VOICE = 1
MIN_CHATS, MAX_CHATS = 1, 20
MIN_PASSWORD_LENGTH = 8


class Role(StrEnum):
    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def supervises(self) -> bool:
        return self in (Role.SUPERVISOR, Role.ADMIN)


class Status(StrEnum):
    AVAILABLE = "available"
    BREAK = "break"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class CounsellorLoad:
    """What the router needs to know of a counsellor who could take a contact."""

    id: int
    max_chats: int
    active_chats: int
    last_assigned_at: datetime | None
    skills: frozenset[str] = frozenset({"general"})
    max_voice: int = DEFAULT_MAX_VOICE
    active_voice: int = 0

    @property
    def active(self) -> int:
        return self.active_chats + self.active_voice

    def capacity(self, channel: Channel) -> int:
        return self.max_voice if channel is Channel.VOICE else self.max_chats

    def spare(self, channel: Channel) -> int:
        """Room for one more contact on ``channel``. Someone on a call takes no chats."""
        if channel is Channel.VOICE:
            return max(0, self.max_voice - self.active_voice)
        if self.active_voice:
            return 0
        return max(0, self.max_chats - self.active_chats)

    def with_one_more(self, channel: Channel) -> CounsellorLoad:
        if channel is Channel.VOICE:
            return replace(self, active_voice=self.active_voice + 1)
        return replace(self, active_chats=self.active_chats + 1)


def validate_max_chats(value: int) -> int:
    """Chats a counsellor holds at once."""
    if not MIN_CHATS <= value <= MAX_CHATS:
        raise DomainError("invalid_capacity")
    return value


def validate_max_voice(value: int) -> int:
    """Calls a counsellor holds at once: none or one."""
    if not 0 <= value <= 1:
        raise DomainError("invalid_capacity")
    return value


def validate_skills(skills: Sequence[str], known: Sequence[str]) -> list[str]:
    """At least one skill, each one the helpline knows; sorted, once each."""
    if not skills or set(skills) - set(known):
        raise DomainError("unknown_skill")
    return sorted(set(skills))


def validate_password(password: str, *, demo_account: bool = False) -> str:
    """A new password: at least ``MIN_PASSWORD_LENGTH`` characters. The one exception is a
    demo account (``helpline demo``), whose password is printed on the screen anyway."""
    if len(password) < MIN_PASSWORD_LENGTH and not demo_account:
        raise DomainError("password_too_short")
    return password


VOICE_ENDPOINT_PATTERN = r"\+[1-9][0-9]{7,14}|client:[A-Za-z0-9_.-]{1,100}"
_VOICE_ENDPOINT = re.compile(VOICE_ENDPOINT_PATTERN)


def validate_voice_endpoint(value: str | None) -> str | None:
    """Where calls ring for a counsellor: an E.164 number or ``client:identity`` (a
    softphone). Empty means none: they take no calls."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not _VOICE_ENDPOINT.fullmatch(value):
        raise DomainError("invalid_voice_endpoint")
    return value
