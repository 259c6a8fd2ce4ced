"""The leak hunt: unique markers go in through every way a young person, a caller or a
counsellor can bring personal data (words typed in a chat, among them a phone number and an
e-mail address; the visitor's token; the client address a trusted proxy forwards; the user
agent; a caller's number through the phone simulator; the handover, wrap-up and hand-off
notes). A day of flows follows on a real server process, with a key rotation and the purge.
Then every byte the database holds, every line the server logged and every answer a
counsellor, a supervisor or an admin can fetch are searched:

- the address, the user agent, the caller's number (in any form) and the token are found
  nowhere, ever;
- what people wrote is found only in the API answers of those allowed to read it, never in
  the database (sealed) nor in the logs;
- after the purge (the hold of the handed-off contact released), no marker is found anywhere,
  and the anonymous facts are still there."""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.clients import Counsellor, Visitor
from tests.conftest import prepare_postgres
from tests.e2e.server_process import ServerProcess
from tests.integration.test_handoffs import PHAROS
from tests.integration.test_sealed_at_rest import pg_dump
from tests.phone import TOKEN

pytestmark = pytest.mark.e2e
TAG = secrets.token_hex(4)
DIGITS = f"{secrets.randbelow(10**8):08d}"
SPOKEN = f"06 {DIGITS[0:2]} {DIGITS[2:4]} {DIGITS[4:6]} {DIGITS[6:8]}"  # typed in the chat
EMAIL = f"lea.{TAG}@example.org"  # typed in the chat
SAID = f"il me fait du chantage {TAG}-said"
ANSWER = f"tu as bien fait d'appeler {TAG}-answer"
HANDOVER = f"menaces répétées {TAG}-handover"
NOTE = f"orientée vers PHAROS {TAG}-note"
DESCRIPTION = f"photo publiée sans accord {TAG}-handoff"
ADDRESS = f"203.0.113.{secrets.randbelow(200) + 20}"  # the young person's, as the proxy saw it
AGENT = f"Mozilla/5.0 LeakHunt/{TAG}"
CALLER = f"+3375{secrets.randbelow(10**7):07d}"
SECRET_KEY = secrets.token_hex(32)  # callers and chat senders keyed as in production
WRITTEN = (SPOKEN, EMAIL, SAID, ANSWER, HANDOVER, NOTE, DESCRIPTION)  # sealed at rest, never logged
READABLE = (SPOKEN, EMAIL, SAID, ANSWER, NOTE, DESCRIPTION)  # over HTTP too (the handover note: socket only)
NEVER = (ADDRESS, AGENT, CALLER, CALLER[1:], "0" + CALLER[3:], SPOKEN.replace(" ", ""))
WRAPUP = {"categories": ["sextortion"], "contacted_by": "young_person", "age_band": "15_17",
          "platforms": ["snapchat"], "outcomes": ["advice"], "note": NOTE}


class HuntedServer(ServerProcess):
    def env(self) -> dict[str, str]:
        return {**super().env(), "HELPLINE_TWILIO_AUTH_TOKEN": TOKEN, "HELPLINE_HOLD_ANNOUNCE_S": "1",
                "HELPLINE_TRUSTED_PROXIES": "127.0.0.1", "HELPLINE_DISPATCH_INTERVAL_S": "0.5",
                "HELPLINE_SECRET_KEY": SECRET_KEY}


class Hunt:
    """Where the markers may be looked for, and every API answer fetched so far."""

    def __init__(self, server: HuntedServer, postgres: str | None) -> None:
        self.server, self.postgres = server, postgres
        self.answers: list[bytes] = []
        self.tokens: list[str] = []

    async def database(self) -> bytes:
        """Every byte the database holds: the SQLite file with its -wal, or a pg_dump."""
        if self.postgres is None:
            return self.server.database_bytes()
        return pg_dump(self.postgres)

    async def fetch(self, who: Counsellor, path: str) -> Any:
        async with who.http.get(f"{self.server.url}/api/v1{path}") as r:
            body = await r.read()
        answer = json.loads(body) if body[:1] in (b"{", b"[") else None
        # As a reader sees it: "é", not the "\u00e9" of the JSON on the wire.
        self.answers.append(json.dumps(answer, ensure_ascii=False).encode() if answer is not None else body)
        return answer if r.status == 200 else None

    async def everything_readable(self, staff: list[Counsellor], contacts: list[str]) -> bytes:
        """Every answer the staff can fetch about the floor and these contacts."""
        self.answers.clear()
        for who in staff:
            for path in ("/auth/me", "/console/colleagues", "/supervisor/overview",
                         "/supervisor/conversations", "/handoffs", "/admin/audit", "/admin/legal-holds",
                         "/admin/counsellors", "/status"):
                await self.fetch(who, path)
            for contact_id in contacts:
                await self.fetch(who, f"/contacts/{contact_id}/messages")
                await self.fetch(who, f"/contacts/{contact_id}/wrapup")
            listed = await self.fetch(who, "/handoffs")
            for handoff in (listed or {}).get("handoffs", []):
                await self.fetch(who, f"/handoffs/{handoff['id']}")
        return b"".join(self.answers)

    def never(self) -> list[bytes]:
        """What is found nowhere, ever: the proxy's address, the user agent, the caller's
        number, the visitors' tokens."""
        return [m.encode() for m in (*NEVER, *self.tokens)]

    def token_hashes(self) -> list[bytes]:
        """What stands for a token while its contact lives; gone with the transcript."""
        return [hashlib.sha256(t.encode()).hexdigest().encode() for t in self.tokens]


def found(markers: tuple[str, ...] | list[bytes], where: bytes) -> list[str]:
    return [m if isinstance(m, str) else m.decode() for m in markers
            if (m.encode() if isinstance(m, str) else m) in where]


@asynccontextmanager
async def people(server: ServerProcess) -> AsyncIterator[dict[str, Counsellor]]:
    accounts = {"alice": ("counsellor", "client:alice"), "bob": ("counsellor", None),
                "sam": ("supervisor", None), "ada": ("admin", None)}
    staff: dict[str, Counsellor] = {}
    for name, (role, voice) in accounts.items():
        args = ["counsellor", "add", name, "--password-stdin", "--role", role, "--max-chats", "1"]
        code, _, err = await server.cli(*args, *(["--voice", voice] if voice else []), stdin="secret-pass\n")
        assert code == 0, err
        staff[name] = Counsellor(server, name)  # type: ignore[arg-type]
        await staff[name].login()
    try:
        yield staff
    finally:
        for who in staff.values():
            await who.close()


def young_person(server: ServerProcess) -> Visitor:
    """A visitor whose requests come through the trusted proxy with the markers' headers."""
    return Visitor(server, {"User-Agent": AGENT, "X-Forwarded-For": ADDRESS})  # type: ignore[arg-type]


async def a_day(hunt: Hunt, staff: dict[str, Counsellor]) -> tuple[str, str, int]:
    """A conversation handed over, wrapped up and handed off; a second one; a call nobody
    answers. The two chats' contact ids and the hand-off's id."""
    server, alice, bob = hunt.server, staff["alice"], staff["bob"]
    first, second = young_person(server), young_person(server)
    try:
        await first.start(profile={"role": "young_person", "age_band": "15_17", "topic": "sextortion"})
        hunt.tokens.append(first.token)
        await first.connect()
        await alice.connect()
        contact_id = (await alice.expect("assigned"))["contact"]["contact_id"]
        await first.say(SAID)
        await first.say(f"mon numéro c'est le {SPOKEN}, mon mail {EMAIL}")
        await alice.say(contact_id, ANSWER)
        await bob.connect()
        bob_id = (await hunt.fetch(bob, "/auth/me"))["id"]
        await alice.transfer(contact_id, {"counsellor": bob_id}, mode="cold", note=HANDOVER)
        assert (await bob.expect("assigned", timeout=10))["contact"]["note"] == HANDOVER
        await bob.send_json({"type": "end", "contact_id": contact_id})
        await bob.expect("ended", contact_id=contact_id)
        async with bob.http.put(f"{server.url}/api/v1/contacts/{contact_id}/wrapup", json=WRAPUP) as r:
            assert r.status == 200, await r.text()
        pharos = {**PHAROS, "fields": {**PHAROS["fields"], "description": DESCRIPTION}, "excerpts": [1]}
        async with bob.http.post(f"{server.url}/api/v1/contacts/{contact_id}/handoffs", json=pharos) as r:
            assert r.status == 201, await r.text()
            handoff_id = (await r.json())["id"]
        async with first.http.post(f"{server.url}/api/v1/contacts/{contact_id}/survey",
                                   json={"token": first.token, "helpful": "yes", "again": "yes"}) as r:
            assert r.status == 201, await r.text()

        await second.start()
        hunt.tokens.append(second.token)
        await second.connect()
        other_id = (await alice.expect("assigned"))["contact"]["contact_id"]
        await second.say(f"{TAG}-second je voulais juste savoir")
        await alice.send_json({"type": "end", "contact_id": other_id})
        await alice.expect("ended", contact_id=other_id)
    finally:
        await first.close()
        await second.close()
    await alice.drop()
    await bob.drop()
    code, out, err = await server.cli("telephony", "simulate", "--caller", CALLER, "--press", "1",
                                      "--hangup-after", "2", "--url", server.url)
    assert code == 0, out + err
    return contact_id, other_id, handoff_id


async def age(hunt: Hunt, days: int) -> None:
    """``days`` pass for every contact, survey and hand-off (the database is the clock)."""
    statements = [("contacts", ("created_at", "enqueued_at", "ended_at")),
                  ("handoffs", ("created_at", "updated_at")), ("surveys", ("answered_on",))]
    if hunt.postgres is None:
        with sqlite3.connect(hunt.server.db_path) as db:
            for table, columns in statements:
                shift = ", ".join(f"{c} = datetime({c}, '-{days} days')" if c != "answered_on"
                                  else f"{c} = date({c}, '-{days} days')" for c in columns)
                db.execute(f"UPDATE {table} SET {shift}")  # names from this test
        return
    engine = create_async_engine(hunt.postgres)
    async with engine.begin() as conn:
        for table, columns in statements:
            shift = ", ".join(f"{c} = {c} - interval '{days} days'" for c in columns)
            await conn.execute(text(f"UPDATE {table} SET {shift}"))
    await engine.dispose()


async def rows(hunt: Hunt, sql: str) -> list[tuple[Any, ...]]:
    if hunt.postgres is None:
        with sqlite3.connect(hunt.server.db_path) as db:
            return db.execute(sql).fetchall()
    engine = create_async_engine(hunt.postgres)
    async with engine.connect() as conn:
        result = [tuple(r) for r in await conn.execute(text(sql))]
    await engine.dispose()
    return result


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_markers_are_only_where_allowed_and_nowhere_after_the_purge(
    tmp_path: Path, database: str
) -> None:
    postgres = await prepare_postgres() if database == "postgres" else None
    server = HuntedServer(tmp_path, **({"database_url": postgres} if postgres else {}))
    code, first_key, err = await server.cli("keys", "generate")
    assert code == 0, err
    server.settings["HELPLINE_DATA_KEYS"] = first_key.strip()
    hunt = Hunt(server, postgres)
    await server.start()
    try:
        async with people(server) as staff:
            held, other, _handoff_id = await a_day(hunt, staff)
            readers = [staff["alice"], staff["bob"], staff["sam"], staff["ada"]]
            answers = await hunt.everything_readable(readers, [held, other])
            assert found(READABLE, answers) == list(READABLE)  # the search works: they are readable
            for where in (answers, await hunt.database(), server.output()):
                assert found(hunt.never(), where) == []
            assert found(WRITTEN, await hunt.database() + server.output()) == []  # sealed, never logged

            # The caller asks to be forgotten, giving their number as they know it.
            national = f"0{CALLER[3]} {CALLER[4:6]} {CALLER[6:8]} {CALLER[8:10]} {CALLER[10:]}"
            code, out, err = await server.cli("telephony", "forget", stdin=national + "\n")
            assert (code, out.strip()) == (0, "caller forgotten: key erased from 1 contact(s)"), err
            assert await rows(hunt, "SELECT count(*) FROM contacts WHERE caller_key IS NOT NULL") == [(0,)]

            # A new key, the server restarted with both, every row re-sealed while it runs, then
            # the old key gone: everything still reads.
            code, second_key, err = await server.cli("keys", "generate")
            assert code == 0, err
            await server.stop()
            server.settings["HELPLINE_DATA_KEYS"] = f"{first_key.strip()},{second_key.strip()}"
            await server.start()
            code, out, err = await server.cli("keys", "rotate")
            assert code == 0, out + err
            await server.stop()
            server.settings["HELPLINE_DATA_KEYS"] = second_key.strip()
            await server.start()
            for who in readers:
                await who.login()
            answers = await hunt.everything_readable(readers, [held, other])
            assert found(READABLE, answers) == list(READABLE)

            # Four hundred days later: the purge takes all but the held contact; the hold released,
            # it takes that one too.
            await age(hunt, 400)
            code, out, err = await server.cli("purge")
            assert code == 0, out + err
            answers = await hunt.everything_readable(readers, [held, other])
            assert f"{TAG}-second".encode() not in answers and SAID.encode() in answers
            async with staff["ada"].http.post(f"{server.url}/api/v1/admin/legal-holds/{held}/release",
                                              json={"reason": "Dossier clos par le 119"}) as r:
                assert r.status in (200, 204), await r.text()
            code, out, err = await server.cli("purge")
            assert code == 0, out + err
            answers = await hunt.everything_readable(readers, [held, other])
    finally:
        assert await server.stop() == 0

    remains = answers + await hunt.database() + server.output()
    assert found((*WRITTEN, f"{TAG}-second"), remains) == []
    assert found(hunt.never() + hunt.token_hashes(), remains) == []
    assert await rows(hunt, "SELECT count(*) FROM messages") == [(0,)]
    facts = await rows(hunt, "SELECT channel, categories FROM contact_facts ORDER BY channel")
    assert [f[0] for f in facts] == ["chat", "chat", "voice"] and "sextortion" in str(facts[0][1])
