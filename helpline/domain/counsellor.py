"""Counsellors: roles, availability, capacity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

DEFAULT_MAX_CHATS = 3


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
    active: int
    last_assigned_at: datetime | None

    @property
    def spare(self) -> int:
        return max(0, self.max_chats - self.active)


def validate_max_chats(value: int) -> int:
    if not 1 <= value <= 20:
        raise ValueError("max_chats must be between 1 and 20")
    return value
