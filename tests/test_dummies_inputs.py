"""The event-dummy regression's inputs: a study's own return series take a short route.

``analysis.dummies._as_series`` turns any returns into float values on sorted, unique
midnight dates; a Series that is so already (what a study hands over, one per market)
is only copied. Both routes give the same Series, checked against the general recipe
written out here; the event × date membership of ``fit_dummies`` (one ``np.unique``
of all cells) against a loop over events; and markets that share a design (the same dates,
benchmark and events) against each market's regression alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.analysis import event_dummy_regression, event_dummy_regressions
from eventstudy.analysis.dummies import _as_series, _plain
from eventstudy.analysis.dummydesign import design_key


def _general(x: pd.Series) -> pd.Series:
    idx = pd.DatetimeIndex(x.index)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    v = idx.to_numpy()
    days = pd.DatetimeIndex(v.astype("datetime64[D]").astype(v.dtype))
    s = pd.Series(pd.to_numeric(x, errors="coerce").to_numpy(dtype=float), index=days)
    return s if s.index.is_monotonic_increasing else s.sort_index()


@settings(max_examples=120, deadline=None)
@given(
    st.integers(1, 30),
    st.sampled_from(["plain", "shuffled", "tz", "noon", "int", "named", "freq"]),
    st.integers(0, 2**16),
)
def test_a_plain_series_takes_the_short_route_to_the_same_series(n: int, kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-01-01", periods=n)
    x = pd.Series(rng.normal(0, 0.01, n), index=pd.DatetimeIndex(dates.to_numpy()))
    if kind == "shuffled" and n > 1:
        x = x.iloc[rng.permutation(n)]
    elif kind == "tz":
        x.index = x.index.tz_localize("Asia/Hong_Kong")
    elif kind == "noon":
        x.index = x.index + pd.Timedelta(hours=12)
    elif kind == "int":
        x = (x * 1000).round().astype("int64")
    elif kind == "named":
        x.index.name = "date"
    elif kind == "freq":
        x = pd.Series(x.to_numpy(), index=dates)
    got, want = _as_series(x, "returns"), _general(x)
    pd.testing.assert_series_equal(got, want, check_exact=True, check_freq=True, check_index_type=True)
    assert got.index.name is None
    in_order = kind == "shuffled" and x.index.is_monotonic_increasing  # (a permutation may keep the order)
    assert _plain(x) == (kind in ("plain", "named", "freq") or in_order)


def test_dummies_of_events_sharing_and_missing_dates_against_a_loop() -> None:
    """Each event's dummy dates (duplicates, shared and missing dates among them) as a loop over events
    finds them: the CAR of an event is the sum of its distinct sample dates' coefficients."""
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2023-01-02", periods=200)
    y = pd.Series(rng.normal(0, 0.01, 200), index=dates)
    b = pd.Series(rng.normal(0, 0.01, 200), index=dates)
    off = pd.Timestamp("2023-01-07")  # a Saturday: not in the sample
    events = [
        ("a", [dates[50], dates[51], dates[51], off]),
        ("b", [dates[51], dates[52]]),
        ("c", [off]),
        ("d", [dates[120], dates[119]]),
    ]
    res = event_dummy_regression(y, events, benchmark=b)
    days = res.days.groupby("event_id")["ar"].sum()
    for eid, ds in events:
        distinct = sorted({d for d in ds if d in set(dates)})
        row = res.cars.set_index("event_id").loc[eid]
        assert int(row["days"]) == len(distinct)
        assert int(row["missing_days"]) == sum(d not in set(dates) for d in ds)
        if distinct:
            on = res.days[(res.days["event_id"] == eid)]
            assert sorted(on["date"]) == distinct
            assert np.isclose(row["car"], days[eid], rtol=0, atol=1e-15)
        else:
            assert np.isnan(row["car"])


def test_markets_sharing_a_design_fit_exactly_as_each_alone() -> None:
    """A panel of markets on the same dates and benchmark (one shared design) and two on dates
    of their own: every market's rows equal its regression run alone, bit for bit."""
    rng = np.random.default_rng(11)
    dates = pd.bdate_range("2022-01-03", periods=160)
    bench = pd.Series(rng.normal(0, 0.01, 160), index=dates)
    rets = {f"M{j}": pd.Series(rng.normal(0, 0.012, 160), index=dates) for j in range(6)}
    rets["G1"] = rets["M0"].drop(dates[[10, 11, 70]])  # other dates: a design of its own
    rets["G2"] = rets["M1"].iloc[5:]
    events = {"e1": list(dates[60:63]), "e2": list(dates[62:65]), "e3": list(dates[120:122])}
    rows = [(e, s, d) for s in rets for e, ds in events.items() for d in ds]
    windows = pd.DataFrame(rows, columns=["event_id", "symbol", "date"])
    panel = event_dummy_regressions(rets, windows, {s: bench for s in rets})
    for sym, r in rets.items():
        alone = event_dummy_regression(r, list(events.items()), benchmark=bench)
        cars = panel.cars[panel.cars["symbol"] == sym].drop(columns="symbol").reset_index(drop=True)
        days = panel.days[panel.days["symbol"] == sym].drop(columns="symbol").reset_index(drop=True)
        pd.testing.assert_frame_equal(
            cars, alone.cars.reset_index(drop=True), check_exact=True, check_dtype=False
        )
        pd.testing.assert_frame_equal(
            days, alone.days.reset_index(drop=True), check_exact=True, check_dtype=False
        )


def test_a_design_key_is_the_inputs_values() -> None:
    dates = pd.bdate_range("2022-01-03", periods=20)
    flat = dates[[3, 4, 9]]
    b = np.linspace(-0.01, 0.01, 20)
    key = design_key(dates, b, ["a", "b"], flat, np.array([0, 2, 3]), None, "hac")
    assert key == design_key(
        dates.copy(), b.copy(), ["a", "b"], flat.copy(), np.array([0, 2, 3]), None, "hac"
    )
    others = [
        design_key(dates, b + 1e-12, ["a", "b"], flat, np.array([0, 2, 3]), None, "hac"),
        design_key(dates, None, ["a", "b"], flat, np.array([0, 2, 3]), None, "hac"),
        design_key(dates, b, ["a", "c"], flat, np.array([0, 2, 3]), None, "hac"),
        design_key(dates, b, ["a", "b"], flat, np.array([0, 1, 3]), None, "hac"),
        design_key(dates, b, ["a", "b"], flat, np.array([0, 2, 3]), 3, "hac"),
        design_key(dates, b, ["a", "b"], flat, np.array([0, 2, 3]), None, "nonrobust"),
        design_key(dates[1:].append(dates[:1]), b, ["a", "b"], flat, np.array([0, 2, 3]), None, "hac"),
    ]
    assert all(o != key for o in others)


def _events_by_groupby(windows: pd.DataFrame) -> list[tuple[object, list[str], pd.DatetimeIndex, np.ndarray]]:
    """Each market's events the plain way: a groupby, then each event's rows by first appearance."""
    out = []
    for sym, g in windows.groupby("symbol", sort=False):
        ids: list[str] = []
        dates: list[pd.Timestamp] = []
        bounds = [0]
        for eid in pd.unique(g["event_id"].dropna()):
            days = pd.DatetimeIndex(g.loc[g["event_id"] == eid, "date"]).normalize()
            ids.append(str(eid))
            dates.extend(days)
            bounds.append(bounds[-1] + len(days))
        out.append((sym, ids, pd.DatetimeIndex(dates, dtype=windows["date"].dtype), np.array(bounds)))
    return out


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**16), st.integers(0, 60), st.booleans(), st.booleans())
def test_each_markets_events_from_one_pass_equal_a_groupby(
    seed: int, n: int, int_ids: bool, unit_s: bool
) -> None:
    """Interleaved rows, missing ids and symbols, a market whose ids are all missing, repeated
    (event, date) rows, dates out of order and not at midnight; ids as text or integers."""
    from eventstudy.analysis.dummypanel import _market_events

    rng = np.random.default_rng(seed)
    syms = rng.choice(np.array(["A", "B", "C", None], dtype=object), n, p=[0.4, 0.3, 0.2, 0.1])
    ids = rng.integers(0, 6, n).astype(object)
    ids[rng.random(n) < 0.1] = None
    ids[syms == "C"] = None if rng.random() < 0.3 else ids[syms == "C"]
    if not int_ids:
        ids = np.array([None if i is None else f"e{i}" for i in ids], dtype=object)
    dates = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 40 * 24, n), unit="h")
    frame = pd.DataFrame({"event_id": ids, "symbol": syms, "date": dates.as_unit("s" if unit_s else "ns")})
    got = list(_market_events(frame))
    want = _events_by_groupby(frame)
    assert [g[0] for g in got] == [w[0] for w in want]
    for (_, ids_g, d_g, b_g), (_, ids_w, d_w, b_w) in zip(got, want, strict=True):
        assert ids_g == ids_w
        assert d_g.dtype == d_w.dtype and d_g.equals(d_w) and d_g.freq is None
        np.testing.assert_array_equal(b_g, b_w)
        assert b_g.dtype == np.int64
    # a date column that is not numpy dates goes market by market, to the same lists
    obj = frame.assign(date=frame["date"].astype(object))
    for (s1, i1, d1, b1), (s2, i2, d2, b2) in zip(_market_events(obj), got, strict=True):
        assert s1 == s2 and i1 == i2 and d1.equals(d2) and (b1 == b2).all()
