"""The dispatcher delivers each hand-off exactly once: two dispatchers at once, one that died
holding a lease, a partner that fails for a while or for good."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from helpline.domain.contact import Channel
from helpline.domain.counsellor import Role
from helpline.domain.handoffs import FieldType, HandoffState, Localised, Target, TargetField, TargetKind
from helpline.handoffs_delivery import Delivery
from helpline.services import Services
from helpline.services.handoffs import MAX_ATTEMPTS, Handoffs
from tests.clock import FrozenClock

L = Localised("x", "x")
HOTLINE = Target("hotline", L, TargetKind.REPORT, approval=False, connector="webhook",
                 fields=(TargetField("urls", FieldType.URLS, L, required=True),),
                 settings={"url": "https://hotline.example/hook", "secret_env": "HOTLINE_SECRET"})


class Partner:
    """Stands for the partner's end: what it received, by idempotency key, and how it answers
    the next deliveries (an exception to raise, or None to accept)."""

    def __init__(self) -> None:
        self.received: list[Delivery] = []
        self.answers: list[Exception | None] = []

    async def __call__(self, outgoing: Delivery) -> str | None:
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer
        self.received.append(outgoing)
        return f"P-{len(self.received)}"


class Refused(Exception):
    def __init__(self, retryable: bool, reason: str) -> None:
        super().__init__(reason)
        self.retryable, self.reason = retryable, reason


def dispatcher(services: Services, partner: Partner) -> Handoffs:
    return Handoffs(replace(services.ctx, handoff_targets={"hotline": HOTLINE}), partner)


async def due_handoff(services: Services, partner: Partner, author: str = "sam") -> int:
    """A hand-off to the hotline by a new supervisor, submitted (no approval needed): due
    for delivery."""
    author_id = await services.accounts.add_counsellor(author, "secret-pass", role=Role.SUPERVISOR)
    author = await services.accounts.get(author_id)
    assert author is not None
    contact, _ = await services.conversations.start(Channel.CHAT, {})
    handoffs = dispatcher(services, partner)
    draft = await handoffs.draft(contact.id, author, "hotline", {"urls": ["https://x.example/1"]}, [])
    assert (await handoffs.submit(draft.id, author)).state is HandoffState.DISPATCHING
    return draft.id


async def test_two_dispatchers_at_once_deliver_a_handoff_once(processes: list[Services]) -> None:
    partner = Partner()
    handoff_id = await due_handoff(processes[0], partner)
    a, b = (dispatcher(p, partner) for p in processes)
    tried = await asyncio.gather(a.dispatch_due(), b.dispatch_due())
    assert sorted(tried) == [0, 1]
    assert [o.reference for o in partner.received] == [(await a.get(handoff_id)).reference]
    assert (await a.get(handoff_id)).state is HandoffState.DELIVERED
    assert await a.dispatch_due() == 0 and len(partner.received) == 1


async def test_a_dispatcher_that_died_holding_a_lease_is_taken_over_with_the_same_key(
    processes: list[Services], clock: FrozenClock
) -> None:
    partner = Partner()
    handoff_id = await due_handoff(processes[0], partner)
    now, lease = clock.now(), timedelta(seconds=processes[0].ctx.settings.handoff_lease_s)
    async with processes[0].ctx.store.transaction() as tx:  # claimed, then the process died
        [(_, key, _)] = await tx.outbox.claim(now, now + lease, 10)
    survivor = dispatcher(processes[1], partner)
    assert await survivor.dispatch_due() == 0  # the lease still holds
    clock.at = now + lease + timedelta(seconds=1)
    assert await survivor.dispatch_due() == 1
    assert [o.idempotency_key for o in partner.received] == [key]
    assert (await survivor.get(handoff_id)).partner_reference == "P-1"


async def test_a_partner_failing_for_a_while_gets_it_later_and_failing_for_good_marks_it_failed(
    processes: list[Services], clock: FrozenClock
) -> None:
    partner = Partner()
    handoff_id = await due_handoff(processes[0], partner)
    handoffs = dispatcher(processes[0], partner)
    partner.answers = [Refused(True, "http_503")]
    assert await handoffs.dispatch_due() == 1
    assert await handoffs.dispatch_due() == 0  # not due again before its backoff
    clock.at += timedelta(minutes=2)
    assert await handoffs.dispatch_due() == 1
    assert (await handoffs.get(handoff_id)).state is HandoffState.DELIVERED

    second = await due_handoff(processes[0], partner, author="sue")
    partner.answers = [Refused(False, "http_400")]
    assert await handoffs.dispatch_due() == 1
    failed = await handoffs.get(second)
    assert (failed.state, failed.last_error) == (HandoffState.FAILED, "http_400")
    overview = await processes[0].views.overview()
    assert overview["handoffs"] == {"awaiting_approval": 0, "failed": 1}


async def test_after_its_last_attempt_a_handoff_is_failed_not_tried_for_ever(
    processes: list[Services], clock: FrozenClock
) -> None:
    partner = Partner()
    handoff_id = await due_handoff(processes[0], partner)
    handoffs = dispatcher(processes[0], partner)
    partner.answers = [Refused(True, "timeout")] * MAX_ATTEMPTS
    for _ in range(MAX_ATTEMPTS):
        clock.at += timedelta(hours=2)
        assert await handoffs.dispatch_due() == 1
    assert (await handoffs.get(handoff_id)).state is HandoffState.FAILED
    clock.at += timedelta(hours=2)
    assert await handoffs.dispatch_due() == 0 and partner.received == []
