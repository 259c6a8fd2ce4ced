"""Legal holds over the API: admins list the held contacts (never text) and release one with
a reason, audited; anyone else, and every malformed request, gets a clear 4xx and the hold
stays."""

from __future__ import annotations

import aiohttp

from helpline.domain.counsellor import Role
from tests.clients import Clients, Server
from tests.integration.test_handoffs import PHAROS, call, logged_in


async def test_an_admin_lists_and_releases_a_hold_and_bad_requests_change_nothing(
    server: Server, clients: Clients
) -> None:
    visitor, alice = await clients.talking()
    await visitor.say("il a publié ma photo")
    root = await logged_in(server, clients, "root", Role.ADMIN)
    sam = await logged_in(server, clients, "sam", Role.SUPERVISOR)
    status, draft = await call(alice, "POST", f"/contacts/{visitor.contact_id}/handoffs", PHAROS)
    assert status == 201, draft
    held = {"contact_id": visitor.contact_id, "handoffs": [draft["reference"]]}

    status, listed = await call(root, "GET", "/admin/legal-holds")
    assert status == 200
    [hold] = listed["holds"]
    assert {k: hold[k] for k in ("contact_id", "handoffs")} == held and hold["since"].endswith("Z")
    assert "photo" not in str(listed)

    release = f"/admin/legal-holds/{visitor.contact_id}/release"
    for who in (alice, sam):  # a counsellor, a supervisor: not theirs to see or release
        assert (await call(who, "GET", "/admin/legal-holds"))[0] == 403
        status, body = await call(who, "POST", release, {"reason": "fini"})
        assert (status, body["error"]["code"]) == (403, "forbidden")
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(f"{server.url}/api/v1/admin/legal-holds") as r:
            assert r.status == 401
        async with anonymous.post(f"{server.url}/api/v1{release}", json={"reason": "x"}) as r:
            assert r.status in (401, 403)
    for body in ({}, {"reason": ""}, {"reason": "x" * 501}, {"reason": 12}, {"reason": "a\x00b"},
                 {"reason": "ok", "extra": 1}, ["reason"]):
        status, answer = await call(root, "POST", release, body)
        assert status in (400, 422), (body, status, answer)
    async with root.http.post(f"{server.url}/api/v1{release}", data=b"{not json",
                              headers={"Content-Type": "application/json"}) as r:
        assert r.status == 400
    assert (await call(root, "POST", "/admin/legal-holds/not-a-contact-id/release", {"reason": "x"}))[0] in (
        400, 404, 422)
    status, body = await call(root, "POST", f"/admin/legal-holds/{'0' * 32}/release", {"reason": "x"})
    assert (status, body["error"]["code"]) == (404, "no_hold")
    assert [h["contact_id"] for h in (await call(root, "GET", "/admin/legal-holds"))[1]["holds"]] == [
        visitor.contact_id]  # still held after every refusal

    assert (await call(root, "POST", release, {"reason": "Dossier clos"}))[0] == 204
    assert (await call(root, "GET", "/admin/legal-holds"))[1] == {"holds": []}
    status, body = await call(root, "POST", release, {"reason": "again"})
    assert (status, body["error"]["code"]) == (404, "no_hold")
    audit = (await call(root, "GET", "/admin/audit"))[1]["records"]
    released = [r for r in audit if r["action"] == "release_hold"]
    assert len(released) == 1 and released[0]["contact_id"] == visitor.contact_id
    assert "Dossier clos" not in str(audit)  # the reason is kept with the hold, not in the log
