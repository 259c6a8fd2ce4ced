"""Loading the triage rules (see helpline/data/triage.toml)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from ..domain.routing import Priority
from ..domain.triage import TriageRules


def load_triage(path: Path | None) -> TriageRules:
    try:
        if path is None:
            text = resources.files("helpline").joinpath("data", "triage.toml").read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        return parse_triage(tomllib.loads(text))
    except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError, TypeError) as e:
        raise ValueError(f"triage rules {path or 'built in'}: {e}") from e


def parse_triage(raw: dict[str, Any]) -> TriageRules:
    topics = raw.get("topics", {})
    return TriageRules(
        keywords={Priority.from_label(lvl): tuple(words) for lvl, words in raw.get("keywords", {}).items()},
        topic_priority={t: Priority.from_label(p) for t, p in topics.get("priority", {}).items()},
        topic_skill=dict(topics.get("skill", {})),
    )
