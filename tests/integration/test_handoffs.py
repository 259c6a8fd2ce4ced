"""Hand-offs over the API: a counsellor drafts one from a conversation, a second person
approves it, the partner's answer is recorded, and the audit log shows every step; bad
input and someone else's hand-off change nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from helpline.domain.counsellor import Role
from tests.clients import Clients, Counsellor, Server
from tests.conftest import ServerFactory
from tests.handoff_targets import webhook_target
from tests.integration import test_handoff_delivery
from tests.integration.conftest import ClientsOf
from tests.integration.test_cli_and_schema import run
from tests.integration.test_handoff_delivery import SECRET, Receiver

receiver = test_handoff_delivery.receiver  # the partner's endpoint, a fixture

PHAROS = {"target": "pharos", "fields": {
    "urls": ["https://social.example/p/123"], "content_type": "sexual_image_shared",
    "seen_on": "2026-11-26", "description": "Une photo intime publiée sans accord."}}


async def call(console: Counsellor, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with console.http.request(method, f"{console.server.url}/api/v1{path}", json=body) as r:
        return r.status, (await r.json() if r.content_type == "application/json" else await r.text())


async def logged_in(server: Server, clients: Clients, username: str, role: Role) -> Counsellor:
    await server.add_counsellor(username, role=role, max_chats=1)
    console = clients.counsellor(username)
    await console.login()
    return console


async def test_a_pharos_report_is_drafted_approved_by_another_filed_and_audited(
    server: Server, clients: Clients
) -> None:
    visitor, alice = await clients.talking()
    await visitor.say("il a publié ma photo")
    await visitor.say("voici le lien https://social.example/p/123")
    sam = await logged_in(server, clients, "sam", Role.SUPERVISOR)
    root = await logged_in(server, clients, "root", Role.ADMIN)

    status, draft = await call(alice, "POST", f"/contacts/{visitor.contact_id}/handoffs",
                               {**PHAROS, "excerpts": [2]})
    assert status == 201, draft
    assert draft["state"] == "draft" and draft["reference"].startswith("H-")
    assert draft["fields"] == PHAROS["fields"]
    assert [e["text"] for e in draft["excerpts"]] == ["voici le lien https://social.example/p/123"]
    hid = draft["id"]

    assert (await call(alice, "POST", f"/handoffs/{hid}/submit"))[1]["state"] == "awaiting_approval"
    status, refused = await call(alice, "POST", f"/handoffs/{hid}/approve")
    assert (status, refused["error"]["code"]) == (403, "four_eyes")
    status, approved = await call(sam, "POST", f"/handoffs/{hid}/approve")
    sam_id = (await call(sam, "GET", "/auth/me"))[1]["id"]
    assert (status, approved["state"], approved["approver_id"]) == (200, "dispatching", sam_id)
    # PHAROS is filed by hand: the counsellor records the reference the form gave them.
    filing = {"partner_reference": "PH-2026-4471"}
    status, filed = await call(alice, "POST", f"/handoffs/{hid}/partner", filing)
    assert (status, filed["state"], filed["partner_reference"]) == (200, "delivered", "PH-2026-4471")

    status, log = await call(root, "GET", f"/admin/audit?handoff_id={hid}")
    assert status == 200
    assert [(r["action"], r["actor_id"]) for r in log["records"]] == [
        ("create", 1), ("submit", 1), ("approve", sam_id), ("record", 1)]
    assert "photo" not in str(log) and "social.example" not in str(log)  # never payload text
    status, csv_text = await call(root, "GET", "/admin/audit?format=csv")
    assert status == 200 and csv_text.splitlines()[0] == "id,at,actor_id,action,handoff_id,contact_id,detail"


@pytest.mark.parametrize(("target", "reviewed_after"), [("thesee", False), ("emergency", True)])
async def test_guidance_and_emergency_numbers_are_recorded_without_approval_and_nothing_leaves(
    server: Server, clients: Clients, target: str, reviewed_after: bool
) -> None:
    visitor, alice = await clients.talking()
    status, draft = await call(alice, "POST", f"/contacts/{visitor.contact_id}/handoffs", {"target": target})
    assert status == 201, draft
    status, done = await call(alice, "POST", f"/handoffs/{draft['id']}/submit")
    assert (status, done["state"], done["approver_id"]) == (200, "delivered", None)
    assert done["review_needed"] is reviewed_after  # emergency skips approval: a supervisor reviews it


async def test_someone_elses_handoff_does_not_exist_for_a_counsellor(
    server: Server, clients: Clients
) -> None:
    visitor, alice = await clients.talking()
    bob = await logged_in(server, clients, "bob", Role.COUNSELLOR)
    status, refused = await call(bob, "POST", f"/contacts/{visitor.contact_id}/handoffs", PHAROS)
    assert (status, refused["error"]["code"]) == (403, "not_your_contact")
    hid = (await call(alice, "POST", f"/contacts/{visitor.contact_id}/handoffs", PHAROS))[1]["id"]
    for method, path in [("GET", f"/handoffs/{hid}"), ("POST", f"/handoffs/{hid}/submit"),
                         ("POST", f"/handoffs/{hid}/cancel")]:
        status, refused = await call(bob, method, path)
        assert (status, refused["error"]["code"]) == (404, "unknown_handoff"), path
    assert (await call(bob, "GET", "/handoffs"))[1] == {"handoffs": []}
    status, refused = await call(alice, "GET", "/admin/audit")
    assert (status, refused["error"]["code"]) == (403, "forbidden")
    assert (await call(alice, "GET", f"/handoffs/{hid}"))[1]["state"] == "draft"


@pytest.mark.parametrize(("body", "code", "field"), [
    ({**PHAROS, "fields": {**PHAROS["fields"], "phone": "+33612345678"}}, "invalid_handoff", "phone"),
    ({**PHAROS, "fields": {**PHAROS["fields"], "urls": ["file:///photo.jpg"]}}, "invalid_handoff", "urls"),
    ({**PHAROS, "fields": {"content_type": "threat"}}, "invalid_handoff", "urls"),
    ({**PHAROS, "excerpts": [99]}, "invalid_handoff", "excerpts"),
    ({**PHAROS, "target": "nowhere"}, "unknown_target", None),
    ({**PHAROS, "fields": {"urls": 12}}, "invalid_request", None),
    ({**PHAROS, "extra": True}, "invalid_request", None),
])
async def test_a_bad_handoff_is_refused_naming_the_field_and_nothing_is_kept(
    server: Server, clients: Clients, body: dict[str, Any], code: str, field: str | None
) -> None:
    visitor, alice = await clients.talking()
    await visitor.say("bonjour")
    status, refused = await call(alice, "POST", f"/contacts/{visitor.contact_id}/handoffs", body)
    assert status in (404, 422) and refused["error"]["code"] == code, refused
    if field:
        assert refused["error"]["details"][0]["field"] == field
    assert (await call(alice, "GET", "/handoffs"))[1] == {"handoffs": []}


async def test_the_audit_log_cannot_be_changed_or_deleted_even_by_sql(
    server: Server, clients: Clients, database_url: str
) -> None:
    visitor, alice = await clients.talking()
    await call(alice, "POST", f"/contacts/{visitor.contact_id}/handoffs", PHAROS)
    engine = create_async_engine(database_url)
    try:
        for statement in ("UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as conn:
                    await conn.execute(text(statement))
        async with engine.connect() as conn:
            actions = (await conn.execute(text("SELECT action FROM audit_log"))).scalars().all()
        assert actions == ["create"]
    finally:
        await engine.dispose()


async def test_a_platform_notice_approved_by_a_supervisor_reaches_the_partner_once_signed(
    make_server: ServerFactory, clients_of: ClientsOf, receiver: Receiver, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARTNER_SECRET", SECRET)
    targets = webhook_target(
        tmp_path / "targets.toml", "platform_notice", "Plateforme", f"{receiver.url}/hook", "PARTNER_SECRET",
        kind="notice", approval=True, good_faith="De bonne foi.",
        fields=(("urls", "urls", "Adresses"), ("explanation", "text", "Pourquoi")))
    server = await make_server(handoff_targets_file=targets)
    clients = clients_of(server)
    visitor, alice = await clients.talking()
    sam = await logged_in(server, clients, "sam", Role.SUPERVISOR)
    notice = {"target": "platform_notice", "fields": {
        "urls": ["https://social.example/p/9"],
        "explanation": "Image intime d'une mineure publiée sans accord."}}
    hid = (await call(alice, "POST", f"/contacts/{visitor.contact_id}/handoffs", notice))[1]["id"]
    await call(alice, "POST", f"/handoffs/{hid}/submit")
    await call(sam, "POST", f"/handoffs/{hid}/approve")
    delivered = await alice.expect("handoff", id=hid, state="delivered")
    assert list(receiver.effects.values()) == [1] and receiver.rejected == 0
    [body] = receiver.bodies
    assert body["reference"] == delivered["reference"]
    assert body["fields"] == notice["fields"]
    assert body["statement"] == "De bonne foi."  # a notice carries the notifier's good faith (DSA art. 16)
    assert body["helpline"] == {"name": "La ligne d'écoute", "email": "signalements@example.org"}
    assert visitor.token not in str(body) and "alice" not in str(body)
    assert (await call(alice, "GET", f"/handoffs/{hid}"))[1]["partner_reference"] == "P-1"
    root = await logged_in(server, clients, "root", Role.ADMIN)
    log = (await call(root, "GET", f"/admin/audit?handoff_id={hid}"))[1]["records"]
    assert [r["action"] for r in log] == ["create", "submit", "approve", "delivered", "view"]


async def test_the_operator_lists_shows_and_retries_from_the_command_line(
    server: Server, clients: Clients, database_url: str
) -> None:
    visitor, alice = await clients.talking()
    hid = (await call(alice, "POST", f"/contacts/{visitor.contact_id}/handoffs", PHAROS))[1]["id"]
    listed = await asyncio.to_thread(run, ["handoffs", "list", "--state", "draft"], database_url)
    assert listed.returncode == 0, listed.stderr
    assert f"{hid:>5}  H-" in listed.stdout and " pharos " in listed.stdout
    assert "social.example" not in listed.stdout  # no field is shown
    shown = await asyncio.to_thread(run, ["handoffs", "show", str(hid)], database_url)
    assert " create " in shown.stdout and "by 1" in shown.stdout
    retried = await asyncio.to_thread(run, ["handoffs", "retry", str(hid)], database_url)
    assert retried.returncode == 1 and "invalid_handoff_transition" in retried.stderr
    timeline = (await call(alice, "GET", f"/handoffs/{hid}"))[1]["timeline"]
    assert [step["action"] for step in timeline] == ["create", "view"]
