"""Returns of many series on one grid at once (``aligned_returns_into``, as ``build_panel`` uses it).

They must be, bit for bit, each series' own ``aligned_returns`` and a plain
loop over its price rows (P_t / P_{t−1} − 1 or ln P_t − ln P_{t−1} between
consecutive rows, placed on the grid; rows off the calendar set aside; with
``drop_gaps`` a return spanning several sessions is NaN), for any block of
series.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy import returns as rmod
from eventstudy.calendars import Sessions
from eventstudy.returns import align_dates, aligned_returns, aligned_returns_into


def _setup(seed: int, n_series: int, holes: int, off: int) -> tuple[list[pd.Series], Sessions]:
    rng = np.random.default_rng(seed)
    grid = pd.bdate_range("2021-01-04", periods=60).as_unit("ns")
    keep = np.sort(rng.choice(len(grid), len(grid) - holes, replace=False))
    dates = grid[keep]
    if off:  # rows dated on days that are not sessions (weekends): set aside
        extra = pd.DatetimeIndex(
            [d + pd.Timedelta(days=1) for d in dates[:: max(1, len(dates) // off)][:off]]
        )
        extra = extra[extra.day_of_week == 5]
        dates = dates.append(extra).sort_values()
    sessions = Sessions("XNYS", grid, None)
    closes = [
        pd.Series(100.0 * np.exp(np.cumsum(rng.normal(0, 0.02, len(dates)))), index=dates.as_unit("ns"))
        for _ in range(n_series)
    ]
    return closes, sessions


def _loop(close: pd.Series, sessions: Sessions, kind: str, drop: bool) -> np.ndarray:
    """Returns on the grid from a loop over the price rows dated on sessions."""
    grid = list(sessions.dates[(sessions.dates >= close.index[0]) & (sessions.dates <= close.index[-1])])
    at = {d: i for i, d in enumerate(grid)}
    out = np.full(len(grid), np.nan)
    prev: tuple[int, float] | None = None
    for d, v in close.items():
        if d not in at:
            continue
        i = at[d]
        if prev is not None:
            r = math.log(v) - math.log(prev[1]) if kind == "log" else v / prev[1] - 1.0
            out[i] = np.nan if drop and i - prev[0] > 1 else r
        prev = (i, float(v))
    return out


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_series=st.integers(1, 9),
    holes=st.integers(0, 8),
    off=st.integers(0, 3),
    kind=st.sampled_from(["simple", "log"]),
    drop=st.booleans(),
    block=st.integers(1, 5),
    pad=st.integers(0, 3),
)
def test_many_series_are_each_series_own_returns(
    seed: int, n_series: int, holes: int, off: int, kind: str, drop: bool, block: int, pad: int
) -> None:
    closes, sessions = _setup(seed, n_series, holes, off)
    al = align_dates(closes[0].index, sessions, kind)  # type: ignore[arg-type]
    n = len(al.span)
    offsets = np.arange(n_series) * (n + pad) + pad
    out = np.full(n_series * (n + pad) + pad, np.nan)
    syms = [f"S{j}" for j in range(n_series)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rmod, "_SERIES_BLOCK", block)
        got = aligned_returns_into(syms, closes, al, kind, drop, out, offsets)  # type: ignore[arg-type]
    for j, (sym, close) in enumerate(zip(syms, closes, strict=True)):
        one = aligned_returns(sym, close, al, kind, drop)  # type: ignore[arg-type]
        assert got[j].symbol == sym and got[j].sessions is al.grid
        np.testing.assert_array_equal(got[j].ret, one.ret)  # bit for bit
        assert np.shares_memory(got[j].ret, out)
        assert got[j].off_session == one.off_session and got[j].span is one.span
        np.testing.assert_allclose(one.ret, _loop(close, sessions, kind, drop), rtol=1e-13, equal_nan=True)
    written = np.zeros(len(out), dtype=bool)
    for o in offsets:
        written[o : o + n] = True
    assert np.isnan(out[~written]).all()  # the padding is left as it was


@pytest.mark.parametrize("kind", ["simple", "log"])
@pytest.mark.parametrize("shifts", [(), (1, 2)])
def test_a_series_on_its_own_dates_aligns_as_on_any_grid(kind: str, shifts: tuple[int, ...]) -> None:
    """Sessions that are the series' own dates (no calendar) take a shortcut: every row on its own
    session. It gives what the general search gives on a grid of those dates with a session
    outside the data (which forces the search), benchmark returns and their shifts included."""
    closes, _ = _setup(7, 1, holes=6, off=0)
    close = closes[0]
    own = Sessions(None, close.index, None)
    wider = Sessions(
        None, close.index.append(pd.DatetimeIndex([close.index[-1] + pd.Timedelta(days=3)])), None
    )
    bench = pd.Series(
        np.linspace(100.0, 120.0, 70), index=pd.bdate_range("2020-12-28", periods=70).as_unit("ns")
    )
    fast = align_dates(close.index, own, kind, bench, shifts)  # type: ignore[arg-type]
    slow = align_dates(close.index, wider, kind, bench, shifts)  # type: ignore[arg-type]
    assert fast.all_on and slow.all_on and fast.off_session == slow.off_session == []
    for name in ("on", "pos", "span"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))
    assert list(fast.grid.dates) == list(slow.grid.dates)
    assert set(fast.shifted) == set(slow.shifted) == {0, *shifts}
    for s in fast.shifted:
        np.testing.assert_array_equal(fast.shifted[s], slow.shifted[s])
    np.testing.assert_array_equal(fast.span[1:], 1)
