"""The optional survey a visitor answers once their conversation has ended."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain.errors import Conflict, Duplicate
from ..logs import get_logger

if TYPE_CHECKING:
    from .facade import Services

log = get_logger("surveys")


async def answer_survey(
    services: Services, contact_id: str, token: str, helpful: str | None, again: str | None
) -> None:
    """Store the answers of the visitor who holds ``token``: only for an ended contact, once.
    Nothing is kept that identifies them (no token, no time of day)."""
    contact = await services.conversations.authenticate(contact_id, token)  # Forbidden bad_token
    if contact.state.is_open:  # ended by either side, or abandoned
        raise Conflict("contact_not_ended")
    ctx = services.ctx
    day = ctx.clock.now().date()
    try:
        async with ctx.store.transaction() as tx:
            if await tx.surveys.exists(contact_id):
                raise Conflict("survey_already_answered")
            await tx.surveys.add(contact_id, helpful, again, day)
    except Duplicate:  # a second answer raced this one in
        raise Conflict("survey_already_answered") from None
    log.info("survey_answered", contact_id=contact_id)
