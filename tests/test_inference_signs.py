"""Sign tests and the Wilcoxon signed-rank test: hand-worked values, enumeration, scipy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats
from test_inference_synth import make_input

from eventstudy.inference import TESTS, TestInput
from eventstudy.inference.signs import EXACT_MAX_N, exact_sign_p, exact_signed_rank_p


def cars(values: list[float], est: np.ndarray | None = None) -> TestInput:
    n = len(values)
    c = np.asarray(values, dtype=float)
    e = est if est is not None else np.zeros((n, 2))
    return TestInput(
        car=c,
        se=np.ones(n),
        days=np.ones(n, dtype=int),
        dof=np.full(n, 50.0),
        n_est=np.full(n, 51.0),
        ar=c[:, None],
        sar=c[:, None],
        est_resid=e,
        est_sar=e,
        est_day=np.tile(np.arange(e.shape[1]), (n, 1)),
    )


# ------------------------------------------------------------------ sign_z
def test_sign_z_hand_worked() -> None:
    # 6 of 8 positive: Z = (6 − 4)/(½√8) = √2; exact P(W ≥ 6) = (28 + 8 + 1)/256
    r = TESTS["sign_z"].func(cars([1, -2, 3, 4, -5, 6, 0.5, 0.1]), np.arange(8))
    assert r.statistic == pytest.approx(math.sqrt(2), rel=1e-12)
    assert r.p_value == pytest.approx(2 * 37 / 256, rel=1e-12)
    assert "exact" in r.note


def test_sign_z_large_n_uses_normal_p() -> None:
    v = [1.0] * 20 + [-1.0] * 10
    r = TESTS["sign_z"].func(cars(v), np.arange(30))
    z = (20 - 15) / (0.5 * math.sqrt(30))
    assert r.statistic == pytest.approx(z)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(z), rel=1e-10)
    assert r.note == ""


@pytest.mark.parametrize("n", [1, 2, 5, 12, 25])
def test_exact_sign_p_matches_enumeration_and_scipy(n: int) -> None:
    for w in range(n + 1):
        lo = sum(math.comb(n, k) for k in range(w + 1)) / 2**n
        hi = sum(math.comb(n, k) for k in range(w, n + 1)) / 2**n
        assert exact_sign_p(w, n) == pytest.approx(min(1.0, 2 * min(lo, hi)), rel=1e-12)
        assert exact_sign_p(w, n) == pytest.approx(stats.binomtest(w, n, 0.5).pvalue, rel=1e-10)


# -------------------------------------------------------------- wilcoxon_z
def test_wilcoxon_hand_worked() -> None:
    # |CAR| ranks 1..6, W = 1+2+3+4+6 = 16, E = 10.5, Var = 22.75;
    # exact: P(W ≥ 16) = P(W ≤ 5) = 10/64 (subsets of {1..6} with sum ≤ 5)
    r = TESTS["wilcoxon_z"].func(cars([1, 2, 3, 4, -5, 6]), np.arange(6))
    assert r.statistic == pytest.approx(5.5 / math.sqrt(22.75), rel=1e-12)
    assert r.p_value == pytest.approx(2 * 10 / 64, rel=1e-12)
    assert "exact" in r.note


def ref_wilcoxon_exact(v: list[float]) -> float:
    """Two-sided exact p by enumerating all 2^N sign patterns."""
    ranks = stats.rankdata(np.abs(v))
    w = sum(r for r, x in zip(ranks, v, strict=True) if x > 0)
    sums = [
        sum(r for r, s in zip(ranks, signs, strict=True) if s)
        for signs in itertools.product([0, 1], repeat=len(v))
    ]
    lo = sum(s <= w for s in sums) / len(sums)
    hi = sum(s >= w for s in sums) / len(sums)
    return min(1.0, 2 * min(lo, hi))


@pytest.mark.parametrize("seed", range(4))
def test_wilcoxon_small_n_exact_against_enumeration_and_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    v = list(rng.normal(0.4, 1.0, 10))
    r = TESTS["wilcoxon_z"].func(cars(v), np.arange(10))
    assert r.p_value == pytest.approx(ref_wilcoxon_exact(v), rel=1e-12)
    assert r.p_value == pytest.approx(stats.wilcoxon(v, method="exact").pvalue, rel=1e-10)


def test_exact_signed_rank_p_matches_scipy_up_to_25() -> None:
    rng = np.random.default_rng(1)
    for n in range(1, EXACT_MAX_N + 1):
        v = rng.normal(0.3, 1.0, n)
        w = int(stats.rankdata(np.abs(v))[v > 0].sum())
        assert exact_signed_rank_p(w, n) == pytest.approx(stats.wilcoxon(v, method="exact").pvalue, rel=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_wilcoxon_normal_approximation_against_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    v = list(rng.normal(0.2, 1.0, 40))
    ranks = stats.rankdata(np.abs(v))
    w = sum(r for r, x in zip(ranks, v, strict=True) if x > 0)
    n = len(v)
    z = (w - n * (n + 1) / 4) / math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    r = TESTS["wilcoxon_z"].func(cars(v), np.arange(n))
    assert r.statistic == pytest.approx(z, rel=1e-12)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-10)


def test_wilcoxon_ties_fall_back_to_normal_p() -> None:
    r = TESTS["wilcoxon_z"].func(cars([1, -1, 2, 3, 4]), np.arange(5))
    assert "normal p" in r.note
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(r.statistic)))


# ------------------------------------------------------------- gen_sign_z
@pytest.mark.parametrize("seed", range(3))
def test_gen_sign_against_loop(seed: int) -> None:
    inp = make_input(seed=seed, effect=0.3, missing=0.2)
    idx = np.array([0, 1, 3, 4, 6, 8, 9, 11])
    used = [i for i in idx if math.isfinite(inp.car[i])]
    pos = tot = 0
    for i in used:
        for v in inp.est_resid[i]:
            if math.isfinite(v):
                tot += 1
                pos += v > 0
    p = pos / tot
    w = sum(inp.car[i] > 0 for i in used)
    n = len(used)
    z = (w - n * p) / math.sqrt(n * p * (1 - p))
    r = TESTS["gen_sign_z"].func(inp, idx)
    assert r.statistic == pytest.approx(z, rel=1e-12)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-10)
    assert f"p̂={p:.4f}" in r.note


def test_gen_sign_hand_worked() -> None:
    # estimation: 3 of 8 ARs positive → p̂ = 3/8; CARs: 3 of 4 positive
    est = np.array([[1.0, -1.0, -2.0, 0.5], [-1.0, 2.0, -1.0, -3.0]])
    r = TESTS["gen_sign_z"].func(cars([1.0, 2.0], est), np.arange(2))
    p, n, w = 3 / 8, 2, 2
    assert r.statistic == pytest.approx((w - n * p) / math.sqrt(n * p * (1 - p)), rel=1e-12)


def test_gen_sign_degenerate_phat_gives_reason() -> None:
    r = TESTS["gen_sign_z"].func(cars([1.0, -1.0], np.ones((2, 3))), np.arange(2))
    assert np.isnan(r.statistic) and "p̂" in r.note


@pytest.mark.parametrize("name", ["sign_z", "wilcoxon_z", "gen_sign_z"])
def test_empty_group_gives_reason(name: str) -> None:
    r = TESTS[name].func(make_input(seed=0), np.arange(0))
    assert np.isnan(r.statistic) and r.n == 0 and r.note
