"""KP r̄ of small studies: correlations only within groups of pairs linked by event-window days."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_inference_kp_overlap import _input, _reference_rbar

import eventstudy.inference.crosscorr as cc
from eventstudy.inference import TESTS
from eventstudy.inference.crosscorr import (
    BAND_ROWS,
    group_rbar,
    linked_bands,
    merged_bands,
    pairwise_correlation,
    study_correlations,
    window_overlap,
)


def _share_a_day(days: np.ndarray) -> np.ndarray:
    """Which rows share at least one day (−1 = none), by a plain double loop over sets."""
    n = days.shape[0]
    sets = [{int(d) for d in days[i] if d >= 0} for i in range(n)]
    return np.array([[bool(sets[i] & sets[j]) for j in range(n)] for i in range(n)])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(-1, 90), min_size=3, max_size=3), min_size=1, max_size=80),
)
def test_bands_cover_every_two_rows_with_a_common_day(rows: list[list[int]]) -> None:
    days = np.array(rows, dtype=np.int64)
    covered = np.zeros((len(rows), len(rows)), dtype=bool)
    in_band: list[int] = []
    for band, partners in linked_bands(days):
        assert len(band) <= BAND_ROWS
        covered[np.ix_(band, partners)] = True
        in_band += band.tolist()
    assert not (_share_a_day(days) & ~covered).any()
    with_days = [i for i in range(len(rows)) if max(rows[i]) >= 0]
    assert sorted(in_band) == with_days  # each row with a day in exactly one band


def _with_event_days(seed: int, starts: list[int]) -> tuple:
    """A KP input whose whole event windows (5 days from ``start − 1``) hold each 3-day window."""
    rng = np.random.default_rng(seed)
    inp = _input(rng, len(starts), starts, win=3, common=1.3)
    event_day = 300 + np.array(starts)[:, None] - 1 + np.arange(5)[None, :]
    return dataclasses.replace(inp, event_day=event_day), event_day


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(-1, 40), min_size=2, max_size=2), min_size=1, max_size=150),
    st.integers(1, 5000),
)
def test_merged_bands_keep_each_rows_partners(rows: list[list[int]], bound: int) -> None:
    """Merging consecutive bands of equal partners keeps every row with exactly its band's
    partners, each row once, and a merged product within the bound (a lone band may exceed it)."""
    days = np.array(rows, dtype=np.int64)
    bands = linked_bands(days)
    want = {int(r): set(p.tolist()) for band, p in bands for r in band}
    old = cc.MERGED_ENTRIES
    try:
        cc.MERGED_ENTRIES = bound
        merged = merged_bands(bands)
    finally:
        cc.MERGED_ENTRIES = old
    seen: list[int] = []
    for rows_m, partners in merged:
        assert len(rows_m) * len(partners) <= bound or any(np.array_equal(rows_m, band) for band, _ in bands)
        for r in rows_m.tolist():
            assert want[r] == set(partners.tolist())
        seen += rows_m.tolist()
    assert sorted(seen) == sorted(want)
    assert len(merged) <= len(bands)


@pytest.mark.parametrize("bound", [None, 1])
@pytest.mark.parametrize("seed", [1, 2])
def test_linked_correlations_are_the_all_pairs_ones_where_any_window_weights_them(
    seed: int, bound: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With bands merged (an event of more than a band of pairs) and with none merged."""
    if bound is not None:
        monkeypatch.setattr(cc, "MERGED_ENTRIES", bound)
    starts = [0, 0, 2, 30, 31, 34, 80, 80, 200, 203, 400, *range(500, 700, 5), *[900] * (2 * BAND_ROWS + 9)]
    inp, event_day = _with_event_days(seed, starts)
    assert len(merged_bands(linked_bands(event_day))) < len(linked_bands(event_day)) or bound == 1
    got = study_correlations(inp)
    full = pairwise_correlation(inp.est_resid, inp.est_day)
    done = np.isfinite(got)
    np.testing.assert_allclose(got[done], full[done], rtol=1e-12, atol=1e-14)
    assert np.isnan(np.diag(got)).all()
    # every pair a window weights (a common window day) has its correlation, if defined at all
    weighted = window_overlap(inp.window_day) > 0
    np.fill_diagonal(weighted, False)
    assert weighted.any()
    assert np.array_equal(done[weighted], np.isfinite(full[weighted]))
    assert np.array_equal(done[_share_a_day(event_day)], np.isfinite(full[_share_a_day(event_day)]))
    assert not done.all()  # windows hundreds of days apart are not correlated


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
    k = BAND_ROWS
    inp, _ = _with_event_days(6, [0] * k + [100] * k)  # two bands, windows 100 days apart
    linked = study_correlations(inp)
    assert np.isnan(linked[0, k])  # not linked
    one = 300 + np.zeros((2 * k, 5), dtype=np.int64)  # one window for all
    moved = dataclasses.replace(inp, event_day=one)
    assert moved.cache is inp.cache
    again = study_correlations(moved)
    assert again[0, k] == pytest.approx(pairwise_correlation(inp.est_resid, inp.est_day)[0, k], rel=1e-12)
