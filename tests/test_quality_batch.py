"""The data-quality checks over all series at once against a per-series reference.

Also in blocks of a few values (series checked block by block) and with span
arrays shared between series. The reference is the per-series computation the checks replace: ``numpy.median``
of each series' finite returns and of their absolute deviations (robust z,
Rousseeuw and Croux 1993), and a walk over each series' closes for runs of
equal values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy import quality
from eventstudy.calendars import data_sessions
from eventstudy.quality import EXTREME_Z, STALE_RUN, quality_report, quality_reports
from eventstudy.returns import MarketReturns


def _ref_stale(close: pd.Series) -> list[dict[str, Any]]:
    v = close.to_numpy()
    runs, i = [], 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and v[j + 1] == v[i]:
            j += 1
        if j - i + 1 >= STALE_RUN:
            runs.append(
                {
                    "from": str(close.index[i].date()),
                    "to": str(close.index[j].date()),
                    "sessions": j - i + 1,
                    "close": float(v[i]),
                }
            )
        i = j + 1
    return runs


def _ref_extreme(m: MarketReturns) -> list[dict[str, Any]]:
    r = m.ret
    ok = np.isfinite(r)
    if ok.sum() < 20:
        return []
    med = float(np.median(r[ok]))
    mad = float(np.median(np.abs(r[ok] - med))) * 1.4826
    if mad == 0:
        return []
    z = np.where(ok, (r - med) / mad, 0.0)
    d = m.sessions.dates
    return [
        {"date": str(d[i].date()), "return": float(r[i]), "robust_z": float(z[i])}
        for i in np.flatnonzero(np.abs(z) > EXTREME_Z)
    ]


def _ref_gaps(m: MarketReturns) -> list[dict[str, Any]]:
    d = m.sessions.dates
    return [
        {"date": str(d[i].date()), "from": str(d[i - int(m.span[i])].date()), "sessions": int(m.span[i])}
        for i in np.flatnonzero(m.span > 1)
    ]


def _market(sym: str, close: pd.Series, span: np.ndarray) -> tuple[MarketReturns, pd.Series]:
    sess = data_sessions(close.index)
    ret = np.full(len(close), np.nan)
    ret[1:] = close.to_numpy()[1:] / close.to_numpy()[:-1] - 1.0
    return MarketReturns(sym, sess, ret, None, span, ["2001-01-01"] if sym.endswith("1") else []), close


series = st.lists(
    st.tuples(
        st.integers(0, 60),  # length
        st.integers(0, 2**31 - 1),  # seed
        st.sampled_from(["none", "stale", "jump", "flat", "nan"]),
    ),
    min_size=0,
    max_size=6,
)


@given(series)
def test_batch_checks_equal_the_per_series_reference(spec: list[tuple[int, int, str]]) -> None:
    _check_against_reference(spec)


@settings(max_examples=40)
@given(series, st.integers(1, 90), st.booleans())
def test_blocks_of_series_and_shared_spans_equal_the_reference(
    spec: list[tuple[int, int, str]], block: int, share: bool
) -> None:
    # a few values per block: the series are checked in many blocks, a block of one long series too
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(quality, "BLOCK", block)
        _check_against_reference(spec, share)


def _check_against_reference(spec: list[tuple[int, int, str]], share: bool = False) -> None:
    markets, closes = [], []
    spans: dict[int, np.ndarray] = {}
    for k, (n, seed, kind) in enumerate(spec):
        rng = np.random.default_rng(seed)
        v = 100.0 * np.cumprod(1.0 + rng.normal(0, 0.01, n))
        if kind == "stale" and n > 8:
            a = int(rng.integers(0, n - 6))
            v[a : a + int(rng.integers(4, 8))] = v[a]
        elif kind == "jump" and n > 25:
            v[n // 2 :] *= 1.5
        elif kind == "flat":
            v[:] = 100.0
        elif kind == "nan" and n > 3:
            v[rng.integers(0, n, 3)] = np.nan
        idx = pd.bdate_range("2020-01-01", periods=n)
        span = np.ones(n, dtype=np.int64)
        if n > 5:
            span[int(rng.integers(2, n))] = int(rng.integers(2, 4))
        if share:  # series of one length share one span array, as markets with equal dates do
            span = spans.setdefault(n, span)
        m, c = _market(f"S{k}", pd.Series(v, index=idx), span)
        markets.append(m)
        closes.append(c)
    got = quality_reports(markets, closes)
    assert list(got) == [m.symbol for m in markets]
    for m, c in zip(markets, closes, strict=True):
        want = {
            "multi_session_returns": _ref_gaps(m),
            "rows_off_calendar": list(m.off_session),
            "stale_runs": _ref_stale(c),
            "extreme_moves": _ref_extreme(m),
        }
        assert got[m.symbol] == want
        assert quality_report(m, c) == want


def test_flags_are_found_where_planted() -> None:
    """A frozen feed, a crash and a gap are each flagged once, at their dates."""
    n = 120
    rng = np.random.default_rng(3)
    v = 100.0 * np.cumprod(1.0 + rng.normal(0, 0.01, n))
    v[40:47] = v[40]  # 7 equal closes
    v[80:] *= 0.5  # a −50 % day
    idx = pd.bdate_range("2021-03-01", periods=n)
    span = np.ones(n, dtype=np.int64)
    span[100] = 2
    m, c = _market("X", pd.Series(v, index=idx), span)
    clean, c2 = _market(
        "Y", pd.Series(100.0 * np.cumprod(1.0 + rng.normal(0, 0.01, n)), index=idx), np.ones(n)
    )
    got = quality_reports([m, clean], [c, c2])
    day = [str(d.date()) for d in idx]
    assert got["X"]["stale_runs"] == [{"from": day[40], "to": day[46], "sessions": 7, "close": float(v[40])}]
    assert [e["date"] for e in got["X"]["extreme_moves"]] == [day[80]]
    assert got["X"]["multi_session_returns"] == [{"date": day[100], "from": day[98], "sessions": 2}]
    assert got["Y"] == {
        "multi_session_returns": [],
        "rows_off_calendar": [],
        "stale_runs": [],
        "extreme_moves": [],
    }
