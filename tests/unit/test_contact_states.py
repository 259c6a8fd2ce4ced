"""The contact state machine: queued -> assigned -> ended / abandoned."""

from __future__ import annotations

import pytest

from helpline.domain.contact import (
    ContactState,
    EndReason,
    can_transition,
    end_state_for,
    require_transition,
    states_leading_to,
)
from helpline.domain.errors import Conflict

Q, A, E, X = ContactState.QUEUED, ContactState.ASSIGNED, ContactState.ENDED, ContactState.ABANDONED


@pytest.mark.parametrize(("start", "target"), [(Q, A), (A, Q), (Q, E), (A, E), (Q, X), (A, X)])
def test_open_contacts_move_along_the_allowed_paths(start: ContactState, target: ContactState) -> None:
    assert can_transition(start, target)
    require_transition(start, target)


@pytest.mark.parametrize("final", [E, X])
@pytest.mark.parametrize("target", list(ContactState))
def test_an_ended_or_abandoned_contact_never_changes_again(final: ContactState, target: ContactState) -> None:
    assert not can_transition(final, target)
    with pytest.raises(Conflict) as raised:
        require_transition(final, target)
    assert raised.value.code == "contact_closed"


def test_a_contact_cannot_be_assigned_twice() -> None:
    assert not can_transition(A, A)
    assert states_leading_to(A) == (Q,)


def test_only_open_contacts_can_be_ended() -> None:
    assert set(states_leading_to(E)) == {Q, A}
    assert set(states_leading_to(X)) == {Q, A}


def test_an_abandonment_is_its_own_final_state() -> None:
    assert end_state_for(EndReason.ABANDONED) is X
    assert end_state_for(EndReason.VISITOR) is E
    assert end_state_for(EndReason.COUNSELLOR) is E


def test_open_means_queued_or_assigned() -> None:
    assert [s for s in ContactState if s.is_open] == [Q, A]
