"""What a hand-off may hold and how it moves: only the target's fields leave, addresses are
web addresses, and each state goes only where the rules say."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpline.domain.access import may_approve_handoff
from helpline.domain.counsellor import Role
from helpline.domain.errors import Conflict
from helpline.domain.handoffs import (
    Action,
    FieldType,
    HandoffState,
    InvalidHandoff,
    Localised,
    Target,
    TargetField,
    TargetKind,
    minimal_payload,
    next_state,
)

L = Localised("x", "x")
PHAROS = Target("pharos", L, TargetKind.REPORT, fields=(
    TargetField("urls", FieldType.URLS, L, required=True),
    TargetField("content_type", FieldType.CHOICE, L, required=True, choices=("sexual_image", "threat")),
    TargetField("seen_on", FieldType.DATE, L),
    TargetField("description", FieldType.TEXT, L),
))
GUIDANCE = Target("thesee", L, TargetKind.GUIDANCE, approval=False)
EMERGENCY = Target("emergency", L, TargetKind.EMERGENCY, approval=False)
NOTICE = Target("platform_notice", L, TargetKind.NOTICE, approval=False, fields=PHAROS.fields)
GOOD = {"urls": ["https://example.org/post/1"], "content_type": "threat"}


def test_a_payload_holds_the_targets_fields_as_given() -> None:
    assert minimal_payload(PHAROS, {**GOOD, "seen_on": "2026-11-27", "description": ""}) == {
        **GOOD, "seen_on": "2026-11-27"}


@pytest.mark.parametrize(("values", "field", "problem"), [
    ({**GOOD, "visitor_token": "abc"}, "visitor_token", "unknown_field"),
    ({**GOOD, "phone": "+33612345678"}, "phone", "unknown_field"),
    ({"content_type": "threat"}, "urls", "required"),
    ({**GOOD, "urls": ["file:///etc/passwd"]}, "urls", "not_a_web_address"),
    ({**GOOD, "urls": ["data:image/png;base64,AAAA"]}, "urls", "not_a_web_address"),
    ({**GOOD, "urls": ["https://"]}, "urls", "not_a_web_address"),
    ({**GOOD, "urls": [f"https://example.org/{i}" for i in range(21)]}, "urls", "too_many_urls"),
    ({**GOOD, "content_type": "anything"}, "content_type", "unknown_choice"),
    ({**GOOD, "seen_on": "hier"}, "seen_on", "not_a_date"),
    ({**GOOD, "description": "a\x00b"}, "description", "invalid_text"),
    ({**GOOD, "description": 12}, "description", "not_text"),
])
def test_anything_else_is_refused_naming_the_field(
    values: dict[str, object], field: str, problem: str
) -> None:
    with pytest.raises(InvalidHandoff) as refused:
        minimal_payload(PHAROS, values)
    assert (refused.value.field, refused.value.problem) == (field, problem)


@given(st.dictionaries(st.text(max_size=12), st.one_of(st.text(max_size=30), st.lists(st.text(max_size=30)))))
def test_whatever_comes_in_only_the_targets_fields_can_go_out(values: dict[str, object]) -> None:
    try:
        payload = minimal_payload(PHAROS, values)
    except InvalidHandoff:
        return
    assert set(payload) <= {f.id for f in PHAROS.fields}
    assert all(payload[k] == values[k] for k in payload)


@pytest.mark.parametrize(("target", "after"), [
    (PHAROS, HandoffState.AWAITING_APPROVAL),
    (NOTICE, HandoffState.DISPATCHING),
    (GUIDANCE, HandoffState.DELIVERED),
    (EMERGENCY, HandoffState.DELIVERED),
])
def test_a_submitted_handoff_waits_for_approval_is_sent_or_is_only_recorded(
    target: Target, after: HandoffState
) -> None:
    assert next_state(HandoffState.DRAFT, Action.SUBMIT, target) is after


def test_a_handoff_moves_only_along_its_life() -> None:
    assert next_state(HandoffState.AWAITING_APPROVAL, Action.APPROVE, PHAROS) is HandoffState.DISPATCHING
    assert next_state(HandoffState.DISPATCHING, Action.FAILED, PHAROS) is HandoffState.FAILED
    assert next_state(HandoffState.FAILED, Action.RETRY, PHAROS) is HandoffState.DISPATCHING
    assert next_state(HandoffState.DISPATCHING, Action.DELIVERED, PHAROS) is HandoffState.DELIVERED
    for state, action in [(HandoffState.DELIVERED, Action.CANCEL), (HandoffState.DRAFT, Action.APPROVE),
                          (HandoffState.DISPATCHING, Action.CANCEL), (HandoffState.CANCELLED, Action.SUBMIT)]:
        with pytest.raises(Conflict):
            next_state(state, action, PHAROS)


@pytest.mark.parametrize(("role", "me", "allowed"), [
    (Role.SUPERVISOR, 2, True), (Role.ADMIN, 2, True), (Role.SUPERVISOR, 1, False),
    (Role.ADMIN, 1, False), (Role.COUNSELLOR, 2, False),
])
def test_four_eyes_a_supervisor_other_than_the_author_approves(role: Role, me: int, allowed: bool) -> None:
    assert may_approve_handoff(role, me, author_id=1) is allowed
