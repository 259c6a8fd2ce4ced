"""Triage: a contact's priority and skill from the pre-chat topic and what the young
person writes. Rules come from a data file (French and English keyword lists);
they only ever raise a priority, never lower it. A counsellor can change it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .routing import GENERAL, Priority


def fold(text: str) -> str:
    """Lower case, no accents, one space between words: "J'ai ENVIE   de mourir" ->
    "j ai envie de mourir"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.findall(r"\w+", bare))


def _pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    """Whole words or phrases; a trailing ``*`` on a word matches any ending."""
    parts = []
    for keyword in keywords:
        words = [w for w in keyword.split() if w]
        if not words:
            continue
        rendered = [re.escape(fold(w.rstrip("*"))) + (r"\w*" if w.endswith("*") else "") for w in words]
        parts.append(r"\b" + r"\s+".join(rendered) + r"\b")
    return re.compile("|".join(parts)) if parts else None


@dataclass(frozen=True)
class TriageRules:
    keywords: Mapping[Priority, tuple[str, ...]] = field(default_factory=dict)
    topic_priority: Mapping[str, Priority] = field(default_factory=dict)
    topic_skill: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        compiled = {p: _pattern(words) for p, words in self.keywords.items()}
        object.__setattr__(self, "_compiled", {p: c for p, c in compiled.items() if c is not None})

    def priority(self, topic: str | None = None, text: str = "") -> Priority:
        """The priority the topic and text call for (NORMAL if nothing matches)."""
        found = self.topic_priority.get(topic or "", Priority.NORMAL)
        if text:
            folded = fold(text)
            for level, pattern in sorted(self._compiled.items()):  # type: ignore[attr-defined]
                if level < found and pattern.search(folded):
                    found = level
                    break
        return found

    def skill(self, topic: str | None) -> str:
        return self.topic_skill.get(topic or "", GENERAL)
