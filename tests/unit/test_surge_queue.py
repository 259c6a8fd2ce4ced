"""A surge: the queue index against a straightforward recount, the per-socket push gate
with a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from helpline.domain.contact import Channel
from helpline.domain.counsellor import CounsellorLoad
from helpline.domain.routing import Priority, WaitingContact
from helpline.domain.waiting import PushGate, QueueIndex, Standing, shown, standings

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SKILLS = ("general", "legal", "technical")

contacts = st.builds(
    lambda i, t, ch, sk, pr, target: WaitingContact(
        f"c{i}", T0 + timedelta(seconds=t), ch, sk, pr, target
    ),
    st.integers(0, 40), st.integers(0, 20), st.sampled_from(list(Channel)), st.sampled_from(SKILLS),
    st.sampled_from(list(Priority)), st.one_of(st.none(), st.integers(0, 3)),
)
counsellors = st.lists(
    st.builds(lambda i, cap, act, sk: CounsellorLoad(i, cap, min(act, cap), None,
                                                     frozenset({"general", *sk})),
              st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.sets(st.sampled_from(SKILLS))),
    max_size=4, unique_by=lambda k: k.id,
)
# (join or leave, the contact, attended or not)
operations = st.lists(st.tuples(st.booleans(), contacts, st.booleans()), max_size=60)


@settings(max_examples=300, deadline=None)
@given(counsellors, operations)
def test_the_index_agrees_with_a_recount_after_any_joins_and_leaves(
    staff: list[CounsellorLoad], ops: list[tuple[bool, WaitingContact, bool]],
) -> None:
    index = QueueIndex(staff, 600)
    there: dict[str, tuple[WaitingContact, bool]] = {}
    for join, contact, counted in ops:
        if join:
            index.add(contact, counted=counted)
            there[contact.id] = (contact, counted)
        else:
            index.discard(contact.id)
            there.pop(contact.id, None)
    unattended = {cid for cid, (_, counted) in there.items() if not counted}
    recount = standings([c for c, _ in there.values()], staff, 600, unattended)
    assert len(index) == len(there)
    assert {cid: index.standing(cid) for cid in there} == recount
    assert index.standing("nobody") is None


def test_a_newcomer_placed_in_the_index_counts_for_those_behind_it() -> None:
    staff = [CounsellorLoad(1, 2, 2, None)]
    index = QueueIndex(staff, 600, [(WaitingContact(f"c{i}", T0 + timedelta(seconds=i)), True)
                                    for i in range(3)])
    urgent = WaitingContact("u", T0 + timedelta(seconds=9), priority=Priority.URGENT)
    index.add(urgent)
    assert index.standing("u") == Standing(1, 300)
    assert index.standing("c2") == Standing(4, 1200)


def test_what_is_shown_rounds_the_wait_as_the_widget_words_it() -> None:
    assert shown(Standing(3, 61)) == shown(Standing(3, 119)) == (3, 2)
    assert shown(Standing(3, 10)) == shown(Standing(3, 59)) == (3, "under_minute")
    assert shown(Standing(3, 0)) == (3, "soon")
    assert shown(Standing(3, 4000)) == shown(Standing(3, 9000)) == (3, "hour")
    assert shown(Standing(2, 61)) != shown(Standing(3, 61))
    assert shown(Standing(1, None)) == (1, None)


def test_a_burst_of_changes_gives_a_socket_one_frame_a_second_with_the_latest_figures() -> None:
    gate = PushGate(every_s=1.0)
    now = 100.0
    sent = [gate.offer(Standing(1, 60), now)]
    # a burst: 200 joins ahead within the same second, each moving this visitor back
    for step in range(200):
        now += 0.004
        sent.append(gate.offer(Standing(2 + step, 120 + step * 60), now))
        sent.append(gate.due(now))
    frames = [s for s in sent if s is not None]
    assert frames == [Standing(1, 60)]
    assert gate.waiting
    assert gate.due(100.9) is None  # not yet a second since the last frame
    assert gate.due(101.0) == Standing(201, 120 + 199 * 60)  # the final value, once
    assert gate.due(105.0) is None and not gate.waiting


def test_a_change_that_does_not_show_is_not_sent_and_a_requeue_sends_at_once() -> None:
    gate = PushGate(every_s=1.0)
    assert gate.offer(Standing(4, 130), 0.0) == Standing(4, 130)
    assert gate.offer(Standing(4, 170), 5.0) is None  # still "3 minutes"
    assert not gate.waiting
    assert gate.offer(Standing(3, 170), 5.5) == Standing(3, 170)
    gate.reset()
    assert gate.offer(Standing(3, 170), 5.6) == Standing(3, 170)
