"""The wild cluster bootstrap of several windows and groupings at once, against one set at a time.

``cluster_bootstrap_windows`` counts the draws of every window and announced
grouping in one pass per set of weights. Each group's p-value must be the
plain reference loop's (every draw a group of its own, one group at a time,
:func:`~eventstudy.inference.clustered.cluster_bootstrap`) and, bit for bit,
the one-set call's (``cluster_bootstrap_batch``): windows with different
numbers of cluster ids (other weights), groups with one cluster or no
spread, missing CARs, exact duplicates, no draws, either layout of the sums.
"""

from __future__ import annotations

from dataclasses import replace as replace_spec

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_inference_clustered import _clustered_input
from test_inference_synth import replace

import eventstudy.inference.clusterdraws as cd
from eventstudy.inference import TESTS, Groups, TestInput
from eventstudy.inference.clustered import cluster_bootstrap_batch
from eventstudy.inference.clusterwindows import cluster_bootstrap_windows
from eventstudy.inference.grouped import GROUPINGS_KEY, BatchResult
from eventstudy.inference.runner import run_tests


def _same(a: BatchResult, b: BatchResult) -> None:
    for x, y in ((a.statistic, b.statistic), (a.p_value, b.p_value)):
        assert np.array_equal(x, y, equal_nan=True)
    assert np.array_equal(a.n, b.n) and a.note == b.note


def _windows(seed: int, n: int, n_windows: int, draws: int) -> list[TestInput]:
    """Windows of one study: one cache, CARs of their own, some with fewer cluster ids."""
    rng = np.random.default_rng(seed)
    base = _clustered_input(seed, n=n, n_clusters=int(rng.integers(2, 16)))
    shared: dict[object, object] = {}
    out = []
    for w in range(n_windows):
        car = base.car * rng.uniform(0.5, 2.0, n) + rng.normal(0.0, 0.3, n)
        car[rng.random(n) < 0.1] = np.nan
        cluster = base.cluster if w % 2 == 0 else base.cluster // 2  # type: ignore[operator]
        if w == 2:
            car[cluster == cluster[0]] = 1.0  # a cluster whose pairs all agree
        out.append(replace(base, car=car, cluster=cluster, draws=draws, cache=shared))
    return out


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_windows=st.integers(1, 4),
    draws=st.sampled_from([0, 1, 39, 199]),
    fill=st.sampled_from([None, 0.0, 2.0]),
)
def test_windows_and_groupings_at_once_equal_one_set_at_a_time_and_the_loop(
    seed: int, n_windows: int, draws: int, fill: float | None
) -> None:
    n = 50
    rng = np.random.default_rng(seed + 1)
    groupings = (
        Groups.from_labels(np.full(n, "all", dtype=object)),
        Groups.from_labels(np.array([f"g{k}" for k in rng.integers(0, 4, n)], dtype=object)),
        Groups.from_labels(np.array([f"h{k}" for k in rng.integers(0, 12, n)], dtype=object)),
    )
    windows = _windows(seed, n, n_windows, draws)
    with pytest.MonkeyPatch.context() as mp:
        if fill is not None:
            mp.setattr(cd, "GRID_FILL", fill)  # 0: always the grid, 2: never
        windows[0].memo[GROUPINGS_KEY] = groupings
        together = {g.uid: cluster_bootstrap_windows(windows, g) for g in groupings}
        alone = {g.uid: [cluster_bootstrap_batch(replace(w), g) for w in windows] for g in groupings}
    spec = TESTS["cluster_bootstrap"]
    for groups in groupings:
        for w, inp in enumerate(windows):
            res = together[groups.uid][w]
            _same(res, alone[groups.uid][w])
            for g, members in enumerate(groups.members(np.ones(n, dtype=bool))):
                one = spec.func(replace(inp), members)
                assert res.p_value[g] == pytest.approx(one.p_value, abs=1e-12, nan_ok=True)
                assert res.note[g] == one.note


def test_windows_without_clusters_or_with_other_seeds() -> None:
    windows = _windows(7, 40, 3, 99)
    groups = Groups.from_labels(np.array([f"g{k % 3}" for k in range(40)], dtype=object))
    plain = [replace(w, cluster=None) for w in windows]
    for res in cluster_bootstrap_windows(plain, groups):
        assert np.isnan(res.p_value).all() and set(res.note) == {"no clusters given"}
    mixed = [replace(w, seed=w.seed + k) for k, w in enumerate(windows)]  # each its own weights
    for res, inp in zip(cluster_bootstrap_windows(mixed, groups), mixed, strict=True):
        _same(res, cluster_bootstrap_batch(replace(inp), groups))
    assert cluster_bootstrap_windows([], groups) == []


def test_runner_gives_the_tests_table_of_one_window_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the runner (several windows and groupings announced) the table is that of
    the test without its several-window form."""
    windows = {f"w{k}": w for k, w in enumerate(_windows(3, 60, 4, 199))}
    rng = np.random.default_rng(3)
    labels = {
        "all": np.full(60, "all", dtype=object),
        "g": np.array([f"g{k}" for k in rng.integers(0, 5, 60)], dtype=object),
    }
    spec = TESTS["cluster_bootstrap"]
    together = run_tests({k: replace(v) for k, v in windows.items()}, labels, [spec])
    alone = run_tests(
        {k: replace(v) for k, v in windows.items()}, labels, [replace_spec(spec, batch_windows=None)]
    )
    assert together.equals(alone)
    assert together["p_value"].notna().sum() > 10


def test_no_draws_give_no_p_value_in_the_reference_too() -> None:
    """With draws = 0 (refused by a study, possible in a direct call) no group gets a p-value."""
    inp = replace(_windows(5, 40, 1, 0)[0])
    groups = Groups.from_labels(np.array([f"g{k % 2}" for k in range(40)], dtype=object))
    batch = cluster_bootstrap_batch(inp, groups)
    for g, members in enumerate(groups.members(np.ones(40, dtype=bool))):
        one = TESTS["cluster_bootstrap"].func(replace(inp), members)
        assert np.isnan(one.p_value) and np.isnan(batch.p_value[g])
        assert one.note == batch.note[g] == "draws must be at least 1 (got 0)"
