"""Migration 0014 backfills the facts of the contacts already ended (with their wrap-up's
lists, never its note), and runs both ways."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from helpline.store.migrate import downgrade, upgrade

CONTACT = ("INSERT INTO contacts (id, token_hash, channel, profile, skill, priority, state, end_reason,"
           " created_at, enqueued_at, first_assigned_at, ended_at, last_seq, visitor_seen_at,"
           " visitor_sockets)"
           " VALUES (:id, 'h', 'chat', '{}', 'legal', 2, :state, :reason, '2026-11-01 09:58:30',"
           " '2026-11-01 09:58:30', :assigned, :ended, 0, '2026-11-01 10:00:00', 0)")
WRAPUP = ("INSERT INTO wrapups (contact_id, categories, contacted_by, age_band, gender, platforms, outcomes,"
          " note, written_at) VALUES (:id, '[\"sextortion\"]', 'parent', '11_14', NULL,"
          " '[\"snapchat\"]', '[\"advice\"]', 'the note', '2026-11-01 10:30:00')")


def at(hms: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-01 {hms}")


async def test_the_facts_of_contacts_already_ended_are_backfilled(database_url: str) -> None:
    await asyncio.to_thread(downgrade, database_url, "0012")
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            for cid, state, reason, assigned, ended in (
                ("a" + "0" * 31, "ended", "counsellor", at("10:01:00"), at("10:21:00")),
                ("b" + "0" * 31, "abandoned", "abandoned", None, at("10:03:30")),
                ("c" + "0" * 31, "queued", None, None, None),
            ):
                await conn.execute(text(CONTACT), {"id": cid, "state": state, "reason": reason,
                                                   "assigned": assigned, "ended": ended})
            await conn.execute(text(WRAPUP), {"id": "a" + "0" * 31})
        await asyncio.to_thread(upgrade, database_url)
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT contact_id, outcome, wait_s, handle_s, categories, contacted_by, skill"
                " FROM contact_facts ORDER BY contact_id"))).all()
    finally:
        await engine.dispose()
    as_json = [(r[0], r[1], r[2], r[3], str(r[4]), r[5], r[6]) for r in rows]
    assert [r[:4] for r in as_json] == [("a" + "0" * 31, "answered", 150, 1200),
                                        ("b" + "0" * 31, "abandoned", 300, None)]
    assert "sextortion" in as_json[0][4] and as_json[0][5:] == ("parent", "legal")
    assert as_json[1][4] == "None"  # no wrap-up, no lists
