"""The rate limit's rule (GCRA: a burst, then a steady rate) and its in-memory counter."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from helpline.config import Settings
from helpline.domain.limits import Rate, hit, retry_after_seconds
from helpline.services.limits import MemoryCounter

PER_MINUTE_6_BURST_3 = Rate(per_s=0.1, burst=3)  # one every 10 s sustained, 3 at once


def run(rate: Rate, times: list[float]) -> list[bool]:
    tat = None
    allowed = []
    for now in times:
        verdict = hit(rate, tat, now)
        allowed.append(verdict.allowed)
        tat = verdict.tat
    return allowed


def test_a_burst_passes_at_once_then_the_next_waits_one_interval() -> None:
    assert run(PER_MINUTE_6_BURST_3, [0, 0, 0, 0]) == [True, True, True, False]
    tat = None
    for _ in range(3):
        tat = hit(PER_MINUTE_6_BURST_3, tat, 100.0).tat
    refused = hit(PER_MINUTE_6_BURST_3, tat, 100.0)
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(10.0)
    assert refused.tat == tat  # a refusal counts nothing
    assert hit(PER_MINUTE_6_BURST_3, tat, 109.9).allowed is False
    assert hit(PER_MINUTE_6_BURST_3, tat, 110.0).allowed is True


def test_the_steady_rate_passes_forever_and_a_faster_one_does_not() -> None:
    steady = [i * 10.0 for i in range(100)]
    assert all(run(PER_MINUTE_6_BURST_3, steady))
    faster = [i * 5.0 for i in range(100)]
    allowed = run(PER_MINUTE_6_BURST_3, faster)
    # Over 495 s at one every 10 s, plus the burst's 2 extra: about 52 of the 100.
    assert 50 <= sum(allowed) <= 53
    assert not all(allowed[-10:])


def test_a_rest_refills_the_burst_but_never_beyond_it() -> None:
    times = [0, 0, 0] + [1000] * 4
    assert run(PER_MINUTE_6_BURST_3, times) == [True] * 3 + [True, True, True, False]


def test_a_retry_after_is_whole_seconds_and_at_least_one() -> None:
    assert retry_after_seconds(0.01) == 1
    assert retry_after_seconds(1.0) == 1
    assert retry_after_seconds(9.2) == 10


@pytest.mark.parametrize(("text", "per_s", "burst"), [
    ("4/min,burst=10", 4 / 60, 10),
    ("2/s", 2.0, 2),
    (" 90 / h , burst = 5 ", 90 / 3600, 5),
    ("0.5/min", 0.5 / 60, 1),
])
def test_a_rate_is_read_from_its_setting(text: str, per_s: float, burst: int) -> None:
    rate = Rate.parse(text)
    assert rate.per_s == pytest.approx(per_s)
    assert rate.burst == burst


@pytest.mark.parametrize("text", ["", "4", "4/day", "0/min", "-1/min", "4/min,burst=0", "4/min;burst=3",
                                  "four/min"])
def test_a_rate_that_does_not_parse_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Rate.parse(text)


def test_a_bad_limit_setting_stops_the_server_before_it_starts() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(limit_contacts_per_client="lots")
    assert "limit_contacts_per_client" in str(refused.value)


async def test_several_limits_count_together_or_not_at_all() -> None:
    counter = MemoryCounter()
    tight, loose = Rate(per_s=0.001, burst=2), Rate(per_s=0.001, burst=3)
    for _ in range(2):
        assert await counter.hits([("a", tight, "x"), ("all", loose, "all")], 0.0) == 0
    assert await counter.hits([("a", tight, "x"), ("all", loose, "all")], 0.0) > 0  # x is over
    # The refusal counted nothing for "all": another subject still has the last place.
    assert await counter.hits([("a", tight, "y"), ("all", loose, "all")], 0.0) == 0
    assert await counter.hits([("a", tight, "z"), ("all", loose, "all")], 0.0) > 0


async def test_the_counter_keeps_keyed_hashes_only_and_forgets_full_allowances() -> None:
    counter = MemoryCounter()
    rate = Rate(per_s=1.0, burst=5)
    await counter.hits([("contact", rate, "203.0.113.7")], 0.0)
    assert len(counter) == 1
    assert not any("203.0.113.7" in key for key in counter._tats)
    await counter.hits([("contact", rate, "198.51.100.1")], 10.0)  # the first is full again
    assert len(counter) == 1


async def test_the_counter_is_bounded_whatever_the_number_of_subjects() -> None:
    counter = MemoryCounter(max_subjects=100)
    rate = Rate(per_s=0.001, burst=5)
    for i in range(1000):
        await counter.hits([("contact", rate, f"10.0.{i // 256}.{i % 256}")], 0.0)
    assert len(counter) == 100


async def test_the_hashing_secret_changes_every_day() -> None:
    counter = MemoryCounter()
    day = 86400.0
    first = counter.secret(20 * day + 10)
    assert counter.secret(20 * day + 80000) == first
    assert counter.secret(21 * day + 1) != first
