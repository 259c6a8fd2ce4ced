"""What a young person and their counsellors write is sealed in the database: a copy of the
SQLite files or a pg_dump holds none of it, and the counsellors still read it all."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from helpline.crypto import KeyRing
from helpline.store import Store
from helpline.store.rotation import pending, rotate
from tests.clients import TEST_DATA_KEYS, Clients, Server, start_server
from tests.conftest import ServerFactory, _unavailable
from tests.integration.conftest import ClientsOf
from tests.integration.test_cli_and_schema import run_with
from tests.integration.test_console_api import WRAPUP
from tests.integration.test_handoffs import PHAROS, call

SAID = "Il me menace de publier la photo zq7-visitor"
ANSWERED = "Tu as bien fait d'en parler zq7-counsellor"
NOTE = "Chantage, 14 ans, a déjà payé zq7-handover"
WRAPUP_NOTE = "Signalement conseillé zq7-wrapup"
DESCRIPTION = "Photo intime publiée sans accord zq7-handoff"
SECRETS = (SAID, ANSWERED, NOTE, WRAPUP_NOTE, DESCRIPTION)


async def a_whole_conversation(clients: Clients) -> tuple[str, Any, int]:
    """A chat, a transfer with a handover note, an end, a wrap-up and a hand-off with an
    excerpt. The contact id, the counsellor who ended it and the hand-off's id."""
    visitor, alice, bob, bob_id = await clients.handover()
    await visitor.say(SAID)
    await alice.say(visitor.contact_id, ANSWERED)
    await alice.transfer(visitor.contact_id, {"counsellor": bob_id}, mode="cold", note=NOTE)
    assigned = await bob.expect("assigned")
    assert assigned["contact"]["note"] == NOTE  # read back from the database, opened
    await bob.send_json({"type": "end", "contact_id": visitor.contact_id})
    await bob.expect("ended", contact_id=visitor.contact_id)
    async with bob.http.put(f"{clients.server.url}/api/v1/contacts/{visitor.contact_id}/wrapup",
                            json={**WRAPUP, "note": WRAPUP_NOTE}) as r:
        assert r.status == 200, await r.text()
    pharos = {**PHAROS, "fields": {**PHAROS["fields"], "description": DESCRIPTION}, "excerpts": [1]}
    status, handoff = await call(bob, "POST", f"/contacts/{visitor.contact_id}/handoffs", pharos)
    assert status == 201, handoff
    return visitor.contact_id, bob, handoff["id"]


async def the_counsellor_reads_everything(server: Server, bob: Any, contact_id: str, hid: int) -> None:
    status, transcript = await call(bob, "GET", f"/contacts/{contact_id}/messages")
    assert status == 200, transcript
    assert [m["text"] for m in transcript["messages"]] == [SAID, ANSWERED]
    status, wrapup = await call(bob, "GET", f"/contacts/{contact_id}/wrapup")
    assert status == 200 and wrapup["note"] == WRAPUP_NOTE, wrapup
    status, handoff = await call(bob, "GET", f"/handoffs/{hid}")
    assert status == 200, handoff
    assert handoff["fields"]["description"] == DESCRIPTION
    assert [e["text"] for e in handoff["excerpts"]] == [SAID]


def pg_dump(url: str) -> bytes:
    tool = shutil.which("pg_dump") or "/usr/bin/pg_dump"
    if not os.path.exists(tool):
        _unavailable("pg_dump")
    u = make_url(url)
    result = subprocess.run(
        [tool, "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres",
         u.database or ""], capture_output=True, timeout=60, check=True,
    )
    return result.stdout


async def test_nothing_written_is_in_the_database_files_in_clear(
    server: Server, clients: Clients, database_url: str
) -> None:
    contact_id, bob, hid = await a_whole_conversation(clients)
    await the_counsellor_reads_everything(server, bob, contact_id, hid)
    if database_url.startswith("sqlite"):
        path = Path(make_url(database_url).database or "")
        stored = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    else:
        stored = pg_dump(database_url)
    assert contact_id.encode() in stored and b"pharos" in stored  # the copy does hold the rows
    for secret in SECRETS:
        for form in (secret.encode(), secret.split()[-1].encode()):  # whole, or its marker alone
            assert form not in stored, secret


async def test_on_sqlite_without_keys_the_server_makes_a_private_key_file(sqlite_url: str) -> None:
    key_file = Path(make_url(sqlite_url).database or "").parent / "data-keys"
    assert not key_file.exists()
    server = await start_server(database_url=sqlite_url)
    try:
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        [entry] = key_file.read_text().split()
        assert KeyRing.from_text(entry).newest == server.services.ctx.store.keys.newest
    finally:
        await server.stop()
    again = await start_server(database_url=sqlite_url)  # the same file, the same key
    await again.stop()
    assert key_file.read_text().split() == [entry]


async def test_a_row_sealed_under_a_key_the_server_lacks_is_a_clear_error(
    make_server: ServerFactory, clients_of: ClientsOf
) -> None:
    first = await make_server(data_keys=TEST_DATA_KEYS)
    contact_id, bob, _ = await a_whole_conversation(clients_of(first))
    await first.stop()
    other = "other:" + "B" * 43  # a ring without the key the rows were sealed under
    second = await make_server(data_keys=other)
    clients = clients_of(second)
    bob = clients.counsellor("bob")
    await bob.login()
    async with bob.http.get(f"{second.url}/api/v1/contacts/{contact_id}/messages") as r:
        assert r.status == 503
        body = await r.json()
    assert body["error"]["code"] == "data_unreadable" and "Traceback" not in str(body)
    # The rows are untouched: with the right key they read again.
    third = await make_server(data_keys=TEST_DATA_KEYS)
    bob = clients_of(third).counsellor("bob")
    await bob.login()
    status, transcript = await call(bob, "GET", f"/contacts/{contact_id}/messages")
    assert status == 200 and [m["text"] for m in transcript["messages"]] == [SAID, ANSWERED]


async def count_sealed(url: str) -> dict[str, int]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        counts = {t: int((await conn.execute(text(f"SELECT count(*) FROM {t} WHERE {c} IS NOT NULL")))
                         .scalar_one())
                  for t, c in (("messages", "key_id"), ("wrapups", "note_key_id"),
                               ("contacts", "handover_note_key_id"), ("handoffs", "key_id"))}
    await engine.dispose()
    return counts


OLD = "old:" + "C" * 43
NEW = "new:" + "D" * 43


class Crash(Exception):
    pass


async def test_rotation_reseals_old_and_clear_rows_resumes_after_a_crash_and_needs_only_the_new_key(
    make_server: ServerFactory, clients_of: ClientsOf, database_url: str
) -> None:
    server = await make_server(data_keys=OLD)
    contact_id, _, hid = await a_whole_conversation(clients_of(server))
    await server.stop()
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:  # rows from before sealing: clear, no key id
        await conn.execute(text(
            "INSERT INTO messages (contact_id, seq, sender, text, sent_at) "
            "SELECT contact_id, seq + 100, sender, 'clair ' || seq, sent_at FROM messages"))
    await engine.dispose()
    assert await count_sealed(database_url) == {"messages": 2, "wrapups": 1, "contacts": 1, "handoffs": 1}

    store = Store(database_url, KeyRing.from_text(f"{OLD},{NEW}"))
    batches: list[tuple[str, int]] = []

    def crash_after_one_batch(table: str, rows: int) -> None:
        batches.append((table, rows))
        raise Crash()

    try:
        with pytest.raises(Crash):
            await rotate(store, 1, crash_after_one_batch)
        assert batches == [("messages", 1)]
        assert (await pending(store))["messages"] == 3  # one done and committed, three to go
        done = await rotate(store, 2)  # run again: it picks up where it stopped
        assert done.resealed == {"messages": 3, "wrapups": 1, "contacts": 1, "handoffs": 1}
        assert await pending(store) == {"messages": 0, "wrapups": 0, "contacts": 0, "handoffs": 0}
        assert (await rotate(store, 2)).resealed == dict.fromkeys(done.resealed, 0)  # nothing left
    finally:
        await store.close()

    server = await make_server(data_keys=NEW)  # the old key is gone: everything still reads
    clients = clients_of(server)
    bob = clients.counsellor("bob")
    await bob.login()
    status, transcript = await call(bob, "GET", f"/contacts/{contact_id}/messages")
    assert status == 200
    assert [m["text"] for m in transcript["messages"]] == [SAID, ANSWERED, "clair 1", "clair 2"]
    status, wrapup = await call(bob, "GET", f"/contacts/{contact_id}/wrapup")
    assert wrapup["note"] == WRAPUP_NOTE
    status, handoff = await call(bob, "GET", f"/handoffs/{hid}")
    assert handoff["fields"]["description"] == DESCRIPTION and handoff["excerpts"][0]["text"] == SAID


def test_on_postgresql_without_keys_the_server_refuses_to_start_in_one_line(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"  # refused before any connection
    for args in (["serve"], ["keys", "rotate"]):
        result = run_with(args, tmp_path, HELPLINE_DATABASE_URL=url)
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.splitlines()
        assert line.startswith("error: HELPLINE_DATA_KEYS is required with PostgreSQL")
        assert "helpline keys generate" in line and result.stdout == ""


def test_a_bad_key_ring_is_named_without_its_keys(tmp_path: Path) -> None:
    key = "E" * 40
    for ring in (f"k1:{key}", f"Bad_Id:{key}AAA", f"a:{'F' * 43},a:{'F' * 43}"):
        result = run_with(["serve"], tmp_path, HELPLINE_DATA_KEYS=ring)
        assert result.returncode == 2
        [line] = result.stderr.splitlines()
        assert line.startswith("error: HELPLINE_DATA_KEYS is not valid: entry "), line
        assert key not in line and "F" * 10 not in line


def test_keys_generate_prints_a_new_entry_named_after_the_day(tmp_path: Path) -> None:
    result = run_with(["keys", "generate"], tmp_path)
    assert result.returncode == 0, result.stderr
    entry = result.stdout.strip()
    ring = KeyRing.from_text(entry)
    assert ring.newest is not None and ring.newest.startswith("k2")
    again = run_with(["keys", "generate"], tmp_path, HELPLINE_DATA_KEYS=entry)
    assert again.stdout.startswith(f"{ring.newest}-2:")  # not an id the ring already has
    assert again.stdout.strip() != entry


async def test_keys_rotate_from_the_command_line_without_a_terminal(sqlite_url: str, tmp_path: Path) -> None:
    server = await start_server(database_url=sqlite_url, data_keys=OLD)
    clients = Clients(server)
    try:
        await a_whole_conversation(clients)
    finally:
        await clients.close()
        await server.stop()
    env = {"HELPLINE_DATABASE_URL": sqlite_url, "HELPLINE_DATA_KEYS": f"{OLD},{NEW}"}
    result = await asyncio.to_thread(run_with, ["keys", "rotate", "--batch", "1"], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert "re-sealing under new: 5 row(s) to do" in result.stdout
    assert "messages  2 re-sealed" in result.stdout and "handoffs  1 re-sealed" in result.stdout
    assert "5/5" in result.stderr  # the progress bar, written to a pipe
    assert await count_sealed(sqlite_url) == {"messages": 2, "wrapups": 1, "contacts": 1, "handoffs": 1}
    again = await asyncio.to_thread(run_with, ["keys", "rotate"], tmp_path, **env)
    assert "0 row(s) to do" in again.stdout


async def test_migration_0013_keeps_clear_rows_readable_and_goes_back_only_without_sealed_rows(
    database_url: str,
) -> None:
    from helpline.store.migrate import downgrade, upgrade

    await asyncio.to_thread(downgrade, database_url, "0012")
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:  # a conversation stored before 0013
        await conn.execute(text(
            "INSERT INTO contacts (id, token_hash, channel, profile, skill, priority, state, created_at, "
            "enqueued_at, last_seq, visitor_seen_at, visitor_sockets, handover_note) VALUES ("
            f"'{CONTACT_ID}', 'h', 'chat', '{{}}', 'general', 2, 'queued', '2026-11-27 10:00:00', "
            "'2026-11-27 10:00:00', 1, '2026-11-27 10:00:00', 0, 'note claire')"))
        await conn.execute(text(
            "INSERT INTO messages (contact_id, seq, sender, text, sent_at) VALUES "
            f"('{CONTACT_ID}', 1, 'visitor', 'avant', '2026-11-27 10:00:00')"))
    await asyncio.to_thread(upgrade, database_url)
    store = Store(database_url, KeyRing.from_text(NEW))
    try:
        async with store.reading() as tx:
            assert [m.text for m in await tx.messages.after(CONTACT_ID, 0)] == ["avant"]
            contact = await tx.contacts.get(CONTACT_ID)
            assert contact is not None and contact.handover_note == "note claire"
        assert (await rotate(store, 10)).resealed["messages"] == 1
    finally:
        await store.close()
    with pytest.raises(RuntimeError, match="sealed"):  # going back would leave ciphertext as text
        await asyncio.to_thread(downgrade, database_url, "0012")
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM messages"))
        await conn.execute(text("DELETE FROM contacts"))
    await engine.dispose()
    await asyncio.to_thread(downgrade, database_url, "0012")
    await asyncio.to_thread(upgrade, database_url)


CONTACT_ID = "c" * 32
