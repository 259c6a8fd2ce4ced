"""Plain records that cross the layers: the store reads them, the services and the web
layer use them (no session, no lazy loading, nothing secret)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .contact import Channel, ContactState
from .counsellor import Role, Status
from .handoffs import HandoffState
from .messages import Sender
from .routing import Priority, WaitingContact


@dataclass(frozen=True, slots=True)
class ContactRecord:
    id: str
    token_hash: str
    channel: Channel
    profile: dict[str, Any]
    skill: str
    priority: Priority
    target_counsellor_id: int | None
    handover_note: str | None
    offered_to: int | None
    offer_expires_at: datetime | None
    offer_skill: str | None
    state: ContactState
    end_reason: str | None
    counsellor_id: int | None
    created_at: datetime
    enqueued_at: datetime
    first_assigned_at: datetime | None
    assigned_at: datetime | None
    ended_at: datetime | None
    last_seq: int
    caller_key: str | None = None
    carrier_ref: str | None = None
    sender_key: str | None = None  # a live chat's sender (keyed hash), to block them
    visitor_sockets: int = 0
    wait_s: int | None = None
    talk_s: int | None = None

    @property
    def waiting(self) -> WaitingContact:
        """Its place in the queue, as the router and the standings see it."""
        return WaitingContact(self.id, self.enqueued_at, self.channel, self.skill, self.priority,
                              self.target_counsellor_id)

    @classmethod
    def arriving(
        cls, contact_id: str, token_hash: str, channel: Channel, profile: dict[str, Any], at: datetime, *,
        skill: str, priority: Priority, sender_key: str | None = None,
    ) -> ContactRecord:
        """A contact as it starts: waiting from ``at``, nobody on it, nothing said yet."""
        return cls(
            id=contact_id, token_hash=token_hash, channel=channel, profile=profile, skill=skill,
            priority=priority, target_counsellor_id=None, handover_note=None, offered_to=None,
            offer_expires_at=None, offer_skill=None, state=ContactState.QUEUED, end_reason=None,
            counsellor_id=None, created_at=at, enqueued_at=at, first_assigned_at=None,
            assigned_at=None, ended_at=None, last_seq=0, sender_key=sender_key,
        )


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A waiting contact as the console's queue panel shows it: nothing identifying."""

    contact_id: str
    channel: Channel
    skill: str
    priority: Priority
    topic: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WriteTarget:
    """What decides whether a message may be added to a contact, and its next seq."""

    state: ContactState
    counsellor_id: int | None
    last_seq: int
    channel: Channel = Channel.CHAT


@dataclass(frozen=True, slots=True)
class MessageRecord:
    contact_id: str
    seq: int
    sender: Sender
    client_id: str | None
    text: str
    sent_at: datetime
    resource: str | None = None  # a resource card: the emergency number sent (domain.resources)


@dataclass(frozen=True, slots=True)
class CounsellorRecord:
    id: int
    username: str
    display_name: str
    role: Role
    max_chats: int
    max_voice: int
    skills: frozenset[str]
    status: Status
    status_since: datetime
    last_assigned_at: datetime | None
    disabled: bool
    voice_endpoint: str | None = None


@dataclass(frozen=True, slots=True)
class CounsellorOnFloor:
    """An enabled account as the supervisor's floor shows it."""

    id: int
    display_name: str
    role: Role
    status: Status
    status_since: datetime
    connected: bool
    skills: frozenset[str]
    last_assigned_at: datetime | None
    active_chats: int
    active_voice: int


@dataclass(frozen=True, slots=True)
class HandoffRecord:
    id: int
    reference: str
    contact_id: str
    target_id: str
    state: HandoffState
    author_id: int
    approver_id: int | None
    payload: dict[str, Any]
    excerpts: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    review_needed: bool
    partner_reference: str | None
    decision: str | None
    decision_on: date | None
    last_error: str | None
