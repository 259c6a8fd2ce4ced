"""The words of the statistics in one language: table titles, column names, and the items
of the breakdowns (wrap-up lists from the taxonomy, hand-off targets by their names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..domain.handoffs import Target
from ..i18n import translate
from ..services.wrapups import taxonomy


@dataclass(frozen=True)
class Labels:
    lang: str
    targets: Mapping[str, Target]

    def __call__(self, key: str, **values: object) -> str:
        return translate(f"statistics.{key}", self.lang, **values)

    def title(self, table: str) -> str:
        return self(table)

    def column(self, name: str) -> str:
        return self(f"col_{name}")

    def item(self, table: str, value: object) -> str:
        """A row's key as people read it: an item of a wrap-up list, a target's name."""
        text = str(value)
        if text in ("none", "unrecorded", "pending") or table == "summary":
            return self(text)
        if table == "heatmap":
            return self.weekdays()[int(text) - 1]
        for item in taxonomy().get(table, ()):
            if item["id"] == text:
                return str(item["label"][self.lang])
        if table in ("handoffs", "notices") and text in self.targets:
            return self.targets[text].name.get(self.lang)
        return text

    def weekdays(self) -> list[str]:
        return self("weekdays").split(",")
