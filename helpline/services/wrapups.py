"""The wrap-up a counsellor writes when a conversation has ended: what it was about, who
contacted, what was done. Values come from the taxonomy file (helpline/data/taxonomy.toml)."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..domain.access import may_wrap_up
from ..domain.errors import Conflict, DomainError, Forbidden
from ..domain.records import CounsellorRecord
from ..logs import get_logger

if TYPE_CHECKING:
    from .facade import Services

log = get_logger("wrapups")

LISTS = ("categories", "contacted_by", "age_bands", "genders", "platforms", "outcomes")


@cache
def taxonomy() -> dict[str, list[dict[str, Any]]]:
    """Every list of the wrap-up form, each item ``{"id", "label": {"fr", "en"}}``."""
    raw = tomllib.loads(resources.files("helpline").joinpath("data", "taxonomy.toml").read_text("utf-8"))
    return {
        name: [{"id": item["id"], "label": {"fr": item["fr"], "en": item["en"]}} for item in raw[name]]
        for name in LISTS
    }


def _ids(name: str) -> set[str]:
    return {item["id"] for item in taxonomy()[name]}


class InvalidWrapup(DomainError):
    """A value that is not in the taxonomy; ``field`` names where."""

    code = "invalid_wrapup"

    def __init__(self, field: str) -> None:
        super().__init__()
        self.field = field


@dataclass(frozen=True, slots=True)
class WrapupDraft:
    categories: Sequence[str]
    contacted_by: str
    age_band: str
    gender: str | None
    platforms: Sequence[str]
    outcomes: Sequence[str]
    note: str | None


def check_values(draft: WrapupDraft) -> dict[str, Any]:
    """The draft as stored, or InvalidWrapup naming the first field out of the taxonomy."""
    singles = {"contacted_by": ("contacted_by", draft.contacted_by),
               "age_band": ("age_bands", draft.age_band)}
    if draft.gender is not None:
        singles["gender"] = ("genders", draft.gender)
    for field, (name, value) in singles.items():
        if value not in _ids(name):
            raise InvalidWrapup(field)
    for field, values in (("categories", draft.categories), ("platforms", draft.platforms),
                          ("outcomes", draft.outcomes)):
        if set(values) - _ids(field):
            raise InvalidWrapup(field)
    note = (draft.note or "").strip() or None
    return {
        "categories": sorted(set(draft.categories)), "contacted_by": draft.contacted_by,
        "age_band": draft.age_band, "gender": draft.gender, "platforms": sorted(set(draft.platforms)),
        "outcomes": sorted(set(draft.outcomes)), "note": note,
    }


async def write_wrapup(services: Services, contact_id: str, by: CounsellorRecord, draft: WrapupDraft) -> None:
    """Store (or replace) the wrap-up of an ended contact: by the counsellor who handled it,
    or by a supervisor or admin."""
    contact = await services.conversations.get(contact_id)  # NotFound unknown_contact
    if not may_wrap_up(by.role, by.id, contact.counsellor_id):
        raise Forbidden("not_your_contact")
    if contact.state.is_open:
        raise Conflict("contact_not_ended")
    values = check_values(draft)
    ctx = services.ctx
    async with ctx.store.transaction() as tx:
        await tx.wrapups.put(contact_id, by.id, values, ctx.clock.now())
    log.info("wrapup_written", contact_id=contact_id, counsellor=by.id)


async def read_wrapup(services: Services, contact_id: str, by: CounsellorRecord) -> dict[str, Any] | None:
    contact = await services.conversations.get(contact_id)
    if not may_wrap_up(by.role, by.id, contact.counsellor_id):
        raise Forbidden("not_your_contact")
    async with services.ctx.store.reading() as tx:
        return await tx.wrapups.get(contact_id)
