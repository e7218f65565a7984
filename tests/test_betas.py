"""Betas for a benchmark on another clock (Dimson 1979, Scholes–Williams 1977) and multi-session returns.

The synthetic market trades on the Hong Kong calendar and follows
R_HK(t) = a + 0.5·R_US(t) + 0.4·R_US(t−1) + noise against a New York
benchmark (ACWI, which closes after Hong Kong): R_US(t) is the benchmark's
return between its last closes on or before the two Hong Kong dates, and
R_US(t−1) the same one New York session earlier. Every number is checked
against statsmodels OLS with the lagged regressors or a hand formula, pair by
pair, with the estimation days rebuilt here from exchange_calendars.
"""

from __future__ import annotations

import warnings

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from eventstudy import EventStudy, Prices, events_from_records
from eventstudy.errors import InputError

EST = (-250, -11)


def _sessions(code: str, start: str = "2018-01-01", end: str = "2021-12-31") -> pd.DatetimeIndex:
    with warnings.catch_warnings():  # exchange_calendars' own pandas deprecations
        warnings.simplefilter("ignore")
        cal = xcals.get_calendar(code, start=start, end=end)
    return pd.DatetimeIndex(cal.sessions).tz_localize(None)


@pytest.fixture(scope="module")
def lagged() -> dict[str, object]:
    rng = np.random.default_rng(7)
    ny = _sessions("XNYS")
    hk = _sessions("XHKG")
    ny_lv = 100.0 * np.cumprod(1.0 + 0.01 * rng.standard_normal(len(ny)))
    at = np.searchsorted(ny.asi8, hk.asi8, side="right") - 1  # last NY close on or before each HK date

    def shifted(s: int) -> np.ndarray:
        i = at - s
        lv = np.where((i >= 0) & (i < len(ny)), ny_lv[np.clip(i, 0, len(ny) - 1)], np.nan)
        out = np.full(len(hk), np.nan)
        out[1:] = lv[1:] / lv[:-1] - 1.0
        return out

    b0, b1, bm1 = shifted(0), shifted(1), shifted(-1)
    r = 0.0002 + 0.5 * b0 + 0.4 * b1 + 0.004 * rng.standard_normal(len(hk))
    r[~np.isfinite(r)] = 0.0  # the first two sessions (no lagged benchmark return yet)
    hk_lv = 50.0 * np.cumprod(1.0 + r)
    # events at 03:00 UTC (during the Hong Kong session) on every 60th session from the 300th
    pos = np.arange(300, len(hk) - 30, 60)
    records = [
        {"event_id": f"e{j:02d}", "timestamp": f"{hk[p].date()}T03:00Z", "title": f"event {j}"}
        for j, p in enumerate(pos)
    ]
    prices = Prices({"^HSI": pd.Series(hk_lv, index=hk), "ACWI": pd.Series(ny_lv, index=ny)}, source="test")
    return {
        "prices": prices,
        "events": events_from_records(records),
        "pos": pos,
        "hk": hk,
        "r": np.where(np.arange(len(hk)) == 0, np.nan, r),  # the first date has no return
        "b": {0: b0, 1: b1, -1: bm1},
    }


def _run(d: dict[str, object], **kw: object) -> object:
    return EventStudy(
        d["events"],  # type: ignore[arg-type]
        d["prices"],  # type: ignore[arg-type]
        model="market",
        benchmark="ACWI",
        symbols=["^HSI"],
        tests=["csect_t"],
        **kw,  # type: ignore[arg-type]
    ).run()


def _est_rows(d: dict[str, object], p0: int, need: tuple[int, ...]) -> np.ndarray:
    """Estimation days of the pair with day 0 at ``p0``: finite data, other events' −1…+1 masked."""
    pos: np.ndarray = d["pos"]  # type: ignore[assignment]
    rows = np.arange(p0 + EST[0], p0 + EST[1] + 1)
    masked = np.zeros(len(rows), dtype=bool)
    for q in pos:
        if q != p0:
            masked |= (rows >= q - 1) & (rows <= q + 1)
    ok = ~masked & np.isfinite(d["r"][rows])  # type: ignore[index]
    for s in need:
        ok &= np.isfinite(d["b"][s][rows])  # type: ignore[index]
    return rows[ok]


def test_dimson_recovers_the_lag_structure_and_ols_is_biased(lagged: dict[str, object]) -> None:
    dim = _run(lagged).fits  # type: ignore[attr-defined]
    ols = _run(lagged, beta="ols").fits  # type: ignore[attr-defined]
    assert {"beta", "beta_lag1", "beta_sum"} <= set(dim.columns)
    assert np.allclose(dim["beta_sum"], 0.9, atol=0.1)
    assert abs(dim["beta_sum"].mean() - 0.9) < 0.03
    assert abs(dim["beta"].mean() - 0.5) < 0.03 and abs(dim["beta_lag1"].mean() - 0.4) < 0.03
    # same-date OLS misses the lag: biased towards 0.5
    assert (ols["beta"] < 0.65).all()
    assert "beta_lag1" not in ols.columns


def test_dimson_equals_statsmodels_pair_by_pair(lagged: dict[str, object]) -> None:
    res = _run(lagged, beta="dimson", lags=1, leads=1)
    fits = res.fits.set_index("event_id")  # type: ignore[attr-defined]
    car = res.car().set_index(["event_id", "window"])  # type: ignore[attr-defined]
    ar = res.abnormal_returns.set_index(["event_id", "rel_day"])  # type: ignore[attr-defined]
    b, r, pos = lagged["b"], lagged["r"], lagged["pos"]
    shifts = (0, 1, -1)
    checked = 0
    for j, p0 in enumerate(pos):  # type: ignore[arg-type]
        eid = f"e{j:02d}"
        rows = _est_rows(lagged, int(p0), shifts)
        X = sm.add_constant(np.column_stack([b[s][rows] for s in shifts]))  # type: ignore[index]
        ols = sm.OLS(r[rows], X).fit()  # type: ignore[index]
        f = fits.loc[eid]
        assert f["n_est"] == len(rows)
        got = [f["alpha"], f["beta"], f["beta_lag1"], f["beta_lead1"]]
        np.testing.assert_allclose(got, ols.params, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(f["beta_sum"], ols.params[1:].sum(), rtol=1e-10)
        sigma2 = ols.ssr / ols.df_resid
        np.testing.assert_allclose(f["sigma"], np.sqrt(sigma2), rtol=1e-10)
        inv = ols.normalized_cov_params
        for (t1, t2), label in (((0, 0), "0:0"), ((-1, 1), "-1:+1"), ((-5, 5), "-5:+5")):
            days = np.arange(p0 + t1, p0 + t2 + 1)
            Xs = sm.add_constant(np.column_stack([b[s][days] for s in shifts]), has_constant="add")  # type: ignore[index]
            ars = r[days] - Xs @ ols.params  # type: ignore[index]
            V = sigma2 * (np.eye(len(days)) + Xs @ inv @ Xs.T)
            g = np.ones(len(days))
            row = car.loc[(eid, label)]
            np.testing.assert_allclose(row["car"], ars.sum(), rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(row["se"], np.sqrt(g @ V @ g), rtol=1e-9)
            if t1 == t2:
                h = Xs[0] @ inv @ Xs[0]
                want = ars[0] / np.sqrt(sigma2 * (1 + h))
                np.testing.assert_allclose(ar.loc[(eid, 0), "sar"], want, rtol=1e-9)
        checked += 1
    assert checked == len(pos)  # type: ignore[arg-type]


def test_scholes_williams_by_hand(lagged: dict[str, object]) -> None:
    fits = _run(lagged, beta="scholes-williams").fits.set_index("event_id")  # type: ignore[attr-defined]
    b, r, pos = lagged["b"], lagged["r"], lagged["pos"]
    for j, p0 in enumerate(pos):  # type: ignore[arg-type]
        rows = _est_rows(lagged, int(p0), (1, 0, -1))
        y = r[rows]  # type: ignore[index]
        xs = {s: b[s][rows] for s in (1, 0, -1)}  # type: ignore[index]
        slopes = [np.cov(y, xs[s])[0, 1] / np.var(xs[s], ddof=1) for s in (1, 0, -1)]
        rho = np.corrcoef(xs[0], xs[1])[0, 1]
        beta = sum(slopes) / (1 + 2 * rho)
        alpha = y.mean() - beta * xs[0].mean()
        sigma = np.sqrt(((y - alpha - beta * xs[0]) ** 2).sum() / (len(y) - 2))
        f = fits.loc[f"e{j:02d}"]
        np.testing.assert_allclose(
            [f["alpha"], f["beta"], f["b_lag1"], f["b_same"], f["b_lead1"], f["rho_m"], f["sigma"]],
            [alpha, beta, *slopes, rho, sigma],
            rtol=1e-9,
            atol=1e-12,
        )


def test_market_adjusted_subtracts_the_benchmark_return_before_the_close(lagged: dict[str, object]) -> None:
    out = EventStudy(
        lagged["events"],  # type: ignore[arg-type]
        lagged["prices"],  # type: ignore[arg-type]
        model="market-adjusted",
        benchmark="ACWI",
        symbols=["^HSI"],
        tests=["csect_t"],
    ).run()
    ar = out.abnormal_returns
    p0 = int(lagged["pos"][0])  # type: ignore[index]
    first = ar[ar["event_id"] == "e00"].set_index("rel_day")
    for rel in (-1, 0, 1):
        # the benchmark's return over the New York sessions that closed before Hong Kong's close
        np.testing.assert_allclose(first.loc[rel, "normal_return"], lagged["b"][1][p0 + rel], rtol=1e-12)  # type: ignore[index]
    align = out.manifest["benchmark_alignment"]["^HSI"]
    assert align["benchmark_closes_later"] is True
    assert "lagged one benchmark session" in align["model_uses"]


def test_the_default_follows_the_closing_times(lagged: dict[str, object]) -> None:
    res = _run(lagged)
    assert res.manifest["benchmark_alignment"]["^HSI"]["benchmark_closes_later"] is True  # type: ignore[attr-defined]
    assert "Dimson" in res.manifest["benchmark_alignment"]["^HSI"]["model_uses"]  # type: ignore[attr-defined]
    # a New York market against a New York benchmark: plain OLS, one beta
    p = lagged["prices"]
    ny = p["ACWI"]  # type: ignore[index]
    prices = Prices({"^GSPC": ny * (1 + 0.001 * np.sin(np.arange(len(ny)))), "ACWI": ny}, source="test")
    out = EventStudy(lagged["events"], prices, model="market", benchmark="ACWI", tests=["csect_t"]).run()  # type: ignore[arg-type]
    assert "beta_lag1" not in out.fits.columns
    assert out.manifest["benchmark_alignment"]["^GSPC"]["benchmark_closes_later"] is False


@pytest.mark.parametrize(
    ("kw", "word"),
    [
        ({"beta": "dimsen"}, "beta"),
        ({"beta": "ols", "lags": 2}, "lags"),
        ({"lags": -1, "beta": "dimson"}, "lags"),
        ({"beta": "dimson", "model": "constant-mean"}, "beta"),
    ],
)
def test_bad_beta_options_name_the_argument(
    lagged: dict[str, object], kw: dict[str, object], word: str
) -> None:
    opts = {"model": "market", "benchmark": "ACWI"} | kw
    with pytest.raises(InputError, match=f"^{word}:"):
        EventStudy(lagged["events"], lagged["prices"], **opts)  # type: ignore[arg-type]


def test_a_two_session_return_has_twice_the_normal_return_and_variance() -> None:
    """Constant mean; day 0 has no price, so day +1's return spans two sessions."""
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2020-01-01", periods=400)
    r = 0.0005 + 0.01 * rng.standard_normal(len(dates))
    lv = pd.Series(100 * np.cumprod(1 + r), index=dates)
    p0 = 330
    gone = lv.drop(dates[p0])
    stamp = f"{dates[p0].date()}T15:00Z"  # during the New York session: day 0 is certain
    events = events_from_records([{"event_id": "x", "timestamp": stamp, "title": "x"}])
    # on an exchange calendar the missing day 0 is a real session: its successor spans two
    idx = pd.bdate_range("2020-01-01", periods=400)
    res = EventStudy(
        events,
        Prices({"AAA": gone}, source="test"),
        calendar="XNYS",
        tests=["csect_t"],
        min_estimation=50,
    ).run()
    grid = _sessions("XNYS", "2019-01-01", "2022-12-31")
    grid = grid[(grid >= idx[0]) & (grid <= idx[-1])]
    ret = pd.Series(np.nan, index=grid)
    on = gone[gone.index.isin(grid)]
    ret[on.index[1:]] = on.to_numpy()[1:] / on.to_numpy()[:-1] - 1
    span = pd.Series(1, index=grid)
    ipos = np.flatnonzero(grid.isin(on.index))
    span.iloc[ipos[1:]] = np.diff(ipos)
    g0 = int(np.flatnonzero(grid == dates[p0])[0]) if dates[p0] in grid else None
    assert g0 is not None
    est = [g0 + k for k in range(EST[0], EST[1] + 1) if np.isfinite(ret.iloc[g0 + k])]
    y, kk = ret.iloc[est].to_numpy(), span.iloc[est].to_numpy().astype(float)
    mu = y.sum() / kk.sum()
    M = len(est)
    sigma2 = ((y - kk * mu) ** 2 / kk).sum() / (M - 1)
    car = res.car().set_index("window")
    # [0, +1]: day 0 has no return, day +1's spans two sessions
    assert span.iloc[g0 + 1] == 2 and np.isnan(ret.iloc[g0])
    r1 = ret.iloc[g0 + 1]
    np.testing.assert_allclose(car.loc["0:+1", "car"], r1 - 2 * mu, rtol=1e-10)
    Sk = kk.sum()
    np.testing.assert_allclose(car.loc["0:+1", "se"], np.sqrt(sigma2 * (2 + 2**2 / Sk)), rtol=1e-10)
    # [-1, +1]: day −1 (one session) and day +1 (two): Σk = 3
    np.testing.assert_allclose(car.loc["-1:+1", "se"], np.sqrt(sigma2 * (3 + 3**2 / Sk)), rtol=1e-10)
    ar = res.abnormal_returns.set_index("rel_day")
    np.testing.assert_allclose(ar.loc[1, "normal_return"], 2 * mu, rtol=1e-10)
    np.testing.assert_allclose(ar.loc[1, "sar"], (r1 - 2 * mu) / np.sqrt(sigma2 * (2 + 4 / Sk)), rtol=1e-10)


@pytest.mark.parametrize(
    ("market", "lo", "hi"), [("XHKG", 12.0, 13.0), ("XETR", 4.5, 4.5), ("XNYS", 0.0, 0.0)]
)
def test_close_gap_against_exchange_calendars(market: str, lo: float, hi: float) -> None:
    from eventstudy.calendars import exchange_sessions
    from eventstudy.sync import close_gap_hours

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = xcals.get_calendar(market, start="2019-01-01", end="2019-12-31").closes
        b = xcals.get_calendar("XNYS", start="2019-01-01", end="2019-12-31").closes
    common = a.index.intersection(b.index)
    want = float(np.median((b[common] - a[common]).dt.total_seconds() / 3600))
    lo_d, hi_d = pd.Timestamp("2019-01-01"), pd.Timestamp("2019-12-31")
    got = close_gap_hours(
        exchange_sessions(market, lo_d, hi_d).between(lo_d, hi_d),
        exchange_sessions("XNYS", lo_d, hi_d).between(lo_d, hi_d),
    )
    assert got == pytest.approx(want) and lo <= got <= hi
