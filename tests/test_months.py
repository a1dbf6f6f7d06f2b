"""months: one converter per form of a month, checked by hand."""

import datetime as dt

import pandas as pd
import pytest

from loyalty_roi import months


def test_text_form_is_checked():
    assert months.check("2026-10") == "2026-10"
    for bad in ("2026-13", "2026-1", "26-10", "2026/10", "latest", ""):
        with pytest.raises(ValueError, match="YYYY-MM"):
            months.check(bad)


def test_index_and_back():
    assert months.index("2026-10") == 2026 * 12 + 9
    assert months.index(pd.Timestamp("2026-10-31 23:59")) == months.index("2026-10")
    assert months.index(dt.date(2025, 1, 15)) == 2025 * 12
    assert months.label(2026 * 12 + 9) == "2026-10"
    assert months.label(2025 * 12) == "2025-01"
    back = months.from_index(pd.Series([2025 * 12, 2026 * 12 + 11]))
    assert list(back) == [pd.Timestamp("2025-01-01"), pd.Timestamp("2026-12-01")]


def test_bounds_last_day_inclusive_next_start_exclusive():
    assert months.start("2024-02") == pd.Timestamp("2024-02-01")
    assert months.end("2024-02") == pd.Timestamp("2024-02-29")  # leap year, midnight
    assert months.end("2026-12") == pd.Timestamp("2026-12-31")
    assert months.next_start("2026-12") == pd.Timestamp("2027-01-01")
    assert months.next_start(pd.Timestamp("2026-10-17")) == pd.Timestamp("2026-11-01")


def test_floor_and_between():
    ts = pd.Series(pd.to_datetime(["2026-10-31 23:00", "2026-11-01 00:00", "2025-01-05 00:00"]))
    assert list(months.floor(ts)) == [
        pd.Timestamp("2026-10-01"),
        pd.Timestamp("2026-11-01"),
        pd.Timestamp("2025-01-01"),
    ]
    assert months.between(pd.Timestamp("2025-11-30"), pd.Timestamp("2026-02-01")) == 3
    assert months.between(pd.Timestamp("2026-02-01"), pd.Timestamp("2025-11-30")) == -3


def test_the_two_meanings_of_latest():
    # the last calendar month that ended before today
    assert months.last_calendar_month(dt.date(2026, 11, 22)) == "2026-10"
    assert months.last_calendar_month(dt.date(2026, 1, 1)) == "2025-12"
    # the last month the data covers to its final day
    assert months.last_complete_in_data(pd.Timestamp("2026-10-31 18:00")) == "2026-10"
    assert months.last_complete_in_data(pd.Timestamp("2026-10-31")) == "2026-10"
    assert months.last_complete_in_data(pd.Timestamp("2026-11-15 09:00")) == "2026-10"
    assert months.last_complete_in_data(pd.Timestamp("2026-01-30")) == "2025-12"
