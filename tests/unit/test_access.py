"""Who may do what: every rule against every role, and one's own contact against another's."""

from __future__ import annotations

import pytest

from helpline.domain.access import (
    may_act_on_contact,
    may_administer,
    may_block_callers,
    may_manage_legal_holds,
    may_monitor,
    may_read_transcript,
    may_see_floor,
    may_see_statistics,
    may_set_priority,
    may_wrap_up,
)
from helpline.domain.counsellor import Role

ME, OTHER = 7, 8
# (role, contact assigned to) -> may? for each rule that depends on the contact
CASES = [
    (Role.COUNSELLOR, ME, True),
    (Role.COUNSELLOR, OTHER, False),
    (Role.COUNSELLOR, None, False),
    (Role.SUPERVISOR, OTHER, True),
    (Role.SUPERVISOR, None, True),
    (Role.ADMIN, OTHER, True),
]


@pytest.mark.parametrize(("role", "assigned_to", "allowed"), CASES)
@pytest.mark.parametrize("rule", [may_read_transcript, may_wrap_up, may_set_priority])
def test_a_contacts_record_is_for_its_counsellor_and_supervisors(
    rule: object, role: Role, assigned_to: int | None, allowed: bool
) -> None:
    assert rule(role, ME, assigned_to) is allowed  # type: ignore[operator]


@pytest.mark.parametrize("role", list(Role))
def test_only_the_assigned_counsellor_acts_on_a_contact_whatever_their_role(role: Role) -> None:
    assert may_act_on_contact(ME, ME)
    assert not may_act_on_contact(ME, OTHER)
    assert not may_act_on_contact(ME, None)


@pytest.mark.parametrize("rule", [may_monitor, may_see_floor, may_block_callers, may_see_statistics])
def test_supervision_is_for_supervisors_and_admins(rule: object) -> None:
    assert [rule(r) for r in Role] == [r in (Role.SUPERVISOR, Role.ADMIN) for r in Role]  # type: ignore[operator]


def test_administration_is_for_admins_only() -> None:
    assert [may_administer(r) for r in Role] == [r is Role.ADMIN for r in Role]
    assert [may_manage_legal_holds(r) for r in Role] == [r is Role.ADMIN for r in Role]
