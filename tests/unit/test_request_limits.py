"""The limits requests are held to: JSON the server takes in, text without control
characters, passwords, taxonomy ids."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest
from pydantic import TypeAdapter, ValidationError

from helpline.domain.counsellor import MIN_PASSWORD_LENGTH, validate_password
from helpline.domain.errors import DomainError
from helpline.web.errors import MAX_JSON_DEPTH, InvalidJson, load_json
from helpline.web.schemas import TAXONOMY_ID_PATTERN, DisplayName, TaxonomyId, WrapupNote


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nested_up_to_the_limit_is_read_and_deeper_is_refused() -> None:
    assert load_json(nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(InvalidJson):
        load_json(nested(MAX_JSON_DEPTH + 1))
    with pytest.raises(InvalidJson):
        load_json("[" * 100_000)  # deep enough to exhaust the parser's recursion


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', '"\\udc00"', '{"\\ud83d": 1}',
                                  "1" * 5000])
def test_non_standard_json_is_refused(text: str) -> None:
    with pytest.raises(InvalidJson):
        load_json(text)


def test_json_with_real_emoji_and_escaped_pairs_is_read() -> None:
    assert load_json('["🙂", "\\ud83d\\ude42"]') == ["🙂", "🙂"]


@pytest.mark.parametrize("text", ["a\x00b", "a\nb", "a\tb", "\x1b[31m", "\x7f", "\x85", "a\rb"])
def test_one_line_of_text_refuses_every_control_character(text: str) -> None:
    with pytest.raises(ValidationError) as raised:
        TypeAdapter(DisplayName).validate_python(text)
    assert raised.value.errors()[0]["type"] == "control_character"


def test_multi_line_text_keeps_line_breaks_and_tabs_only() -> None:
    notes = TypeAdapter(WrapupNote)
    assert notes.validate_python("un\r\ndeux\n\ttrois") == "un\r\ndeux\n\ttrois"
    for bad in ("a\x00", "a\x0b", "a\x1b", "a\x9f"):
        with pytest.raises(ValidationError):
            notes.validate_python(bad)


def test_every_taxonomy_id_fits_the_pattern_the_api_states() -> None:
    raw = tomllib.loads(resources.files("helpline").joinpath("data", "taxonomy.toml").read_text("utf-8"))
    ids = [item["id"] for items in raw.values() if isinstance(items, list) for item in items]
    assert len(ids) > 20
    adapter = TypeAdapter(TaxonomyId)
    for taxonomy_id in ids:
        adapter.validate_python(taxonomy_id)
    assert TAXONOMY_ID_PATTERN == "^[a-z0-9_]{1,32}$"


def test_a_password_has_at_least_eight_characters_except_on_a_demo_account() -> None:
    assert MIN_PASSWORD_LENGTH == 8
    validate_password("12345678")
    with pytest.raises(DomainError, match="password_too_short"):
        validate_password("1234567")
    assert validate_password("demo", demo_account=True) == "demo"
