"""Where to get help now, shown whenever the line is closed (and in the widget's footer).
Labels live in the catalogs under ``resources.<key>``."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import DomainError


@dataclass(frozen=True, slots=True)
class Resource:
    number: str
    scheme: str  # "tel" or "sms"
    key: str

    @property
    def href(self) -> str:
        return f"{self.scheme}:{self.number}"


EMERGENCY = (
    Resource("17", "tel", "police"),
    Resource("112", "tel", "emergency"),
    Resource("119", "tel", "child_in_danger"),
    Resource("3114", "tel", "suicide_prevention"),
    Resource("114", "sms", "deaf_sms"),
)


def card(number: str) -> Resource:
    """The resource a counsellor sends as a card in a chat: only one of the numbers above,
    never a free-form link."""
    for resource in EMERGENCY:
        if resource.number == number:
            return resource
    raise DomainError("unknown_resource")


def dialable(number: str) -> Resource:
    """The number a caller may be put through to: one of the numbers above that takes calls."""
    resource = card(number)
    if resource.scheme != "tel":
        raise DomainError("not_dialable")
    return resource
