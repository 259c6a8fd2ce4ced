"""Catalogs: French first, English second, the same keys in both."""

from __future__ import annotations

from helpline.i18n import _catalog, negotiate, translate


def test_both_catalogs_have_the_same_keys() -> None:
    assert set(_catalog("fr")) == set(_catalog("en"))


def test_french_is_the_default() -> None:
    assert translate("error.empty_text") == "Le message est vide."
    assert negotiate(None) == "fr"
    assert negotiate("de-DE,de;q=0.9") == "fr"


def test_english_is_chosen_when_preferred() -> None:
    assert negotiate("en-GB,en;q=0.9,fr;q=0.5") == "en"
    assert negotiate("fr;q=0.4, en;q=0.8") == "en"
    assert translate("error.empty_text", "en") == "The message is empty."


def test_an_unknown_key_falls_back_to_itself() -> None:
    assert translate("error.nope", "en") == "error.nope"
