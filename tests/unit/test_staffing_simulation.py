"""Erlang A says what a simulated floor driving the real router measures (seeded, so the
same every run), and the simulation shows the known ways a floor leaves the models."""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.staffing import Floor, planned_counsellors, predicted, simulate
from helpline.domain.contact import Channel

# a busy Wednesday afternoon's chats: 14 an hour, 25 minutes each, patience 10 minutes
WEDNESDAY = Floor(chats_per_h=14, calls_per_h=0, counsellors=0)
HOURS = 80


@pytest.fixture(scope="module")
def staffed() -> Floor:
    return replace(WEDNESDAY, counsellors=planned_counsellors(WEDNESDAY, 0.8))


def test_erlang_a_matches_the_simulated_floor_within_a_few_points(staffed: Floor) -> None:
    measured = simulate(staffed, HOURS, seed=7)["chat"]
    assert measured.arrived > 800  # enough contacts for the figures to mean something
    erlang_c_sl, erlang_a_sl, erlang_a_abandon = predicted(staffed, Channel.CHAT)
    assert measured.service_level == pytest.approx(erlang_a_sl, abs=0.04)
    assert measured.abandonment == pytest.approx(erlang_a_abandon, abs=0.025)
    assert measured.service_level >= 0.8  # the planner's staffing reaches its target
    assert erlang_c_sl < erlang_a_sl  # Erlang C, ignoring those who give up, is more cautious


def test_one_counsellor_fewer_misses_the_target_on_the_floor_too(staffed: Floor) -> None:
    fewer = replace(staffed, counsellors=staffed.counsellors - 1)
    measured = simulate(fewer, HOURS, seed=7)["chat"]
    _, erlang_a_sl, _ = predicted(fewer, Channel.CHAT)
    assert measured.service_level < 0.8
    assert measured.service_level == pytest.approx(erlang_a_sl, abs=0.06)


def test_chats_that_slow_each_other_do_worse_than_the_models_say(staffed: Floor) -> None:
    steady = simulate(staffed, HOURS, seed=7)["chat"]
    multiplexed = simulate(replace(staffed, slowdown=0.3), HOURS, seed=7)["chat"]
    assert multiplexed.service_level < steady.service_level - 0.05
    assert multiplexed.abandonment > steady.abandonment


def test_the_simulation_is_the_same_for_the_same_seed(staffed: Floor) -> None:
    assert simulate(staffed, 10, seed=3) == simulate(staffed, 10, seed=3)
