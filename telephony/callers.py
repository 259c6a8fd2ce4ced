"""Callers are known by a keyed hash of their number, never by the number."""

from __future__ import annotations

import hashlib
import hmac
import re

# What carriers send for a withheld number (Twilio: "anonymous", "+266696687", ...).
_HIDDEN = {"", "anonymous", "restricted", "unknown", "private", "+266696687", "+86282452253", "+7378742833"}
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def normalise(number: str) -> str | None:
    """The E.164 form of a caller's number, or None when it is hidden or not a number."""
    compact = re.sub(r"[\s().-]", "", number or "")
    if compact.lower() in _HIDDEN:
        return None
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact if _E164.fullmatch(compact) else None


def caller_key(secret: bytes, number: str) -> str | None:
    """HMAC-SHA256(secret, E.164 number) in hex; None for a hidden number."""
    e164 = normalise(number)
    if e164 is None:
        return None
    return hmac.new(secret, e164.encode(), hashlib.sha256).hexdigest()
