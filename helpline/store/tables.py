"""Tables. Times are stored as naive UTC and read back as aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite when a raw SQL expression produced the value
            value = datetime.fromisoformat(value)
        stored: datetime = value
        return stored.replace(tzinfo=UTC)


ALL_SKILLS = '["general", "psychological", "legal", "technical"]'

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012


class Counsellor(Base):
    __tablename__ = "counsellors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    max_chats: Mapped[int] = mapped_column(Integer)
    max_voice: Mapped[int] = mapped_column(Integer, server_default="1")
    skills: Mapped[list[str]] = mapped_column(JSON, server_default=ALL_SKILLS)
    status: Mapped[str] = mapped_column(String(16), default="offline")
    status_since: Mapped[datetime]
    last_assigned_at: Mapped[datetime | None]
    # Stamped by the live console socket(s); a console that dropped stops stamping.
    connected: Mapped[bool] = mapped_column(default=False)
    seen_at: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(default=False)
    # Where the phone channel reaches them: "+33..." or "client:identity"; none, no calls.
    voice_endpoint: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime]


class AvailabilitySpan(Base):
    """A stretch of time a counsellor could take contacts (available, console live), with the
    room they had: what the staffing planner compares with what the demand needed. Open
    (``ended_at`` None) while it lasts; written where status and console changes are."""

    __tablename__ = "availability_spans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(Integer)  # kept if the account goes
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    max_chats: Mapped[int] = mapped_column(Integer)
    max_voice: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_availability_spans_started_at", "started_at"),
        Index("ix_availability_spans_counsellor_id", "counsellor_id"),
    )


class Session(Base):
    __tablename__ = "sessions"

    # SHA-256 of the cookie value: a leaked table opens no session.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("counsellors.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # SHA-256 of the visitor's token; the token itself is only ever in the visitor's hands.
    token_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    skill: Mapped[str] = mapped_column(String(32), server_default="general")
    priority: Mapped[int] = mapped_column(Integer, server_default="2")  # 0 urgent, 1 high, 2 normal
    # A transfer to a named counsellor: only they may take it, until target_until.
    target_counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id"))
    target_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the counsellor who transferred it wants the next one to know (never shown to the visitor).
    handover_note: Mapped[str | None] = mapped_column(Text)
    handover_note_key_id: Mapped[str | None] = mapped_column(String(16))  # sealed under; NULL: clear
    # An offer waiting to be accepted: a queued contact (offer mode) or an assigned one
    # (warm transfer: the first counsellor keeps it until the new one accepts).
    offered_to: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id"))
    offer_expires_at: Mapped[datetime | None]
    offer_skill: Mapped[str | None] = mapped_column(String(32))  # a warm transfer to a skill
    state: Mapped[str] = mapped_column(String(16))
    end_reason: Mapped[str | None] = mapped_column(String(32))
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id"))
    created_at: Mapped[datetime]
    # Place in the queue; kept when a contact is put back so it keeps its place.
    enqueued_at: Mapped[datetime]
    first_assigned_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Stamped while a visitor socket is live (or a caller's hold loop runs); the grace
    # period counts from here.
    visitor_seen_at: Mapped[datetime]
    # How many widget sockets of the visitor's are open, across processes: 0 tells their
    # counsellor nobody may be reading.
    visitor_sockets: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A caller: HMAC-SHA256(secret, number), never the number. Repeat counts and blocks.
    caller_key: Mapped[str | None] = mapped_column(String(64))
    # A chat's sender while it is live: HMAC-SHA256(secret, address), never the address;
    # erased when the contact ends. Only to block them (with the callers' blocks).
    sender_key: Mapped[str | None] = mapped_column(String(64))
    # The carrier's id of the live call; erased when the call ends.
    carrier_ref: Mapped[str | None] = mapped_column(String(64))
    wait_s: Mapped[int | None] = mapped_column(Integer)  # a call: time before talking
    talk_s: Mapped[int | None] = mapped_column(Integer)  # a call: time talking with counsellors
    # When retention erased its content (messages, notes, the token's hash): nothing to read.
    erased_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_contacts_state_priority_enqueued_at", "state", "priority", "enqueued_at"),
        Index("ix_contacts_ended_at", "ended_at"),
        Index("ix_contacts_counsellor_id_state", "counsellor_id", "state"),
        Index("ix_contacts_caller_key", "caller_key"),
        Index("ix_contacts_carrier_ref", "carrier_ref", unique=True),
    )


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(16))
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id"))
    client_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str | None] = mapped_column(String(16))  # the data key that sealed text; NULL: clear
    sent_at: Mapped[datetime]
    resource: Mapped[str | None] = mapped_column(String(16))  # a resource card's number

    __table_args__ = (
        UniqueConstraint("contact_id", "seq", name="uq_messages_contact_id_seq"),
        UniqueConstraint("contact_id", "client_id", name="uq_messages_contact_id_client_id"),
    )


class ScheduleOverride(Base):
    """An exceptional closure or opening (see helpline.domain.schedule.Override)."""

    __tablename__ = "schedule_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    # Minutes since local midnight; both None for a whole day.
    start_minute: Mapped[int | None] = mapped_column(Integer)
    end_minute: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class CallerBlock(Base):
    """A caller (or a chat's sender) a supervisor blocked for a while, known only by their
    keyed hash: a caller key, or a contact's sender key."""

    __tablename__ = "caller_blocks"

    caller_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    until: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class CallSeen(Base):
    """A call the carrier told us about, known by the SHA-256 of its call id (never the id
    itself), and whether it is over. Kept a day, so that a late or replayed webhook never
    brings an ended call back."""

    __tablename__ = "calls_seen"

    ref_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    ended: Mapped[bool] = mapped_column(Boolean)
    forget_at: Mapped[datetime]


class Survey(Base):
    """The optional end-of-chat survey. Nothing in it identifies the visitor: the answers,
    the day, and the contact id only so that a contact answers once."""

    __tablename__ = "surveys"

    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    helpful: Mapped[str | None] = mapped_column(String(3))  # "yes", "no" or not answered
    again: Mapped[str | None] = mapped_column(String(3))
    answered_on: Mapped[date] = mapped_column(Date)


class Wrapup(Base):
    """What the counsellor recorded when a conversation ended. Part of the transcript: it
    goes with the messages (retention); its lists, never the note, live on in the facts."""

    __tablename__ = "wrapups"

    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id", ondelete="SET NULL"))
    categories: Mapped[list[str]] = mapped_column(JSON)
    contacted_by: Mapped[str] = mapped_column(String(32))
    age_band: Mapped[str] = mapped_column(String(32))
    gender: Mapped[str | None] = mapped_column(String(32))
    platforms: Mapped[list[str]] = mapped_column(JSON)
    outcomes: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    note_key_id: Mapped[str | None] = mapped_column(String(16))  # sealed under; NULL: clear
    written_at: Mapped[datetime]


class CannedResponse(Base):
    """A ready-made answer counsellors insert in the composer; admins keep the list."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Handoff(Base):
    """A serious case passed on to a partner: what leaves (``payload``, only the target's
    fields, and the messages the counsellor ticked), who wrote and approved it, where it is."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)  # what partners quote
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"))
    target_id: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(24))
    author_id: Mapped[int] = mapped_column(ForeignKey("counsellors.id"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id"))
    payload: Mapped[Any] = mapped_column(JSON)  # a dict, or its sealed JSON as a string
    excerpts: Mapped[Any] = mapped_column(JSON)
    # The data key that sealed payload and excerpts (each then a JSON string); NULL: clear.
    key_id: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    review_needed: Mapped[bool] = mapped_column(Boolean, default=False)  # sent without approval
    partner_reference: Mapped[str | None] = mapped_column(String(100))
    decision: Mapped[str | None] = mapped_column(String(16))  # removed, refused, no_answer
    decision_on: Mapped[date | None] = mapped_column(Date)
    last_error: Mapped[str | None] = mapped_column(String(40))  # a short code, never payload text
    erased_at: Mapped[datetime | None]  # retention emptied payload and excerpts; the row stays

    __table_args__ = (Index("ix_handoffs_state", "state"),)


class HandoffOutbox(Base):
    """A hand-off to deliver: written in the transaction that decides it, claimed by one
    dispatcher at a time (``lease_until``), retried with the same idempotency key."""

    __tablename__ = "handoff_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    due_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_handoff_outbox_due_at", "due_at"),)


class AuditRecord(Base):
    """Who did what to a hand-off, when. Append-only: the database refuses UPDATE and
    DELETE on this table (triggers). Never payload text."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(Integer)  # None: the system (the dispatcher)
    action: Mapped[str] = mapped_column(String(32))
    handoff_id: Mapped[int | None] = mapped_column(Integer)
    contact_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(64))  # a short code or reference


class LegalHold(Base):
    """A contact whose record must be kept (a hand-off was made): retention skips it until an
    admin releases it, with a reason."""

    __tablename__ = "legal_holds"

    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    since: Mapped[datetime]
    released_at: Mapped[datetime | None]
    released_by: Mapped[int | None] = mapped_column(Integer)
    release_reason: Mapped[str | None] = mapped_column(Text)


class ContactFact(Base):
    """What the statistics need of one contact, and nothing that leads to its transcript:
    written when the contact ends, completed by its wrap-up (never its note). ``contact_id``
    links it only while the contact exists; retention cuts the link and deletes the contact."""

    __tablename__ = "contact_facts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[str | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), unique=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    skill: Mapped[str] = mapped_column(String(32))
    # UTC, cut to the hour: the local day and hour of week follow in any time zone.
    arrived_hour: Mapped[datetime]
    ended_hour: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))  # answered | abandoned
    end_reason: Mapped[str] = mapped_column(String(32))
    wait_s: Mapped[int | None] = mapped_column(Integer)  # arrival to a first counsellor
    handle_s: Mapped[int | None] = mapped_column(Integer)  # a first counsellor to the end
    categories: Mapped[list[str] | None] = mapped_column(JSON)
    contacted_by: Mapped[str | None] = mapped_column(String(32))
    age_band: Mapped[str | None] = mapped_column(String(32))
    gender: Mapped[str | None] = mapped_column(String(32))
    platforms: Mapped[list[str] | None] = mapped_column(JSON)
    actions: Mapped[list[str] | None] = mapped_column(JSON)  # the wrap-up's outcomes

    __table_args__ = (
        Index("ix_contact_facts_arrived_hour", "arrived_hour"),
        # what the statistics read of the timing, without the rows
        Index("ix_contact_facts_timing", "arrived_hour", "channel", "outcome", "wait_s", "handle_s"),
    )


class SurveyCount(Base):
    """Survey answers once retention has counted them: how many per day, question, answer."""

    __tablename__ = "survey_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    question: Mapped[str] = mapped_column(String(16), primary_key=True)
    answer: Mapped[str] = mapped_column(String(16), primary_key=True)  # yes, no, unanswered
    n: Mapped[int] = mapped_column(Integer)


class RefusalCount(Base):
    """Contacts refused because the line was closed: how many per hour (UTC) and channel.
    Nothing else about them is kept."""

    __tablename__ = "refusal_counts"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class Lease(Base):
    """A job only one process runs at a time: taken by a conditional write, given back at the
    end, and free again once ``until`` has passed (a holder that died)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime]
