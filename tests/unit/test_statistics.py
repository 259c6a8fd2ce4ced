"""The statistics' rules: the range asked for, the previous period, percentiles, local days
and hours across a change of clocks, and the small-count rule."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from helpline.domain import statistics as s

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(("first", "last", "code"), [
    ("2025-13-01", "2025-12-31", "bad_date"),
    (None, "2025-12-31", "bad_date"),
    ("2025-01-01", "yesterday", "bad_date"),
    ("2025-02-01", "2025-01-31", "range_reversed"),
    ("2022-01-01", "2025-01-31", "range_too_long"),
])
def test_a_range_that_makes_no_sense_is_refused_with_a_reason(
    first: str | None, last: str, code: str
) -> None:
    with pytest.raises(s.BadRange) as refused:
        s.period(first, last, PARIS)
    assert refused.value.code == code


def test_an_unknown_channel_is_refused_and_all_is_the_default() -> None:
    assert s.channel_filter(None).channels == ("chat", "voice")
    assert s.channel_filter("voice").channels == ("voice",)
    with pytest.raises(s.BadRange):
        s.channel_filter("fax")


def test_the_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    p = s.period("2025-03-03", "2025-03-09", PARIS)
    assert (p.previous.first, p.previous.last) == (date(2025, 2, 24), date(2025, 3, 2))
    p = s.period("2025-03-05", "2025-04-04", PARIS)
    assert (p.previous.first, p.previous.last) == (date(2025, 2, 2), date(2025, 3, 4))


@pytest.mark.parametrize(("first", "last", "before"), [
    ("2025-01-01", "2025-12-31", ("2024-01-01", "2024-12-31")),  # a leap year before
    ("2025-03-01", "2025-03-31", ("2025-02-01", "2025-02-28")),
    ("2025-01-01", "2025-02-28", ("2024-11-01", "2024-12-31")),
])
def test_whole_months_are_compared_with_as_many_whole_months_before(
    first: str, last: str, before: tuple[str, str]
) -> None:
    p = s.period(first, last, PARIS).previous
    assert (p.first.isoformat(), p.last.isoformat()) == before


def test_local_days_are_cut_at_local_midnight_across_the_change_of_clocks() -> None:
    p = s.period("2025-03-30", "2025-03-30", PARIS)  # 23 hours long
    assert p.start == datetime(2025, 3, 29, 23, tzinfo=UTC)
    assert p.end == datetime(2025, 3, 30, 22, tzinfo=UTC)
    agg = s.Aggregates(hours=[s.HourCount(datetime(2025, 3, 30, 7, tzinfo=UTC), "chat", "answered", 3)])
    assert s.heatmap(agg, PARIS)[6][9] == 3  # Sunday 9h in Paris (summer time)


def test_percentiles_are_the_nearest_rank_of_the_counted_values() -> None:
    histogram = Counter({10: 5, 20: 4, 300: 1})
    assert s.percentile(histogram, 0.5) == 10
    assert s.percentile(histogram, 0.9) == 20
    assert s.percentile(histogram, 1.0) == 300
    assert s.percentile(Counter(), 0.5) is None


def test_counts_from_one_to_four_are_shown_as_under_five_and_what_derives_from_them_is_left_out() -> None:
    table = s.Table("categories", s.TREND_COLUMNS, (
        ("sextortion", 12, 8, 50.0), ("grooming", 4, 10, -60.0), ("other", 0, 5, -100.0),
        ("rare", 5, 1, 400.0),
    ), breakdown=True)
    assert s.suppressed(table).rows == (
        ("sextortion", 12, 8, 50.0), ("grooming", "<5", 10, None), ("other", 0, 5, -100.0),
        ("rare", 5, "<5", None),
    )


def test_a_service_level_over_a_small_count_is_left_out_of_an_export() -> None:
    hour = datetime(2025, 1, 6, 10, tzinfo=UTC)
    now = s.Aggregates(hours=[s.HourCount(hour, "chat", "answered", 3, (2, 3))])
    p = s.period("2025-01-06", "2025-01-06", PARIS)
    summary = s.suppressed(s.tables(now, s.Aggregates(), p, s.notices_table([], PARIS, {}), {})[0])
    current = summary.as_dicts()[0]
    assert current["offered"] == "<5" and current["answered_20s"] == "<5"
    assert current["service_level_20s_pct"] is None and current["service_level_60s_pct"] is None


def test_notices_are_counted_per_year_target_and_decision_with_the_days_to_decide() -> None:
    made = datetime(2025, 3, 3, 10, tzinfo=UTC)
    notices = [s.Notice("platform_notice", made, "removed", date(2025, 3, 3 + d)) for d in (1, 2, 2, 9)]
    notices.append(s.Notice("platform_notice", made, None, None))
    table = s.notices_table(notices, PARIS, {"platform_notice": "notice"})
    assert table.rows == ((2025, "platform_notice", "notice", "pending", 1, None, None),
                          (2025, "platform_notice", "notice", "removed", 4, 2, 9))
