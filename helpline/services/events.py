"""The events published on the bus, built in one place. Every socket following a
contact receives its message events, the sender's own included (clients match
them to what they sent by ``client_id``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.contact import Channel, EndReason
from ..domain.errors import DomainError
from ..domain.records import ContactRecord, CounsellorRecord, MessageRecord
from ..domain.resources import card
from ..domain.routing import Priority, WaitingContact
from ..domain.waiting import Standing
from .schedule import emergency_resources, resource_view

Event = dict[str, Any]


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def message(m: MessageRecord) -> Event:
    """A stored message; a resource card also carries its ``resource`` (number, href, label)."""
    event = {
        "type": "message", "contact_id": m.contact_id, "seq": m.seq, "sender": m.sender.value,
        "text": m.text, "sent_at": iso(m.sent_at), "client_id": m.client_id,
    }
    if m.resource is not None and (card := resource_card(m.resource)) is not None:
        event["resource"] = card
    return event


def resource_card(number: str) -> dict[str, Any] | None:
    """The card for a stored number; None if the line no longer lists it (its text stays)."""
    try:
        return resource_view(card(number))
    except DomainError:
        return None


def queue_position(contact_id: str, standing: Standing) -> Event:
    """To a waiting visitor (or caller's hold loop): their place and the estimated wait."""
    return {"type": "queue", "contact_id": contact_id, "position": standing.position,
            "estimated_wait_s": standing.estimated_wait_s}


def waiting_list(summary: dict[str, Any]) -> Event:
    """To every console: the anonymous queue, bounded whatever its length: ``total``,
    ``counts`` per channel, skill and priority, the first ``contacts`` in queue order."""
    return {"type": "queue", **summary}


def overview(floor: dict[str, Any]) -> Event:
    """To supervisors' consoles: the floor, as GET /api/v1/supervisor/overview."""
    return {"type": "overview", **floor}


def session(user: CounsellorRecord, status_value: str, line_skills: list[str]) -> Event:
    """To a console after its hello: who is logged in, their status, and the skills the line
    routes by (``HELPLINE_SKILLS``), and the emergency numbers a counsellor can send or put
    a caller through to."""
    return {"type": "session", "counsellor": {
        "id": user.id, "username": user.username, "display_name": user.display_name,
        "role": user.role.value, "max_chats": user.max_chats, "skills": sorted(user.skills),
    }, "status": status_value, "skills": line_skills, "emergency": emergency_resources()}


def monitoring(c: ContactRecord, holder: str | None) -> Event:
    """To a supervisor's console that starts monitoring ``c``; its messages follow.
    ``holder``: the display name of the counsellor who has it, if anyone."""
    return {"type": "monitoring", "contact": {
        "contact_id": c.id, "state": c.state.value, "channel": c.channel.value,
        "profile": c.profile, "skill": c.skill, "priority": c.priority.label,
        "counsellor_id": c.counsellor_id, "counsellor": holder, "last_seq": c.last_seq,
        **({"caller": caller_label(c.caller_key)} if c.caller_key else {}),
        **({"blockable": True} if c.sender_key else {}),
    }}


def typing(contact_id: str, sender: str) -> Event:
    return {"type": "typing", "contact_id": contact_id, "sender": sender}


def visitor_presence(contact_id: str, present: bool) -> Event:
    """To the counsellor: the young person's widget is connected, or has just gone (closed,
    offline, reconnecting); the contact ends if they are not back within the grace period."""
    return {"type": "visitor_presence", "contact_id": contact_id, "present": present}


def handoff(handoff_id: int, reference: str, state: str) -> Event:
    """To its author: a hand-off of theirs changed state (approved, delivered, failed...)."""
    return {"type": "handoff", "id": handoff_id, "reference": reference, "state": state}


def ended(contact_id: str, reason: EndReason) -> Event:
    return {"type": "ended", "contact_id": contact_id, "reason": reason.value}


def assigned_to_visitor(contact_id: str, display_name: str) -> Event:
    return {"type": "assigned", "contact_id": contact_id, "counsellor": {"display_name": display_name}}


def contact_summary(c: ContactRecord, now: datetime) -> dict[str, Any]:
    waited_from = c.first_assigned_at or now
    return {
        "contact_id": c.id, "channel": c.channel.value, "profile": c.profile,
        "skill": c.skill, "priority": c.priority.label, "note": c.handover_note,
        "waited_s": max(0, round((waited_from - c.created_at).total_seconds())),
        "last_seq": c.last_seq,
        **({"caller": caller_label(c.caller_key)} if c.caller_key else {}),
        **({"blockable": True} if c.sender_key else {}),  # a live chat whose sender can be blocked
        **({"visitor_present": c.visitor_sockets > 0} if c.channel is Channel.CHAT else {}),
    }


def caller_label(caller_key: str) -> str:
    """What counsellors see of a caller: a short, stable part of the keyed hash (never the number)."""
    return caller_key[:8]


def assigned_to_counsellor(c: ContactRecord, now: datetime) -> Event:
    """To the counsellor who has ``c``; ``assigned_s``: for how long (so a reloaded console
    counts from the assignment, not from the reload)."""
    since = c.assigned_at or now
    return {"type": "assigned", "contact": {
        **contact_summary(c, now), "assigned_s": max(0, round((now - since).total_seconds())),
    }}


def requeued(contact_id: str, reason: str) -> Event:
    """Back in the queue. ``reason``: counsellor_disconnected or transferred (the visitor
    is never told to whom)."""
    return {"type": "requeued", "contact_id": contact_id, "reason": reason}


def offer(c: ContactRecord, now: datetime, *, warm: bool) -> Event:
    """To the counsellor: this contact is offered to you; accept before ``expires_at``."""
    assert c.offer_expires_at is not None
    summary = contact_summary(c, now)
    if c.offer_skill:
        summary["skill"] = c.offer_skill
    return {"type": "offer", "contact": summary, "warm_transfer": warm, "expires_at": iso(c.offer_expires_at)}


def offer_withdrawn(contact_id: str, reason: str) -> Event:
    return {"type": "offer_withdrawn", "contact_id": contact_id, "reason": reason}


def transfer_failed(contact_id: str, reason: str) -> Event:
    return {"type": "transfer_failed", "contact_id": contact_id, "reason": reason}


def unassigned(contact_id: str, reason: str) -> Event:
    return {"type": "unassigned", "contact_id": contact_id, "reason": reason}


def transferring(contact_id: str) -> Event:
    """To the visitor: someone else is taking over (never who, until they do)."""
    return {"type": "transferring", "contact_id": contact_id}


def priority(contact_id: str, label: str) -> Event:
    return {"type": "priority", "contact_id": contact_id, "priority": label}


def status(status_value: str) -> Event:
    return {"type": "status", "status": status_value}


def session_ended(*, session: str | None = None, counsellor_id: int | None = None) -> Event:
    """A console session ended (logout, expiry), or every session of an account (password
    reset, disabled): its consoles close, in every process."""
    return {"type": "session_ended", "session": session, "counsellor_id": counsellor_id}


FLOOR_CHANGED: Event = {"type": "floor_changed"}


def arrived(contacts: list[WaitingContact]) -> Event:
    """The floor changed by arrivals only: each process places them in the queue it holds
    (see ``Views.floor_event``) instead of reading the whole queue again."""
    return {**FLOOR_CHANGED, "arrived": [
        [c.id, iso(c.enqueued_at), c.channel.value, c.skill, int(c.priority)] for c in contacts]}


def arrivals_in(event: Event) -> list[WaitingContact] | None:
    """The arrivals a ``floor_changed`` event carries; None for any other change."""
    entries = event.get("arrived")
    if not isinstance(entries, list):
        return None
    return [
        WaitingContact(contact_id, datetime.fromisoformat(at), Channel(channel), skill, Priority(priority))
        for contact_id, at, channel, skill, priority in entries
    ]
