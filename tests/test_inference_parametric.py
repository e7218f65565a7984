"""Parametric and standardized tests against hand-worked values and plain loops.

csect_t, bmp_t, patell_z, kp_bmp_t, kp_patell_z, cda_t, skew_adj_t; the
average cross-correlation r̄ against a pairwise loop and pandas.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_inference_synth import make_input, replace

from eventstudy.inference import TESTS, TestInput
from eventstudy.inference.crosscorr import average_correlation, group_rbar

ALL = np.arange(12)
SUB = np.array([0, 2, 3, 5, 7, 8, 11])


def tiny(car: list[float], se: list[float] | None = None, dof: list[float] | None = None) -> TestInput:
    """A minimal input for tests that only read CARs (and SCARs)."""
    n = len(car)
    c = np.asarray(car, dtype=float)
    return TestInput(
        car=c,
        se=np.asarray(se if se is not None else [1.0] * n, dtype=float),
        days=np.ones(n, dtype=int),
        dof=np.asarray(dof if dof is not None else [100.0] * n, dtype=float),
        n_est=np.full(n, 101.0),
        ar=c[:, None],
        sar=c[:, None],
        est_resid=np.zeros((n, 3)),
        est_sar=np.zeros((n, 3)),
        est_day=np.tile(np.arange(3), (n, 1)),
    )


# --------------------------------------------------------------- plain loops
def ref_patell(inp: TestInput, idx: np.ndarray) -> tuple[float, int]:
    num, den, n = 0.0, 0.0, 0
    for i in idx:
        scar = inp.car[i] / inp.se[i]
        if not math.isfinite(scar) or inp.dof[i] <= 2:
            continue
        num += scar
        den += inp.dof[i] / (inp.dof[i] - 2)
        n += 1
    return num / math.sqrt(den), n


def ref_rbar(inp: TestInput, idx: np.ndarray) -> float:
    """Mean over pairs of pairs of the Pearson correlation on common calendar dates."""
    series = [
        {int(d): float(v) for d, v in zip(inp.est_day[i], inp.est_resid[i], strict=True) if math.isfinite(v)}
        for i in idx
    ]
    rs = []
    for a in range(len(series)):
        for b in range(a + 1, len(series)):
            common = sorted(set(series[a]) & set(series[b]))
            if len(common) < 2:
                continue
            x = [series[a][d] for d in common]
            y = [series[b][d] for d in common]
            mx, my = sum(x) / len(x), sum(y) / len(y)
            sxy = sum((u - mx) * (v - my) for u, v in zip(x, y, strict=True))
            sxx = sum((u - mx) ** 2 for u in x)
            syy = sum((v - my) ** 2 for v in y)
            if sxx > 0 and syy > 0:
                rs.append(sxy / math.sqrt(sxx * syy))
    return sum(rs) / len(rs)


def ref_cda(inp: TestInput, idx: np.ndarray) -> tuple[float, int]:
    used = [i for i in idx if math.isfinite(inp.car[i])]
    aar = []
    for t in range(inp.est_resid.shape[1]):
        vals = [inp.est_resid[i, t] for i in used if math.isfinite(inp.est_resid[i, t])]
        if vals:
            aar.append(sum(vals) / len(vals))
    l1 = len(aar)
    m = sum(aar) / l1
    s2 = sum((a - m) ** 2 for a in aar) / (l1 - 1)
    caar = sum(inp.car[i] for i in used) / len(used)
    big_l = sum(inp.days[i] for i in used) / len(used)
    return caar / math.sqrt(big_l * s2), l1


def ref_skew(x: list[float]) -> float:
    n = len(x)
    m = sum(x) / n
    s = math.sqrt(sum((v - m) ** 2 for v in x) / (n - 1))
    g = sum((v - m) ** 3 for v in x) / (n * s**3)
    S = m / s
    return math.sqrt(n) * (S + g * S * S / 3 + g / (6 * n))


# ------------------------------------------------------------ hand-worked
def test_csect_t_hand_worked() -> None:
    # CARs 1, 2, 3, 6: mean 3, deviations −2, −1, 0, 3, S² = 14/3
    r = TESTS["csect_t"].func(tiny([1, 2, 3, 6]), np.arange(4))
    t = 3 / (math.sqrt(14 / 3) / 2)
    assert r.statistic == pytest.approx(t, rel=1e-12)
    assert r.p_value == pytest.approx(2 * stats.t.sf(t, 3), rel=1e-10)
    assert r.n == 4


def test_patell_z_hand_worked() -> None:
    # SCAR = 1, 1, −1; Var terms 10/8, 10/8, 6/4 → Σ = 4; Z = 1/√4
    r = TESTS["patell_z"].func(tiny([1, 2, -1], se=[1, 2, 1], dof=[10, 10, 6]), np.arange(3))
    assert r.statistic == pytest.approx(0.5, rel=1e-12)
    assert r.p_value == pytest.approx(0.6170750774519738, rel=1e-10)


def test_patell_drops_pairs_without_variance_and_says_so() -> None:
    r = TESTS["patell_z"].func(tiny([1, 2, -1], se=[1, 2, 1], dof=[10, 10, 2]), np.arange(3))
    assert r.n == 2
    assert r.statistic == pytest.approx(2 / math.sqrt(2.5))
    assert "M − k ≤ 2" in r.note


# ---------------------------------------------------------- against loops
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("idx", [ALL, SUB], ids=["all", "subset"])
def test_csect_and_bmp_against_scipy(seed: int, idx: np.ndarray) -> None:
    inp = make_input(seed=seed, effect=0.3)
    for name, values in (("csect_t", inp.car), ("bmp_t", inp.car / inp.se)):
        v = values[idx]
        v = v[np.isfinite(v)]
        ref = stats.ttest_1samp(v, 0.0)
        r = TESTS[name].func(inp, idx)
        assert r.statistic == pytest.approx(ref.statistic, rel=1e-10)
        assert r.p_value == pytest.approx(ref.pvalue, rel=1e-8)
        assert r.n == len(v)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("idx", [ALL, SUB], ids=["all", "subset"])
def test_patell_against_loop(seed: int, idx: np.ndarray) -> None:
    inp = make_input(seed=seed, effect=0.2)
    z, n = ref_patell(inp, idx)
    r = TESTS["patell_z"].func(inp, idx)
    assert r.statistic == pytest.approx(z, rel=1e-12)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-10)
    assert r.n == n


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("idx", [ALL, SUB], ids=["all", "subset"])
def test_rbar_against_loop_and_pandas(seed: int, idx: np.ndarray) -> None:
    inp = make_input(seed=seed, common=0.4, missing=0.15)
    ref = ref_rbar(inp, idx)
    assert group_rbar(inp, idx).rbar == pytest.approx(ref, rel=1e-10, abs=1e-12)
    # pandas: pairwise-complete correlation of the dates × pairs table
    rows = [
        (d, j, v) for j, i in enumerate(idx) for d, v in zip(inp.est_day[i], inp.est_resid[i], strict=True)
    ]
    df = pd.DataFrame(rows, columns=["d", "p", "v"]).dropna().pivot(index="d", columns="p", values="v")
    c = df.corr().to_numpy().copy()
    np.fill_diagonal(c, np.nan)
    assert np.nanmean(c) == pytest.approx(ref, rel=1e-10)


def test_rbar_uses_calendar_dates_not_relative_days() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal(40)
    # the same residual series for both pairs, but shifted by 10 calendar days:
    # identical on relative days, on calendar dates x_t against x_{t−10}
    vals = np.vstack([x, x])
    days = np.vstack([np.arange(40), np.arange(40) + 10])
    rbar = average_correlation(vals, days).rbar
    ref = np.corrcoef(x[10:], x[:-10])[0, 1]
    assert rbar == pytest.approx(ref, rel=1e-10)
    assert rbar < 0.9


def test_rbar_strong_common_factor_and_disjoint_windows() -> None:
    inp = make_input(n=10, t=400, seed=1, common=0.6, missing=0.0)
    assert group_rbar(inp, np.arange(10)).rbar == pytest.approx(0.6, abs=0.08)
    disjoint = make_input(n=5, seed=1, overlap=False)
    r = TESTS["kp_bmp_t"].func(disjoint, np.arange(5))
    assert np.isnan(r.statistic) and "r̄ undefined" in r.note


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("idx", [ALL, SUB], ids=["all", "subset"])
def test_kp_adjustments_against_loop(seed: int, idx: np.ndarray) -> None:
    inp = make_input(seed=seed, common=0.3, effect=0.3)
    rbar = ref_rbar(inp, idx)
    scar = [inp.car[i] / inp.se[i] for i in idx if math.isfinite(inp.car[i] / inp.se[i])]
    n = len(scar)
    t_bmp = statistics.mean(scar) / (statistics.stdev(scar) / math.sqrt(n))
    t_kp = t_bmp * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    r = TESTS["kp_bmp_t"].func(inp, idx)
    assert r.statistic == pytest.approx(t_kp, rel=1e-9)
    assert r.p_value == pytest.approx(2 * stats.t.sf(abs(t_kp), n - 1), rel=1e-8)
    assert f"r̄={rbar:.4f}" in r.note
    z, _ = ref_patell(inp, idx)
    z_kp = z / math.sqrt(1 + (n - 1) * rbar)
    r = TESTS["kp_patell_z"].func(inp, idx)
    assert r.statistic == pytest.approx(z_kp, rel=1e-9)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(z_kp)), rel=1e-8)


def test_kp_factor_near_one_for_independent_residuals() -> None:
    inp = make_input(n=30, t=300, seed=11, common=0.0, effect=0.4)
    idx = np.arange(30)
    rbar = group_rbar(inp, idx).rbar
    assert abs(rbar) < 0.01
    bmp = TESTS["bmp_t"].func(inp, idx).statistic
    patell = TESTS["patell_z"].func(inp, idx).statistic
    assert TESTS["kp_bmp_t"].func(inp, idx).statistic / bmp == pytest.approx(1.0, abs=0.15)
    assert TESTS["kp_patell_z"].func(inp, idx).statistic / patell == pytest.approx(1.0, abs=0.15)


def test_kp_perfectly_correlated_residuals_are_not_applicable_for_bmp() -> None:
    inp = make_input(n=6, seed=2, missing=0.0)
    same = replace(inp, est_resid=np.tile(inp.est_resid[0], (6, 1)), est_day=np.tile(inp.est_day[0], (6, 1)))
    r = TESTS["kp_bmp_t"].func(same, np.arange(6))
    assert np.isnan(r.statistic) and "r̄=1.0000" in r.note
    r = TESTS["kp_patell_z"].func(same, np.arange(6))
    z = TESTS["patell_z"].func(same, np.arange(6)).statistic
    assert r.statistic == pytest.approx(z / math.sqrt(6))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("idx", [ALL, SUB], ids=["all", "subset"])
def test_cda_against_loop(seed: int, idx: np.ndarray) -> None:
    inp = make_input(seed=seed, effect=0.3, missing=0.2)
    t, l1 = ref_cda(inp, idx)
    r = TESTS["cda_t"].func(inp, idx)
    assert r.statistic == pytest.approx(t, rel=1e-10)
    assert r.p_value == pytest.approx(2 * stats.t.sf(abs(t), l1 - 1), rel=1e-8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_skew_adj_against_loop(seed: int) -> None:
    inp = make_input(n=25, seed=seed, effect=0.3, skew=True)
    idx = np.arange(25)
    x = [float(v) for v in inp.car if math.isfinite(v)]
    t = ref_skew(x)
    r = TESTS["skew_adj_t"].func(inp, idx)
    assert r.statistic == pytest.approx(t, rel=1e-10)
    assert r.p_value == pytest.approx(2 * stats.t.sf(abs(t), len(x) - 1), rel=1e-8)
    # γ̂ relates to scipy's biased skewness by ((N − 1)/N)^{3/2}
    g = stats.skew(x, bias=True) * ((len(x) - 1) / len(x)) ** 1.5
    assert f"γ̂={g:.4f}" in r.note


def test_skew_adj_reduces_to_t_for_symmetric_sample() -> None:
    x = [-3.0, -1.0, 0.5, 1.0, 2.5, 4.0, -0.5, 1.5]
    x = x + [2 * statistics.mean(x) - v for v in x]  # symmetric about its mean: γ̂ = 0
    r = TESTS["skew_adj_t"].func(tiny(x), np.arange(len(x)))
    m, s, n = statistics.mean(x), statistics.stdev(x), len(x)
    assert r.statistic == pytest.approx(math.sqrt(n) * m / s, rel=1e-10)


@pytest.mark.parametrize(
    ("name", "min_n"),
    [("csect_t", 2), ("bmp_t", 2), ("kp_bmp_t", 2), ("kp_patell_z", 2), ("skew_adj_t", 3), ("patell_z", 1)],
)
def test_small_groups_give_a_reason(name: str, min_n: int) -> None:
    inp = make_input(seed=4)
    for k in range(min_n):
        r = TESTS[name].func(inp, np.arange(k))
        assert np.isnan(r.statistic) and np.isnan(r.p_value) and r.note
    r = TESTS[name].func(inp, np.arange(6))
    assert np.isfinite(r.statistic)
