"""A contact refused because the line is closed is counted in its hour, per channel, and
nothing else about it is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, text

from helpline.store.tables import RefusalCount
from tests.clients import start_server
from tests.clock import FrozenClock
from tests.conftest import ServerFactory
from tests.phone import PHONE_ENV, Twilio, new_sid


@pytest.fixture(autouse=True)
def phone_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PHONE_ENV.items():
        monkeypatch.setenv(name, value)


async def _start_chat(url: str) -> int:
    body = {"channel": "chat"}
    async with aiohttp.ClientSession() as http, http.post(url + "/api/v1/contacts", json=body) as r:
        return r.status


async def _counts(server: Any) -> list[tuple[datetime, str, int]]:
    async with server.services.ctx.store.reading() as tx:
        rows = await tx.conn.execute(select(RefusalCount.hour, RefusalCount.channel, RefusalCount.n)
                                     .order_by(RefusalCount.hour, RefusalCount.channel))
        return [tuple(r) for r in rows]


async def test_chats_and_calls_refused_while_closed_are_counted_per_hour_and_channel(
    make_server: ServerFactory,
) -> None:
    clock = FrozenClock("2026-11-29T15:10")  # a Sunday: closed
    server = await make_server(schedule="hours", clock=clock)
    twilio = Twilio(server.url)
    try:
        assert await _start_chat(server.url) == 503
        assert await _start_chat(server.url) == 503
        answer = await twilio.step("/telephony/voice/incoming", new_sid(), CallStatus="ringing")
        assert answer.verbs()[-1] == "Hangup"
        clock.set("2026-11-29T16:59")
        assert await _start_chat(server.url) == 503
    finally:
        await twilio.close()
    assert await _counts(server) == [
        (datetime(2026, 11, 29, 14, tzinfo=UTC), "chat", 2),
        (datetime(2026, 11, 29, 14, tzinfo=UTC), "voice", 1),
        (datetime(2026, 11, 29, 15, tzinfo=UTC), "chat", 1),
    ]
    assert [c.name for c in RefusalCount.__table__.columns] == ["hour", "channel", "n"]


async def test_a_call_turned_away_at_closing_time_while_choosing_counts_once(
    make_server: ServerFactory,
) -> None:
    clock = FrozenClock("2026-11-28T18:00")  # a Saturday, open
    server = await make_server(schedule="hours", clock=clock)
    twilio = Twilio(server.url)
    try:
        sid = new_sid()
        assert (await twilio.step("/telephony/voice/incoming", sid)).first("Gather") is not None
        clock.set("2026-11-28T20:00:30")
        answer = await twilio.step("/telephony/voice/choice?lang=fr", sid, Digits="1")
        assert answer.verbs()[-1] == "Hangup"
    finally:
        await twilio.close()
    assert await _counts(server) == [(datetime(2026, 11, 28, 19, tzinfo=UTC), "voice", 1)]


async def test_a_contact_accepted_while_open_is_not_counted_as_refused(make_server: ServerFactory) -> None:
    server = await make_server(schedule="hours", clock=FrozenClock("2026-11-28T15:00"))  # Saturday, open
    assert await _start_chat(server.url) == 201
    assert await _counts(server) == []


async def test_a_refusal_that_cannot_be_counted_still_gives_the_emergency_numbers(sqlite_url: str) -> None:
    server = await start_server(database_url=sqlite_url, schedule="hours",
                                clock=FrozenClock("2026-11-29T15:00"))  # a Sunday: closed
    try:
        async with server.services.ctx.store.transaction() as tx:
            await tx.conn.execute(text("DROP TABLE refusal_counts"))  # the count fails from now on
        url, body = server.url + "/api/v1/contacts", {"channel": "chat"}
        async with aiohttp.ClientSession() as http, http.post(url, json=body) as r:
            assert r.status == 503
            refused = await r.json()
    finally:
        await server.stop()
    assert refused["error"]["code"] == "closed" and refused["error"]["emergency"]
