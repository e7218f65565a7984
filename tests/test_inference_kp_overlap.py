"""Kolari–Pynnönen r̄ weighted by the calendar overlap of the pairs' CAR windows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from eventstudy.inference import TESTS, TestInput
from eventstudy.inference.crosscorr import group_rbar


def _input(rng: np.random.Generator, n: int, starts: list[int], win: int, common: float) -> TestInput:
    """n pairs, estimation residuals on days 0..299 with a common factor, windows at ``starts``."""
    t = 120
    f = rng.standard_normal(400)
    est_day = np.zeros((n, t), dtype=np.int64)
    resid = np.zeros((n, t))
    for i in range(n):
        first = int(rng.integers(0, 60))
        days = np.arange(first, first + t)
        est_day[i] = days
        resid[i] = common * f[days] + rng.standard_normal(t)
    resid[rng.random(resid.shape) < 0.05] = np.nan
    window_day = np.full((n, win), -1, dtype=np.int64)
    for i, s in enumerate(starts):
        window_day[i] = 300 + s + np.arange(win)
    car = rng.standard_normal(n) * 0.01
    se = np.full(n, 0.01)
    return TestInput(
        car=car,
        se=se,
        days=np.full(n, win),
        dof=np.full(n, t - 1.0),
        n_est=np.full(n, float(t)),
        ar=np.full((n, win), np.nan),
        sar=np.full((n, win), np.nan),
        est_resid=resid,
        est_sar=resid,
        est_day=est_day,
        window_day=window_day,
    )


def _reference_rbar(inp: TestInput) -> float:
    """Plain double loop: pandas pairwise correlation × shared window days / √(L_i L_j)."""
    n = len(inp.car)
    total = 0.0
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            a = pd.Series(inp.est_resid[i], index=inp.est_day[i]).dropna()
            b = pd.Series(inp.est_resid[j], index=inp.est_day[j]).dropna()
            both = a.index.intersection(b.index)
            wi = {d for d in inp.window_day[i] if d >= 0}
            wj = {d for d in inp.window_day[j] if d >= 0}
            shared = len(wi & wj)
            if shared == 0 or len(both) < 2:
                continue
            rho = float(np.corrcoef(a[both], b[both])[0, 1])
            total += rho * shared / np.sqrt(len(wi) * len(wj))
    return total / (n * (n - 1))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rbar_matches_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    inp = _input(rng, 9, [0, 0, 1, 2, 5, 9, 9, 20, 3], win=3, common=1.5)
    got = group_rbar(inp, np.arange(9)).rbar
    assert got == pytest.approx(_reference_rbar(inp), abs=1e-12)


def test_disjoint_windows_give_zero_rbar_and_no_adjustment() -> None:
    rng = np.random.default_rng(5)
    inp = _input(rng, 6, [0, 10, 20, 30, 40, 50], win=3, common=3.0)  # correlated residuals
    idx = np.arange(6)
    assert group_rbar(inp, idx).rbar == 0.0
    bmp = TESTS["bmp_t"].func(inp, idx)
    kp = TESTS["kp_bmp_t"].func(inp, idx)
    assert kp.statistic == pytest.approx(bmp.statistic, rel=1e-12)


def test_identical_windows_give_plain_mean_correlation() -> None:
    rng = np.random.default_rng(7)
    inp = _input(rng, 5, [4] * 5, win=2, common=1.0)
    plain = dataclasses.replace(inp, window_day=None)
    assert group_rbar(inp, np.arange(5)).rbar == pytest.approx(
        group_rbar(plain, np.arange(5)).rbar, abs=1e-12
    )


def test_blockwise_path_equals_dense_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the dense limit r̄ is computed block by block: same number."""
    from eventstudy.inference import crosscorr

    rng = np.random.default_rng(11)
    starts = [0, 0, 0, 1, 1, 5, 5, 5, 9, 20, 20, 3]
    inp = _input(rng, len(starts), starts, win=3, common=1.2)
    idx = np.arange(len(starts))
    dense = group_rbar(inp, idx).rbar
    monkeypatch.setattr(crosscorr, "DENSE_LIMIT", 4)
    blocky = group_rbar(dataclasses.replace(inp, window_day=inp.window_day.copy()), idx).rbar
    assert blocky == pytest.approx(dense, abs=1e-12)
    assert blocky == pytest.approx(_reference_rbar(inp), abs=1e-12)
