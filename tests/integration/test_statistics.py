"""The statistics of a generated year of contacts match a straightforward recount of the
same rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from benchmarks.year_of_contacts import generate
from helpline.domain.statistics import WRAPUP_LISTS, ChannelFilter
from helpline.store.tables import ContactFact, Handoff, RefusalCount
from tests.clients import Server
from tests.conftest import ServerFactory

PARIS = ZoneInfo("Europe/Paris")
SAMPLE = 3000


async def _rows(server: Server, table: Any) -> list[Any]:
    async with server.services.ctx.store.reading() as tx:
        return list((await tx.conn.execute(select(table.__table__))).all())


def _nearest_rank(values: list[int], q: float) -> int | None:
    ordered = sorted(values)
    return ordered[math.ceil(q * len(ordered)) - 1] if ordered else None


def _recount(facts: list[ContactFact], refusals: list[RefusalCount], handoffs: list[Handoff],
             first: date, last: date, channels: tuple[str, ...]) -> dict[str, Any]:
    """The figures counted one row at a time, the plain way."""
    mine = [f for f in facts
            if first <= f.arrived_hour.astimezone(PARIS).date() <= last and f.channel in channels]
    answered = [f for f in mine if f.outcome == "answered"]
    days: Counter[str] = Counter()
    hours: Counter[tuple[int, int]] = Counter()
    for f in mine:
        local = f.arrived_hour.astimezone(PARIS)
        days[local.date().isoformat()] += 1
        hours[(local.isoweekday(), local.hour)] += 1
    wrapups: dict[str, Counter[str]] = {name: Counter() for name in WRAPUP_LISTS}
    for f in answered:
        for name, column in WRAPUP_LISTS.items():
            value = getattr(f, column)
            if isinstance(value, list):
                items = value or ["none"]
            else:
                items = [value or "unrecorded"] if value is not None else ["unrecorded"]
            for item in items:
                wrapups[name][item] += 1
    return {
        "offered": len(mine), "answered": len(answered),
        "abandoned": sum(1 for f in mine if f.outcome == "abandoned"),
        "answered_20s": sum(1 for f in answered if f.wait_s is not None and f.wait_s <= 20),
        "answered_60s": sum(1 for f in answered if f.wait_s is not None and f.wait_s <= 60),
        "wait_p90_s": _nearest_rank([f.wait_s for f in answered if f.wait_s is not None], 0.9),
        "handle_p50_s": _nearest_rank([f.handle_s for f in answered if f.handle_s is not None], 0.5),
        "refused_closed": sum(r.n for r in refusals if r.channel in channels
                              and first <= r.hour.astimezone(PARIS).date() <= last),
        "days": days, "hours": hours, **wrapups,
        "handoffs": Counter((h.target_id, h.state, h.decision or "") for h in handoffs
                            if first <= h.created_at.astimezone(PARIS).date() <= last),
    }


def _by_key(table: Any, key: str, value: str) -> Counter[Any]:
    return Counter({row[key]: row[value] for row in table.as_dicts() if row[value]})


async def test_the_statistics_of_a_generated_year_match_a_recount_of_its_rows(
    make_server: ServerFactory, database_url: str
) -> None:
    server = await make_server()
    await generate(server.services.ctx.store.engine, contacts=SAMPLE, start=date(2025, 1, 1), seed=7)
    facts = await _rows(server, ContactFact)
    refusals, handoffs = await _rows(server, RefusalCount), await _rows(server, Handoff)
    assert len(facts) == SAMPLE and refusals and handoffs
    statistics = server.services.statistics
    first, last = date(2025, 7, 1), date(2025, 12, 31)  # the previous period: the 184 days before
    for channel in ChannelFilter:
        found = await statistics.compute(statistics.period(first.isoformat(), last.isoformat()), channel)
        periods = (("current", (first, last)), ("previous", (date(2024, 12, 29), date(2025, 6, 30))))
        for period, (a, b) in periods:
            expected = _recount(facts, refusals, handoffs, a, b, channel.channels)
            summary = next(r for r in found.table("summary").as_dicts() if r["period"] == period)
            for figure in ("offered", "answered", "abandoned", "answered_20s", "answered_60s",
                           "wait_p90_s", "handle_p50_s", "refused_closed"):
                assert summary[figure] == expected[figure], (channel, period, figure)
            assert summary["offered"] > 0
            column = "contacts" if period == "current" else "previous"
            for name in WRAPUP_LISTS:
                assert _by_key(found.table(name), "key", column) == expected[name], name
        expected = _recount(facts, refusals, handoffs, first, last, channel.channels)
        assert _by_key(found.table("days"), "day", "total") == expected["days"]
        heatmap = found.table("heatmap").as_dicts()
        assert Counter({(r["iso_weekday"], r["hour"]): r["arrivals"] for r in heatmap if r["arrivals"]}) \
            == expected["hours"]
        assert sum(r["total"] for r in found.table("weeks").as_dicts()) == expected["offered"]
        handoff_rows = found.table("handoffs").as_dicts()
        assert Counter({(r["target"], r["state"], r["decision"]): r["contacts"] for r in handoff_rows
                        if r["contacts"]}) == expected["handoffs"]
    notices = found.table("notices").as_dicts()
    assert sum(r["notices"] for r in notices) == sum(
        n for (target, _, _), n in expected["handoffs"].items() if target == "platform_notice")


async def test_nothing_counted_gives_empty_figures_not_errors(make_server: ServerFactory) -> None:
    server = await make_server()
    statistics = server.services.statistics
    found = await statistics.compute(statistics.period("2025-01-01", "2025-01-07"), ChannelFilter.ALL)
    summary = found.table("summary").as_dicts()[0]
    assert summary["offered"] == 0 and summary["service_level_20s_pct"] is None
    assert [r["total"] for r in found.table("days").as_dicts()] == [0] * 7
    assert found.table("categories").rows == ()
