"""Front-end scripts served with values of the server written into them. A slot is a
quoted placeholder in the source, such as ``"__HELPLINE_CSS__"``, and is replaced by the
value as JSON, so the script holds a plain string or object literal there."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

CATALOG_SLOT = '"__HELPLINE_CATALOG__"'  # the front-end's [table] of each language catalog


def stamp(paths: Iterable[Path]) -> tuple[int, ...]:
    """The modification times of ``paths``: a cache key that changes when one is edited.
    FileNotFoundError if one is missing."""
    return tuple(path.stat().st_mtime_ns for path in paths)


def fill(source: Path, values: dict[str, object]) -> bytes:
    """The UTF-8 text of ``source`` with each slot replaced by its value; every slot must
    be there exactly once."""
    text = source.read_text("utf-8")
    for slot in values:
        if text.count(slot) != 1:
            raise RuntimeError(f"{source.name} must hold {slot} exactly once")
    for slot, value in values.items():
        text = text.replace(slot, json.dumps(value, ensure_ascii=False))
    return text.encode("utf-8")
