"""Who may write, what a valid message is, and the seq rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpline.domain.contact import ContactState
from helpline.domain.errors import Conflict, DomainError, Forbidden
from helpline.domain.messages import (
    MAX_TEXT_LENGTH,
    Sender,
    check_can_write,
    next_seq,
    validate_client_id,
    validate_text,
)


def test_text_is_kept_exactly_as_written() -> None:
    assert validate_text("  <b>salut</b>\n") == "  <b>salut</b>\n"


@pytest.mark.parametrize("text", ["", " ", "\n\t "])
def test_blank_text_is_refused(text: str) -> None:
    with pytest.raises(DomainError) as raised:
        validate_text(text)
    assert raised.value.code == "empty_text"


def test_text_up_to_the_limit_is_accepted_and_one_more_character_is_not() -> None:
    assert validate_text("é" * MAX_TEXT_LENGTH)
    with pytest.raises(DomainError) as raised:
        validate_text("é" * (MAX_TEXT_LENGTH + 1))
    assert raised.value.code == "text_too_long"


@pytest.mark.parametrize("client_id", ["", "a b", "x" * 65, "é", "a/b"])
def test_odd_client_ids_are_refused(client_id: str) -> None:
    with pytest.raises(DomainError) as raised:
        validate_client_id(client_id)
    assert raised.value.code == "invalid_client_id"


def test_usual_client_ids_are_accepted() -> None:
    assert validate_client_id("3f2a-9b:1.x_Y") == "3f2a-9b:1.x_Y"


def test_a_young_person_may_write_while_waiting() -> None:
    check_can_write(Sender.VISITOR, ContactState.QUEUED, None, None)
    check_can_write(Sender.VISITOR, ContactState.ASSIGNED, 7, None)


def test_a_counsellor_writes_only_on_their_own_contact() -> None:
    check_can_write(Sender.COUNSELLOR, ContactState.ASSIGNED, 7, 7)
    with pytest.raises(Forbidden) as raised:
        check_can_write(Sender.COUNSELLOR, ContactState.ASSIGNED, 7, 8)
    assert raised.value.code == "not_your_contact"


def test_a_counsellor_cannot_write_on_a_waiting_contact() -> None:
    with pytest.raises(Forbidden):
        check_can_write(Sender.COUNSELLOR, ContactState.QUEUED, None, 8)


@pytest.mark.parametrize("state", [ContactState.ENDED, ContactState.ABANDONED])
@pytest.mark.parametrize("sender", [Sender.VISITOR, Sender.COUNSELLOR])
def test_nobody_writes_on_a_closed_contact(state: ContactState, sender: Sender) -> None:
    with pytest.raises(Conflict) as raised:
        check_can_write(sender, state, 7, 7)
    assert raised.value.code == "contact_closed"


@given(st.lists(st.just(1), max_size=200))
def test_seqs_start_at_one_and_have_no_gaps(messages: list[int]) -> None:
    seq, seen = 0, []
    for _ in messages:
        seq = next_seq(seq)
        seen.append(seq)
    assert seen == list(range(1, len(messages) + 1))


def test_a_negative_seq_is_a_bug() -> None:
    with pytest.raises(ValueError):
        next_seq(-1)
