"""A transaction carries its effects: events and floor changes happen after the commit,
in order, and not at all when it rolls back."""

from __future__ import annotations

import pytest

from helpline.bus.base import FLOOR, contact_channel
from helpline.domain.contact import Channel, ContactState, EndReason
from helpline.services import Services
from tests.service.conftest import Recorder


async def test_a_rolled_back_transaction_publishes_nothing(services: Services, recorder: Recorder) -> None:
    await recorder.listen(services.ctx.bus, "test", FLOOR)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        async with services.ctx.store.transaction() as tx:
            tx.publish("test", {"type": "never"})
            tx.floor_changed()
            raise RuntimeError("the use case fails after saying what to publish")
    assert recorder.events == []


async def test_a_committed_transaction_publishes_in_order_after_the_commit(
    services: Services, recorder: Recorder
) -> None:
    await recorder.listen(services.ctx.bus, "test", FLOOR)  # type: ignore[arg-type]
    async with services.ctx.store.transaction() as tx:
        tx.publish("test", {"type": "first"})
        tx.publish("test", {"type": "second"})
        tx.floor_changed()
        assert recorder.events == []  # nothing before the commit
    assert recorder.types() == ["first", "second", "floor_changed"]


async def test_a_use_case_that_is_refused_publishes_nothing(services: Services, recorder: Recorder) -> None:
    contact, _token = await services.conversations.start(Channel.CHAT, {})
    await recorder.listen(services.ctx.bus, contact_channel(contact.id), FLOOR)  # type: ignore[arg-type]
    with pytest.raises(Exception) as refused:
        await services.floor.accept(contact.id, counsellor_id=1)  # nothing was offered
    assert getattr(refused.value, "code", None) == "no_offer"
    assert recorder.events == []


async def test_ending_a_contact_tells_its_followers_and_the_floor_once(
    services: Services, recorder: Recorder
) -> None:
    contact, _token = await services.conversations.start(Channel.CHAT, {})
    await recorder.listen(services.ctx.bus, contact_channel(contact.id), FLOOR)  # type: ignore[arg-type]
    closed = await services.conversations.end(contact.id, EndReason.VISITOR)
    assert closed is not None and closed.state is ContactState.ENDED
    assert await services.conversations.end(contact.id, EndReason.VISITOR) is None  # twice: nothing more
    assert recorder.events == [
        (contact_channel(contact.id), {"type": "ended", "contact_id": contact.id, "reason": "visitor"}),
        (FLOOR, {"type": "floor_changed"}),
    ]
