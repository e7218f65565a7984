"""Tests given several windows side by side equal the same tests window by window, bit for bit.

The runner hands the tests that read only per-pair arrays
(``TestSpec.stacks``) all of a study's windows at once
(:mod:`eventstudy.inference.sidebyside`); window by window (the runner with
``STACK_ENTRIES`` = 0) is the reference. The tables must be identical, not
close: same statistics, p-values, counts and notes.
"""

from __future__ import annotations

from dataclasses import replace as dc_replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_inference_synth import make_input, replace

from eventstudy.inference import TESTS, Groups
from eventstudy.inference import runner as runner_mod
from eventstudy.inference.grouped import BatchResult
from eventstudy.inference.runner import run_tests
from eventstudy.inference.sidebyside import repeated, side_by_side, window_part

STACKED = [spec for spec in TESTS.values() if spec.stacks]


def _window_by_window(inputs, labels, specs, monkeypatch):  # type: ignore[no-untyped-def]
    with monkeypatch.context() as mp:
        mp.setattr(runner_mod, "STACK_ENTRIES", 0)
        return run_tests({k: replace(v) for k, v in inputs.items()}, labels, specs)


def test_the_tests_that_stack_are_those_that_read_only_per_pair_arrays() -> None:
    names = {spec.name for spec in STACKED}
    assert names == {
        "csect_t",
        "patell_z",
        "bmp_t",
        "sign_z",
        "wilcoxon_z",
        "skew_adj_t",
        "cluster_t",
        "cluster_cr2_t",
    }
    assert all(not spec.uses_estimation and spec.batch is not None for spec in STACKED)
    # the bootstraps take their windows together themselves (batch_windows), not side by side
    assert not TESTS["cluster_bootstrap"].stacks and not TESTS["wild_bootstrap"].stacks
    assert TESTS["cluster_bootstrap"].batch_windows and TESTS["wild_bootstrap"].batch_windows


@pytest.mark.slow  # the default study both ways; random windows below run by default
def test_default_study_side_by_side_equals_window_by_window(default_inputs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    inputs, labels = default_inputs
    names = list(inputs)
    assert len(names) > 10
    # the CAR windows and every third single day (each window of the study the same way)
    windows = {k: replace(inputs[k]) for k in names[:4] + names[4::3]}
    specs = list(TESTS.values())
    together = run_tests(windows, labels, specs)
    alone = _window_by_window(windows, labels, specs, monkeypatch)
    pd.testing.assert_frame_equal(together, alone, check_exact=True)
    stacked = together[together["test"].isin([s.name for s in STACKED])]
    assert stacked["statistic"].notna().sum() > 400  # the stacked tests ran and mostly apply


@pytest.fixture(scope="module")
def default_inputs(snapshot_events, snapshot_prices):  # type: ignore[no-untyped-def]
    from test_inference_batch import _study_inputs

    from eventstudy.markets import DEFAULT_SYMBOLS

    return _study_inputs(snapshot_events, snapshot_prices.select(list(DEFAULT_SYMBOLS)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(1, 30),
    n_windows=st.integers(2, 5),
    n_groups=st.integers(1, 5),
    ties=st.booleans(),
)
def test_random_windows_side_by_side_equal_window_by_window(
    seed: int, n: int, n_windows: int, n_groups: int, ties: bool
) -> None:
    rng = np.random.default_rng(seed)
    windows = {}
    for w in range(n_windows):
        inp = make_input(n=n, seed=(seed + w) % 10_000, missing=0.15)
        car = np.round(inp.car, 0) if ties else inp.car.copy()  # ties, zeros, constant groups
        car[rng.random(n) < 0.15] = np.nan
        cluster = rng.integers(-1, max(n // 2, 1), n)  # shared clusters, some pairs without one
        dup = rng.integers(0, max(n - 2, 1), n)  # exact duplicates
        windows[f"w{w}"] = replace(inp, car=car, cluster=cluster, dup=dup)
    labels = {
        "all": np.full(n, "all", dtype=object),
        "g": np.array([f"g{k}" for k in rng.integers(0, n_groups, n)], dtype=object),
    }
    # with the per-pair tests that run window by window and read what the joined calls handed
    # down (the cluster cells, the groups' moments) or handed up (the wild bootstrap's moments)
    specs = [spec for spec in TESTS.values() if not spec.uses_estimation]
    together = run_tests(windows, labels, specs)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner_mod, "STACK_ENTRIES", 0)
        alone = run_tests({k: replace(v) for k, v in windows.items()}, labels, specs)
    pd.testing.assert_frame_equal(together, alone, check_exact=True)


def test_windows_side_by_side_keep_each_windows_pairs_and_groups_apart() -> None:
    a = make_input(n=5, seed=1)
    b = make_input(n=5, seed=2)
    both = side_by_side([a, b])
    np.testing.assert_array_equal(both.car, np.r_[a.car, b.car])
    np.testing.assert_array_equal(both.cluster, np.r_[a.cluster, b.cluster])  # type: ignore[arg-type]
    assert both.est_resid.shape == (10, 0) and both.cache is not a.cache
    # duplicate keys: equal within a window, never across windows
    c = replace(a, dup=np.array([7, -1, 7, 3, -1]))
    d = replace(b, dup=np.array([-1, 7, 7, 0, 2]))
    keys = side_by_side([c, d]).dup
    assert keys is not None
    for w, orig in ((keys[:5], c.dup), (keys[5:], d.dup)):
        assert len(set(w.tolist())) == len(set(orig.tolist()))  # type: ignore[union-attr]
    np.testing.assert_array_equal(keys[:5] == keys[0], c.dup == 7)
    np.testing.assert_array_equal(keys[5:] == keys[6], d.dup == 7)
    assert not set(keys[:5].tolist()) & set(keys[5:].tolist())
    groups = Groups(np.array([0, 1, 1, 0, 2]), ("x", "y", "z"))
    wide = repeated(groups, 2)
    np.testing.assert_array_equal(wide.codes, [0, 1, 1, 0, 2, 3, 4, 4, 3, 5])
    assert wide.size == 6 and wide.uid != groups.uid
    res = BatchResult(np.arange(6.0), np.arange(6.0) / 10, np.arange(6), [f"n{i}" for i in range(6)])
    second = window_part(res, 1, 3)
    np.testing.assert_array_equal(second.statistic, [3.0, 4.0, 5.0])
    assert second.note == ["n3", "n4", "n5"] and list(second.n) == [3, 4, 5]


def test_large_studies_run_window_by_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond ``STACK_ENTRIES`` pair × window entries the windows go one at a time (bounded memory)."""
    calls: list[int] = []
    spec = TESTS["csect_t"]
    assert spec.batch is not None
    batch = spec.batch

    def counted(inp, groups):  # type: ignore[no-untyped-def]
        calls.append(len(inp.car))
        return batch(inp, groups)

    windows = {f"w{w}": make_input(n=8, seed=w) for w in range(3)}
    labels = {"all": np.full(8, "all", dtype=object)}
    one = [dc_replace(spec, batch=counted)]
    run_tests(windows, labels, one)
    assert calls == [24]  # all three windows in one call
    calls.clear()
    monkeypatch.setattr(runner_mod, "STACK_ENTRIES", 16)
    run_tests({k: replace(v) for k, v in windows.items()}, labels, one)
    assert calls == [16, 8]  # two windows within the bound, then the third alone
    calls.clear()
    monkeypatch.setattr(runner_mod, "STACK_ENTRIES", 8)
    run_tests({k: replace(v) for k, v in windows.items()}, labels, one)
    assert calls == [8, 8, 8]  # one window at a time


def test_shared_entries_go_to_each_window_under_the_keys_the_tests_read() -> None:
    """The groups' moments and cluster cells computed on the joined windows reach each window's
    memo where ``group_stats`` and ``cells`` look for them (the window's own computation is then
    skipped), and equal what the window computes alone."""
    from eventstudy.inference.clustercells import cells, cells_key
    from eventstudy.inference.groupmemo import car_count, count_key, group_stats, stats_key
    from eventstudy.inference.sidebyside import share_down, share_up

    windows = [make_input(n=9, seed=w) for w in range(3)]
    groups = Groups(np.array([0, 1, 1, 0, 2, 2, 1, 0, 2]), ("x", "y", "z"))
    joined = side_by_side(windows)
    wide = repeated(groups, 3)
    group_stats(joined, wide, "car")
    group_stats(joined, wide, "scar")
    car_count(joined, wide)
    cells(joined, wide)
    share_down(windows, joined, groups, wide)
    for inp in windows:
        alone = replace(inp)
        for key, ref in (
            (stats_key("car", groups.uid), group_stats(alone, groups, "car")),
            (stats_key("scar", groups.uid), group_stats(alone, groups, "scar")),
            (count_key(groups.uid), (car_count(alone, groups),)),
        ):
            held = inp.memo[key]
            for a, b in zip(held if isinstance(held, tuple) else (held,), ref, strict=True):
                np.testing.assert_array_equal(a, b)
        c, ref_c = inp.memo[cells_key(groups.uid)], cells(alone, groups)
        for field in ("group", "cluster", "n", "s", "g", "pairs", "dups"):
            np.testing.assert_array_equal(getattr(c, field), getattr(ref_c, field))
    # and up: the windows' moments joined for the next joined input
    again = side_by_side(windows)
    share_up(windows, again, groups, wide)
    np.testing.assert_array_equal(
        again.memo[stats_key("car", wide.uid)][1], joined.memo[stats_key("car", wide.uid)][1]
    )
