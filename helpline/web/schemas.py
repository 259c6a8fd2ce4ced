"""Every request body and WebSocket frame, as pydantic models. /api/v1/openapi.json
is generated from them, so the docs cannot drift from what the server accepts."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from pydantic_core import PydanticCustomError

from ..domain.counsellor import (
    MAX_CHATS,
    MIN_CHATS,
    MIN_PASSWORD_LENGTH,
    VOICE_ENDPOINT_PATTERN,
    Status,
)
from ..domain.messages import MAX_TEXT_LENGTH
from ..domain.profile import AgeBand, Topic, VisitorRole
from ..domain.text import UNPRINTABLE, UNPRINTABLE_IN_A_LINE

# --- the building blocks: bounded integers, ids, text without control characters ---------

# Ids and seq numbers are INTEGER columns (32 bits on PostgreSQL): a larger number names
# nothing, and is refused here rather than by the database.
MAX_INT = 2**31 - 1
Seq = Annotated[int, Field(ge=0, le=MAX_INT)]
RowId = Annotated[int, Field(ge=1, le=MAX_INT)]

CONTACT_ID_PATTERN = r"^[0-9a-f]{32}$"
ContactId = Annotated[str, Field(pattern=CONTACT_ID_PATTERN, examples=["0" * 32])]



def _refuse(controls: re.Pattern[str]) -> AfterValidator:
    def check(value: str) -> str:
        if controls.search(value):
            raise PydanticCustomError("control_character", "control characters are not allowed")
        return value

    return AfterValidator(check)


def _no(controls: re.Pattern[str]) -> dict[str, Any]:
    return {"pattern": f"^[^{controls.pattern[1:-1]}]*$"}


# One line of text: no control character. Multi-line text: line breaks and tabs, no other.
OneLine = Annotated[str, _refuse(UNPRINTABLE_IN_A_LINE), Field(json_schema_extra=_no(UNPRINTABLE_IN_A_LINE))]
MultiLine = Annotated[str, _refuse(UNPRINTABLE), Field(json_schema_extra=_no(UNPRINTABLE))]


# Message text is checked by the domain (empty, too long, control characters) so the
# client gets a precise code; this bound only stops absurd payloads early.
Text = Annotated[str, Field(max_length=4 * MAX_TEXT_LENGTH)]
ClientId = Annotated[OneLine, Field(min_length=1, max_length=64)]
Token = Annotated[OneLine, Field(min_length=1, max_length=256)]
Username = Annotated[OneLine, Field(min_length=1, max_length=64)]
DisplayName = Annotated[OneLine, Field(min_length=1, max_length=80)]
Reason = Annotated[OneLine, Field(min_length=1, max_length=200)]
SkillName = Annotated[OneLine, Field(min_length=1, max_length=32)]
Note = Annotated[MultiLine, Field(min_length=0, max_length=2000)]


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
    username: Username
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
    origin_allowed: bool = Field(
        description="Whether the requesting page's Origin may use the widget (HELPLINE_WIDGET_ORIGINS)."
    )


HHMM = Annotated[str, Field(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", examples=["16:00"])]


class ScheduleExceptionIn(Strict):
    kind: Literal["close", "open"]
    first: date
    last: date | None = Field(None, description="Last day (inclusive); the first day if omitted.")
    start: HHMM | None = Field(
        None, description="With end: only these hours, start before end; else the whole day."
    )
    end: HHMM | None = Field(None, description="After start; 24:00 is midnight at the end of the day.")
    reason: Reason

    @model_validator(mode="after")
    def _hours(self) -> Self:
        if (self.start is None) != (self.end is None):
            raise PydanticCustomError("hours_incomplete", "start and end go together")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise PydanticCustomError("hours_order", "start must come before end")
        return self


class ScheduleExceptionOut(BaseModel):
    id: int
    kind: str
    first: date
    last: date
    start: str | None
    end: str | None
    reason: str


class ResourceCard(BaseModel):
    number: str
    href: str = Field(description='"tel:17", or "sms:114" for a number that takes text messages.')
    label: dict[str, str] = Field(description="One line per language (fr, en).")


class MessageOut(BaseModel):
    seq: int
    sender: Literal["visitor", "counsellor", "system"]
    text: str
    sent_at: str
    resource: ResourceCard | None = Field(
        None, description="A resource card the counsellor sent: one of the emergency numbers.")


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
    token: Token
    after_seq: Seq = 0


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
    after: dict[ContactId, Seq] = Field(
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
    counsellor: RowId | None = Field(None, description="A named counsellor (their id)...")
    skill: SkillName | None = Field(None, description="...or a skill.")


class ConsoleTransfer(Strict):
    type: Literal["transfer"]
    contact_id: ContactId
    to: TransferTo
    mode: Literal["cold", "warm"] = Field(
        "cold", description="cold: straight back to the queue; warm: offered, you keep it until accepted."
    )
    note: Note | None = None


class ConsoleMonitor(Strict):
    type: Literal["monitor"]
    contact_id: ContactId


class ConsoleUnmonitor(Strict):
    type: Literal["unmonitor"]
    contact_id: ContactId


class ConsoleAccept(Strict):
    type: Literal["accept"]
    contact_id: ContactId


EmergencyNumber = Annotated[str, Field(
    min_length=1, max_length=16, examples=["17"],
    description="One of the emergency numbers (the console's session event lists them).")]


class ConsoleResource(Strict):
    """Send the young person a card for an emergency number (a chat you hold)."""

    type: Literal["resource"]
    contact_id: ContactId
    client_id: ClientId
    resource: EmergencyNumber


class ConsolePutThrough(Strict):
    """Put the caller of a call you hold through to an emergency number; the call ends for you."""

    type: Literal["put_through"]
    contact_id: ContactId
    number: EmergencyNumber


ConsoleFrame = Annotated[
    ConsoleHello | ConsoleStatus | ConsoleMessage | ConsoleTyping | ConsoleEnd | ConsolePriority
    | ConsoleTransfer | ConsoleMonitor | ConsoleUnmonitor | ConsoleAccept | ConsoleResource
    | ConsolePutThrough,
    Field(discriminator="type"),
]

visitor_frames: TypeAdapter[Any] = TypeAdapter(VisitorFrame)
console_frames: TypeAdapter[Any] = TypeAdapter(ConsoleFrame)


# --- the widget's end-of-chat survey ----------------------------------------------------

Answer = Literal["yes", "no"]


class SurveyIn(Strict):
    token: Token = Field(description="The visitor's token.")
    helpful: Answer | None = Field(None, description="Was it helpful? Not answered: null.")
    again: Answer | None = Field(None, description="Would you contact us again? Not answered: null.")


class SurveyStored(BaseModel):
    helpful: Answer | None
    again: Answer | None


class VisitorEndIn(Strict):
    token: Token = Field(description="The visitor's token.")


class VisitorEnded(BaseModel):
    contact_id: str
    state: str = Field(description="ended, or abandoned if it had already stopped that way.")


# --- the console's wrap-up of an ended conversation --------------------------------------

TAXONOMY_ID_PATTERN = r"^[a-z0-9_]{1,32}$"
WrapupNote = Annotated[MultiLine, Field(min_length=0, max_length=4000)]
TaxonomyId = Annotated[
    str, Field(pattern=TAXONOMY_ID_PATTERN, description="An id from GET /api/v1/taxonomy.")
]


class WrapupIn(Strict):
    categories: Annotated[list[TaxonomyId], Field(min_length=1, max_length=20)] = Field(
        description="What it was about (ids from GET /api/v1/taxonomy), at least one."
    )
    contacted_by: TaxonomyId
    age_band: TaxonomyId
    gender: TaxonomyId | None = None
    platforms: Annotated[list[TaxonomyId], Field(max_length=20)] = Field(default_factory=list)
    outcomes: Annotated[list[TaxonomyId], Field(min_length=1, max_length=10)]
    note: WrapupNote | None = None


class WrapupOut(WrapupIn):
    contact_id: str
    counsellor_id: int | None
    written_at: str


# --- admin: counsellor accounts and canned responses --------------------------------------

RoleName = Literal["counsellor", "supervisor", "admin"]
Skills = Annotated[list[SkillName], Field(min_length=1, max_length=20)]

# The rules below are the domain's (a precise error code: password_too_short,
# invalid_capacity, invalid_voice_endpoint); the schema states them.
NewPassword = Annotated[str, Field(min_length=1, max_length=256,
                                   json_schema_extra={"minLength": MIN_PASSWORD_LENGTH})]
MaxChats = Annotated[int, Field(json_schema_extra={"minimum": MIN_CHATS, "maximum": MAX_CHATS})]
VoiceEndpoint = Annotated[str, Field(
    max_length=120, description='Where calls ring: "+33..." or "client:identity"; "" for none.',
    json_schema_extra={"pattern": f"^({VOICE_ENDPOINT_PATTERN})?$"},
)]


class AccountIn(Strict):
    username: Username
    password: NewPassword
    display_name: DisplayName | None = None
    role: RoleName = "counsellor"
    max_chats: MaxChats | None = Field(None, description="The server default if absent.")
    max_voice: Literal[0, 1] = 1
    skills: Skills | None = Field(None, description="Every skill if absent.")
    voice_endpoint: VoiceEndpoint | None = None


class AccountChange(Strict):
    display_name: DisplayName | None = None
    role: RoleName | None = None
    max_chats: MaxChats | None = None
    max_voice: Literal[0, 1] | None = None
    skills: Skills | None = None
    disabled: bool | None = None
    voice_endpoint: VoiceEndpoint | None = Field(None, description='"" takes it away.')


class PasswordIn(Strict):
    password: NewPassword


CannedTitle = Annotated[OneLine, Field(min_length=1, max_length=80)]
CannedText = Annotated[MultiLine, Field(min_length=1, max_length=MAX_TEXT_LENGTH)]


class CannedIn(Strict):
    title: CannedTitle
    text: CannedText


class CallerBlockIn(Strict):
    hours: float = Field(24, gt=0, le=90 * 24, description="How long; at most 90 days.")
    reason: Reason


class RequeueIn(Strict):
    counsellor_id: RowId | None = Field(
        None, description="A colleague available now to give it to; without one, anyone may take it.")


# --- hand-offs ------------------------------------------------------------------------------

FieldName = Annotated[str, Field(max_length=40)]
HandoffValue = Annotated[str, Field(max_length=4000)] | Annotated[
    list[Annotated[str, Field(max_length=2048)]], Field(max_length=20)]
HandoffFields = Annotated[dict[FieldName, HandoffValue], Field(
    max_length=30, description="Only the target's fields; anything else is refused.")]
Excerpts = Annotated[list[Seq], Field(
    max_length=50, description="The seq of each message to send along (ticked one by one).")]


class HandoffIn(Strict):
    target: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="GET /api/v1/handoffs/targets")
    fields: HandoffFields = Field(default_factory=dict)
    excerpts: Excerpts = Field(default_factory=list)


class HandoffEdit(Strict):
    fields: HandoffFields = Field(default_factory=dict)
    excerpts: Excerpts = Field(default_factory=list)


class HandoffPartnerIn(Strict):
    partner_reference: OneLine | None = Field(None, min_length=1, max_length=100)
    decision: Literal["removed", "refused", "no_answer"] | None = None
    decision_on: date | None = None


class HoldReleaseIn(Strict):
    reason: MultiLine = Field(min_length=1, max_length=500)
