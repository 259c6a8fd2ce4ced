"""Joins in a surge are stored together: the arrivals of the moment in one transaction, the
visitors' sockets counted in one, and every caller hears back its own outcome: stored once,
refused (a blocked sender), or an error with nothing of it stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event, func, select, text

from helpline.bus.base import FLOOR, contact_channel
from helpline.domain.contact import Channel, ContactState
from helpline.domain.counsellor import Role
from helpline.services import Services
from helpline.services.conversations import SenderBlocked, sender_key
from helpline.store.tables import Contact
from tests.service.conftest import Recorder

ARRIVALS = 40


@pytest_asyncio.fixture
async def services(processes: list[Services]) -> Services:
    """One server's use cases, on SQLite and on PostgreSQL, its views told of floor changes
    as the server tells them."""
    await processes[0].ctx.bus.subscribe(FLOOR, processes[0].views.floor_event)
    return processes[0]


class Commits:
    """Counts the transactions the database commits (seen from the engine, not guessed)."""

    def __init__(self, services: Services) -> None:
        self.count = 0
        event.listen(services.ctx.store.engine.sync_engine, "commit", self._commit)

    def _commit(self, _conn: Any) -> None:
        self.count += 1


async def stored(services: Services) -> list[Any]:
    async with services.ctx.store.reading() as tx:
        return list(await tx.conn.execute(select(Contact.id, Contact.profile, Contact.state)))


async def test_concurrent_arrivals_are_each_stored_once_in_fewer_transactions(services: Services) -> None:
    commits = Commits(services)
    started = await asyncio.gather(*(
        services.conversations.start(Channel.CHAT, {"topic": "other", "n": i}) for i in range(ARRIVALS)
    ))
    rows = await stored(services)
    assert sorted(r.id for r in rows) == sorted(contact.id for contact, _ in started)
    assert sorted(r.profile["n"] for r in rows) == list(range(ARRIVALS))
    assert {r.state for r in rows} == {ContactState.QUEUED.value}
    assert commits.count < ARRIVALS  # batched, not a transaction each
    for contact, token in started:  # each one as it was answered, reachable with its token
        assert (await services.conversations.authenticate(contact.id, token)).id == contact.id
    snapshot = await services.views.snapshot(fresh=True)
    assert sorted(snapshot.standings) == sorted(contact.id for contact, _ in started)


async def test_a_blocked_sender_among_arrivals_is_refused_and_the_others_stored(services: Services) -> None:
    def sender(address: str) -> str:
        return sender_key(services.ctx.settings.keying_secret(), address)

    first, _ = await services.conversations.start(Channel.CHAT, {}, sender_key=sender("10.0.0.66"))
    supervisor_id = await services.accounts.add_counsellor("sup", "a-long-password", role=Role.SUPERVISOR)
    async with services.ctx.store.reading() as tx:
        supervisor = await tx.counsellors.get(supervisor_id)
    assert supervisor is not None
    await services.calls.block(first.id, supervisor, hours=2, reason="menaces")
    outcomes = await asyncio.gather(*(
        services.conversations.start(Channel.CHAT, {"n": i}, sender_key=sender(f"10.0.0.{60 + i}"))
        for i in range(10)
    ), return_exceptions=True)
    refused = [i for i, o in enumerate(outcomes) if isinstance(o, SenderBlocked)]
    assert refused == [6]
    rows = await stored(services)
    assert sorted(r.profile.get("n", -1) for r in rows) == [-1, 0, 1, 2, 3, 4, 5, 7, 8, 9]


async def refuse_inserts(services: Services, marker: str) -> None:
    """A rule in the database itself that refuses the new contacts whose pre-chat answers
    hold ``marker`` (every one for ""), as a full disk or a broken constraint would."""
    async with services.ctx.store.transaction() as tx:
        if services.ctx.store.is_sqlite:
            when = f"NEW.profile LIKE '%{marker}%'"
            await tx.conn.execute(text(
                f"CREATE TRIGGER refuse BEFORE INSERT ON contacts WHEN {when} "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"))
        else:
            when = f"NEW.profile::text LIKE '%{marker}%'"
            await tx.conn.execute(text(
                "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql"))
            await tx.conn.execute(text(
                f"CREATE TRIGGER refuse BEFORE INSERT ON contacts FOR EACH ROW WHEN ({when}) "
                "EXECUTE FUNCTION refuse()"))


@pytest_asyncio.fixture
async def without_trigger(services: Services) -> AsyncIterator[None]:
    yield
    async with services.ctx.store.transaction() as tx:
        await tx.conn.execute(text("DROP TRIGGER IF EXISTS refuse" + ("" if services.ctx.store.is_sqlite
                                                                        else " ON contacts")))


async def test_a_failing_batch_answers_every_arrival_with_an_error_and_stores_none(
    services: Services, without_trigger: None
) -> None:
    await refuse_inserts(services, "")
    outcomes = await asyncio.gather(*(
        services.conversations.start(Channel.CHAT, {"n": i}) for i in range(ARRIVALS)
    ), return_exceptions=True)
    assert all(isinstance(o, Exception) and not isinstance(o, SenderBlocked) for o in outcomes)
    assert await stored(services) == []
    async with services.ctx.store.reading() as tx:
        assert (await tx.conn.execute(select(func.count()).select_from(Contact))).scalar() == 0


async def test_an_arrival_the_database_refuses_costs_only_its_own(
    services: Services, without_trigger: None
) -> None:
    await refuse_inserts(services, "poison")
    outcomes = await asyncio.gather(*(
        services.conversations.start(Channel.CHAT, {"note": "poison" if i == 3 else "", "n": i})
        for i in range(10)
    ), return_exceptions=True)
    assert [i for i, o in enumerate(outcomes) if isinstance(o, BaseException)] == [3]
    rows = await stored(services)
    assert sorted(r.profile["n"] for r in rows) == [0, 1, 2, 4, 5, 6, 7, 8, 9]


async def test_sockets_opened_and_closed_together_are_each_counted(
    services: Services, recorder: Recorder
) -> None:
    contacts = [c for c, _ in await asyncio.gather(
        *(services.conversations.start(Channel.CHAT, {}) for _ in range(5)))]
    await recorder.listen(services.ctx.bus, *(contact_channel(c.id) for c in contacts))  # type: ignore[arg-type]
    commits = Commits(services)
    opened = await asyncio.gather(*(
        services.conversations.visitor_joined(c.id) for c in contacts for _ in range(3)))
    assert commits.count < len(opened)
    assert all(c.visitor_sockets >= 1 for c in opened)
    await asyncio.gather(*(services.conversations.visitor_left(c.id) for c in contacts for _ in range(2)))
    await services.conversations.visitor_left(contacts[0].id)
    await services.conversations.visitor_left(contacts[0].id)  # one close too many: never below zero
    counts = {c.id: (await services.conversations.get(c.id)).visitor_sockets for c in contacts}
    assert counts == {c.id: 0 if c is contacts[0] else 1 for c in contacts}
    presence = [e for _, e in recorder.events if e["type"] == "visitor_presence"]
    assert len(presence) == 5 * 3 + 5 * 2 + 2
    last = {e["contact_id"]: e["present"] for e in presence}
    assert last == {c.id: c is not contacts[0] for c in contacts}


async def test_a_socket_of_a_contact_that_is_not_there_is_refused(services: Services) -> None:
    with pytest.raises(Exception) as refused:
        await services.conversations.visitor_joined("0" * 32)
    assert getattr(refused.value, "code", None) == "unknown_contact"
    await services.conversations.visitor_left("0" * 32)  # gone: nothing to count, no error


async def test_arrivals_behind_everyone_are_placed_without_reading_the_queue_again(
    services: Services, clock: Any
) -> None:
    first, _ = await services.conversations.start(Channel.CHAT, {})
    held = await services.views.snapshot(fresh=True)
    later = []
    for second in range(1, 6):  # a surge: each one after the others
        clock.set(f"2026-11-27T10:00:{second:02d}")
        later.append((await services.conversations.start(Channel.CHAT, {}))[0])
    assert services.views.snapshot_current  # nothing to read again
    snapshot = await services.views.snapshot()
    assert snapshot is held
    assert [snapshot.standings[c.id].position for c in [first, *later]] == [1, 2, 3, 4, 5, 6]
    assert snapshot.standings == (await services.views.snapshot(fresh=True)).standings  # as a reading says


async def test_an_arrival_that_goes_ahead_of_others_has_the_queue_read_again(
    services: Services, clock: Any
) -> None:
    waiting = [(await services.conversations.start(Channel.CHAT, {}))[0] for _ in range(3)]
    await services.views.snapshot(fresh=True)
    clock.set("2026-11-27T10:00:30")
    urgent, _ = await services.conversations.start(Channel.CHAT, {"topic": "sextortion"})  # high priority
    assert not services.views.snapshot_current  # read again, however recent
    snapshot = await services.views.snapshot(fresh=True)
    assert snapshot.standings[urgent.id].position == 1
    assert len(snapshot.standings) == len(waiting) + 1
