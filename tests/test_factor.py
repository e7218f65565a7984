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

import numpy as np
import pandas as pd
import pytest
from factor_reference import Column, design, reference, sessions

from eventstudy import EventStudy, Prices, events_from_records

CARS = [(0, 0), (0, 1), (-1, 1), (-5, 5)]
TRUE = {"b_ACWI": 0.5, "b_ACWI_lag1": 0.3, "b_FXR": 0.8, "b_CMD": 0.2}


def _make(seed: int, holes: bool) -> dict[str, object]:
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
    records = [
        {"event_id": f"e{j:02d}", "timestamp": f"{hk[p].date()}T03:00Z", "title": f"event {j}"}
        for j, p in enumerate(pos)
    ]
    prices = Prices({"^HSI": hk_lv, "ACWI": w, "FXR": fx, "CMD": cmd}, source="test")
    return {"prices": prices, "events": events_from_records(records), "hk": hk}


@pytest.fixture(scope="module")
def clean() -> dict[str, object]:
    return _make(11, holes=False)


@pytest.fixture(scope="module")
def holes() -> dict[str, object]:
    return _make(12, holes=True)


def _run(d: dict[str, object], factors: list[str], **kw: object) -> object:
    return EventStudy(
        d["events"],  # type: ignore[arg-type]
        d["prices"],  # type: ignore[arg-type]
        model="factor",
        factors=factors,
        symbols=["^HSI"],
        tests=["csect_t"],
        car_windows=CARS,
        **kw,  # type: ignore[arg-type]
    ).run()


def _name(c: Column) -> str:
    f, s = c
    return f"b_{f}" if s == 0 else (f"b_{f}_lag{s}" if s > 0 else f"b_{f}_lead{-s}")


def check_against_reference(res: object, d_market: object, cols: list[Column], grid_design: object) -> int:
    """Assert every number of ``res`` for ``d_market`` equals the statsmodels rebuild; return pairs checked."""
    fits = res.fits  # type: ignore[attr-defined]
    fits = fits[(fits["symbol"] == d_market) & ~fits["excluded"]].set_index("event_id")
    all_f = res.fits[res.fits["symbol"] == d_market].set_index("event_id")  # type: ignore[attr-defined]
    ref = reference(grid_design, cols, all_f["day0"], all_f["day0_latest"], CARS)  # type: ignore[arg-type]
    car = res.car().set_index(["event_id", "symbol", "window"])  # type: ignore[attr-defined]
    ar = res.abnormal_returns.set_index(["event_id", "symbol", "rel_day"])  # type: ignore[attr-defined]
    checked = 0
    for eid, f in fits.iterrows():
        r = ref[str(eid)]
        assert f["n_est"] == r["n"]
        got = [f["alpha"], *(f[_name(c)] for c in cols)]
        np.testing.assert_allclose(got, r["params"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(f["sigma"], r["sigma"], rtol=1e-10)
        for fac in {c[0] for c in cols}:
            mine = [c for c in cols if c[0] == fac]
            if len(mine) > 1:
                np.testing.assert_allclose(f[f"b_{fac}_sum"], sum(f[_name(c)] for c in mine), rtol=1e-12)
        for rel, a, s, nr in zip(r["rel"], r["ar"], r["sar"], r["normal"], strict=True):  # type: ignore[call-overload]
            row = ar.loc[(eid, d_market, int(rel))]
            np.testing.assert_allclose(row["ar"], a, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(row["sar"], s, rtol=1e-9, atol=1e-10)
            np.testing.assert_allclose(row["normal_return"], nr, rtol=1e-9, atol=1e-12)
        for (t1, t2), (c_ref, se_ref) in r["car"].items():  # type: ignore[attr-defined]
            label = f"{t1:+d}:{t2:+d}".replace("+0", "0")
            row = car.loc[(eid, d_market, label)]
            np.testing.assert_allclose(row["car"], c_ref, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(row["se"], se_ref, rtol=1e-10)
            from scipy import stats

            np.testing.assert_allclose(
                row["p_value"], 2 * stats.t.sf(abs(c_ref / se_ref), r["dof"]), rtol=1e-8
            )
        checked += 1
    return checked


def _design(d: dict[str, object], cols: list[Column]) -> object:
    p: Prices = d["prices"]  # type: ignore[assignment]
    return design(p["^HSI"], d["hk"], {f: p[f] for f in ("ACWI", "FXR", "CMD")}, cols)  # type: ignore[arg-type]


def test_recovers_the_known_parameters_with_a_lag_only_for_the_later_factor(clean: dict[str, object]) -> None:
    fits = _run(clean, ["ACWI", "FXR", "CMD"]).fits  # type: ignore[attr-defined]
    inc = fits[~fits["excluded"]]
    assert len(inc) >= 10
    assert "b_FXR_lag1" not in fits.columns and "b_CMD_lag1" not in fits.columns
    # within four standard errors of one window's OLS slope: σ / (sd(factor) √M)
    ref = _design(clean, [("ACWI", 0), ("ACWI", 1), ("FXR", 0), ("CMD", 0)])
    for name, col in zip(TRUE, ref.terms, strict=True):  # type: ignore[attr-defined]
        se = 0.002 / (np.nanstd(ref.terms[col]) * np.sqrt(230))  # type: ignore[attr-defined]
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
    kw: dict[str, object], cols: list[Column], data: str, request: pytest.FixtureRequest
) -> None:
    d = request.getfixturevalue(data)
    res = _run(d, ["ACWI", "FXR", "CMD"], **kw)
    ref = _design(d, cols)
    assert ((ref.span > 1).sum() > 30) == (data == "holes")  # type: ignore[attr-defined]
    assert check_against_reference(res, "^HSI", cols, ref) >= 10
