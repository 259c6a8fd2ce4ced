"""A contact: one conversation between a visitor (or caller) and the helpline.

Its life is a small state machine::

    queued --assign--> assigned --end--> ended
       ^                  |
       +-----requeue------+
    queued | assigned --abandon--> abandoned

``ended`` and ``abandoned`` are final. A requeued contact keeps its original
``enqueued_at`` so it goes back to where it stood in the queue.
"""

from __future__ import annotations

from enum import StrEnum

from .errors import Conflict


class Channel(StrEnum):
    CHAT = "chat"
    VOICE = "voice"


class ContactState(StrEnum):
    QUEUED = "queued"
    ASSIGNED = "assigned"
    ENDED = "ended"
    ABANDONED = "abandoned"

    @property
    def is_open(self) -> bool:
        return self in (ContactState.QUEUED, ContactState.ASSIGNED)


class EndReason(StrEnum):
    """Why a contact stopped; sent to both sides in the ``ended`` event."""

    VISITOR = "visitor"  # the young person ended it
    COUNSELLOR = "counsellor"  # the counsellor ended it
    ABANDONED = "abandoned"  # the visitor went away and did not come back in time
    PUT_THROUGH = "put_through"  # the counsellor put the caller through to an emergency number


_TRANSITIONS: dict[ContactState, frozenset[ContactState]] = {
    ContactState.QUEUED: frozenset({ContactState.ASSIGNED, ContactState.ENDED, ContactState.ABANDONED}),
    ContactState.ASSIGNED: frozenset({ContactState.QUEUED, ContactState.ENDED, ContactState.ABANDONED}),
    ContactState.ENDED: frozenset(),
    ContactState.ABANDONED: frozenset(),
}


def can_transition(current: ContactState, target: ContactState) -> bool:
    return target in _TRANSITIONS[current]


def states_leading_to(target: ContactState) -> tuple[ContactState, ...]:
    """The states a contact may be in for ``target`` to be reached in one step.

    The store uses this as the condition of its atomic update, so the rule
    lives here and the database enforces it under concurrency.
    """
    return tuple(s for s, targets in _TRANSITIONS.items() if target in targets)


def require_transition(current: ContactState, target: ContactState) -> None:
    if not can_transition(current, target):
        raise Conflict("contact_closed" if not current.is_open else "invalid_transition")


def end_state_for(reason: EndReason) -> ContactState:
    return ContactState.ABANDONED if reason is EndReason.ABANDONED else ContactState.ENDED
