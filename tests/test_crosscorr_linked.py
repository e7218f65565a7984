"""KP r̄ of small studies: correlations only within groups of pairs linked by event-window days."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_inference_kp_overlap import _input, _reference_rbar

from eventstudy.inference import TESTS
from eventstudy.inference.crosscorr import (
    group_rbar,
    linked_components,
    pairwise_correlation,
    study_correlations,
    window_overlap,
)


def _union_find(days: np.ndarray) -> list[list[int]]:
    """Rows linked through shared days (chains too), by a plain union–find over rows."""
    n = days.shape[0]
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if {int(d) for d in days[i] if d >= 0} & {int(d) for d in days[j] if d >= 0}:
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return sorted((g for g in groups.values() if len(g) >= 2), key=lambda g: g[0])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(-1, 25), min_size=3, max_size=3), min_size=1, max_size=12),
)
def test_linked_components_equal_a_union_find(rows: list[list[int]]) -> None:
    days = np.array(rows, dtype=np.int64)
    got = sorted((g.tolist() for g in linked_components(days)), key=lambda g: g[0])
    assert got == _union_find(days)


def _with_event_days(seed: int, starts: list[int]) -> tuple:
    """A KP input whose whole event windows (5 days from ``start − 1``) hold each 3-day window."""
    rng = np.random.default_rng(seed)
    inp = _input(rng, len(starts), starts, win=3, common=1.3)
    event_day = 300 + np.array(starts)[:, None] - 1 + np.arange(5)[None, :]
    return dataclasses.replace(inp, event_day=event_day), event_day


@pytest.mark.parametrize("seed", [1, 2])
def test_linked_correlations_are_the_all_pairs_ones_where_any_window_weights_them(seed: int) -> None:
    starts = [0, 0, 2, 30, 31, 34, 80, 80, 200, 203, 400]
    inp, event_day = _with_event_days(seed, starts)
    got = study_correlations(inp)
    full = pairwise_correlation(inp.est_resid, inp.est_day)
    same = np.zeros(got.shape, dtype=bool)
    for g in _union_find(event_day):
        same[np.ix_(g, g)] = True
    np.fill_diagonal(same, False)
    assert np.array_equal(np.isnan(got[same]), np.isnan(full[same]))
    np.testing.assert_allclose(got[same], full[same], rtol=1e-12, atol=1e-14)
    assert np.isnan(got[~same]).all()  # unlinked pairs: no window weights them
    # every pair a window weights is correlated
    assert not (window_overlap(inp.window_day) > 0)[~same & ~np.eye(len(starts), dtype=bool)].any()


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_rbar_and_kp_tests_equal_the_loop_and_the_all_pairs_path(seed: int) -> None:
    starts = [0, 0, 1, 2, 5, 9, 9, 20, 3, 60, 61, 140]
    inp, _ = _with_event_days(seed, starts)
    idx = np.arange(len(starts))
    allpairs = dataclasses.replace(inp, event_day=None, cache={})
    assert group_rbar(inp, idx).rbar == pytest.approx(_reference_rbar(inp), abs=1e-12)
    assert group_rbar(inp, idx).n_corr == group_rbar(allpairs, idx).n_corr
    for name in ("kp_bmp_t", "kp_patell_z"):
        linked, full = TESTS[name].func(inp, idx), TESTS[name].func(allpairs, idx)
        assert linked.statistic == pytest.approx(full.statistic, rel=1e-12)
        assert linked.n == full.n


def test_the_memo_follows_the_event_days() -> None:
    """Inputs sharing the estimation arrays but not the event days do not share the linked matrix."""
    inp, _ = _with_event_days(6, [0, 0, 100, 100])
    linked = study_correlations(inp)
    assert np.isnan(linked[0, 2])  # windows 100 days apart: not linked
    moved = dataclasses.replace(inp, event_day=300 + np.zeros((4, 5), dtype=np.int64))  # one window for all
    assert moved.cache is inp.cache
    again = study_correlations(moved)
    assert again[0, 2] == pytest.approx(pairwise_correlation(inp.est_resid, inp.est_day)[0, 2], rel=1e-12)
