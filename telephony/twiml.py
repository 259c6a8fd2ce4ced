"""What callers hear: TwiML built with the Twilio SDK, text from the catalogs."""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from helpline.domain.resources import EMERGENCY, Resource
from helpline.domain.waiting import Standing
from helpline.i18n import translate

from .config import TelephonySettings

LANGUAGES = {"fr": "fr-FR", "en": "en-GB"}
SWITCH_DIGIT = "9"


@cache
def _catalog(lang: str) -> dict[str, Any]:
    raw = resources.files("telephony").joinpath("locales", f"{lang}.toml").read_text("utf-8")
    return tomllib.loads(raw)


def text(key: str, lang: str, **values: object) -> str:
    found = _catalog(lang if lang in LANGUAGES else "fr")[key]
    return str(found).format(**values) if values else str(found)


def other(lang: str) -> str:
    return "en" if lang == "fr" else "fr"


def spoken_number(number: str) -> str:
    """Short service numbers as people say them: 3114 as "31 14"."""
    if len(number) == 4 and number.isdigit():
        return f"{number[:2]} {number[2:]}"
    return number


class Voice:
    """Builds each answer in one language."""

    def __init__(self, settings: TelephonySettings, lang: str) -> None:
        self.settings = settings
        self.lang = lang if lang in LANGUAGES else "fr"

    def _say(self, into: VoiceResponse | Gather | Dial, words: str, lang: str | None = None) -> None:
        lang = lang or self.lang
        voice = self.settings.voice_fr if lang == "fr" else self.settings.voice_en
        into.say(words, language=LANGUAGES[lang], **({"voice": voice} if voice else {}))

    def t(self, key: str, **values: object) -> str:
        return text(key, self.lang, **values)

    def welcome(self, choice_url: str) -> str:
        """The welcome and the keypad menu; no key pressed in time means no answer."""
        r = VoiceResponse()
        gather = Gather(
            num_digits=1, timeout=self.settings.keypad_timeout_s, action=choice_url, method="POST"
        )
        self._say(gather, self.t("welcome"))
        self._say(gather, self.t("menu"))
        self._say(gather, text("switch", other(self.lang)), other(self.lang))
        r.append(gather)
        r.redirect(choice_url, method="POST")
        return str(r)

    def queued(self, wait_url: str) -> str:
        r = VoiceResponse()
        self._say(r, self.t("queued"))
        r.redirect(wait_url, method="POST")
        return str(r)

    def hold(self, standing: Standing | None, wait_url: str) -> str:
        """One turn of the hold loop: where they stand, then music or silence, then again."""
        r = VoiceResponse()
        if standing is not None:
            if standing.position <= 1:
                self._say(r, self.t("position_next"))
            else:
                self._say(r, self.t("position", position=standing.position))
            if standing.estimated_wait_s is not None:  # unknown while nobody is on the floor
                minutes = round(standing.estimated_wait_s / 60)
                self._say(r, self.t("wait_short") if minutes < 1 else self.t("wait_minutes", minutes=minutes))
        self._say(r, self.t("stay"))
        if self.settings.hold_audio_url:
            r.play(self.settings.hold_audio_url)
        else:
            r.pause(length=self.settings.hold_announce_s)
        r.redirect(wait_url, method="POST")
        return str(r)

    def dial(self, endpoint: str, action_url: str) -> str:
        """Ring the counsellor's phone or softphone; ``action_url`` learns how it went."""
        r = VoiceResponse()
        self._say(r, self.t("connecting"))
        dial = Dial(timeout=self.settings.dial_timeout_s, action=action_url, method="POST")
        if endpoint.startswith("client:"):
            dial.client(endpoint.removeprefix("client:"))
        else:
            dial.number(endpoint)
        r.append(dial)
        return str(r)

    def put_through(self, resource: Resource) -> str:
        """Said once, then the emergency number dialled. No ``action``: when that call ends,
        so does the caller's; the helpline is not on it."""
        r = VoiceResponse()
        label = translate(f"resources.{resource.key}", self.lang)
        self._say(r, self.t("put_through", label=label, number=spoken_number(resource.number)))
        dial = Dial()
        dial.number(resource.number)
        r.append(dial)
        return str(r)

    def not_answered(self, wait_url: str) -> str:
        r = VoiceResponse()
        self._say(r, self.t("not_answered"))
        r.redirect(wait_url, method="POST")
        return str(r)

    def closed(self, opens_at: datetime | None) -> str:
        """Closed: when we open again, and where to get help now."""
        r = VoiceResponse()
        self._say(r, self.t("closed"))
        if opens_at is not None:
            self._say(r, self._reopens(opens_at))
        self._emergency(r)
        r.hangup()
        return str(r)

    def _reopens(self, local: datetime) -> str:
        catalog = _catalog(self.lang)
        when = (
            self.t("time_on_hour", hour=local.hour)
            if local.minute == 0
            else self.t("time", hour=local.hour, minute=f"{local.minute:02d}")
        )
        return self.t(
            "reopens",
            weekday=catalog["weekdays"][local.weekday()],
            day=local.day,
            month=catalog["months"][local.month - 1],
            time=when,
        )

    def _emergency(self, r: VoiceResponse) -> None:
        self._say(r, self.t("emergency"))
        for resource in EMERGENCY:
            if resource.scheme == "tel":
                label = translate(f"resources.{resource.key}", self.lang)
                self._say(r, self.t("resource", label=label, number=spoken_number(resource.number)))

    def ending(self, key: str) -> str:
        """A last sentence (goodbye, blocked, lost), then hang up."""
        r = VoiceResponse()
        self._say(r, self.t(key))
        r.hangup()
        return str(r)
