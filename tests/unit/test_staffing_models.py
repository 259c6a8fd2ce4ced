"""Erlang C and Erlang A give the figures of the published tables and the known limits, and
the planner's count of counsellors follows from them."""

from __future__ import annotations

import math

import pytest

from helpline.domain.staffing import Load, counsellors_needed, erlang_a, erlang_b, erlang_c, servers_needed

HALF_HOUR = 1800.0

# The worked example reproduced in most contact-centre planning guides and Erlang C
# calculators: 100 calls in half an hour, a 3-minute handle time (10 erlangs), a 20-second
# target. Their table of agents -> probability of waiting, service level, average speed of
# answer (rounded as they print them).
PUBLISHED_TABLE = [
    (11, 0.6821, 0.3896, 122.8),
    (12, 0.4494, 0.6402, 40.4),
    (13, 0.2853, 0.7956, 17.1),
    (14, 0.1741, 0.8884, 7.8),
    (15, 0.1020, 0.9415, 3.7),
]


@pytest.mark.parametrize(("agents", "p_wait", "service_level", "asa_s"), PUBLISHED_TABLE)
def test_erlang_c_gives_the_published_table(
    agents: int, p_wait: float, service_level: float, asa_s: float
) -> None:
    got = erlang_c(agents, 100 / HALF_HOUR, 180, 20)
    assert got.p_wait == pytest.approx(p_wait, abs=5e-5)
    assert got.service_level == pytest.approx(service_level, abs=5e-5)
    assert got.asa_s == pytest.approx(asa_s, abs=0.05)


def test_the_published_example_needs_fourteen_agents_for_80_percent_in_20_seconds() -> None:
    # the same guides' answer: 13 agents reach 79.6%, 14 reach 88.8%
    assert servers_needed(100 / HALF_HOUR, 180, None, 0.8, 20).erlang_c == 14


def test_erlang_c_agrees_with_the_closed_forms_of_small_queues() -> None:
    # M/M/1: P(wait) = load; M/M/2 at one erlang: 1/3 (both in every queueing textbook)
    assert erlang_c(1, 0.5 / 100, 100, 0).p_wait == pytest.approx(0.5)
    assert erlang_c(1, 0.5 / 100, 100, 0).asa_s == pytest.approx(100.0)  # load/(1-load) x handle
    assert erlang_c(2, 1 / 100, 100, 0).p_wait == pytest.approx(1 / 3)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 2.0) == pytest.approx(0.4)


def test_erlang_c_stays_finite_for_large_loads() -> None:
    # 1,000 erlangs: a factorial would overflow a float long before this
    got = erlang_c(1040, 1000 / 300, 300, 60)
    assert 0 < got.p_wait < 1 and 0 < got.service_level < 1 and math.isfinite(got.asa_s)
    assert 0 < erlang_b(5000, 4000.0) < 1  # no overflow, no nan


def test_an_overloaded_floor_never_meets_the_target_under_erlang_c() -> None:
    got = erlang_c(10, 10 / 100, 100, 60)  # exactly 10 erlangs on 10 servers
    assert got.p_wait == 1.0 and got.service_level == 0.0 and got.asa_s == math.inf


@pytest.mark.parametrize("agents", [11, 12, 14])
def test_erlang_a_with_endless_patience_is_erlang_c(agents: int) -> None:
    a = erlang_a(agents, 100 / HALF_HOUR, 180, 1e9, 20)
    c = erlang_c(agents, 100 / HALF_HOUR, 180, 20)
    assert a.p_wait == pytest.approx(c.p_wait, abs=1e-5)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-5)
    assert a.asa_s == pytest.approx(c.asa_s, rel=1e-4)
    assert a.p_abandon < 1e-6


def test_impatient_people_give_up_more_and_leave_shorter_waits_behind() -> None:
    patient = erlang_a(11, 100 / HALF_HOUR, 180, 600, 20)
    impatient = erlang_a(11, 100 / HALF_HOUR, 180, 60, 20)
    assert impatient.p_abandon > patient.p_abandon > 0
    assert impatient.asa_s < patient.asa_s
    assert impatient.p_wait < patient.p_wait


def test_erlang_a_stays_stable_when_the_floor_is_overloaded() -> None:
    # fewer servers than erlangs: Erlang C has no answer, Erlang A does (people give up)
    got = erlang_a(8, 10 / 100, 100, 120, 60)
    assert 0 < got.service_level < 1 and 0.2 < got.p_abandon < 1


@pytest.mark.parametrize("per_hour", [2, 10, 40, 200])
@pytest.mark.parametrize("handle_s", [300, 1200])
@pytest.mark.parametrize("patience_s", [20, 120, 900])
def test_erlang_a_needs_no_more_servers_than_erlang_c(per_hour: int, handle_s: int, patience_s: int) -> None:
    need = servers_needed(per_hour / 3600, handle_s, patience_s, 0.8, 60)
    assert 1 <= need.erlang_a <= need.erlang_c
    # ...and with the servers it asks for, the target is met, one fewer it is not
    assert erlang_a(need.erlang_a, per_hour / 3600, handle_s, patience_s, 60).service_level >= 0.8
    assert erlang_a(need.erlang_a - 1, per_hour / 3600, handle_s, patience_s, 60).service_level < 0.8


def test_nobody_is_needed_for_an_hour_without_contacts() -> None:
    assert servers_needed(0.0, 600, 120, 0.8, 60).erlang_c == 0


@pytest.mark.parametrize(("target", "within_s"), [(0.0, 60), (1.0, 60), (1.5, 60), (0.8, -1)])
def test_a_target_out_of_range_is_refused(target: float, within_s: float) -> None:
    with pytest.raises(ValueError):
        servers_needed(0.01, 600, 120, target, within_s)


def test_chats_alone_are_shared_out_by_max_chats() -> None:
    chats = Load(14 / 3600, 1500, 600)
    need = servers_needed(chats.rate_per_s, chats.handle_s, chats.patience_s, 0.8, 60)
    got = counsellors_needed(chats, Load(0.0, 600), 3, 0.8, 60)
    assert (got.erlang_c, got.erlang_a) == (-(-need.erlang_c // 3), -(-need.erlang_a // 3))


def test_calls_take_counsellors_from_the_chats_by_their_load_only() -> None:
    chats, calls = Load(22 / 3600, 1500, 600), Load(4 / 3600, 600, 180)  # calls: 0.67 erlangs
    alone = counsellors_needed(chats, Load(0.0, 600), 3, 0.8, 60)
    both = counsellors_needed(chats, calls, 3, 0.8, 60)
    call_need = servers_needed(calls.rate_per_s, calls.handle_s, calls.patience_s, 0.8, 60)
    # more than for the chats alone, fewer than chats and calls staffed apart and added up
    assert alone.erlang_a < both.erlang_a < alone.erlang_a + call_need.erlang_a
    assert both.erlang_a <= both.erlang_c
    # with them, each channel reaches the target on what the router leaves it
    chat_servers = int((both.erlang_a - 4 * 600 / 3600) * 3)
    assert erlang_a(chat_servers, chats.rate_per_s, 1500, 600, 60).service_level >= 0.8
    assert erlang_a(both.erlang_a, calls.rate_per_s, 600, 180, 60).service_level >= 0.8


def test_calls_alone_take_a_counsellor_each() -> None:
    calls = Load(20 / 3600, 600, None)
    need = servers_needed(calls.rate_per_s, 600, None, 0.8, 60)
    assert counsellors_needed(Load(0.0, 1500), calls, 3, 0.8, 60).erlang_c == need.erlang_c
    with pytest.raises(ValueError):
        counsellors_needed(Load(0.0, 1500), calls, 0, 0.8, 60)
