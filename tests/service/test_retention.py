"""The purge on SQLite and PostgreSQL: what is due goes, what is held stays until released,
the statistics survive unlinked, surveys become counts, a hand-off keeps its row but not its
payload, and only one runner works at a time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, update

from helpline.domain.contact import Channel, EndReason
from helpline.domain.counsellor import Role
from helpline.domain.messages import Sender
from helpline.domain.records import CounsellorRecord
from helpline.domain.retention import Kind
from helpline.services import Services
from helpline.services.retention import LEASE, Purge
from helpline.services.surveys import answer_survey
from helpline.services.wrapups import WrapupDraft, write_wrapup
from helpline.store.tables import (
    Contact,
    ContactFact,
    Handoff,
    Lease,
    LegalHold,
    Message,
    Survey,
    SurveyCount,
    Wrapup,
)
from tests.clock import FrozenClock
from tests.service.test_handoff_dispatch import Partner, dispatcher

DAY = timedelta(days=1)
MARKER = "marker-7f3a9c"


async def staff(services: Services, name: str, role: Role) -> CounsellorRecord:
    new_id = await services.accounts.add_counsellor(name, "secret-pass", role=role)
    found = await services.accounts.get(new_id)
    assert found is not None
    return found


async def conversation(services: Services, by: CounsellorRecord, *, survey: bool = True,
                       caller_key: str | None = None) -> str:
    """A contact with two messages, ended, wrapped up (with a note) and, if asked, surveyed."""
    contact, token = await services.conversations.start(Channel.CHAT, {"topic": "sextortion"})
    for i in range(2):
        await services.conversations.post(contact.id, Sender.VISITOR, f"c{i}", f"{MARKER} {i}")
    async with services.ctx.store.transaction() as tx:
        await tx.conn.execute(update(Contact).where(Contact.id == contact.id)
                              .values(handover_note=f"{MARKER} note", caller_key=caller_key))
    await services.conversations.end(contact.id, EndReason.VISITOR)
    await write_wrapup(services, contact.id, by, WrapupDraft(
        ["sextortion"], "young_person", "15_17", "girl", ["snapchat"], ["advice"], f"{MARKER} wrap-up"))
    if survey:
        await answer_survey(services, contact.id, token, "yes", None)
    return contact.id


async def rows(services: Services, query: object) -> list[dict[str, object]]:
    async with services.ctx.store.reading() as tx:
        return [dict(r._mapping) for r in await tx.conn.execute(query)]  # type: ignore[call-overload]


async def count(services: Services, table: type, *where: object) -> int:
    async with services.ctx.store.reading() as tx:
        found = await tx.conn.execute(select(func.count()).select_from(table).where(*where))  # type: ignore[arg-type]
        return int(found.scalar_one())


async def test_what_is_due_goes_what_is_held_stays_until_released_and_the_facts_survive(
    processes: list[Services], clock: FrozenClock
) -> None:
    services = processes[0]
    sup = await staff(services, "sup", Role.SUPERVISOR)
    admin = await staff(services, "adm", Role.ADMIN)
    plain = await conversation(services, sup, caller_key="k" * 64)
    held = await conversation(services, sup, survey=False)
    partner = Partner()
    handoffs = dispatcher(services, partner)
    handoff = await handoffs.draft(held, sup, "hotline", {"urls": ["https://x.example/1"]}, [1])
    facts = await rows(services, select(ContactFact).where(ContactFact.contact_id == plain))
    assert facts[0]["categories"] == ["sextortion"] and facts[0]["outcome"] == "abandoned"

    start = clock.at
    clock.at = start + 29 * DAY
    assert await services.purge.run() == dict.fromkeys(Kind, 0)  # nothing due yet

    clock.at = start + 31 * DAY
    gone = await services.purge.run()
    assert gone is not None
    assert (gone[Kind.MESSAGES], gone[Kind.NOTES], gone[Kind.SURVEYS]) == (2, 1, 1)
    assert gone[Kind.CONTACTS] == 0 and gone[Kind.CALLER_KEYS] == 0
    assert await count(services, Message, Message.contact_id == plain) == 0
    assert await count(services, Wrapup, Wrapup.contact_id == plain) == 0
    [erased] = await rows(services, select(Contact).where(Contact.id == plain))
    assert (erased["handover_note"], erased["token_hash"], erased["caller_key"]) == (None, "", "k" * 64)
    assert await count(services, Message, Message.contact_id == held) == 2  # on hold: untouched
    assert await count(services, Survey) == 0
    counted = await rows(services, select(SurveyCount.question, SurveyCount.answer, SurveyCount.n))
    assert sorted((r["question"], r["answer"], r["n"]) for r in counted) == [
        ("again", "unanswered", 1), ("helpful", "yes", 1)]

    clock.at = start + 90 * DAY + timedelta(hours=12)
    gone = await services.purge.run()
    assert gone is not None and gone[Kind.CALLER_KEYS] == 1 and gone[Kind.CONTACTS] == 0
    clock.at = start + 92 * DAY
    gone = await services.purge.run()
    assert gone is not None and gone[Kind.CONTACTS] == 1
    assert await count(services, Contact, Contact.id == plain) == 0
    [kept] = await rows(services, select(ContactFact).where(ContactFact.id == facts[0]["id"]))
    assert kept["contact_id"] is None and kept["categories"] == ["sextortion"]
    assert kept["handle_s"] is None and kept["channel"] == "chat"

    assert [h["contact_id"] for h in await services.handoffs.legal_holds(admin)] == [held]
    await services.handoffs.release_hold(held, admin, "the case is closed")
    assert await services.handoffs.legal_holds(admin) == []
    gone = await services.purge.run()
    assert gone is not None and (gone[Kind.MESSAGES], gone[Kind.NOTES]) == (2, 1)
    assert gone[Kind.CONTACTS] == 0  # a hand-off refers to it
    assert await count(services, Message, Message.contact_id == held) == 0
    assert (await handoffs.get(handoff.id)).payload == {"urls": ["https://x.example/1"]}

    clock.at = start + 366 * DAY
    gone = await services.purge.run()
    assert gone is not None and gone[Kind.HANDOFFS] == 1
    [row] = await rows(services, select(Handoff).where(Handoff.id == handoff.id))
    assert (row["payload"], row["excerpts"], row["target_id"]) == ({}, [], "hotline")
    assert await count(services, LegalHold, LegalHold.contact_id == held) == 1
    audit = await services.handoffs.audit_log(admin)
    assert audit[-1]["action"] == "release_hold" and audit[-1]["actor_id"] == admin.id
    assert await services.purge.run() == dict.fromkeys(Kind, 0)  # nothing twice


async def test_batches_are_small_and_the_counts_add_up(processes: list[Services], clock: FrozenClock) -> None:
    services = processes[0]
    sup = await staff(services, "sup", Role.SUPERVISOR)
    for _ in range(3):
        await conversation(services, sup)
    clock.at += 100 * DAY
    assert (await services.purge.due())[Kind.MESSAGES] == 6
    batches: list[tuple[Kind, int]] = []
    small = Purge(services.ctx, batch=2, pause_s=0)
    gone = await small.run(lambda kind, n: batches.append((kind, n)))
    assert gone is not None and gone[Kind.MESSAGES] == 6 and gone[Kind.CONTACTS] == 3
    assert all(n <= 2 for _, n in batches)
    assert [n for kind, n in batches if kind is Kind.MESSAGES] == [2, 2, 2]
    assert await count(services, Contact) == 0 and await count(services, ContactFact) == 3


async def test_two_runners_at_once_only_one_works(processes: list[Services], clock: FrozenClock) -> None:
    sup = await staff(processes[0], "sup", Role.SUPERVISOR)
    await conversation(processes[0], sup)
    clock.at += 40 * DAY
    runners = [Purge(p.ctx, batch=1, pause_s=0.05) for p in processes]  # many small batches
    results = await asyncio.gather(*(r.run() for r in runners))
    assert sorted(results, key=lambda r: r is not None)[0] is None  # one was refused
    [gone] = [r for r in results if r is not None]
    assert gone[Kind.MESSAGES] == 2 and gone[Kind.NOTES] == 1
    assert await count(processes[0], Lease) == 0  # given back
    # While a runner holds the lease, another is refused and changes nothing.
    await conversation(processes[0], sup, survey=False)
    clock.at += 40 * DAY
    first, second = runners
    async with processes[0].ctx.store.transaction() as tx:
        assert await tx.leases.take(LEASE, first.holder, clock.now(), clock.now() + timedelta(minutes=10))
    assert await second.run() is None
    assert await count(processes[0], Message) == 2
    gone = await first.run()  # the holder goes on with its own lease
    assert gone is not None and gone[Kind.MESSAGES] == 2


async def test_a_runner_that_died_leaves_a_lease_that_expires(
    processes: list[Services], clock: FrozenClock
) -> None:
    sup = await staff(processes[0], "sup", Role.SUPERVISOR)
    await conversation(processes[0], sup)
    clock.at += 40 * DAY
    async with processes[0].ctx.store.transaction() as tx:  # taken, then the process died
        assert await tx.leases.take(LEASE, "dead", clock.now(), clock.now() + timedelta(minutes=10))
    survivor = processes[1].purge
    assert await survivor.run() is None
    clock.at += timedelta(minutes=11)
    gone = await survivor.run()
    assert gone is not None and gone[Kind.MESSAGES] == 2
