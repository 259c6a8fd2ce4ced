"""What the young person's widget calls: the line's status, starting a contact, the
WebSocket of a contact (/api/v1/contacts/{contact_id}/ws) and the end-of-chat survey."""

from __future__ import annotations

from time import monotonic

from aiohttp import web

from ..domain.contact import Channel, ContactState, EndReason
from ..domain.errors import DomainError
from ..domain.messages import Sender
from ..domain.records import ContactRecord
from ..domain.waiting import PushGate, Standing
from ..services import Services
from ..services import events as ev
from ..services.conversations import LineClosed, SenderBlocked, sender_key
from ..services.events import Event
from ..services.schedule import emergency_resources
from ..services.surveys import answer_survey
from . import params
from .client import request_address
from .connection import CLOSE_BAD_TOKEN, Connection, new_socket
from .errors import error_body, read_json, request_lang
from .keys import REGISTRY, SERVICES, SETTINGS
from .origins import check_origin, origin_allowed, widget_endpoint
from .schemas import (
    ContactCreate,
    ContactCreated,
    SurveyIn,
    SurveyStored,
    VisitorEnd,
    VisitorEnded,
    VisitorEndIn,
    VisitorMessage,
    VisitorTyping,
    visitor_frames,
)


@widget_endpoint(refuse=False)  # read by the widget from its host sites
async def status(request: web.Request) -> web.Response:
    """The public status, readable from any site, and whether this page's site may use the
    widget (``origin_allowed``): the widget says so at once rather than after the questions."""
    body = await request.app[SERVICES].views.status()
    return web.json_response({**body, "origin_allowed": origin_allowed(request)})


@widget_endpoint(refuse=True)  # a site not in HELPLINE_WIDGET_ORIGINS gets 403
async def create_contact(request: web.Request) -> web.Response:
    body = ContactCreate.model_validate(await read_json(request))
    services = request.app[SERVICES]
    address = request_address(request)
    await services.limits.contact_started(address)  # 429 rate_limited, with Retry-After
    try:
        contact, token = await services.conversations.start(
            Channel(body.channel), body.profile.model_dump(mode="json", exclude_none=True),
            sender_key=sender_key(request.app[SETTINGS].keying_secret(), address),
        )
    except LineClosed as closed:
        await services.statistics.refused(body.channel)
        opens_at = closed.opens_at and closed.opens_at.astimezone(services.schedules.zone).isoformat()
        lang = request_lang(request)
        refused = error_body("closed", lang, opens_at=opens_at, emergency=emergency_resources())
        return web.json_response(refused, status=503)
    except SenderBlocked as blocked:  # said neutrally, with the numbers that answer at once
        refused = error_body(blocked.code, request_lang(request), emergency=emergency_resources())
        return web.json_response(refused, status=403)
    created = ContactCreated(
        contact_id=contact.id, token=token, state=contact.state.value,
        websocket_url=f"/api/v1/contacts/{contact.id}/ws",
    )
    return web.json_response(created.model_dump(), status=201)


@widget_endpoint(refuse=True)
async def survey(request: web.Request) -> web.Response:
    body = SurveyIn.model_validate(await read_json(request))
    await answer_survey(request.app[SERVICES], params.contact_id(request), body.token,
                        body.helpful, body.again)
    stored = SurveyStored(helpful=body.helpful, again=body.again)
    return web.json_response(stored.model_dump(), status=201)


@widget_endpoint(refuse=True)
async def end_contact(request: web.Request) -> web.Response:
    """The visitor ends their contact over plain HTTP: what the widget does when its
    WebSocket cannot open (a host page's CSP, a proxy), so nobody is assigned a contact with
    no one behind it. Ending twice is harmless."""
    body = VisitorEndIn.model_validate(await read_json(request))
    conversations = request.app[SERVICES].conversations
    contact_id = params.contact_id(request)
    await conversations.authenticate(contact_id, body.token)  # 403 bad_token
    await conversations.end(contact_id, EndReason.VISITOR)
    contact = await conversations.get(contact_id)
    ended = VisitorEnded(contact_id=contact_id, state=contact.state.value)
    return web.json_response(ended.model_dump())


class VisitorConnection(Connection):
    frames = visitor_frames
    kind = "visitor"

    def __init__(self, ws: web.WebSocketResponse, services: Services, lang: str, contact_id: str):
        super().__init__(ws, services, lang)
        self.contact_id = contact_id
        self.state = ContactState.QUEUED
        self.gate = PushGate()  # queue figures: when what is shown changes, at most once a second

    def queue_update(self, standing: Standing, now: float) -> bool:
        """Where the contact stands now (``now``: monotonic seconds). Sent if it shows a
        change and the last was a second ago; True if a figure is held back for later."""
        if self.state is not ContactState.QUEUED:
            return False
        due = self.gate.offer(standing, now)
        if due is not None:
            self.push(ev.queue_position(self.contact_id, due))
        return self.gate.waiting

    async def forward(self, event: Event) -> None:
        kind = event["type"]
        if kind in ("priority", "visitor_presence"):
            return  # for counsellors only
        if kind == "typing":
            if event["sender"] != Sender.VISITOR.value:
                await self.send({"type": "typing", "sender": event["sender"]})
            return
        if kind == "queue":
            # Only while waiting: a position computed just before an assignment is stale.
            if self.state is ContactState.QUEUED:
                await self.send(event)
            return
        if kind == "assigned":
            self.state = ContactState.ASSIGNED
        elif kind == "requeued":
            self.state = ContactState.QUEUED
            self.gate.reset()
        elif kind == "ended":
            self.state = ContactState.ENDED
        await self.send(event)

    async def current_state(self, contact: ContactRecord | None = None) -> None:
        """After hello: tell the visitor where their contact stands now (``contact``: as
        read after following it; else read now)."""
        if contact is None:
            contact = await self.services.conversations.get(self.contact_id)
        if contact.state is ContactState.QUEUED:
            # placed in the snapshot at hand if it came after it: no new reading of the queue
            standing = (await self.services.views.snapshot()).place(contact)
            if standing is not None:
                self.gate.reset()
                self.queue_update(standing, monotonic())
        elif contact.state is ContactState.ASSIGNED and contact.counsellor_id is not None:
            counsellor = await self.services.accounts.get(contact.counsellor_id)
            name = counsellor.display_name if counsellor else ""
            self.push(ev.assigned_to_visitor(contact.id, name))
        else:
            self.push(ev.ended(contact.id, EndReason(contact.end_reason or EndReason.VISITOR)))

    async def catch_up(self) -> None:
        """Events may have been lost: the messages missed, then where the contact stands."""
        await self.sync(self.contact_id)
        contact = await self.services.conversations.get(self.contact_id)
        if not (contact.state.is_open or self.state.is_open):
            return  # ended, and the visitor knows
        if contact.state is ContactState.QUEUED and self.state is not ContactState.QUEUED:
            self.state = ContactState.QUEUED
        await self.current_state()

    async def handle(self, frame: object) -> None:
        conversations = self.services.conversations
        if isinstance(frame, VisitorMessage):
            # Over the limit: an error frame naming it (retry_after_s); nothing is stored
            # and the widget resends it later with the same client_id.
            await self.services.limits.visitor_message(self.id, self.contact_id)
            posted = await conversations.post(self.contact_id, Sender.VISITOR, frame.client_id, frame.text)
            self.push({"type": "ack", "client_id": frame.client_id, "seq": posted.message.seq})
        elif isinstance(frame, VisitorTyping):
            await conversations.typing(self.contact_id, Sender.VISITOR)
        elif isinstance(frame, VisitorEnd):
            await conversations.end(self.contact_id, EndReason.VISITOR)
        # a second hello changes nothing: the connection is already following


async def visitor_socket(request: web.Request) -> web.StreamResponse:
    check_origin(request)  # 403 origin_not_allowed before the upgrade
    services = request.app[SERVICES]
    registry = request.app[REGISTRY]
    contact_id = params.contact_id(request)  # 404 before the upgrade if it cannot be one
    ws = new_socket()
    await ws.prepare(request)
    conn = VisitorConnection(ws, services, request_lang(request), contact_id)
    conn.start_writer()
    try:
        hello = await conn.wait_hello()
        if hello is None:
            return ws
        if not services.conversations.started_here(contact_id, hello.token):  # else: queued, just now
            try:
                contact = await services.conversations.authenticate(contact_id, hello.token)
            except DomainError:
                await ws.close(code=CLOSE_BAD_TOKEN, message=b"bad_token")
                return ws
            conn.state = contact.state
        await conn.follow(contact_id, hello.after_seq, sync=False)
        # Counted present, and read as it is now (after following it: nothing falls between).
        contact = await services.conversations.visitor_joined(contact_id)
        try:
            registry.add_visitor(conn)  # counted open before it is told anything
            conn.synced(contact_id, contact.last_seq)
            await conn.current_state(contact)
            await conn.handle_frames()
        finally:
            registry.remove_visitor(conn)  # each socket is counted, wherever its siblings are
            await registry.departed("visitor_left", services.conversations.visitor_left(contact_id))
    finally:
        await conn.close()
    return ws
