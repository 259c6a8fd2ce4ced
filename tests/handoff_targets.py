"""A hand-off targets file with one target delivered by webhook, for the tests that need a
partner endpoint of their own."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path


def webhook_target(
    path: Path, target_id: str, name: str, url: str, secret_env: str, *, kind: str = "report",
    approval: bool = False, fields: Sequence[tuple[str, str, str]] = (("urls", "urls", "Adresses"),),
    good_faith: str | None = None,
) -> Path:
    """Write the file at ``path``: the target, its settings, and its fields (id, type, label),
    each required."""
    q = json.dumps  # a JSON string is a TOML basic string
    settings = f"url = {q(url)}, secret_env = {q(secret_env)}"
    if good_faith:
        settings += f", good_faith = {q(good_faith)}"
    lines = ["[[targets]]", f"id = {q(target_id)}", f"kind = {q(kind)}",
             f"approval = {str(approval).lower()}", 'connector = "webhook"',
             f"name = {{ fr = {q(name)}, en = {q(name)} }}", f"settings = {{ {settings} }}"]
    for field_id, kind_of, label in fields:
        lines += ["[[targets.fields]]", f"id = {q(field_id)}", f"type = {q(kind_of)}", "required = true",
                  f"label = {{ fr = {q(label)}, en = {q(label)} }}"]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path
