"""The factor model against statsmodels, pair by pair, on synthetic and bundled prices.

The synthetic market trades on the Hong Kong calendar and follows
R = a + 0.5·W(t) + 0.3·W(t−1) + 0.8·FX(t) + 0.2·CMD(t) + noise, with W a New
York index (``ACWI``, which closes after Hong Kong: lagged one session by
default), FX an exchange rate on its own business-day dates (no closing time:
same date only) and CMD a commodity on New York dates without a calendar.
Every number is compared with the independent rebuild of
``tests/factor_reference.py`` (statsmodels WLS) to 1e-10.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pytest
from factor_reference import Column, Design, check_against_reference, design, sessions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstudy import EventStudy, Prices, events_from_records
from eventstudy.errors import InputError

CARS = [(0, 0), (0, 1), (-1, 1), (-5, 5)]
TRUE = {"b_ACWI": 0.5, "b_ACWI_lag1": 0.3, "b_FXR": 0.8, "b_CMD": 0.2}


def _make(seed: int, holes: bool) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    ny = sessions("XNYS", "2018-01-01", "2021-12-31")
    hk = sessions("XHKG", "2018-01-01", "2021-12-31")
    fxd = pd.bdate_range("2018-01-01", "2021-12-31")
    w = pd.Series(100.0 * np.cumprod(1 + 0.01 * rng.standard_normal(len(ny))), index=ny)
    fx = pd.Series(7.0 * np.cumprod(1 + 0.003 * rng.standard_normal(len(fxd))), index=fxd)
    cmd = pd.Series(60.0 * np.cumprod(1 + 0.015 * rng.standard_normal(len(ny))), index=ny)
    flat = pd.Series(1.0, index=hk)
    cols: list[Column] = [("ACWI", 0), ("ACWI", 1), ("FXR", 0), ("CMD", 0)]
    d = design(flat, hk, {"ACWI": w, "FXR": fx, "CMD": cmd}, cols)
    r = 0.0002 + sum(TRUE[n] * d.terms[c] for n, c in zip(TRUE, cols, strict=True))
    r = np.where(np.isfinite(r), r, 0.0) + 0.002 * rng.standard_normal(len(hk))
    r[0] = 0.0
    hk_lv = pd.Series(50.0 * np.cumprod(1 + r), index=hk)
    pos = np.arange(300, len(hk) - 30, 60)
    if holes:  # missing market sessions (k-session returns) and missing factor rows
        drop = rng.choice(np.setdiff1d(np.arange(5, len(hk) - 5), pos), 40, replace=False)
        hk_lv = hk_lv.drop(hk[drop])
        w = w.drop(ny[rng.choice(len(ny) - 2, 25, replace=False) + 1])
        fx = fx.drop(fxd[rng.choice(len(fxd) - 2, 25, replace=False) + 1])
    records: list[dict[str, object]] = [
        {"event_id": f"e{j:02d}", "timestamp": f"{hk[p].date()}T03:00Z", "title": f"event {j}"}
        for j, p in enumerate(pos)
    ]
    prices = Prices({"^HSI": hk_lv, "ACWI": w, "FXR": fx, "CMD": cmd}, source="test")
    return {"prices": prices, "events": events_from_records(records), "hk": hk}


@pytest.fixture(scope="module")
def clean() -> dict[str, Any]:
    return _make(11, holes=False)


@pytest.fixture(scope="module")
def holes() -> dict[str, Any]:
    return _make(12, holes=True)


def _run(d: dict[str, Any], factors: list[str], **kw: Any) -> Any:
    return EventStudy(
        d["events"],
        d["prices"],
        model="factor",
        factors=factors,
        symbols=["^HSI"],
        tests=["csect_t"],
        car_windows=CARS,
        **kw,
    ).run()


def _design(d: dict[str, Any], cols: list[Column]) -> Design:
    p: Prices = d["prices"]
    return design(p["^HSI"], d["hk"], {f: p[f] for f in ("ACWI", "FXR", "CMD")}, cols)


def test_recovers_the_known_parameters_with_a_lag_only_for_the_later_factor(clean: dict[str, Any]) -> None:
    fits = _run(clean, ["ACWI", "FXR", "CMD"]).fits
    inc = fits[~fits["excluded"]]
    assert len(inc) >= 10
    assert "b_FXR_lag1" not in fits.columns and "b_CMD_lag1" not in fits.columns
    # within four standard errors of one window's OLS slope: σ / (sd(factor) √M)
    ref = _design(clean, [("ACWI", 0), ("ACWI", 1), ("FXR", 0), ("CMD", 0)])
    for name, col in zip(TRUE, ref.terms, strict=True):
        se = 0.002 / (np.nanstd(ref.terms[col]) * np.sqrt(230))
        assert abs(inc[name].mean() - TRUE[name]) < 4 * se, name
    np.testing.assert_allclose(inc["b_ACWI_sum"], inc["b_ACWI"] + inc["b_ACWI_lag1"], rtol=1e-12)
    # the fitted residual σ is the noise's (0.2 %)
    assert abs(inc["sigma"].mean() - 0.002) < 0.0002


@pytest.mark.parametrize(
    ("kw", "cols"),
    [
        ({}, [("ACWI", 0), ("ACWI", 1), ("FXR", 0), ("CMD", 0)]),
        ({"beta": "ols"}, [("ACWI", 0), ("FXR", 0), ("CMD", 0)]),
        (
            {"beta": "dimson", "lags": 2, "leads": 1},
            [(f, s) for f in ("ACWI", "FXR", "CMD") for s in (0, 1, 2, -1)],
        ),
    ],
    ids=["default", "ols", "dimson-2-1"],
)
@pytest.mark.parametrize("data", ["clean", "holes"])
def test_equals_statsmodels_pair_by_pair(
    kw: dict[str, Any], cols: list[Column], data: str, request: pytest.FixtureRequest
) -> None:
    d = request.getfixturevalue(data)
    res = _run(d, ["ACWI", "FXR", "CMD"], **kw)
    ref = _design(d, cols)
    assert ((ref.span > 1).sum() > 30) == (data == "holes")
    assert check_against_reference(res, "^HSI", cols, ref, CARS) >= 10


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(["ACWI", "FXR", "CMD"]))
def test_the_order_of_the_factors_does_not_matter(clean: dict[str, Any], order: list[str]) -> None:
    base = _run(clean, ["ACWI", "FXR", "CMD"])
    res = _run(clean, list(order))
    np.testing.assert_allclose(res.car()["car"], base.car()["car"], rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(res.car()["se"], base.car()["se"], rtol=1e-9)
    names = ["alpha", "b_ACWI", "b_ACWI_lag1", "b_FXR", "b_CMD", "b_ACWI_sum", "sigma"]
    np.testing.assert_allclose(res.fits[names], base.fits[names], rtol=1e-8, atol=1e-12)
    # the terms are laid out in the order given
    terms = [c for c in res.fits.columns if c.startswith("b_") and not c.endswith("_sum")]
    assert [t.split("_")[1] for t in terms if not t.endswith("lag1")] == list(order)


_MARKET_NAMES = {
    "beta": "b_ACWI",
    "beta_lag1": "b_ACWI_lag1",
    "beta_lag2": "b_ACWI_lag2",
    "beta_sum": "b_ACWI_sum",
}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    betas=st.sampled_from([{}, {"beta": "ols"}, {"beta": "dimson", "lags": 2}, {"lags": 1}]),
    data=st.sampled_from(["clean", "holes"]),
    via_benchmark=st.booleans(),
)
def test_one_factor_is_the_market_model(
    request: pytest.FixtureRequest, betas: dict[str, Any], data: str, via_benchmark: bool
) -> None:
    """``factor`` with only ACWI (as ``factors`` or as the benchmark) is ``market`` against ACWI."""
    d = request.getfixturevalue(data)
    kw: dict[str, Any] = {"symbols": ["^HSI"], "tests": ["csect_t"], **betas}
    mkt = EventStudy(d["events"], d["prices"], model="market", benchmark="ACWI", **kw).run()
    one = (
        EventStudy(d["events"], d["prices"], model="factor", benchmark="ACWI", **kw)
        if via_benchmark
        else EventStudy(d["events"], d["prices"], model="factor", factors=["ACWI"], **kw)
    ).run()
    np.testing.assert_allclose(one.car()["car"], mkt.car()["car"], rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(one.car()["se"], mkt.car()["se"], rtol=1e-9)
    np.testing.assert_allclose(
        one.abnormal_returns["sar"], mkt.abnormal_returns["sar"], rtol=1e-8, atol=1e-12
    )
    for old, new in _MARKET_NAMES.items():
        if old in mkt.fits.columns:
            np.testing.assert_allclose(one.fits[new], mkt.fits[old], rtol=1e-9, atol=1e-13)
        else:
            assert new not in one.fits.columns
    assert one.manifest["parameters"]["factors"] == ["ACWI"]


def test_chunks_threads_and_per_pair_detail_give_the_serial_numbers(holes: dict[str, Any]) -> None:
    study = EventStudy(
        holes["events"],
        holes["prices"],
        model="factor",
        factors=["ACWI", "FXR"],
        symbols=["^HSI"],
        tests=["csect_t", "grank_t"],
        beta="dimson",
        lags=1,
    )
    serial = study.run()
    with ThreadPoolExecutor(2) as ex:
        par = study.run(executor=ex, chunk_size=3)
    pd.testing.assert_frame_equal(serial.car(), par.car())
    pd.testing.assert_frame_equal(serial.fits, par.fits)
    pd.testing.assert_frame_equal(serial.abnormal_returns, par.abnormal_returns)
    pairs = study.run(detail="pairs")
    pd.testing.assert_frame_equal(serial.car()[["car", "se"]], pairs.car()[["car", "se"]])


def test_a_constant_factor_is_refused_and_a_flat_window_excludes_its_pairs(clean: dict[str, Any]) -> None:
    p = clean["prices"]
    flat = pd.Series(3.0, index=p["ACWI"].index)
    prices = Prices({s: p[s] for s in p.symbols} | {"FLAT": flat}, source="test")
    with pytest.raises(InputError, match="factors: 'FLAT' does not move"):
        EventStudy(clean["events"], prices, model="factor", factors=["ACWI", "FLAT"], symbols=["^HSI"]).run()
    # a peg: the factor is constant before 2020 only, so the earlier pairs cannot be fitted
    peg = p["CMD"].where(p["CMD"].index >= "2020-01-01", 3.0)
    prices = Prices({s: p[s] for s in p.symbols} | {"PEG": peg}, source="test")
    res = EventStudy(clean["events"], prices, model="factor", factors=["ACWI", "PEG"], symbols=["^HSI"]).run()
    fits = res.fits
    assert fits.loc[fits["est_end"] < "2020-01-01", "excluded"].all()
    assert fits.loc[fits["est_end"] < "2020-01-01", "reason"].str.contains("constant or collinear").all()
    assert not fits.loc[fits["est_start"] > "2020-01-01", "excluded"].any()


@pytest.mark.parametrize(
    ("kw", "word"),
    [
        ({"model": "market", "benchmark": "ACWI", "factors": ["FXR"]}, "factors: only the factor model"),
        ({"model": "factor"}, "factors: model 'factor' needs factor series"),
        ({"model": "factor", "factors": ["NOPE"]}, "factors: 'NOPE' is not in the prices"),
        ({"model": "factor", "factors": ["ACWI", "ACWI"]}, "factors: 'ACWI' is listed twice"),
        (
            {"model": "factor", "factors": ["ACWI", "^HSI"], "symbols": ["^HSI"]},
            "factors: '^HSI' is also a market",
        ),
        ({"model": "factor", "factors": ["ACWI"], "beta": "scholes-williams"}, "beta: scholes-williams"),
        ({"model": "factor", "factors": "ACWI,"}, "factors: 'ACWI,' has an empty symbol"),
        ({"model": "constant-mean", "lags": 2}, "lags: only the market and factor models"),
    ],
)
def test_bad_factor_options_name_the_argument(clean: dict[str, Any], kw: dict[str, Any], word: str) -> None:
    with pytest.raises(InputError, match=re.escape(word)):
        EventStudy(clean["events"], clean["prices"], **kw)


def test_default_markets_leave_the_factors_out(clean: dict[str, Any]) -> None:
    study = EventStudy(clean["events"], clean["prices"], model="factor", factors=["ACWI", "FXR", "CMD"])
    assert study.symbols == ["^HSI"]
    study = EventStudy(clean["events"], clean["prices"], model="factor", benchmark="CMD", factors="ACWI,FXR")
    assert study.symbols == ["^HSI"] and study.config.factors == ("ACWI", "FXR")


def test_a_calendar_given_to_a_factor_sets_its_clock(clean: dict[str, Any]) -> None:
    """FXR has no exchange calendar (same date only) until ``calendar`` gives it New York's."""
    res = _run(clean, ["ACWI", "FXR"], calendar={"FXR": "XNYS"})
    assert {"b_FXR", "b_FXR_lag1", "b_FXR_sum"} <= set(res.fits.columns)
    rec = res.manifest["factor_alignment"]["^HSI"]["factors"]["FXR"]
    assert (
        rec["factor_calendar"] == "XNYS" and rec["closes_later"] and rec["terms"] == ["b_FXR", "b_FXR_lag1"]
    )
    cols: list[Column] = [("ACWI", 0), ("ACWI", 1), ("FXR", 0), ("FXR", 1)]
    assert check_against_reference(res, "^HSI", cols, _design(clean, cols), CARS) >= 10
