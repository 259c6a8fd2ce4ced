"""User-facing text, French first then English, from the catalogs in locales/: one file a
language. The server's own text is in its tables (``[error]``, ...); the front-ends' text
is in ``[console]`` and ``[widget]``, which the server writes into the scripts it serves."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from .resources import package_dir

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"


def catalog_files() -> list[Path]:
    """The catalog of each language, French first."""
    return [package_dir("locales") / f"{lang}.toml" for lang in LANGUAGES]


def _read(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text("utf-8"))


@cache
def _catalog(lang: str) -> dict[str, str]:
    return _flatten(_read(package_dir("locales") / f"{lang}.toml"))


def front_end_catalog(table: str) -> dict[str, Any]:
    """A front-end's text, ``{"fr": {...}, "en": {...}}``: the ``[table]`` of each catalog.
    Read afresh on every call; callers cache what they build from it."""
    return {lang: _read(path)[table] for lang, path in zip(LANGUAGES, catalog_files(), strict=True)}


def _flatten(tree: dict[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def translate(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The text for ``key`` in ``lang``; falls back to French, then to the key."""
    for candidate in (lang, DEFAULT_LANGUAGE):
        text = _catalog(candidate if candidate in LANGUAGES else DEFAULT_LANGUAGE).get(key)
        if text is not None:
            return text.format(**values) if values else text
    return key


def negotiate(accept_language: str | None) -> str:
    """Pick fr or en from an Accept-Language header (or a bare language code)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.split("-")[0].lower()))
    for _, _, lang in sorted(ranked):
        if lang in LANGUAGES:
            return lang
    return DEFAULT_LANGUAGE
