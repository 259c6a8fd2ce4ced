"""The front-ends' text, the [widget] and [console] tables of the catalogs: French and
English say the same things with the same placeholders, and the scripts the server
serves hold it with no slot left unfilled."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from helpline.i18n import front_end_catalog
from helpline.web.console_pages import _file
from helpline.web.widget import widget_bundle

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def shape(value: Any) -> Any:
    """The keys of ``value`` all the way down, with each text's placeholders in its place."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return sorted(PLACEHOLDER.findall(value))


@pytest.mark.parametrize("table", ["widget", "console"])
def test_french_and_english_have_the_same_keys_and_placeholders(table: str) -> None:
    catalog = front_end_catalog(table)
    assert list(catalog) == ["fr", "en"]
    assert len(catalog["fr"]) > 50  # the table is there
    assert shape(catalog["en"]) == shape(catalog["fr"])


def test_placeholders_are_found() -> None:
    assert shape({"a": "{n} min", "b": ["{name} : {text}"]}) == {"a": ["n"], "b": [["name", "text"]]}


@pytest.mark.parametrize(("table", "served"), [
    ("widget", lambda: widget_bundle("https://exit.example/")[0]),
    ("console", lambda: _file("i18n.js")[0]),
])
def test_the_served_scripts_hold_their_text_and_no_unfilled_slot(table: str, served: Any) -> None:
    source = served().decode("utf-8")
    assert "__HELPLINE_" not in source
    assert json.dumps(front_end_catalog(table), ensure_ascii=False) in source
