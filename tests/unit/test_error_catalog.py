"""Every error code the server can send has a message in French and in English."""

from __future__ import annotations

import re
from pathlib import Path

from helpline.i18n import _catalog

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (ROOT / "helpline", ROOT / "telephony")  # the adapter's errors go through the core's
RAISED = re.compile(
    r'(?:DomainError|Conflict|NotFound|Forbidden)\(\s*"([a-z_]+)"'
    r'|ApiError\(\s*\d+,\s*"([a-z_]+)"'
    r'|(?:\bself\.|(?<![.\w]))error\(\s*"([a-z_]+)"'  # a socket's error event, not log.error
    r'|code = "([a-z_]+)"'
)


def codes_in_source() -> set[str]:
    found: set[str] = set()
    for path in (p for source in SOURCES for p in source.rglob("*.py")):
        for match in RAISED.finditer(path.read_text("utf-8")):
            found.update(g for g in match.groups() if g)
    return found


def test_every_error_code_has_a_french_and_an_english_message() -> None:
    codes = codes_in_source()
    assert len(codes) > 20  # the scan works
    for lang in ("fr", "en"):
        missing = sorted(c for c in codes if f"error.{c}" not in _catalog(lang))
        assert missing == [], f"{lang} catalog lacks {missing}"
