"""The phone channel's pure parts: caller keys, what the hold loop says, and the rule
that the core never depends on the adapter."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from helpline.domain.waiting import Standing
from telephony.callers import caller_key, normalise
from telephony.config import TelephonySettings
from telephony.twiml import Voice, spoken_number

SECRET = b"k" * 32
ROOT = Path(__file__).resolve().parents[2]


def test_one_number_written_any_way_gives_one_caller_key() -> None:
    keys = {
        caller_key(SECRET, n, "FR")
        for n in (
            "+33612345678", "+33 6 12 34 56 78", "0033612345678", "+33.6.12.34.56.78",
            "0612345678", "06 12 34 56 78", "06.12.34.56.78", "+33 (0)6 12 34 56 78",
        )
    }
    assert len(keys) == 1
    [key] = keys
    assert key is not None and len(key) == 64 and "612345678" not in key


def test_a_national_number_is_read_in_the_configured_region() -> None:
    assert normalise("0612345678", "FR") == "+33612345678"
    assert normalise("020 7946 0958", "GB") == "+442079460958"
    assert normalise("+33 6 12 34 56 78", "GB") == "+33612345678"  # an international one stays itself
    assert caller_key(SECRET, "0612345678", "FR") != caller_key(SECRET, "0612345678", "BE")


def test_the_key_depends_on_the_secret_so_a_leaked_table_cannot_be_checked_against_numbers() -> None:
    assert caller_key(SECRET, "+33612345678", "FR") != caller_key(b"other" * 8, "+33612345678", "FR")


def test_hidden_or_odd_numbers_have_no_key() -> None:
    for hidden in (
        "anonymous", "Restricted", "private", "", "+266696687", "+86282452253", "+7378742833",
        "client:alice", "sip:alice@example.org", "+0123", "123", "1" * 300,
    ):
        assert caller_key(SECRET, hidden, "FR") is None, hidden


def test_the_phone_region_must_be_one_with_phone_numbers() -> None:
    assert TelephonySettings().phone_region == "FR"
    assert TelephonySettings(phone_region="be").phone_region == "BE"
    with pytest.raises(ValidationError, match="HELPLINE_PHONE_REGION"):
        TelephonySettings(phone_region="XX")


def test_short_service_numbers_are_spoken_in_pairs() -> None:
    assert [spoken_number(n) for n in ("17", "112", "119", "3114")] == ["17", "112", "119", "31 14"]


def test_the_hold_loop_rounds_the_wait_to_minutes_and_never_invents_one() -> None:
    voice = Voice(TelephonySettings(hold_announce_s=45), "fr")
    assert "d'environ 4 minutes" in voice.hold(Standing(3, 250), "https://x/wait")
    assert "moins d'une minute" in voice.hold(Standing(1, 20), "https://x/wait")
    unknown = voice.hold(Standing(2, None), "https://x/wait")
    assert "position 2" in unknown and "attente" not in unknown.lower().split("position 2")[1]
    assert '<Pause length="45" />' in unknown


def test_hold_music_plays_when_configured() -> None:
    voice = Voice(TelephonySettings(hold_audio_url="https://cdn.example.org/hold.mp3"), "en")
    assert "<Play>https://cdn.example.org/hold.mp3</Play>" in voice.hold(None, "https://x/wait")


def test_reopening_times_are_said_in_each_language() -> None:
    monday = datetime(2026, 11, 30, 9, 0)
    assert "le lundi 30 novembre à 9 heures" in Voice(TelephonySettings(), "fr").closed(monday)
    assert "on Monday 30 November at 9 o'clock" in Voice(TelephonySettings(), "en").closed(monday)
    assert "à 13 heures 30" in Voice(TelephonySettings(), "fr").closed(monday.replace(hour=13, minute=30))


def test_the_core_never_imports_the_phone_adapter() -> None:
    offenders = []
    for path in (ROOT / "helpline").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "telephony"]
    assert offenders == []
