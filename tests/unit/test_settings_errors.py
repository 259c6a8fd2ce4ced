"""What an operator reads when a HELPLINE_* variable is wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpline.config import invalid_settings


class Example(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPLINE_")

    api_token: int = 0
    redis_url: int = 0
    retries: int = 0


def test_a_value_is_shown_unless_the_variable_may_hold_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_API_TOKEN", "tok-value")
    monkeypatch.setenv("HELPLINE_REDIS_URL", "redis://user:pw-value@host/0")
    monkeypatch.setenv("HELPLINE_RETRIES", "many")
    with pytest.raises(ValidationError) as error:
        Example()
    why = "is not valid: should be a valid integer, unable to parse string as an integer"
    assert invalid_settings(error.value) == [
        f"HELPLINE_API_TOKEN {why}", f"HELPLINE_REDIS_URL {why}", f"HELPLINE_RETRIES='many' {why}"
    ]
