"""Rank tests (Corrado 1989 / Cowan 1992; Kolari–Pynnönen 2011 GRANK) against plain loops."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats
from test_inference_synth import make_input, replace

from eventstudy.inference import TESTS, TestInput
from eventstudy.inference.ranks import row_ranks

ALL = np.arange(12)
SUB = np.array([1, 2, 4, 6, 7, 9, 10])


def ref_corrado(inp: TestInput, idx: np.ndarray) -> tuple[float, int]:
    """Corrado (1989) / Cowan (1992) from the formula, one pair and one day at a time."""
    assert inp.event_ar is not None
    used = [i for i in idx if math.isfinite(inp.car[i])]
    t_est = inp.est_resid.shape[1]
    n_cols = t_est + inp.event_ar.shape[1]
    dev: dict[int, dict[int, float]] = {}
    for i in used:
        series = list(inp.est_resid[i]) + list(inp.event_ar[i])
        cols = [c for c in range(n_cols) if math.isfinite(series[c])]
        ranks = stats.rankdata([series[c] for c in cols])
        kbar = (len(cols) + 1) / 2
        dev[i] = {c: float(r) - kbar for c, r in zip(cols, ranks, strict=True)}
    day_means = []
    for c in range(n_cols):
        vals = [dev[i][c] for i in used if c in dev[i]]
        if vals:
            day_means.append(sum(vals) / len(vals))
    s_k = math.sqrt(sum(m * m for m in day_means) / len(day_means))
    # formula sheet §7.5: U_i = Σ_{τ ∈ window_i} D_iτ / √L_i, T = mean(U_i) / S_K
    u = []
    for i in used:
        days = [dev[i][t_est + w] for w in range(inp.ar.shape[1]) if math.isfinite(inp.ar[i, w])]
        if days:
            u.append(sum(days) / math.sqrt(len(days)))
    return (sum(u) / len(u)) / s_k, len(used)


def ref_grank(inp: TestInput, idx: np.ndarray) -> tuple[float, float, int]:
    """KP (2011) GRANK per formula sheet §5.8, one pair and one day at a time."""
    used = [i for i in idx if math.isfinite(inp.car[i] / inp.se[i])]
    n = len(used)
    scar = [inp.car[i] / inp.se[i] for i in used]
    s_scar = statistics.stdev(scar)
    t_est = inp.est_sar.shape[1]
    u: dict[int, dict[int, float]] = {}
    for i, sc in zip(used, scar, strict=True):
        cols = [c for c in range(t_est) if math.isfinite(inp.est_sar[i, c])]
        g = [inp.est_sar[i, c] for c in cols] + [sc / s_scar]
        ranks = stats.rankdata(g)
        t_i = len(g)
        u[i] = {c: float(r) / (t_i + 1) - 0.5 for c, r in zip([*cols, -1], ranks, strict=True)}
    total, days = 0.0, 0
    for c in range(t_est):
        vals = [u[i][c] for i in used if c in u[i]]
        if vals:
            total += len(vals) / n * (sum(vals) / len(vals)) ** 2
            days += 1
    u0 = sum(u[i][-1] for i in used) / n
    big_t = days + 1
    s_u = math.sqrt((total + u0**2) / big_t)
    z = u0 / s_u
    t = z * math.sqrt((big_t - 2) / (big_t - 1 - z * z))
    return t, z, big_t


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("idx", [ALL, SUB], ids=["all", "subset"])
@pytest.mark.parametrize("window", [(2, 4), (3, 3)], ids=["multi-day", "single-day"])
def test_corrado_against_loop(seed: int, idx: np.ndarray, window: tuple[int, int]) -> None:
    inp = make_input(seed=seed, effect=0.5, missing=0.1, window=window)
    ref, n = ref_corrado(inp, idx)
    r = TESTS["corrado_rank"].func(inp, idx)
    assert r.statistic == pytest.approx(ref, rel=1e-10)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(ref)), rel=1e-8)
    assert r.n == n


def test_corrado_single_day_balanced_is_corrado_1989() -> None:
    """Balanced panel, L = 1: T = N⁻¹ Σ_i (K_i0 − K̄)/S_K with K̄ = (T + 1)/2."""
    inp = make_input(n=8, seed=9, missing=0.0, window=(3, 3))
    assert inp.event_ar is not None
    comb = np.concatenate([inp.est_resid, inp.event_ar], axis=1)
    k = np.vstack([stats.rankdata(row) for row in comb])
    kbar = (comb.shape[1] + 1) / 2
    s_k = math.sqrt(np.mean(np.mean(k - kbar, axis=0) ** 2))
    t0 = np.mean(k[:, inp.est_resid.shape[1] + 3] - kbar) / s_k
    assert TESTS["corrado_rank"].func(inp, np.arange(8)).statistic == pytest.approx(t0, rel=1e-12)


def test_corrado_without_event_ar_ranks_window_days_only() -> None:
    inp = make_input(seed=1, effect=0.4)
    only = replace(inp, event_ar=np.where(np.isfinite(inp.ar), inp.ar, np.nan))
    a = TESTS["corrado_rank"].func(replace(inp, event_ar=None), ALL)
    b = TESTS["corrado_rank"].func(only, ALL)
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("idx", [ALL, SUB], ids=["all", "subset"])
@pytest.mark.parametrize("window", [(2, 4), (3, 3)], ids=["multi-day", "single-day"])
def test_grank_against_loop(seed: int, idx: np.ndarray, window: tuple[int, int]) -> None:
    inp = make_input(seed=seed, effect=0.5, missing=0.1, window=window)
    t, z, big_t = ref_grank(inp, idx)
    r = TESTS["grank_t"].func(inp, idx)
    assert r.statistic == pytest.approx(t, rel=1e-10)
    assert r.p_value == pytest.approx(2 * stats.t.sf(abs(t), big_t - 2), rel=1e-8)
    assert f"Z={z:.4f}" in r.note


def test_grank_ties_between_day0_and_estimation_share_ranks() -> None:
    inp = make_input(n=5, seed=3, missing=0.0)
    scar = inp.car / inp.se
    g0 = scar / np.std(scar, ddof=1)
    est_sar = inp.est_sar.copy()
    est_sar[:, 5] = g0  # one estimation SAR ties with the collapsed day 0
    tied = replace(inp, est_sar=est_sar)
    t, _, _ = ref_grank(tied, np.arange(5))
    assert TESTS["grank_t"].func(tied, np.arange(5)).statistic == pytest.approx(t, rel=1e-10)


def test_grank_needs_two_pairs() -> None:
    inp = make_input(seed=0)
    r = TESTS["grank_t"].func(inp, np.arange(1))
    assert np.isnan(r.statistic) and r.note


@settings(max_examples=40, deadline=None)
@given(
    a=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=30),
        elements=st.one_of(st.sampled_from([np.nan, 0.0, 1.0, -1.0]), st.floats(-5, 5)),
    )
)
def test_row_ranks_match_scipy(a: np.ndarray) -> None:
    ref = np.vstack([stats.rankdata(row, nan_policy="omit") for row in a])
    np.testing.assert_allclose(row_ranks(a), ref, rtol=0, atol=0, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(1, 6),
    t=st.integers(1, 12),
    w=st.integers(0, 5),
    ties=st.booleans(),
)
def test_one_sort_gives_the_combined_and_the_estimation_only_ranks(
    seed: int, n: int, t: int, w: int, ties: bool
) -> None:
    """Row ranks of the combined days, and of the first columns alone (with their sorting
    order, as GRANK keeps it), equal scipy's."""
    from scipy.stats import rankdata

    from eventstudy.inference.rowsort import sort_rows

    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, t + w))
    if ties:
        a = np.round(a)
    a[rng.random(a.shape) < 0.2] = np.nan
    first = sort_rows(a[:, :t])
    np.testing.assert_allclose(row_ranks(a), rankdata(a, axis=1, nan_policy="omit"), equal_nan=True)
    np.testing.assert_allclose(first.ranks(), rankdata(a[:, :t], axis=1, nan_policy="omit"), equal_nan=True)
    srt = np.take_along_axis(a[:, :t], first.order, axis=1)
    np.testing.assert_array_equal(srt, np.sort(a[:, :t], axis=1))


def test_corrado_size_with_unequal_windows() -> None:
    """Formula sheet §7.5: half the pairs have a one-day window, half two days (as date-only
    events extend some windows). Under the null the per-pair standardized statistic rejects
    close to 5 % at 5 % (the longest-window scaling gave sd 1.12 and 7.8 % on the default design)."""
    stats_ = []
    for seed in range(500):
        inp = make_input(n=30, seed=seed, missing=0.0, window=(3, 4))
        ar = inp.ar.copy()
        ar[::2, 4] = np.nan  # even pairs: one-day windows
        stats_.append(TESTS["corrado_rank"].func(replace(inp, ar=ar, car=np.nansum(ar, axis=1)), ALL))
    z = np.array([r.statistic for r in stats_])
    rate = float(np.mean([r.p_value < 0.05 for r in stats_]))
    assert 0.03 <= rate <= 0.07, rate
    assert 0.9 <= float(np.std(z)) <= 1.1
