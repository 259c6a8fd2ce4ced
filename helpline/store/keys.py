"""Where the data keys come from: ``HELPLINE_DATA_KEYS``, ``HELPLINE_DATA_KEYS_FILE``, or,
on SQLite only (the demo), a key file made next to the database."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..config import Settings
from ..crypto import KeyRing, KeyRingError, generate_entry, parse_entries, parse_keys

LOCAL_KEY_FILE = "data-keys"  # beside the SQLite database


class KeysUnavailable(Exception):
    """The server cannot seal: one line saying what to set (never a key)."""


@dataclass(frozen=True, slots=True)
class LoadedKeys:
    ring: KeyRing
    local_file: Path | None  # the demo's own key file, when that is what is used


def read_key_file(path: Path) -> KeyRing:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise KeysUnavailable(f"HELPLINE_DATA_KEYS_FILE cannot be read ({e.strerror})") from None
    try:
        return KeyRing(parse_entries(text.splitlines(), where="line"))
    except KeyRingError as e:
        raise KeysUnavailable(f"HELPLINE_DATA_KEYS_FILE is not valid: {e}") from None


def load_keys(settings: Settings) -> LoadedKeys:
    if settings.data_keys:
        return LoadedKeys(KeyRing(parse_keys(settings.data_keys)), None)
    if settings.data_keys_file is not None:
        return LoadedKeys(read_key_file(settings.data_keys_file), None)
    database = settings.sqlite_path()
    if database is None:
        raise KeysUnavailable(
            "HELPLINE_DATA_KEYS is required with PostgreSQL: make a key with `helpline keys generate` "
            "and set HELPLINE_DATA_KEYS=<keyid:key> (keep it safe: without it the data cannot be read)"
        )
    path = database.parent / LOCAL_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = generate_entry(datetime.now(UTC).date())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(entry + "\n")
    return LoadedKeys(read_key_file(path), path)
