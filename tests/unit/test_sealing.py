"""The data keys: a sealed value opens only for its contact, its column and its key."""

from __future__ import annotations

from datetime import date

import pytest

from helpline.crypto import KeyRing, KeyRingError, SealedDataError, generate_entry, parse_keys

OLD, NEW = generate_entry(date(2026, 1, 1)), generate_entry(date(2026, 11, 27))
CONTACT, OTHER = "a" * 32, "b" * 32


def test_the_newest_key_seals_and_every_key_opens() -> None:
    old = KeyRing.from_text(OLD)
    stored_old, old_id = old.seal("bonjour", CONTACT, "message:1")
    ring = KeyRing.from_text(f"{OLD},{NEW}")
    stored, key_id = ring.seal("bonjour", CONTACT, "message:1")
    assert (old_id, key_id) == ("k20260101", "k20261127")
    assert "bonjour" not in stored and stored != ring.seal("bonjour", CONTACT, "message:1")[0]  # fresh nonce
    assert ring.open(stored, key_id, CONTACT, "message:1") == "bonjour"
    assert ring.open(stored_old, old_id, CONTACT, "message:1") == "bonjour"
    assert ring.open("écrit avant", None, CONTACT, "message:1") == "écrit avant"  # no key id: clear


@pytest.mark.parametrize(("contact", "what"), [(OTHER, "message:1"), (CONTACT, "message:2"),
                                               (CONTACT, "wrapup.note")],
                         ids=["another contact", "another message", "another column"])
def test_a_ciphertext_moved_elsewhere_does_not_open(contact: str, what: str) -> None:
    ring = KeyRing.from_text(NEW)
    stored, key_id = ring.seal("secret", CONTACT, "message:1")
    with pytest.raises(SealedDataError) as error:
        ring.open(stored, key_id, contact, what)
    assert error.value.problem == "unreadable" and "secret" not in str(error.value)


def test_an_altered_value_or_an_unknown_key_is_refused() -> None:
    ring = KeyRing.from_text(NEW)
    stored, key_id = ring.seal("secret", CONTACT, "wrapup.note")
    flipped = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(SealedDataError):
        ring.open(flipped, key_id, CONTACT, "wrapup.note")
    with pytest.raises(SealedDataError) as error:
        KeyRing.from_text(OLD).open(stored, key_id, CONTACT, "wrapup.note")
    assert error.value.problem == "unknown_key" and error.value.key_id == key_id
    with pytest.raises(KeyRingError):
        KeyRing([]).seal("x", CONTACT, "wrapup.note")  # an empty ring seals nothing


def test_json_values_round_trip() -> None:
    ring = KeyRing.from_text(NEW)
    value = {"description": "Une photo", "urls": ["https://x.example"]}
    stored, key_id = ring.seal_json(value, CONTACT, "handoff.payload")
    assert ring.open_json(stored, key_id, CONTACT, "handoff.payload") == value
    assert ring.open_json(value, None, CONTACT, "handoff.payload") == value


@pytest.mark.parametrize("text", [
    "k1", "K1:" + "A" * 43, "k1:" + "A" * 40, "k1:***", "a" * 17 + ":" + "A" * 43,
    f"k1:{'A' * 43},k1:{'B' * 43}",
])
def test_bad_rings_are_refused_without_showing_a_key(text: str) -> None:
    with pytest.raises(KeyRingError) as error:
        parse_keys(text)
    assert "AAAA" not in str(error.value) and "BBBB" not in str(error.value)


def test_a_generated_id_is_not_one_the_ring_has() -> None:
    assert generate_entry(date(2026, 11, 27), ["k20261127"]).startswith("k20261127-2:")
    assert generate_entry(date(2026, 11, 27), ["k20261127", "k20261127-2"]).startswith("k20261127-3:")
    assert len(parse_keys(generate_entry(date(2026, 11, 27)))[0][1]) == 32
