"""Migration 0014 backfills the facts of the contacts already ended (with their wrap-up's
lists, never its note); `helpline purge` refuses while another runner holds the lease."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from helpline.store.migrate import downgrade, upgrade
from tests.integration.test_cli_and_schema import HELPLINE, run

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


def test_purge_refuses_while_another_runner_holds_the_lease_and_a_bad_term_stops_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    assert run(["db", "upgrade"], url).returncode == 0
    with sqlite3.connect(tmp_path / "h.db") as db:
        db.execute("INSERT INTO leases (name, holder, until)"
                   " VALUES ('purge', 'server', '2999-01-01 00:00:00')")
    held = run(["purge"], url)
    assert held.returncode == 1 and "another purge is running" in held.stderr
    dry = run(["purge", "--dry-run"], url)  # counting needs no lease
    assert dry.returncode == 0 and "would go (dry run):" in dry.stdout
    bad = subprocess.run([*HELPLINE, "purge"], env={**os.environ, "HELPLINE_DATABASE_URL": url,
                                                    "HELPLINE_RETAIN_CALLER_KEYS_DAYS": "120"},
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "HELPLINE_RETAIN_CALLER_KEYS_DAYS is not valid" in bad.stderr
    assert "less than or equal to 90" in bad.stderr
    with sqlite3.connect(tmp_path / "h.db") as db:
        assert db.execute("SELECT holder FROM leases").fetchall() == [("server",)]  # left as it was
