"""A purged transcript is gone: a real conversation through a real server process, aged past
its retention, then `helpline purge`. The messages as stored (sealed) and a marker typed in the
chat and the wrap-up note are in neither the SQLite file nor its -wal, nor in a pg_dump of
PostgreSQL, nor in the server's logs; the contact's facts are kept. The command's dry run, progress and
summary are checked on the way."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.clients import Counsellor, Visitor
from tests.conftest import _unavailable, prepare_postgres
from tests.e2e.server_process import ServerProcess

pytestmark = pytest.mark.e2e


async def age(server: ServerProcess, postgres: str | None) -> None:
    """Forty days pass for every contact (the test's clock is the database's content)."""
    if postgres is None:
        with sqlite3.connect(server.db_path) as db:
            db.execute("UPDATE contacts SET ended_at = datetime(ended_at, '-40 days'),"
                       " created_at = datetime(created_at, '-40 days')")
        return
    engine = create_async_engine(postgres)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE contacts SET ended_at = ended_at - interval '40 days',"
                                " created_at = created_at - interval '40 days'"))
    await engine.dispose()


async def conversation(server: ServerProcess, marker: str) -> str:
    code, _, err = await server.cli("counsellor", "add", "alice", "--password-stdin", stdin="secret-pass\n")
    assert code == 0, err
    visitor, alice = Visitor(server), Counsellor(server, "alice")  # type: ignore[arg-type]
    try:
        await visitor.start()
        await visitor.connect()
        await alice.login()
        await alice.connect()
        contact_id = (await alice.expect("assigned"))["contact"]["contact_id"]
        await visitor.say(f"{marker} from the young person")
        await alice.say(contact_id, f"{marker} from the counsellor")
        await visitor.expect("message", sender="counsellor")
        await alice.send_json({"type": "end", "contact_id": contact_id})
        await alice.expect("ended", contact_id=contact_id)
        wrapup = {"categories": ["sextortion"], "contacted_by": "young_person", "age_band": "15_17",
                  "platforms": ["snapchat"], "outcomes": ["advice"], "note": f"{marker} in the note"}
        async with alice.http.put(f"{server.url}/api/v1/contacts/{contact_id}/wrapup", json=wrapup) as r:
            assert r.status == 200, await r.text()
        return contact_id
    finally:
        await visitor.close()
        await alice.close()


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_purged_transcript_is_gone_from_the_files_the_dump_and_the_logs(
    tmp_path: Path, database: str
) -> None:
    postgres = await prepare_postgres() if database == "postgres" else None
    if postgres is not None and shutil.which("pg_dump") is None:
        _unavailable("pg_dump")
    marker = f"purge-marker-{secrets.token_hex(6)}"
    server = ServerProcess(tmp_path, **({"database_url": postgres} if postgres else {}))
    await server.start()
    try:
        contact_id = await conversation(server, marker)
        sealed = await sealed_texts(server, postgres)
        before = await stored(server, postgres)
        assert len(sealed) == 2 and all(s in before for s in sealed)  # the search finds them while there
        await age(server, postgres)

        code, out, err = await server.cli("purge", "--dry-run")
        assert code == 0, err
        assert "would go (dry run):" in out and _count(out, "messages") == 2 and _count(out, "notes") == 1
        code, out, err = await server.cli("purge")
        assert code == 0, err
        assert "gone:" in out and _count(out, "messages") == 2 and _count(out, "notes") == 1
        assert "messages" in err and "100%" in err  # tqdm's bar, on a stderr that is not a terminal
        code, out, _ = await server.cli("purge", "--dry-run")
        assert _count(out, "messages") == 0  # nothing left
    finally:
        assert await server.stop() == 0

    written = server.output() + await stored(server, postgres)
    assert marker.encode() not in written
    assert [s for s in sealed if s in written] == []
    if postgres is None:
        wal = server.db_path.with_name("e2e.db-wal")
        assert not wal.exists() or wal.stat().st_size == 0  # checkpointed
        with sqlite3.connect(server.db_path) as db:
            facts = db.execute("SELECT categories, outcome FROM contact_facts WHERE contact_id = ?",
                               (contact_id,)).fetchall()
        assert facts == [('["sextortion"]', "answered")]
    else:
        assert b"contact_facts" in written and b"sextortion" in written


async def sealed_texts(server: ServerProcess, postgres: str | None) -> list[bytes]:
    """The messages' texts as the database holds them."""
    if postgres is None:
        with sqlite3.connect(server.db_path) as db:
            return [row[0].encode() for row in db.execute("SELECT text FROM messages")]
    engine = create_async_engine(postgres)
    async with engine.connect() as conn:
        found = [row[0].encode() for row in await conn.execute(text("SELECT text FROM messages"))]
    await engine.dispose()
    return found


async def stored(server: ServerProcess, postgres: str | None) -> bytes:
    """Every byte the database holds: the SQLite file and its -wal, or a pg_dump."""
    if postgres is None:
        return server.database_bytes()
    url = urlsplit(postgres.replace("+asyncpg", ""))
    dump = await asyncio.create_subprocess_exec(
        "pg_dump", "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432),
        "-U", url.username or "postgres", url.path.lstrip("/"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ))
    dumped, errors = await dump.communicate()
    assert dump.returncode == 0, errors
    return dumped


def _count(summary: str, kind: str) -> int:
    [line] = [line for line in summary.splitlines() if line.split() and line.split()[0] == kind]
    return int(line.split()[1].replace(",", ""))
