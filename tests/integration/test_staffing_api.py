"""The staffing planner over HTTP: per open hour of the week, the counsellors Erlang C and
Erlang A ask for, from the last weeks' contacts, beside those who were available."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import insert

from helpline.domain.counsellor import Role
from helpline.domain.staffing import Load, counsellors_needed
from helpline.store.tables import AvailabilitySpan, ContactFact
from tests.clients import Clients, Server
from tests.clock import PARIS, FrozenClock
from tests.conftest import ServerFactory

NOW = "2026-11-28T10:00"  # a Saturday; the eight weeks before it cross the October clock change
WEDNESDAYS = [datetime(2026, 11, 25, tzinfo=PARIS) - timedelta(weeks=w) for w in range(8)]
URL = "/api/v1/statistics/staffing"


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    """A Paris wall-clock time on that day, in UTC (the offset changes on 25 October)."""
    return day.replace(hour=hour, minute=minute).astimezone(UTC)


def fact(arrived: datetime, channel: str, outcome: str, wait_s: int, handle_s: int | None) -> dict[str, Any]:
    hour = arrived.replace(minute=0)
    return {"contact_id": None, "channel": channel, "skill": "general", "arrived_hour": hour,
            "ended_hour": hour, "outcome": outcome, "end_reason": "visitor", "wait_s": wait_s,
            "handle_s": handle_s}


async def seed(server: Server) -> None:
    """Every Wednesday at 14h: 6 chats answered (25 min), 1 given up after 200 s, 2 calls
    (10 min). A chat on a Sunday (closed), and one nine weeks ago (too old). Availability:
    one counsellor there 14h-15h on four Wednesdays (twice over on one: two consoles), another
    14h30-16h on one."""
    facts = []
    for wednesday in WEDNESDAYS:
        two_pm = at(wednesday, 14, 5)
        facts += [fact(two_pm, "chat", "answered", 30, 1500) for _ in range(6)]
        facts += [fact(two_pm, "chat", "abandoned", 200, None)]
        facts += [fact(two_pm, "voice", "answered", 10, 600) for _ in range(2)]
    facts.append(fact(at(datetime(2026, 11, 22, tzinfo=PARIS), 14), "chat", "answered", 5, 900))
    facts.append(fact(at(WEDNESDAYS[-1] - timedelta(weeks=1), 14), "chat", "answered", 5, 900))
    spans = [
        {"counsellor_id": 99, "started_at": at(w, 14), "ended_at": at(w, 15), "max_chats": 3, "max_voice": 1}
        for w in WEDNESDAYS[:4]
    ]
    spans.append({**spans[0], "started_at": at(WEDNESDAYS[0], 14, 10)})  # a second console
    spans.append({"counsellor_id": 98, "started_at": at(WEDNESDAYS[5], 14, 30),
                  "ended_at": at(WEDNESDAYS[5], 16), "max_chats": 3, "max_voice": 1})
    async with server.services.ctx.store.transaction() as tx:
        await tx.conn.execute(insert(ContactFact), facts)
        await tx.conn.execute(insert(AvailabilitySpan), spans)


@pytest.fixture
async def planned(make_server: ServerFactory) -> Server:
    server: Server = await make_server(schedule="hours", clock=FrozenClock(NOW))
    await seed(server)
    await server.add_counsellor("sam", role=Role.SUPERVISOR)  # three chats each, by default
    return server


async def get(server: Server, clients: Clients, query: str = "", user: str = "sam") -> tuple[int, Any]:
    c = clients.counsellor(user)
    await c.login()
    async with c.http.get(f"{server.url}{URL}{query}") as r:
        return r.status, await r.json()


async def test_wednesday_at_two_needs_what_erlang_c_and_a_say_beside_who_was_there(
    planned: Server, clients: Clients
) -> None:
    status, plan = await get(planned, clients)
    assert status == 200
    assert (plan["weeks"], plan["target"], plan["within_s"]) == (8, 0.8, 60)
    # the channel's figures count every hour, the Sunday's chat too
    patience = (8 * (6 * 30 + 200) + 5) / 8
    chats = {"contacts": 57, "handle_s": round((48 * 1500 + 900) / 49), "patience_s": round(patience)}
    assert plan["channels"]["chat"] == chats
    assert plan["channels"]["voice"] == {"contacts": 16, "handle_s": 600, "patience_s": None}
    wednesday = {(h["day"], h["hour"]): h for h in plan["hours"]}[(2, 14)]
    assert wednesday["per_hour"] == {"chat": 7.0, "voice": 2.0}
    chats = Load(7 / 3600, (48 * 1500 + 900) / 49, patience)
    need = counsellors_needed(chats, Load(2 / 3600, 600), 3, 0.8, 60)
    assert (wednesday["erlang_c"], wednesday["erlang_a"]) == (need.erlang_c, need.erlang_a)
    assert wednesday["erlang_a"] <= wednesday["erlang_c"]
    assert wednesday["staffed"] == round(4 / 8 + 0.5 / 8, 2)  # the second console counts once
    assert wednesday["short"] is True
    assert {(h["day"], h["hour"]): h for h in plan["hours"]}[(2, 15)]["staffed"] == round(1 / 8, 2)


async def test_only_opening_hours_are_planned(planned: Server, clients: Clients) -> None:
    _, plan = await get(planned, clients)
    hours = {(h["day"], h["hour"]) for h in plan["hours"]}
    assert hours == {(d, h) for d in range(6) for h in range(9, 20)}  # Monday to Saturday, 9h-20h
    quiet = {(h["day"], h["hour"]): h for h in plan["hours"]}[(0, 9)]
    assert (quiet["erlang_c"], quiet["erlang_a"], quiet["staffed"], quiet["short"]) == (0, 0, 0, False)


async def test_a_higher_target_needs_at_least_as_many(planned: Server, clients: Clients) -> None:
    _, usual = await get(planned, clients)
    _, strict = await get(planned, clients, "?target=95&within_s=20&weeks=8")
    assert strict["target"] == 0.95
    need = {(h["day"], h["hour"]): h["erlang_c"] for h in usual["hours"]}
    assert all(h["erlang_c"] >= need[(h["day"], h["hour"])] for h in strict["hours"])
    assert sum(h["erlang_c"] for h in strict["hours"]) > sum(need.values())


async def test_fewer_weeks_look_at_fewer_contacts(planned: Server, clients: Clients) -> None:
    _, plan = await get(planned, clients, "?weeks=2")
    assert plan["channels"]["chat"]["contacts"] == 14 + 1  # two Wednesdays, and the Sunday


async def test_counsellors_may_not_read_the_planner(planned: Server, clients: Clients) -> None:
    await planned.add_counsellor("alice")
    status, body = await get(planned, clients, user="alice")
    assert (status, body["error"]["code"]) == (403, "forbidden")
    async with aiohttp.ClientSession() as anonymous, anonymous.get(f"{planned.url}{URL}") as r:
        assert r.status == 401


@pytest.mark.parametrize("query", [
    "?weeks=0", "?weeks=53", "?weeks=two", "?weeks=1.5e3", "?target=0.3", "?target=100", "?target=nan",
    "?target=inf", "?within_s=0", "?within_s=-5", "?within_s=3601", "?within_s=%D9%A3", "?weeks=",
])
async def test_bad_planner_parameters_are_a_400_naming_the_field(
    planned: Server, clients: Clients, query: str
) -> None:
    status, body = await get(planned, clients, query)
    assert status == 400
    assert body["error"]["code"] == "invalid_staffing_request"
    assert body["error"]["details"][0]["field"] == query[1:].split("=")[0]
