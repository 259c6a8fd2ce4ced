"""Callers are known by a keyed hash of their number, never by the number."""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers

# Numbers carriers send for a withheld caller (Twilio: anonymous, restricted, unknown).
# Words such as "anonymous" or "private" are not numbers at all.
_WITHHELD = frozenset({"+266696687", "+86282452253", "+7378742833"})


def normalise(number: str, region: str) -> str | None:
    """The E.164 form of a caller's number (a national one is read as in ``region``), or
    None when it is withheld or not a phone number."""
    try:
        parsed = phonenumbers.parse(number or "", region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None if e164 in _WITHHELD else e164


def caller_key(secret: bytes, number: str, region: str) -> str | None:
    """HMAC-SHA256(secret, E.164 number) in hex; None for a hidden number."""
    e164 = normalise(number, region)
    if e164 is None:
        return None
    return hmac.new(secret, e164.encode(), hashlib.sha256).hexdigest()
