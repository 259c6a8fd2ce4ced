"""A server is killed (SIGKILL) while it delivers a hand-off: the partner has the request,
the helpline never hears the answer. Another server process on the same PostgreSQL takes
the delivery over when the lease runs out, with the same idempotency key: the partner acts
once, and the hand-off ends delivered, with one "delivered" in its audit trail."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from helpline.handoffs_delivery import verify_signature
from tests.clients import Counsellor, Visitor
from tests.e2e.server_process import ServerProcess
from tests.handoff_targets import webhook_target

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SECRET = "a-secret-shared-with-the-hotline"
LEASE_S = 2.0
class Hotline:
    """The partner: acts once per idempotency key. The first request it gets, it keeps
    unanswered (the sender dies meanwhile); later ones are answered."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.effects: dict[str, int] = {}
        self.first = asyncio.Event()
        self.release = asyncio.Event()

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        signature = request.headers.get("X-Helpline-Signature", "")
        if not verify_signature(SECRET, signature, body, datetime.now(UTC)):
            return web.json_response({"error": "signature"}, status=401)
        key = request.headers["Idempotency-Key"]
        self.requests.append(key)
        self.effects[key] = 1  # acting again on the same key changes nothing
        if len(self.requests) == 1:
            self.first.set()
            await self.release.wait()  # the answer never reaches the killed sender
        return web.json_response({"reference": "HOT-1", "received": json.loads(body)["reference"]})


@pytest_asyncio.fixture
async def hotline() -> AsyncIterator[tuple[Hotline, str]]:
    partner = Hotline()
    app = web.Application()
    app.router.add_post("/hook", partner.hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield partner, f"http://127.0.0.1:{runner.addresses[0][1]}"
    partner.release.set()
    await runner.cleanup()


async def api(console: Counsellor, method: str, path: str, body: Any = None) -> Any:
    async with console.http.request(method, f"{console.server.url}/api/v1{path}", json=body) as r:
        assert r.status < 300, await r.text()
        return await r.json()


async def test_a_server_killed_mid_delivery_is_taken_over_and_the_partner_acts_once(
    tmp_path: Path, postgres_url: str, hotline: tuple[Hotline, str]
) -> None:
    partner, url = hotline
    targets = webhook_target(tmp_path / "targets.toml", "hotline", "Hotline", f"{url}/hook",
                             "HELPLINE_HOTLINE_SECRET")
    settings = {"database_url": postgres_url, "handoff_targets_file": str(targets),
                "handoff_lease_s": str(LEASE_S), "hotline_secret": SECRET}
    a, b = ServerProcess.pair(tmp_path, **settings)
    opened: list[Any] = []
    try:
        await a.start()
        await a.cli("counsellor", "add", "sam", "--password-stdin", "--role", "supervisor",
                    stdin="secret-pass\n")
        visitor = Visitor(a)  # type: ignore[arg-type]
        sam = Counsellor(a, "sam")  # type: ignore[arg-type]
        opened += [visitor, sam]
        await visitor.start()
        await visitor.connect()
        await sam.login()
        draft = await api(sam, "POST", f"/contacts/{visitor.contact_id}/handoffs",
                          {"target": "hotline", "fields": {"urls": ["https://bad.example/1"]}})
        await api(sam, "POST", f"/handoffs/{draft['id']}/submit")  # no approval: due at once
        async with asyncio.timeout(20):
            await partner.first.wait()
        await a.kill()  # the partner has it; the helpline never learns the answer

        await b.start()
        watcher = Counsellor(b, "sam")  # type: ignore[arg-type]
        opened.append(watcher)
        await watcher.login()
        await watcher.connect(status=None)
        await watcher.expect("handoff", id=draft["id"], state="delivered", timeout=30)
        assert partner.requests == [partner.requests[0]] * 2  # tried twice, one key
        assert partner.effects == {partner.requests[0]: 1}
        handoff = await api(watcher, "GET", f"/handoffs/{draft['id']}")
        assert (handoff["state"], handoff["partner_reference"]) == ("delivered", "HOT-1")
        steps = [s["action"] for s in handoff["timeline"]]
        assert steps.count("delivered") == 1 and steps[:2] == ["create", "submit"]
    finally:
        for client in opened:
            await client.close()
        for server in (a, b):
            if server.running:
                await server.stop()
