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


@pytest.mark.parametrize("days", [1, 3])
def test_window_blocks_and_their_common_days_match_a_plain_count(days: int) -> None:
    """The blocks of a window (pairs with the same window days) and, for every two blocks, their
    common calendar days c_AB and lengths L_A, against sets counted in Python; single-day windows
    (each block linked with itself only) and windows of several days."""
    from test_inference_synth import make_input, replace

    from eventstudy.inference.kpwindows import block_rows, window_atoms

    rng = np.random.default_rng(days)
    base = make_input(n=30, seed=days)
    w = base.ar.shape[1]
    start = rng.integers(0, 6, 30)  # calendar day of each pair's first window day
    day = np.full((30, w), -1, dtype=np.int64)
    for i, s0 in enumerate(start):
        day[i, :days] = 100 + s0 + np.arange(days)
    day[3] = -1  # a pair without a window day
    inp = replace(base, window_day=day)
    mask = np.ones(30, dtype=bool)
    mask[5] = False
    atoms = window_atoms(inp, mask)
    blocks = [block_rows(atoms, b) for b in atoms.block_atoms]
    used = sorted(np.concatenate(blocks).tolist())
    assert used == [i for i in range(30) if i not in (3, 5)]
    sets = [frozenset(day[b[0]][day[b[0]] >= 0].tolist()) for b in blocks]
    for b, s in zip(blocks, sets, strict=True):  # a block's pairs share their days
        assert all(frozenset(day[i][day[i] >= 0].tolist()) == s for i in b)
    assert len(set(sets)) == len(sets)
    A, B, c = atoms.links
    got = {(int(a), int(b)): float(v) for a, b, v in zip(A, B, c, strict=True)}
    want = {(a, b): float(len(sa & sb)) for a, sa in enumerate(sets) for b, sb in enumerate(sets) if sa & sb}
    assert got == want
    np.testing.assert_array_equal(atoms.length, [float(len(s)) for s in sets])
