"""The phone channel's settings, read from HELPLINE_* environment variables."""

from __future__ import annotations

import secrets
from typing import Literal

import phonenumbers
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpline.config import check_public_url


class TelephonySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPLINE_", extra="ignore")

    carrier: Literal["fake", "twilio"] | None = Field(
        None, description="twilio with Twilio credentials, else fake (calls played by the simulator)."
    )
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = Field(
        None, description="Checks every webhook's X-Twilio-Signature. Without it the phone line is off."
    )
    twilio_number: str | None = Field(None, description="The helpline's number (for `telephony configure`).")
    public_url: str = Field(
        "", description="This server's address as Twilio sees it (behind a proxy); default http://HOST:PORT."
    )
    host: str = "127.0.0.1"  # the server's own HELPLINE_HOST and _PORT (the default public URL)
    port: int = 8080
    secret_key: SecretStr | None = Field(
        None, description="Keys callers: HMAC-SHA256(secret, number). Required with Twilio."
    )
    phone_region: str = Field(
        "FR", description="Where a caller's national number (06 12 34 56 78) is read as from (ISO 3166 code)."
    )
    hold_audio_url: str | None = Field(None, description="Hold music (mp3/wav URL); silence if unset.")
    hold_announce_s: int = Field(45, ge=1, le=300, description="Place and wait are told this often.")
    keypad_timeout_s: int = Field(5, ge=1, le=30, description="Time to press 1, 2 or 3.")
    dial_timeout_s: int = Field(20, ge=5, le=60, description="How long a counsellor's phone rings.")
    voice_fr: str | None = Field(None, description="Twilio voice for French (default: Twilio's fr-FR).")
    voice_en: str | None = Field(None, description="Twilio voice for English (default: Twilio's en-GB).")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return check_public_url(value)

    @field_validator("phone_region")
    @classmethod
    def _phone_region(cls, value: str) -> str:
        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"HELPLINE_PHONE_REGION: {value!r} is not a region with phone numbers (e.g. FR)")
        return region

    @model_validator(mode="after")
    def _carrier(self) -> TelephonySettings:
        if self.carrier is None:
            has_twilio = bool(self.twilio_account_sid and self.twilio_auth_token)
            self.carrier = "twilio" if has_twilio else "fake"
        if self.carrier == "twilio":
            if not (self.twilio_account_sid and self.twilio_auth_token):
                raise ValueError("HELPLINE_CARRIER=twilio needs HELPLINE_TWILIO_ACCOUNT_SID and _AUTH_TOKEN")
            if self.secret_key is None or len(self.secret_key.get_secret_value()) < 32:
                raise ValueError("HELPLINE_SECRET_KEY (32 characters or more) is needed to key callers")
        return self

    @property
    def own_url(self) -> str:
        """This server as it listens: the public URL when none is given."""
        return f"http://{self.host}:{self.port}"

    @property
    def enabled(self) -> bool:
        """Webhooks can be checked, so calls can come in."""
        return self.twilio_auth_token is not None

    @property
    def token(self) -> str:
        assert self.twilio_auth_token is not None
        return self.twilio_auth_token.get_secret_value()

    def caller_secret(self) -> bytes:
        """The key for caller keys. Without one (fake carrier only), a random key for
        this process: repeat counts and blocks then last until a restart."""
        if self.secret_key is None:
            self.secret_key = SecretStr(secrets.token_hex(32))
        return self.secret_key.get_secret_value().encode()
