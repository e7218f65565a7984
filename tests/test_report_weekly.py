"""The index-levels chart's weekly closes against pandas' ``resample("W-FRI").last().dropna()``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.report.levelfig import weekly_last


def _pandas(closes: pd.Series) -> tuple[list[str], np.ndarray]:
    wk = closes.resample("W-FRI").last().dropna()
    return wk.index.strftime("%Y-%m-%d").tolist(), wk.to_numpy()


@settings(max_examples=100, deadline=None)
@given(
    start=st.dates(min_value=pd.Timestamp("1965-01-01").date(), max_value=pd.Timestamp("2030-01-01").date()),
    steps=st.lists(st.integers(1, 9), max_size=60),
    blank=st.lists(st.booleans(), max_size=61),
    unit=st.sampled_from(["ns", "us", "s"]),
)
def test_weekly_closes_equal_pandas_resample(start, steps: list[int], blank: list[bool], unit: str) -> None:  # type: ignore[no-untyped-def]
    days = np.cumsum([0, *steps])
    idx = pd.DatetimeIndex(pd.Timestamp(start) + pd.to_timedelta(days, unit="D")).as_unit(unit)
    values = np.arange(1.0, len(idx) + 1) * 10.5
    values[np.array((blank + [False] * len(idx))[: len(idx)], dtype=bool)] = np.nan
    closes = pd.Series(values, index=idx)
    x, y = weekly_last(closes)
    ref_x, ref_y = _pandas(closes)
    assert x == ref_x
    np.testing.assert_array_equal(y, ref_y)


def test_other_rules_and_times_of_day_go_through_pandas() -> None:
    idx = pd.date_range("2024-01-01 15:30", periods=20, freq="D")
    closes = pd.Series(np.arange(20.0), index=idx)  # a time of day: Friday afternoon starts the next week
    x, y = weekly_last(closes)
    ref_x, ref_y = _pandas(closes)
    assert x == ref_x
    np.testing.assert_array_equal(y, ref_y)
    monthly = closes.resample("ME").last().dropna()
    x, y = weekly_last(closes, "ME")
    assert x == monthly.index.strftime("%Y-%m-%d").tolist()
    np.testing.assert_array_equal(y, monthly.to_numpy())
