"""Invariants of the whole battery (hypothesis): order of pairs, scale, monotone transforms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_inference_synth import make_input, permute, replace, scale

from eventstudy.inference import TESTS, TestResult

BATTERY = (
    "csect_t",
    "patell_z",
    "bmp_t",
    "kp_bmp_t",
    "kp_patell_z",
    "cda_t",
    "corrado_rank",
    "grank_t",
    "gen_sign_z",
    "sign_z",
    "wilcoxon_z",
    "skew_adj_t",
    "wild_bootstrap",
    "placebo",
    "cluster_t",
    "cluster_cr2_t",
    "cluster_bootstrap",
)
RANK_TESTS = ("corrado_rank",)
SIGN_TESTS = ("gen_sign_z", "sign_z")
WINDOWS = st.sampled_from([(2, 4), (3, 3), (0, 6), (5, 5)])


def same(a: TestResult, b: TestResult, rel: float = 1e-9, stat: bool = True) -> None:
    assert a.n == b.n
    assert np.isnan(a.statistic) == np.isnan(b.statistic)
    if stat and np.isfinite(a.statistic):
        assert a.statistic == pytest.approx(b.statistic, rel=rel, abs=1e-12)
    if np.isfinite(a.p_value):
        assert a.p_value == pytest.approx(b.p_value, rel=rel, abs=1e-12)


def test_registry_has_the_design_vocabulary_in_order() -> None:
    assert tuple(TESTS) == BATTERY
    for spec in TESTS.values():
        assert spec.citation and spec.distribution and spec.func.__doc__


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 14), window=WINDOWS, data=st.data())
def test_invariant_to_order_of_pairs(seed: int, n: int, window: tuple[int, int], data: st.DataObject) -> None:
    inp = make_input(n=n, seed=seed, window=window, effect=0.3, common=0.2)
    order = np.array(data.draw(st.permutations(range(n))))
    shuffled = permute(inp, order)
    idx = np.arange(n)
    idx_shuffled = np.array(data.draw(st.permutations(range(n))))  # group given in any order
    for name in BATTERY:
        same(TESTS[name].func(inp, idx), TESTS[name].func(shuffled, idx_shuffled))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(3, 14),
    window=WINDOWS,
    c=st.floats(1e-3, 1e3),
)
def test_invariant_to_scaling_returns(seed: int, n: int, window: tuple[int, int], c: float) -> None:
    inp = make_input(n=n, seed=seed, window=window, effect=0.3, common=0.2)
    scaled = scale(inp, c)
    idx = np.arange(n)
    for name in BATTERY:
        a, b = TESTS[name].func(inp, idx), TESTS[name].func(scaled, idx)
        same(a, b, rel=1e-8, stat=name != "placebo")
        if name == "placebo" and np.isfinite(a.statistic):
            assert b.statistic == pytest.approx(c * a.statistic, rel=1e-10)


MONOTONE = [np.exp, lambda x: x**3 + 0.1 * x, np.arctan]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 14), window=WINDOWS, f=st.sampled_from(MONOTONE))
def test_rank_tests_invariant_to_monotone_transforms(seed: int, n: int, window: tuple[int, int], f) -> None:
    inp = make_input(n=n, seed=seed, window=window, effect=0.4)
    assert inp.event_ar is not None
    moved = replace(inp, est_resid=f(inp.est_resid), ar=f(inp.ar), event_ar=f(inp.event_ar))
    idx = np.arange(n)
    for name in RANK_TESTS:
        same(TESTS[name].func(inp, idx), TESTS[name].func(moved, idx), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 30), f=st.sampled_from([np.sinh, np.arctan, np.cbrt]))
def test_sign_tests_invariant_to_sign_preserving_monotone_transforms(seed: int, n: int, f) -> None:
    inp = make_input(n=n, seed=seed, effect=0.3)
    moved = replace(inp, est_resid=f(inp.est_resid), car=f(inp.car))
    idx = np.arange(n)
    for name in SIGN_TESTS:
        same(TESTS[name].func(inp, idx), TESTS[name].func(moved, idx), rel=1e-12)


@pytest.mark.parametrize("name", BATTERY)
def test_every_test_works_for_single_day_windows(name: str) -> None:
    for day in range(7):
        inp = make_input(n=15, seed=day, window=(day, day), effect=0.3, common=0.2, missing=0.0)
        r = TESTS[name].func(inp, np.arange(15))
        assert np.isfinite(r.statistic) and 0.0 < r.p_value <= 1.0, (day, r)
        assert r.n == 15


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(0, 5),
    window=WINDOWS,
    missing=st.floats(0.0, 0.9),
)
def test_not_applicable_always_says_why(seed: int, n: int, window: tuple[int, int], missing: float) -> None:
    inp = make_input(n=max(n, 1), seed=seed, window=window, missing=missing)
    for name in BATTERY:
        r = TESTS[name].func(inp, np.arange(n))
        assert np.isnan(r.statistic) == np.isnan(r.p_value)
        if np.isnan(r.statistic):
            assert r.note, name
        else:
            assert 0.0 < r.p_value <= 1.0
        assert r.n <= n
