"""First come, first served; the estimated wait; who may read a transcript."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from helpline.domain.access import may_act_on_contact, may_read_transcript
from helpline.domain.contact import Channel
from helpline.domain.counsellor import CounsellorLoad, Role
from helpline.domain.routing import SkillsRouter, WaitingContact
from helpline.domain.waiting import estimate_wait_s, standings

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def waiting(n: int) -> list[WaitingContact]:
    return [WaitingContact(f"c{i}", T0 + timedelta(seconds=i)) for i in range(n)]


def test_the_oldest_contact_is_served_first() -> None:
    contacts = list(reversed(waiting(3)))
    plan = SkillsRouter().plan(contacts, [CounsellorLoad(1, 1, 0, None)], T0)
    assert [(a.contact_id, a.counsellor_id) for a in plan] == [("c0", 1)]


def test_the_least_loaded_counsellor_gets_the_next_contact() -> None:
    counsellors = [CounsellorLoad(1, 3, 2, None), CounsellorLoad(2, 3, 0, None)]
    plan = SkillsRouter().plan(waiting(1), counsellors, T0)
    assert plan[0].counsellor_id == 2


def test_among_equals_the_longest_idle_counsellor_goes_first() -> None:
    counsellors = [CounsellorLoad(1, 3, 0, T0), CounsellorLoad(2, 3, 0, T0 - timedelta(hours=1))]
    assert SkillsRouter().plan(waiting(1), counsellors, T0)[0].counsellor_id == 2


def test_contacts_are_spread_before_anyone_gets_a_second_one() -> None:
    counsellors = [CounsellorLoad(1, 3, 0, None), CounsellorLoad(2, 3, 0, None)]
    plan = SkillsRouter().plan(waiting(4), counsellors, T0)
    assert sorted(a.counsellor_id for a in plan) == [1, 1, 2, 2]
    assert plan[0].counsellor_id != plan[1].counsellor_id


@given(
    n_contacts=st.integers(0, 30),
    capacities=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 5)), max_size=6),
)
def test_a_plan_never_assigns_twice_nor_exceeds_capacity(
    n_contacts: int, capacities: list[tuple[int, int]]
) -> None:
    counsellors = [
        CounsellorLoad(i, cap, min(active, cap), None) for i, (cap, active) in enumerate(capacities)
    ]
    plan = SkillsRouter().plan(waiting(n_contacts), counsellors, T0)
    assert len({a.contact_id for a in plan}) == len(plan)
    for c in counsellors:
        assert sum(a.counsellor_id == c.id for a in plan) <= c.spare(Channel.CHAT)
    assert len(plan) == min(n_contacts, sum(c.spare(Channel.CHAT) for c in counsellors))
    assert [a.contact_id for a in plan] == [f"c{i}" for i in range(len(plan))]


def test_no_wait_when_a_counsellor_has_room() -> None:
    assert estimate_wait_s(1, capacity=3, free=1, handle_time_s=600) == 0


def test_the_wait_grows_with_the_number_ahead() -> None:
    assert estimate_wait_s(1, capacity=4, free=0, handle_time_s=600) == 150
    assert estimate_wait_s(4, capacity=4, free=0, handle_time_s=600) == 600


def test_there_is_no_estimate_when_nobody_can_serve() -> None:
    assert estimate_wait_s(1, capacity=0, free=0, handle_time_s=600) is None


@given(st.integers(1, 300), st.lists(st.integers(1, 5), min_size=1, max_size=10))
def test_the_estimate_never_shrinks_further_back_in_the_queue(n: int, caps: list[int]) -> None:
    counsellors = [CounsellorLoad(i, cap, cap, None) for i, cap in enumerate(caps)]
    stood = standings(waiting(n), counsellors, 300)
    estimates = [stood[f"c{i}"].estimated_wait_s for i in range(n)]
    assert [stood[f"c{i}"].position for i in range(n)] == list(range(1, n + 1))
    assert estimates == sorted(estimates)  # type: ignore[type-var]


def test_a_chat_nobody_is_behind_keeps_its_place_but_counts_ahead_of_nobody() -> None:
    counsellors = [CounsellorLoad(1, 2, 2, None)]
    stood = standings(waiting(4), counsellors, 600, unattended={"c0", "c2"})
    assert [stood[f"c{i}"].position for i in range(4)] == [1, 1, 2, 2]
    assert stood["c3"].estimated_wait_s == standings(waiting(2), counsellors, 600)["c1"].estimated_wait_s
    assert standings(waiting(4), counsellors, 600)["c3"].position == 4


def test_a_counsellor_reads_only_their_own_transcripts() -> None:
    assert may_read_transcript(Role.COUNSELLOR, 1, 1)
    assert not may_read_transcript(Role.COUNSELLOR, 1, 2)
    assert not may_read_transcript(Role.COUNSELLOR, 1, None)


def test_supervisors_and_admins_read_any_transcript() -> None:
    assert may_read_transcript(Role.SUPERVISOR, 1, 2)
    assert may_read_transcript(Role.ADMIN, 1, None)


def test_only_the_assigned_counsellor_acts_on_a_contact() -> None:
    assert may_act_on_contact(1, 1)
    assert not may_act_on_contact(1, 2)
    assert not may_act_on_contact(1, None)
