"""Every request body and WebSocket frame, as pydantic models. /api/v1/openapi.json
is generated from them, so the docs cannot drift from what the server accepts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from ..domain.counsellor import Status
from ..domain.messages import MAX_TEXT_LENGTH
from ..domain.profile import AgeBand, Topic, VisitorRole

# Text is checked by the domain (empty, too long) so the client gets a precise code;
# this bound only stops absurd payloads early.
Text = Annotated[str, Field(max_length=4 * MAX_TEXT_LENGTH)]
ClientId = Annotated[str, Field(min_length=1, max_length=64)]
ContactId = Annotated[str, Field(min_length=1, max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Profile(Strict):
    role: VisitorRole | None = None
    age_band: AgeBand | None = None
    topic: Topic | None = None


class ContactCreate(Strict):
    channel: Literal["chat"] = "chat"
    profile: Profile = Profile()


class ContactCreated(BaseModel):
    contact_id: str
    token: str = Field(description="Keep it secret: it is the only key to this conversation.")
    state: str
    websocket_url: str


class Login(Strict):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class Me(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    max_chats: int


class Status_(BaseModel):
    open: bool
    accepting_contacts: bool
    queue_length: int
    counsellors_available: int
    estimated_wait_s: int | None


HHMM = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$", examples=["16:00"])]


class ScheduleExceptionIn(Strict):
    kind: Literal["close", "open"]
    first: date
    last: date | None = Field(None, description="Last day (inclusive); the first day if omitted.")
    start: HHMM | None = Field(None, description="With end: only these hours; else the whole day.")
    end: HHMM | None = None
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class ScheduleExceptionOut(BaseModel):
    id: int
    kind: str
    first: date
    last: date
    start: str | None
    end: str | None
    reason: str


class MessageOut(BaseModel):
    seq: int
    sender: Literal["visitor", "counsellor", "system"]
    text: str
    sent_at: str


class Transcript(BaseModel):
    contact_id: str
    state: str
    messages: list[MessageOut]


class ErrorBody(BaseModel):
    code: str
    message: str


class Error(BaseModel):
    error: ErrorBody


# --- WebSocket frames a visitor sends ---------------------------------------------------


class VisitorHello(Strict):
    type: Literal["hello"]
    token: Annotated[str, Field(min_length=1, max_length=256)]
    after_seq: Annotated[int, Field(ge=0)] = 0


class VisitorMessage(Strict):
    type: Literal["message"]
    client_id: ClientId
    text: Text


class VisitorTyping(Strict):
    type: Literal["typing"]


class VisitorEnd(Strict):
    type: Literal["end"]


VisitorFrame = Annotated[
    VisitorHello | VisitorMessage | VisitorTyping | VisitorEnd, Field(discriminator="type")
]

# --- WebSocket frames a counsellor's console sends --------------------------------------


class ConsoleHello(Strict):
    type: Literal["hello"]
    after: dict[ContactId, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, description="Last seq seen per contact; missed messages follow."
    )


class ConsoleStatus(Strict):
    type: Literal["status"]
    status: Status


class ConsoleMessage(Strict):
    type: Literal["message"]
    contact_id: ContactId
    client_id: ClientId
    text: Text


class ConsoleTyping(Strict):
    type: Literal["typing"]
    contact_id: ContactId


class ConsoleEnd(Strict):
    type: Literal["end"]
    contact_id: ContactId


class ConsolePriority(Strict):
    type: Literal["priority"]
    contact_id: ContactId
    priority: Literal["urgent", "high", "normal"]


class TransferTo(Strict):
    counsellor: int | None = Field(None, description="A named counsellor (their id)...")
    skill: Annotated[str, Field(max_length=32)] | None = Field(None, description="...or a skill.")


class ConsoleTransfer(Strict):
    type: Literal["transfer"]
    contact_id: ContactId
    to: TransferTo
    mode: Literal["cold", "warm"] = Field(
        "cold", description="cold: straight back to the queue; warm: offered, you keep it until accepted."
    )
    note: Annotated[str, Field(max_length=2000)] | None = None


class ConsoleMonitor(Strict):
    type: Literal["monitor"]
    contact_id: ContactId


class ConsoleUnmonitor(Strict):
    type: Literal["unmonitor"]
    contact_id: ContactId


class ConsoleAccept(Strict):
    type: Literal["accept"]
    contact_id: ContactId


ConsoleFrame = Annotated[
    ConsoleHello | ConsoleStatus | ConsoleMessage | ConsoleTyping | ConsoleEnd | ConsolePriority
    | ConsoleTransfer | ConsoleMonitor | ConsoleUnmonitor | ConsoleAccept,
    Field(discriminator="type"),
]

visitor_frames: TypeAdapter[Any] = TypeAdapter(VisitorFrame)
console_frames: TypeAdapter[Any] = TypeAdapter(ConsoleFrame)


# --- the widget's end-of-chat survey ----------------------------------------------------

Answer = Literal["yes", "no"]


class SurveyIn(Strict):
    token: Annotated[str, Field(min_length=1, max_length=256, description="The visitor's token.")]
    helpful: Answer | None = Field(None, description="Was it helpful? Not answered: null.")
    again: Answer | None = Field(None, description="Would you contact us again? Not answered: null.")


class SurveyStored(BaseModel):
    helpful: Answer | None
    again: Answer | None


# --- the console's wrap-up of an ended conversation --------------------------------------

TaxonomyId = Annotated[str, Field(min_length=1, max_length=32)]


class WrapupIn(Strict):
    categories: Annotated[list[TaxonomyId], Field(min_length=1, max_length=20)] = Field(
        description="What it was about (ids from GET /api/v1/taxonomy), at least one."
    )
    contacted_by: TaxonomyId
    age_band: TaxonomyId
    gender: TaxonomyId | None = None
    platforms: Annotated[list[TaxonomyId], Field(max_length=20)] = Field(default_factory=list)
    outcomes: Annotated[list[TaxonomyId], Field(min_length=1, max_length=10)]
    note: Annotated[str, Field(max_length=4000)] | None = None


class WrapupOut(WrapupIn):
    contact_id: str
    counsellor_id: int | None
    written_at: str


# --- admin: counsellor accounts and canned responses --------------------------------------

RoleName = Literal["counsellor", "supervisor", "admin"]
Skills = Annotated[list[Annotated[str, Field(max_length=32)]], Field(min_length=1, max_length=20)]


VoiceEndpoint = Annotated[
    str | None, Field(max_length=120, description='Where calls ring: "+33..." or "client:identity".')
]


class AccountIn(Strict):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    display_name: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    role: RoleName = "counsellor"
    max_chats: int | None = Field(None, description="1-20; the server default if absent.")
    max_voice: Literal[0, 1] = 1
    skills: Skills | None = Field(None, description="Every skill if absent.")
    voice_endpoint: VoiceEndpoint = None


class AccountChange(Strict):
    display_name: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    role: RoleName | None = None
    max_chats: int | None = None
    max_voice: Literal[0, 1] | None = None
    skills: Skills | None = None
    disabled: bool | None = None
    voice_endpoint: VoiceEndpoint = Field(None, description='"" takes it away.')


class PasswordIn(Strict):
    password: Annotated[str, Field(min_length=1, max_length=256)]


class CannedIn(Strict):
    title: Annotated[str, Field(min_length=1, max_length=80)]
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_LENGTH)]


class CallerBlockIn(Strict):
    hours: float = Field(24, gt=0, le=90 * 24, description="How long; at most 90 days.")
    reason: Annotated[str, Field(min_length=1, max_length=200)]
