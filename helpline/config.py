"""Settings, read from HELPLINE_* environment variables (see README)."""

from __future__ import annotations

import secrets
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .crypto import parse_keys
from .domain.limits import Rate
from .domain.retention import MAX_CALLER_KEY_DAYS, Retention

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/helpline.db"
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "KEY")  # in a variable's name: its value is never shown


def invalid_settings(error: ValidationError, prefix: str = "HELPLINE_") -> list[str]:
    """What is wrong with the environment, one line per bad variable: its name, its value
    (unless it may hold a secret) and what it accepts. No traceback, no other variable."""
    lines: dict[str, str] = {}
    for e in error.errors(include_url=False):
        why = e["msg"].removeprefix("Value error, ").removeprefix("Input ")
        if e["type"] == "literal_error":
            why = f"expected {e['ctx']['expected']}"
        if not e["loc"]:  # a rule across variables: its message names them
            lines.setdefault(why, why)
            continue
        name = prefix + str(e["loc"][0]).upper()
        value = e["input"]
        credentials = isinstance(value, str) and "://" in value and "@" in value  # user:password@host
        shown = "" if credentials or any(w in name for w in SECRET_WORDS) else f"={value!r}"
        lines.setdefault(name, f"{name}{shown} is not valid: {why}")
    return list(lines.values())


def check_public_url(value: str) -> str:
    """``http(s)://host[:port][/path]`` without a trailing slash, or empty (unset)."""
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ValueError("the public URL must be http(s)://host[:port][/path]")
    return value.rstrip("/")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPLINE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    schedule: Literal["hours", "always"] = Field(
        "hours", description="hours: the opening hours (schedule file or Mon-Sat 9-20); always: 24/7."
    )
    schedule_file: Path | None = None
    log_level: str = "info"

    visitor_grace_s: float = Field(120.0, gt=0)
    counsellor_grace_s: float = Field(60.0, gt=0)
    hello_timeout_s: float = Field(10.0, gt=0)
    session_idle_s: float = Field(8 * 3600.0, gt=0)
    cookie_secure: bool | None = Field(
        None, description="Mark the session cookie Secure; unset: true when the public URL is https."
    )
    public_url: str = Field(
        "", description="This server's address as browsers and Twilio reach it; default http://HOST:PORT."
    )
    default_max_chats: int = Field(3, ge=1, le=20)
    handle_time_s: float = Field(
        900.0, gt=0, description="Median length of a conversation before any is measured."
    )
    routing_fallback_s: float = Field(
        180.0, ge=0, description="A specialist contact waiting this long may go to a general "
        "counsellor; a contact transferred to a named colleague waits this long for them, then for anyone."
    )
    triage_file: Path | None = None
    sender_name: str = Field("La ligne d'écoute", description="Who sends hand-offs, as partners read it.")
    handoff_email: str = Field("signalements@example.org",
                               description="Where partners answer about a hand-off (never a child's).")
    handoff_lease_s: float = Field(60.0, gt=0, description="How long a dispatcher holds a hand-off it "
                                   "is delivering before another process may take it over.")
    handoff_targets_file: Path | None = Field(
        None, description="Where hand-offs can go and what each is sent (default: the built-in targets)."
    )
    offer_mode: bool = Field(
        False, description="Offer each contact to a counsellor who must accept it in time (else direct)."
    )
    offer_timeout_s: float = Field(30.0, gt=0, description="Time to accept an offer or a warm transfer.")
    skills: str = Field(
        "general,psychological,legal,technical",
        description="Comma-separated skills; 'general' is the one every fallback goes to.",
    )
    dispatch_interval_s: float = Field(2.0, gt=0)
    sweep_interval_s: float = Field(5.0, gt=0)
    widget_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Sites allowed to embed the chat widget (comma-separated origins)."
    )
    quick_exit_url: str = Field("https://meteofrance.com/", description="Where the quick exit goes.")
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list,
        description="Reverse proxies whose X-Forwarded-For is believed (addresses or networks).",
    )
    metrics_token: SecretStr | None = Field(
        None, description="GET /metrics asks for this bearer token (unset, and no allowed addresses: off).",
    )
    metrics_allow: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks that may read GET /metrics (the client as the trusted "
        "proxies say); unset, and no token: off.",
    )
    secret_key: SecretStr | None = Field(
        None, description="Keys callers and chat senders (HMAC-SHA256); unset: a random key per process.",
    )
    limit_contacts_per_client: str = Field(
        "4/min,burst=10", description="Contacts one client address may start: RATE/UNIT[,burst=N]."
    )
    limit_contacts_overall: str = Field("60/min,burst=120", description="Contacts the whole line takes.")
    limit_messages_per_socket: str = Field("60/min,burst=30", description="Messages a visitor socket sends.")
    limit_messages_per_contact: str = Field("90/min,burst=40", description="Messages one contact gets "
                                            "from its visitor, over all their sockets.")

    @field_validator("limit_contacts_per_client", "limit_contacts_overall", "limit_messages_per_socket",
                     "limit_messages_per_contact")
    @classmethod
    def _rate(cls, value: str) -> str:
        Rate.parse(value)
        return value

    data_keys: str = Field(
        "", description="Data keys sealing what is stored, comma-separated keyid:base64url-key "
        "entries, the last one the newest (it seals; all open)."
    )
    data_keys_file: Path | None = Field(None, description="The same, one entry per line, in a file.")

    @field_validator("data_keys")
    @classmethod
    def _data_keys(cls, value: str) -> str:
        if value.strip():
            parse_keys(value)  # a KeyRingError (a ValueError) names the entry, never the key
        return value.strip()

    @model_validator(mode="after")
    def _one_key_source(self) -> Settings:
        if self.data_keys and self.data_keys_file is not None:
            raise ValueError("set HELPLINE_DATA_KEYS or HELPLINE_DATA_KEYS_FILE, not both")
        return self

    retain_messages_days: int = Field(30, ge=1, description="Days after a contact ends before its "
                                      "messages, notes and token hash are erased.")
    retain_caller_keys_days: int = Field(MAX_CALLER_KEY_DAYS, ge=1, le=MAX_CALLER_KEY_DAYS,
                                         description="Days after a call ends before its caller key goes.")
    retain_surveys_days: int = Field(30, ge=1, description="Days before survey answers become day counts.")
    retain_handoffs_days: int = Field(365, ge=1, description="Days after a contact ends before its "
                                      "hand-offs' payload and excerpts are erased.")
    purge_interval_s: float = Field(3600.0, gt=0, description="How often the server runs the purge.")

    @field_validator("widget_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        """``https://a.example, https://b.example`` (or ``*``): lower-cased, no trailing slash."""
        items = value.split(",") if isinstance(value, str) else value
        origins = [str(o).strip().lower().rstrip("/") for o in items if str(o).strip()]
        for o in origins:
            parts = urlsplit(o)
            if o != "*" and (parts.scheme not in ("http", "https") or not parts.netloc or parts.path):
                raise ValueError(f"not an origin (scheme://host[:port]): {o!r}")
        return origins

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _metrics_token(cls, value: Any) -> Any:
        """Empty: unset. Else long enough not to be guessed (16 characters or more)."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text is None or (isinstance(text, str) and not text.strip()):
            return None
        if len(str(text)) < 16:
            raise ValueError("the metrics token must be 16 characters or more")
        return value

    @field_validator("trusted_proxies", "metrics_allow", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> Any:
        """``10.0.0.5, 192.168.0.0/24, fd00::/8``: an address is a network of one."""
        items = value.split(",") if isinstance(value, str) else value
        try:
            return [ip_network(str(p).strip()) for p in items if str(p).strip()]
        except ValueError as e:
            raise ValueError(f"not an address or network: {e}") from None

    @field_validator("quick_exit_url")
    @classmethod
    def _exit_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
            raise ValueError("the quick exit URL must be an http(s) address")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return check_public_url(value)

    def keying_secret(self) -> bytes:
        """The key of callers' and chat senders' keyed hashes. Unset: a random key made once
        for this process (blocks and repeat counts then last until a restart, in this
        process only)."""
        if self.secret_key is None:
            self.secret_key = SecretStr(secrets.token_hex(32))
        return self.secret_key.get_secret_value().encode()

    @property
    def public_base(self) -> str:
        """This server's address as the outside reaches it (the public URL, else where it listens)."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_url.startswith("https://")

    @property
    def retention(self) -> Retention:
        return Retention(self.retain_messages_days, self.retain_caller_keys_days, self.retain_surveys_days,
                         self.retain_handoffs_days)

    @property
    def metrics_enabled(self) -> bool:
        """Whether GET /metrics answers (with a token, or for allowed addresses, or both)."""
        return self.metrics_token is not None or bool(self.metrics_allow)

    @property
    def heartbeat_s(self) -> float:
        """How often live sockets stamp their contact or counsellor as seen."""
        return min(10.0, self.visitor_grace_s / 3, self.counsellor_grace_s / 3)

    @property
    def skill_list(self) -> list[str]:
        return [s.strip() for s in self.skills.split(",") if s.strip()]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        return Path(self.database_url.split(":///", 1)[1])
