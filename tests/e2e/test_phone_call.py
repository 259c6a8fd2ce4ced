"""A whole call against the real server process, played by the call simulator: the
caller waits hearing their place, a counsellor takes the call in the console, hangs up,
writes the wrap-up. The caller's number is in neither the database nor the logs."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from telephony.simulator import Caller
from tests.clients import Counsellor, queue_length_becomes
from tests.e2e.server_process import ServerProcess
from tests.phone import TOKEN

pytestmark = pytest.mark.e2e
NUMBER = "+33612345678"
PLACE = 'hears (fr-FR): "Vous êtes le prochain appel."'


class PhoneServer(ServerProcess):
    def env(self) -> dict[str, str]:
        env = super().env()
        env.update(
            {
                "HELPLINE_TWILIO_AUTH_TOKEN": TOKEN,
                "HELPLINE_HOLD_ANNOUNCE_S": "1",
                "HELPLINE_DISPATCH_INTERVAL_S": "0.5",
            }
        )
        return env


class Listener:
    """What the simulated caller hears, awaited line by line."""

    def __init__(self) -> None:
        self.lines: asyncio.Queue[str] = asyncio.Queue()

    def __call__(self, line: str) -> None:
        self.lines.put_nowait(line)

    async def until(self, needle: str, times: int = 1) -> None:
        async with asyncio.timeout(20):
            while times:
                if needle in await self.lines.get():
                    times -= 1


@contextlib.asynccontextmanager
async def phone_line(tmp_path: Path) -> AsyncIterator[tuple[PhoneServer, Counsellor]]:
    """The server on the fake carrier, and Alice, whose calls ring at ``client:alice``
    (not yet logged in); both stopped at the end."""
    server = PhoneServer(tmp_path)
    await server.start()
    counsellor = Counsellor(server, "alice")  # type: ignore[arg-type]
    try:
        code, _, err = await server.cli(
            "counsellor", "add", "alice", "--password-stdin", "--voice", "client:alice", stdin="secret-pass\n"
        )
        assert code == 0, err
        yield server, counsellor
    finally:
        await counsellor.close()
        await server.stop()


async def test_a_call_waits_reaches_a_counsellor_who_hangs_up_and_writes_the_wrapup(tmp_path: Path) -> None:
    async with phone_line(tmp_path) as (server, counsellor):
        heard = Listener()
        caller = Caller(server=server.url, token=TOKEN, number=NUMBER, press="3", say=heard)
        call = asyncio.create_task(caller.run())
        await heard.until(PLACE, times=2)  # the hold loop comes round, telling the place each time

        await counsellor.login()
        await counsellor.connect()
        contact = (await counsellor.expect("assigned"))["contact"]
        assert contact["channel"] == "voice" and contact["profile"]["role"] == "professional"
        await heard.until("rings client alice")
        await heard.until("a counsellor answers")

        await counsellor.send_json({"type": "end", "contact_id": contact["contact_id"]})
        await counsellor.expect("ended", contact_id=contact["contact_id"])
        await asyncio.wait_for(call, 20)
        assert caller.heard[-1] == "call over: the counsellor hung up"

        wrapup = {
            "categories": ["sextortion"],
            "contacted_by": "professional",
            "age_band": "11_14",
            "platforms": ["snapchat"],
            "outcomes": ["advice"],
        }
        async with counsellor.http.put(
            f"{server.url}/api/v1/contacts/{contact['contact_id']}/wrapup", json=wrapup
        ) as r:
            assert r.status == 200, await r.text()

    row = (
        sqlite3.connect(server.db_path)
        .execute("SELECT state, channel, wait_s, talk_s, carrier_ref FROM contacts")
        .fetchone()
    )
    assert row[:2] == ("ended", "voice") and row[2] is not None and row[3] is not None and row[4] is None
    for written in (server.database_bytes(), server.output()):
        for form in (NUMBER, NUMBER[1:], "612345678", "6 12 34 56 78"):
            assert form.encode() not in written


async def test_the_counsellor_puts_a_caller_through_to_17_and_the_simulator_shows_it(tmp_path: Path) -> None:
    async with phone_line(tmp_path) as (server, counsellor):
        await counsellor.login()
        await counsellor.connect()
        simulate = asyncio.create_task(server.cli(
            "telephony", "simulate", "--caller", NUMBER, "--press", "1", "--url", server.url))
        contact_id = (await counsellor.expect("assigned"))["contact"]["contact_id"]
        await counsellor.send_json({"type": "put_through", "contact_id": contact_id, "number": "17"})
        assert (await counsellor.expect("ended", contact_id=contact_id))["reason"] == "put_through"
        code, out, err = await simulate
        assert code == 0, err
    lines = [line.split("] ", 1)[-1] for line in out.splitlines()]
    assert lines[-4:] == [
        "is put through by the helpline",
        'hears (fr-FR): "Nous vous mettons en relation avec le 17, Police secours (urgence immédiate).'
        ' Restez en ligne."',
        "the call is dialled to 17 (the helpline has left the call)",
        "call over: put through to 17",
    ]
    row = sqlite3.connect(server.db_path).execute("SELECT state, end_reason FROM contacts").fetchone()
    assert row == ("ended", "put_through")


async def test_a_caller_who_hangs_up_while_waiting_is_abandoned(tmp_path: Path) -> None:
    server = PhoneServer(tmp_path)
    await server.start()
    try:
        heard = Listener()
        caller = Caller(server=server.url, token=TOKEN, number=NUMBER, press="1", say=heard, hangup_after=1.5)
        assert (await asyncio.wait_for(caller.run(), 20))[-1] == "call over: the caller hung up"
        await queue_length_becomes(server.url, 0)
    finally:
        await server.stop()
    state = sqlite3.connect(server.db_path).execute("SELECT state FROM contacts").fetchone()
    assert state == ("abandoned",)


async def test_the_telephony_commands_say_clearly_what_they_miss(tmp_path: Path) -> None:
    server = PhoneServer(tmp_path)  # not started: nobody answers on its port
    code, _, err = await server.cli("telephony", "configure", "--number", "+33800000000")
    assert code == 2 and "HELPLINE_TWILIO_ACCOUNT_SID" in err
    code, _, err = await server.cli("telephony", "simulate", "--caller", NUMBER, "--url", server.url)
    assert code == 1 and err.startswith("error: ")
    code, _, err = await server.cli(
        "counsellor", "add", "zoe", "--password-stdin", "--voice", "0612", stdin="secret-pass\n"
    )
    assert code == 1 and "invalid_voice_endpoint" in err
