"""Hand-offs: a serious case passed on to a partner (the emergency services, the 119, PHAROS,
a platform's trusted-flagger channel...) with the least data that partner needs.

The rules, pure: what a target asks for, what a hand-off may hold (only the target's fields,
URLs and never files), and how it moves from one state to the next."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from urllib.parse import urlsplit

from .errors import Conflict, DomainError
from .text import UNPRINTABLE, UNPRINTABLE_IN_A_LINE

MAX_TEXT = 4000
MAX_LINE = 200
MAX_URLS = 20
MAX_URL = 2048


class HandoffState(StrEnum):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    DISPATCHING = "dispatching"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TargetKind(StrEnum):
    EMERGENCY = "emergency"  # imminent danger: no approval, the numbers at once
    REPORT = "report"  # facts to an authority (the 119, PHAROS, the national hotline)
    NOTICE = "notice"  # a notice to a platform (DSA art. 16)
    GUIDANCE = "guidance"  # steps the young person takes themselves: nothing leaves


class FieldType(StrEnum):
    LINE = "line"  # one line of text
    TEXT = "text"  # several lines
    URLS = "urls"  # exact addresses of the content, one or more
    CHOICE = "choice"  # one of the field's choices
    DATE = "date"  # YYYY-MM-DD


@dataclass(frozen=True, slots=True)
class Localised:
    fr: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.fr


@dataclass(frozen=True, slots=True)
class TargetField:
    id: str
    type: FieldType
    label: Localised
    required: bool = False
    help: Localised | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    name: Localised
    kind: TargetKind
    fields: tuple[TargetField, ...] = ()
    approval: bool = True
    connector: str = "manual"
    guidance: Localised | None = None
    settings: Mapping[str, str] = field(default_factory=dict)

    @property
    def sends(self) -> bool:
        """Does anything leave the helpline (guidance and emergency numbers do not)."""
        return self.kind in (TargetKind.REPORT, TargetKind.NOTICE)


class InvalidHandoff(DomainError):
    """A field the target does not accept, or a value it cannot take."""

    def __init__(self, field_id: str, problem: str) -> None:
        super().__init__("invalid_handoff")
        self.field = field_id
        self.problem = problem


def minimal_payload(target: Target, values: Mapping[str, object]) -> dict[str, object]:
    """What may leave for ``target``: exactly its fields, each checked; anything else is
    refused rather than carried along. Addresses are web addresses, never files."""
    known = {f.id for f in target.fields}
    for name in values:
        if name not in known:
            raise InvalidHandoff(name, "unknown_field")
    payload: dict[str, object] = {}
    for f in target.fields:
        value = values.get(f.id)
        if value in (None, "", []):
            if f.required:
                raise InvalidHandoff(f.id, "required")
            continue
        payload[f.id] = _checked(f, value)
    return payload


def _checked(f: TargetField, value: object) -> object:
    if f.type is FieldType.URLS:
        return _urls(f.id, value)
    if not isinstance(value, str):
        raise InvalidHandoff(f.id, "not_text")
    if f.type is FieldType.CHOICE:
        if value not in f.choices:
            raise InvalidHandoff(f.id, "unknown_choice")
    elif f.type is FieldType.DATE:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise InvalidHandoff(f.id, "not_a_date") from None
    elif f.type is FieldType.LINE:
        if len(value) > MAX_LINE or UNPRINTABLE_IN_A_LINE.search(value):
            raise InvalidHandoff(f.id, "invalid_text")
    elif len(value) > MAX_TEXT or UNPRINTABLE.search(value):
        raise InvalidHandoff(f.id, "invalid_text")
    return value


def _urls(field_id: str, value: object) -> list[str]:
    if isinstance(value, str):
        value = [line.strip() for line in value.splitlines() if line.strip()]
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        raise InvalidHandoff(field_id, "not_urls")
    if len(value) > MAX_URLS:
        raise InvalidHandoff(field_id, "too_many_urls")
    for url in value:
        parts = urlsplit(url)
        if (len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname
                or UNPRINTABLE_IN_A_LINE.search(url) or " " in url):
            raise InvalidHandoff(field_id, "not_a_web_address")
    return list(value)


# --- the life of a hand-off -------------------------------------------------------------------


class Action(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    CANCEL = "cancel"
    DELIVERED = "delivered"
    FAILED = "failed"
    RETRY = "retry"


_FROM: dict[Action, frozenset[HandoffState]] = {
    Action.SUBMIT: frozenset({HandoffState.DRAFT}),
    Action.APPROVE: frozenset({HandoffState.AWAITING_APPROVAL}),
    Action.CANCEL: frozenset({HandoffState.DRAFT, HandoffState.AWAITING_APPROVAL}),
    Action.DELIVERED: frozenset({HandoffState.DISPATCHING}),
    Action.FAILED: frozenset({HandoffState.DISPATCHING}),
    Action.RETRY: frozenset({HandoffState.FAILED}),
}


def next_state(state: HandoffState, action: Action, target: Target) -> HandoffState:
    """Where ``action`` takes a hand-off in ``state``, or ``Conflict`` if it cannot."""
    if state not in _FROM[action]:
        raise Conflict("invalid_handoff_transition")
    if action is Action.SUBMIT:
        if not target.sends:
            return HandoffState.DELIVERED  # guidance given, numbers shown: recorded, nothing sent
        return HandoffState.AWAITING_APPROVAL if target.approval else HandoffState.DISPATCHING
    return {
        Action.APPROVE: HandoffState.DISPATCHING,
        Action.CANCEL: HandoffState.CANCELLED,
        Action.DELIVERED: HandoffState.DELIVERED,
        Action.FAILED: HandoffState.FAILED,
        Action.RETRY: HandoffState.DISPATCHING,
    }[action]
