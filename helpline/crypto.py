"""Sealing at rest: AES-256-GCM under a ring of data keys.

A ring is ``keyid:base64url-of-32-bytes`` entries, the last one the newest: it seals,
every one opens. A sealed value is stored as text, ``base64(nonce || ciphertext || tag)``,
beside the id of the key that sealed it; a NULL key id means the value is clear text
(written before sealing, or erased). The associated data binds the value to its contact,
to what it is (``message:7``, ``wrapup.note``...) and to its key id, so a ciphertext moved
to another contact, another column or another message does not open.

Pure: no I/O, no clock (``generate_entry`` takes the day).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_ID = re.compile(r"[a-z0-9-]{1,16}")
KEY_BYTES = 32
NONCE_BYTES = 12


class KeyRingError(ValueError):
    """A ring that cannot be used; the message never holds key material."""


class SealedDataError(Exception):
    """A stored value that cannot be opened: its key is not in the ring, or it was altered
    or moved. ``key_id`` and ``what`` say which (neither is secret)."""

    def __init__(self, problem: str, key_id: str, what: str) -> None:
        super().__init__(f"{problem}: {what} sealed under key {key_id!r}")
        self.problem, self.key_id, self.what = problem, key_id, what


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_entries(lines: Iterable[str], where: str = "entry") -> list[tuple[str, bytes]]:
    """``keyid:key`` entries (blank ones skipped) -> (key id, 32 bytes), in order."""
    entries: list[tuple[str, bytes]] = []
    for n, raw in enumerate(lines, 1):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        key_id, sep, encoded = entry.partition(":")
        if not sep or not KEY_ID.fullmatch(key_id):
            raise KeyRingError(f"{where} {n}: expected keyid:key with a key id of 1-16 "
                               "characters a-z, 0-9 or -")
        try:
            key = _b64decode(encoded.strip())
        except (binascii.Error, ValueError):
            raise KeyRingError(f"{where} {n} ({key_id}): the key is not base64url") from None
        if len(key) != KEY_BYTES:
            raise KeyRingError(f"{where} {n} ({key_id}): the key must be {KEY_BYTES} bytes")
        if any(key_id == seen for seen, _ in entries):
            raise KeyRingError(f"{where} {n}: key id {key_id!r} given twice")
        entries.append((key_id, key))
    return entries


def parse_keys(text: str) -> list[tuple[str, bytes]]:
    """The comma-separated form (``HELPLINE_DATA_KEYS``)."""
    return parse_entries(text.split(","))


def generate_entry(today: date, taken: Iterable[str] = ()) -> str:
    """A new ``keyid:key`` entry: the id from the day (``k20261127``), with a suffix
    (``-2``, ``-3``...) when the ring already has that id."""
    taken = set(taken)
    base = f"k{today:%Y%m%d}"
    key_id, n = base, 1
    while key_id in taken:
        n += 1
        key_id = f"{base}-{n}"
    key = base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii").rstrip("=")
    return f"{key_id}:{key}"


class KeyRing:
    def __init__(self, entries: list[tuple[str, bytes]]) -> None:
        """An empty ring (a command that needs no key) reads clear rows and seals nothing."""
        self._aead = {key_id: AESGCM(key) for key_id, key in entries}
        self.newest: str | None = entries[-1][0] if entries else None

    @classmethod
    def from_text(cls, text: str) -> KeyRing:
        return cls(parse_keys(text))

    @property
    def key_ids(self) -> list[str]:
        return list(self._aead)

    @staticmethod
    def _aad(contact_id: str, what: str, key_id: str) -> bytes:
        return f"{contact_id}\x00{what}\x00{key_id}".encode()

    def seal(self, plain: str, contact_id: str, what: str) -> tuple[str, str]:
        """(stored text, key id) for ``plain``, under the newest key."""
        if self.newest is None:
            raise KeyRingError("no data key (HELPLINE_DATA_KEYS)")
        nonce = os.urandom(NONCE_BYTES)
        aad = self._aad(contact_id, what, self.newest)
        sealed = self._aead[self.newest].encrypt(nonce, plain.encode(), aad)
        return base64.b64encode(nonce + sealed).decode("ascii"), self.newest

    def open(self, stored: str, key_id: str | None, contact_id: str, what: str) -> str:
        """The clear text of a stored value (a NULL key id: it is clear already)."""
        if key_id is None:
            return stored
        aead = self._aead.get(key_id)
        if aead is None:
            raise SealedDataError("unknown_key", key_id, what)
        try:
            raw = base64.b64decode(stored, validate=True)
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                self._aad(contact_id, what, key_id)).decode()
        except (InvalidTag, binascii.Error, ValueError):
            raise SealedDataError("unreadable", key_id, what) from None

    def seal_json(self, value: Any, contact_id: str, what: str) -> tuple[str, str]:
        return self.seal(json.dumps(value, ensure_ascii=False, separators=(",", ":")), contact_id, what)

    def open_json(self, stored: Any, key_id: str | None, contact_id: str, what: str) -> Any:
        """A JSON column: the value itself when clear, else the sealed string opened."""
        if key_id is None:
            return stored
        return json.loads(self.open(stored, key_id, contact_id, what))
