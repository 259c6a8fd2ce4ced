"""What a visitor may say about themselves before the chat. Everything is optional."""

from __future__ import annotations

from enum import StrEnum


class VisitorRole(StrEnum):
    YOUNG_PERSON = "young_person"
    PARENT = "parent"
    PROFESSIONAL = "professional"


class AgeBand(StrEnum):
    UNDER_11 = "under_11"
    AGE_11_14 = "11_14"
    AGE_15_17 = "15_17"
    ADULT = "18_plus"


class Topic(StrEnum):
    CYBERBULLYING = "cyberbullying"
    SEXTORTION = "sextortion"
    NUDES_SHARED = "nudes_shared"
    HACKED_ACCOUNT = "hacked_account"
    SHOCKING_CONTENT = "shocking_content"
    OTHER = "other"
