"""Messages of a conversation: who may write, what a valid message is, and seq rules.

Every stored message has a per-contact ``seq`` that starts at 1 and has no
gaps. A client names each message with its own ``client_id``; a second
message with the same ``client_id`` on the same contact is the same message
(a resend after a reconnect) and gets the original ``seq``.
"""

from __future__ import annotations

import re
from enum import StrEnum

from .contact import Channel, ContactState
from .errors import Conflict, DomainError, Forbidden
from .text import UNPRINTABLE

MAX_TEXT_LENGTH = 4000
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class Sender(StrEnum):
    VISITOR = "visitor"
    COUNSELLOR = "counsellor"
    SYSTEM = "system"


def validate_text(text: str) -> str:
    """Return the text to store, or raise. Text is kept as written."""
    if not text.strip():
        raise DomainError("empty_text")
    if len(text) > MAX_TEXT_LENGTH:
        raise DomainError("text_too_long")
    if UNPRINTABLE.search(text):
        raise DomainError("invalid_text")
    return text


def validate_client_id(client_id: str) -> str:
    if not _CLIENT_ID.match(client_id):
        raise DomainError("invalid_client_id")
    return client_id


def writable_states(sender: Sender) -> tuple[ContactState, ...]:
    """States in which ``sender`` may add a message.

    A young person may write while waiting (the counsellor reads it on
    assignment); a counsellor only once the contact is theirs.
    """
    if sender is Sender.VISITOR:
        return (ContactState.QUEUED, ContactState.ASSIGNED)
    return (ContactState.ASSIGNED,)


def check_can_write(
    sender: Sender,
    state: ContactState,
    assigned_to: int | None,
    writer_id: int | None,
    channel: Channel = Channel.CHAT,
) -> None:
    """Raise unless ``sender`` may write on a contact in ``state``.

    ``writer_id`` is the counsellor writing (None for the visitor);
    ``assigned_to`` the counsellor the contact is assigned to. A call has no messages.
    """
    if channel is not Channel.CHAT:
        raise Conflict("not_a_chat")
    if not state.is_open:
        raise Conflict("contact_closed")
    if sender is Sender.COUNSELLOR and assigned_to != writer_id:
        raise Forbidden("not_your_contact")
    if state not in writable_states(sender):
        raise Conflict("contact_not_assigned")


def next_seq(last_seq: int) -> int:
    """The seq of the next message after ``last_seq`` (0 when there is none)."""
    if last_seq < 0:
        raise ValueError("seq cannot be negative")
    return last_seq + 1
