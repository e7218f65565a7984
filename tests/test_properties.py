"""Invariants of a study, checked with hypothesis on seeded synthetic panels.

* CAR = Σ AR over the (extended) window, and the running ``car`` column is the
  cumulative sum of the ARs;
* AR = 0 when the event-window returns equal the model's prediction exactly
  (market-adjusted: R = R_m; constant-mean: R = the estimation mean; market
  model: R = α̂ + β̂ R_m with α̂, β̂ the OLS fit of the estimation window);
* σ > 0, SE > 0 and p-values in [0, 1].

Invariance to the order of events and symbols, and to rescaled prices, is in
:mod:`test_properties_invariance`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import build_synthetic
from hypothesis import example, given
from hypothesis import strategies as st
from property_helpers import (
    COSTLY,
    MODELS,
    N_DAYS,
    SETTINGS,
    car_windows,
    day_label,
    models,
    run,
    seeds,
    sorted_by,
)


# ---------------------------------------------------------------------- CAR = ΣAR
@SETTINGS
@given(seed=seeds, model=models, n_events=st.integers(1, 8), cars=car_windows(), drop=st.integers(0, 20))
def test_car_is_sum_of_ar(
    seed: int, model: str, n_events: int, cars: list[tuple[int, int]], drop: int
) -> None:
    syn = build_synthetic(seed=seed, n_days=N_DAYS, n_events=n_events, drop={"AAA": drop, "MKT": drop})
    res = run(syn, model, cars=cars, tests=())
    ar = res.abnormal_returns
    np.testing.assert_allclose(ar["ar"], ar["return"] - ar["normal_return"], rtol=0, atol=1e-15)
    ar = sorted_by(ar, ["event_id", "symbol", "rel_day"])
    running = ar.assign(a=ar["ar"].fillna(0.0)).groupby(["event_id", "symbol"])["a"].cumsum()
    np.testing.assert_allclose(ar["car"], running, rtol=1e-12, atol=1e-15)
    car = res.car()
    merged = car.merge(ar, on=["event_id", "symbol"])
    t = merged["window"].str.split(":", expand=True).astype(int)
    inside = (merged["rel_day"] >= t[0]) & (merged["rel_day"] <= t[1] + merged["extended_by"])
    sums = merged[inside].groupby(["event_id", "symbol", "window"])["ar"].agg(["sum", "count"])
    got = car.set_index(["event_id", "symbol", "window"]).loc[sums.index]
    np.testing.assert_array_equal(got["days"].to_numpy(), sums["count"].to_numpy())
    np.testing.assert_allclose(got["car"].to_numpy(), sums["sum"].to_numpy(), rtol=1e-12, atol=1e-15)
    assert set(car["window"]) == {f"{day_label(a)}:{day_label(b)}" for a, b in cars}


# ---------------------------------------------------------------------- AR = 0
@COSTLY  # three studies an example: 12 drawn, and the first and last event days allowed
@given(seed=seeds, day=st.integers(260, N_DAYS - 12))
@example(seed=0, day=260)
@example(seed=1, day=N_DAYS - 12)
def test_ar_is_zero_when_returns_equal_the_prediction(seed: int, day: int) -> None:
    """AAA is built for constant-mean, BBB for market-adjusted, CCC for the market model."""
    rng = np.random.default_rng(seed)
    rm = rng.normal(3e-4, 0.01, N_DAYS)
    est = slice(day - 250, day - 10)  # positions −250…−11 (all are sessions: no gaps, one event)
    evt = slice(day - 10, day + 11)  # −10…+10
    r = {s: rng.normal(0, 0.01, N_DAYS) + 0.8 * rm for s in ("AAA", "BBB", "CCC")}
    r["AAA"][evt] = r["AAA"][est].mean()
    r["BBB"][evt] = rm[evt]
    X = np.column_stack([np.ones(240), rm[est]])
    a, b = np.linalg.lstsq(X, r["CCC"][est], rcond=None)[0]
    r["CCC"][evt] = a + b * rm[evt]
    dates = pd.bdate_range("2019-01-01", periods=N_DAYS)
    rec = {"event_id": "e", "timestamp": dates[day].strftime("%Y-%m-%d"), "title": "t"}
    syn = build_synthetic(seed=seed, n_days=N_DAYS, records=[rec], returns={"MKT": rm, **r})
    for model, sym in (("constant-mean", "AAA"), ("market-adjusted", "BBB"), ("market", "CCC")):
        res = run(syn, model, tests=())
        f = res.fits.set_index("symbol")
        assert f.loc[sym, "n_est"] == 240
        ar = res.abnormal_returns
        ar = ar[ar["symbol"] == sym]
        assert ar["rel_day"].tolist() == list(range(-10, 11))
        np.testing.assert_allclose(ar["ar"], 0.0, rtol=0, atol=1e-12)
        car = res.car()
        np.testing.assert_allclose(car.loc[car["symbol"] == sym, "car"], 0.0, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------- ranges
@COSTLY  # a study with tests an example: 12 drawn, and each model at the extremes of the sizes
@given(seed=seeds, model=models, n_events=st.integers(1, 10), cars=car_windows())
@example(seed=0, model="constant-mean", n_events=1, cars=[(0, 0)])
@example(seed=1, model="market-adjusted", n_events=10, cars=[(-10, 10), (0, 0), (-1, 1), (5, 10)])
@example(seed=2, model="market", n_events=10, cars=[(-10, -10), (10, 10)])
def test_sigma_se_positive_and_p_in_unit_interval(
    seed: int, model: str, n_events: int, cars: list[tuple[int, int]]
) -> None:
    syn = build_synthetic(seed=seed, n_days=N_DAYS, n_events=n_events, drop={"AAA": 10, "MKT": 10})
    res = run(syn, model, cars=cars)
    f = res.fits[~res.fits["excluded"]]
    assert len(f) > 0
    assert (np.isfinite(f["sigma"]) & (f["sigma"] > 0)).all()
    car = res.car()
    some = car["days"] > 0
    assert some.all()  # no gaps on data-date sessions: every window has days
    assert (np.isfinite(car["se"]) & (car["se"] > 0)).all()
    assert car["p_value"].between(0.0, 1.0).all()
    np.testing.assert_allclose(car["t_stat"], car["car"] / car["se"], rtol=1e-12)
    if model == "market-adjusted":
        # nothing estimated: se = σ √L exactly
        sig = res.fits.set_index(["event_id", "symbol"])["sigma"]
        s = sig.loc[list(zip(car["event_id"], car["symbol"], strict=True))].to_numpy()
        np.testing.assert_allclose(car["se"], s * np.sqrt(car["days"]), rtol=1e-12)
    else:
        # the prediction error only adds variance: se ≥ σ √L
        sig = res.fits.set_index(["event_id", "symbol"])["sigma"]
        s = sig.loc[list(zip(car["event_id"], car["symbol"], strict=True))].to_numpy()
        assert (car["se"].to_numpy() >= s * np.sqrt(car["days"].to_numpy()) * (1 - 1e-12)).all()
    ar = res.abnormal_returns
    assert (np.isfinite(ar["sar"]) == np.isfinite(ar["ar"])).all()
    p = res.tests()["p_value"].dropna()
    assert p.between(0.0, 1.0).all()


@pytest.mark.parametrize("model", MODELS)
def test_single_event_study_runs(model: str) -> None:
    """A one-event, one-example smoke check of the helpers used above."""
    syn = build_synthetic(seed=3, n_days=N_DAYS, n_events=1)
    res = run(syn, model)
    assert len(res.car()) == 4 * len(syn.symbols)


def test_batched_and_prefix_sum_fits_agree() -> None:
    """LinearModel.fit (normal equations over the window) and fit_sums (prefix sums) agree."""
    import numpy as np

    from eventstudy.models import get_model
    from eventstudy.moments import WindowSums

    rng = np.random.default_rng(3)
    p, t = 40, 120
    x = rng.normal(0.0003, 0.01, (p, t))
    y = 0.0002 + 0.9 * x + rng.normal(0, 0.015, (p, t))
    w = rng.random((p, t)) > 0.1
    for name in ("constant-mean", "market"):
        model = get_model(name)
        a = model.fit(y, x if model.needs_benchmark else None, w)
        xs = np.where(w, x, 0.0) if model.needs_benchmark else np.zeros((p, t))
        ys = np.where(w, y, 0.0)
        sums = WindowSums(
            n=w.sum(axis=1).astype(float),
            sx=xs.sum(1),
            sy=ys.sum(1),
            sxx=(xs * xs).sum(1),
            sxy=(xs * ys).sum(1),
            syy=(ys * ys).sum(1),
            cx=np.zeros(p),
            cy=np.zeros(p),
        )
        b = model.fit_sums(sums)  # type: ignore[attr-defined]
        np.testing.assert_allclose(a.params, b.params, rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(a.sigma2, b.sigma2, rtol=1e-9)
        np.testing.assert_allclose(a.xtx_inv, b.xtx_inv, rtol=1e-9, atol=1e-9)
