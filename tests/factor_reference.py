"""An independent factor-model event study, pair by pair, with statsmodels (for tests/test_factor*.py).

Rebuilt from the raw closes and the rules of the README and the formula sheet,
without the package's alignment or fitting code: the market's returns on its
exchange sessions (a session without a price makes the next return span k
sessions), each factor's return over the same interval (its last close on or
before each market price date, shifted s rows of the factor's data for lag s),
estimation days p0−250 … p0−11 without other events' −1…+1, and a WLS fit
with weights 1/k on the design [k, F…] (Maynes and Rumsey 1993). The event
window's AR, SAR, CAR and SE follow CLM (1997) §4.4: V = σ²(diag(k) + X*(X'WX)⁻¹X*').
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

Column = tuple[str, int]


def sessions(code: str, start: str, end: str) -> pd.DatetimeIndex:
    with warnings.catch_warnings():  # exchange_calendars' own pandas deprecations
        warnings.simplefilter("ignore")
        cal = xcals.get_calendar(code, start=start, end=end)
    return pd.DatetimeIndex(cal.sessions).tz_localize(None)


@dataclass
class Design:
    """One market on its grid: returns, spans and the factor terms."""

    grid: pd.DatetimeIndex
    ret: np.ndarray
    span: np.ndarray
    terms: dict[Column, np.ndarray]


def design(
    close: pd.Series, grid_all: pd.DatetimeIndex, factors: dict[str, pd.Series], cols: list[Column]
) -> Design:
    grid = grid_all[(grid_all >= close.index[0]) & (grid_all <= close.index[-1])]
    on = close[close.index.isin(grid)]
    pos = grid.get_indexer(on.index)
    lv = on.to_numpy(dtype=float)
    ret = np.full(len(grid), np.nan)
    ret[pos[1:]] = lv[1:] / lv[:-1] - 1.0
    span = np.zeros(len(grid))
    span[pos[1:]] = np.diff(pos)
    terms: dict[Column, np.ndarray] = {}
    for f, s in cols:
        fc = factors[f]
        fi, oi = fc.index.as_unit("ns").asi8, on.index.as_unit("ns").asi8
        last = np.searchsorted(fi, oi, side="right") - 1 - s
        fl = np.where(
            (last >= 0) & (last < len(fc)), fc.to_numpy(dtype=float)[np.clip(last, 0, len(fc) - 1)], np.nan
        )
        fl[on.index > fc.index[-1]] = np.nan
        out = np.full(len(grid), np.nan)
        out[pos[1:]] = fl[1:] / fl[:-1] - 1.0
        terms[(f, s)] = out
    return Design(grid, ret, span, terms)


def reference(
    d: Design,
    cols: list[Column],
    day0: pd.Series,
    day0_latest: pd.Series,
    car_windows: list[tuple[int, int]],
    est: tuple[int, int] = (-250, -11),
    window: tuple[int, int] = (-10, 10),
) -> dict[str, dict[str, Any]]:
    """Per event id: params (alpha, then ``cols``), sigma, n, and per day / CAR window the AR and SE."""
    p0s = d.grid.get_indexer(pd.DatetimeIndex(day0))
    p1s = d.grid.get_indexer(pd.DatetimeIndex(day0_latest))
    n = len(d.grid)
    masked = np.zeros(n, dtype=bool)
    for a, b in zip(p0s, p1s, strict=True):
        if a >= 0:
            masked[max(a - 1, 0) : min(b + 2, n)] = True
    X_all = np.column_stack([d.terms[c] for c in cols])
    ok_all = np.isfinite(d.ret) & np.isfinite(X_all).all(axis=1)
    out: dict[str, dict[str, Any]] = {}
    for eid, p0, p1 in zip(day0.index, p0s, p1s, strict=True):
        if p0 < 0:
            continue
        rows = np.arange(p0 + est[0], p0 + est[1] + 1)
        rows = rows[(rows >= 0) & (rows < n)]
        rows = rows[ok_all[rows] & ~masked[rows]]
        k = d.span[rows]
        X = np.column_stack([k, X_all[rows]])
        fit = sm.WLS(d.ret[rows], X, weights=1.0 / k).fit()
        s2 = fit.scale
        C = fit.normalized_cov_params
        ext = p1 - p0
        days = np.arange(p0 + window[0], p0 + window[1] + ext + 1)
        days = days[(days >= 0) & (days < n)]
        avail = ok_all[days]
        dd = days[avail]
        Xs = np.column_stack([d.span[dd], X_all[dd]])
        ar = d.ret[dd] - Xs @ fit.params
        h = np.einsum("ik,kl,il->i", Xs, C, Xs)
        sar = ar / np.sqrt(s2 * (d.span[dd] + h))
        cars = {}
        for t1, t2 in car_windows:
            hi = t2 + (ext if t2 >= 0 else 0)
            sel = (dd >= p0 + t1) & (dd <= p0 + hi)
            g = sel.astype(float)
            V = s2 * (np.diag(d.span[dd]) + Xs @ C @ Xs.T)
            cars[(t1, t2)] = (float(ar[sel].sum()), float(np.sqrt(g @ V @ g)))
        out[str(eid)] = {
            "params": fit.params,
            "sigma": np.sqrt(s2),
            "n": len(rows),
            "dof": fit.df_resid,
            "rel": dd - p0,
            "ar": ar,
            "sar": sar,
            "normal": Xs @ fit.params,
            "car": cars,
        }
    return out


def _name(c: Column) -> str:
    f, s = c
    return f"b_{f}" if s == 0 else (f"b_{f}_lag{s}" if s > 0 else f"b_{f}_lead{-s}")


def check_against_reference(
    res: Any, d_market: str, cols: list[Column], grid_design: Design, car_windows: list[tuple[int, int]]
) -> int:
    """Assert that every number of ``res`` for one market equals the rebuild; return the pairs checked."""
    fits = res.fits
    fits = fits[(fits["symbol"] == d_market) & ~fits["excluded"]].set_index("event_id")
    all_f = res.fits[res.fits["symbol"] == d_market].set_index("event_id")
    ref = reference(grid_design, cols, all_f["day0"], all_f["day0_latest"], car_windows)
    car = res.car().set_index(["event_id", "symbol", "window"])
    ar = res.abnormal_returns.set_index(["event_id", "symbol", "rel_day"])
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
        # every rebuilt day and window of the pair looked up at once (a missing row is a KeyError),
        # then compared element by element
        rows = ar.loc[[(eid, d_market, int(rel)) for rel in r["rel"]]]
        np.testing.assert_allclose(rows["ar"].to_numpy(), r["ar"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(rows["sar"].to_numpy(), r["sar"], rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(rows["normal_return"].to_numpy(), r["normal"], rtol=1e-9, atol=1e-12)
        labels = [f"{t1:+d}:{t2:+d}".replace("+0", "0") for t1, t2 in r["car"]]
        rows = car.loc[[(eid, d_market, label) for label in labels]]
        c_ref, se_ref = (np.array([v[i] for v in r["car"].values()]) for i in (0, 1))
        np.testing.assert_allclose(rows["car"].to_numpy(), c_ref, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(rows["se"].to_numpy(), se_ref, rtol=1e-10)
        np.testing.assert_allclose(
            rows["p_value"].to_numpy(), 2 * stats.t.sf(np.abs(c_ref / se_ref), r["dof"]), rtol=1e-8
        )
        checked += 1
    return checked
