"""GRANK's shared per-day counts (atoms of a window's groupings) against plain loops and compares."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_inference_synth import make_input, replace

from eventstudy.inference import TESTS, Groups, TestInput, rowblocks
from eventstudy.inference import grank as gk
from eventstudy.inference import grankcounts as gc
from eventstudy.inference.grouped import GROUPINGS_KEY
from eventstudy.inference.rowsort import sort_rows


@pytest.fixture(autouse=True)
def _shared_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """The panels here are small: without this they would take the direct compare
    (:data:`~eventstudy.inference.grankcounts.DIRECT_CELLS`), and these tests are of the shared
    passes of large studies (the direct route is compared with them below)."""
    monkeypatch.setattr(gc, "DIRECT_CELLS", -1)
    monkeypatch.setattr(gk, "DIRECT_CELLS", -1)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 8), t=st.integers(1, 15), bins=st.integers(1, 4))
def test_segment_counts_match_a_loop(seed: int, n: int, t: int, bins: int) -> None:
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((n, t)), axis=1).astype(np.int16)
    k = int(rng.integers(0, 12))
    rows = rng.integers(0, n, k)
    lo, hi = rng.integers(0, t + 1, k), rng.integers(0, t + 1, k)  # hi < lo: an empty segment
    where = rng.integers(0, bins, k)
    w = rng.choice([-1.0, 1.0, 0.5], k)
    ref = np.zeros((bins, t))
    for r, a, b, g, x in zip(rows, lo, hi, where, w, strict=True):
        for p in range(a, b):
            ref[g, order[r, p]] += x
    np.testing.assert_array_equal(gc.segment_counts(order, rows, lo, hi, where, w, bins), ref)


def _panel(rng: np.random.Generator, n: int, t: int, ties: bool) -> np.ndarray:
    est = rng.standard_normal((n, t))
    if ties:
        est = np.round(est * 2) / 2
    est[rng.random((n, t)) < 0.2] = np.nan
    return est


def _sorted_parts(
    rng: np.random.Generator, seed: int, n_max: int, ties: bool
) -> tuple[int, int, np.ndarray, TestInput, np.ndarray, np.ndarray, np.ndarray]:
    """A random panel of estimation SARs (n < ``n_max`` pairs) in a test input, its first
    ordinals, sorted column order (int16) and available days M_i."""
    n, t = int(rng.integers(2, n_max)), int(rng.integers(1, 12))
    est = _panel(rng, n, t, ties)
    inp = replace(make_input(n=n, seed=seed % 100), est_sar=est)
    srt = sort_rows(est)
    first, order = srt.first_ordinals(np.int16), srt.order.astype(np.int16)
    return n, t, est, inp, first, order, np.isfinite(est).sum(axis=1)


def _with_block(block: int, check, *args) -> None:
    """``check(*args)`` with the row blocks of ``block`` cells."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rowblocks, "BLOCK_CELLS", block)
        check(*args)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    ties=st.booleans(),
    share=st.sampled_from([1, 4, 1000]),
    block=st.sampled_from([1, 40, 2**18]),
)
def test_above_counts_equal_a_compare_per_run(seed: int, ties: bool, share: int, block: int) -> None:
    """Counts of days above thresholds n_i = #(row ≤ x_i), for each of several groupings of one
    window (the first gives the reference, compared a block of pairs at a time), equal the plain
    per-run sums of ``row > x_i``."""
    _with_block(block, _check_above_counts, seed, ties, share)


def _check_above_counts(seed: int, ties: bool, share: int) -> None:
    rng = np.random.default_rng(seed)
    n, t, est, inp, first, order, m = _sorted_parts(rng, seed, 30, ties)
    a = 1.0 / (m + 2.0)
    mask = rng.random(n) < 0.85
    rows = np.flatnonzero(mask)
    groupings = [Groups.from_labels(rng.integers(0, k, n).astype(str)) for k in (1, 2, 3, n)]
    inp.memo[GROUPINGS_KEY] = tuple(groupings)
    old = gc.ATOM_SHARE
    gc.ATOM_SHARE = share
    try:
        for groups in groupings:
            x = np.round(rng.standard_normal(len(rows)) * 2) / 2 if ties else rng.standard_normal(len(rows))
            x[rng.random(len(rows)) < 0.1] = np.nan  # a NaN day 0: no day counts as above
            with np.errstate(invalid="ignore"):
                le = (est[rows] <= x[:, None]).sum(axis=1)
                n_le = np.where(np.isnan(x), m[rows], le)
                above = est[rows] > x[:, None]
            runs, counts = gc.above_counts(inp, groups, mask, a, n_le.astype(float), first, order)
            ref = np.zeros((runs.size, t))
            for j in range(len(rows)):
                ref[runs.run_of[j]] += above[j]
            np.testing.assert_array_equal(counts, ref)
            # the runs: one group and one weight each
            for r in range(runs.size):
                members = rows[runs.run_of == r]
                assert len(set(groups.codes[members])) == 1 and len(set(a[members])) == 1
    finally:
        gc.ATOM_SHARE = old


def _grank_all(inp: TestInput, groupings: list[Groups], announce: bool) -> list[np.ndarray]:
    if announce:
        inp.memo[GROUPINGS_KEY] = tuple(groupings)
    out = []
    for groups in groupings:
        res = gk.grank_batch(inp, groups)
        out += [res.statistic, res.p_value, np.array(res.note)]
    return out


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("share", [1, 4])
def test_shared_window_counts_give_the_numbers_of_each_grouping_alone(
    seed: int, ties: bool, share: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The atom route (groupings announced) equals each grouping counted on its own, bitwise,
    and the one-group-at-a-time GRANK (ties between day 0 and estimation days included)."""
    monkeypatch.setattr(gc, "ATOM_SHARE", share)
    rng = np.random.default_rng(seed)
    inp = make_input(n=60, seed=seed, missing=0.15, effect=0.3)
    if ties:
        est = np.round(inp.est_sar * 2) / 2
        scar = inp.car / inp.se
        est[:, 3] = scar / np.std(scar, ddof=1)  # day 0 of the whole sample equals a day
        car = inp.car.copy()
        car[:4] = np.nan  # pairs without a CAR (a mask)
        inp = replace(inp, est_sar=est, car=car)
    labels = [np.zeros(60, dtype=int), np.arange(60) % 2, rng.integers(0, 5, 60), np.arange(60) // 2]
    groupings = [Groups.from_labels(lab.astype(str)) for lab in labels]
    window = replace(inp)
    shared = _grank_all(window, groupings, announce=True)
    joined = [v for k, v in window.memo.items() if isinstance(k, tuple) and k[0] == "grank_atoms"]
    assert len(joined) == 1 and isinstance(joined[0], tuple)
    assert len(joined[0][0]) >= (3 if share == 1 else 1)  # the groupings counted together
    alone = _grank_all(replace(inp), groupings, announce=False)
    for x, y in zip(shared, alone, strict=True):
        np.testing.assert_array_equal(x, y)
    for k, groups in enumerate(groupings):
        looped = [TESTS["grank_t"].func(inp, np.flatnonzero(groups.codes == g)) for g in range(groups.size)]
        np.testing.assert_allclose(shared[3 * k], [r.statistic for r in looped], rtol=1e-10)


def test_a_window_after_the_first_reads_the_announced_groupings_from_the_cache() -> None:
    """The runner announces the groupings to the first window only; later windows of the study
    (same estimation arrays, so the same cache) find them there and count once per window."""
    first = make_input(n=40, seed=7, window=(2, 4))
    later = replace(first, cache=first.cache, car=first.car[::-1].copy())
    groupings = [Groups.from_labels((np.arange(40) % k).astype(str)) for k in (1, 3)]
    _grank_all(first, groupings, announce=True)
    got = _grank_all(later, groupings, announce=False)
    assert any(key[0] == "grank_base" for key in later.memo if isinstance(key, tuple))
    ref = _grank_all(replace(later), groupings, announce=False)
    for x, y in zip(got, ref, strict=True):
        np.testing.assert_array_equal(x, y)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    ties=st.booleans(),
    announce=st.booleans(),
    block=st.sampled_from([1, 30, 2**18]),
)
def test_above_sums_equal_the_run_by_run_product_bitwise(
    seed: int, ties: bool, announce: bool, block: int
) -> None:
    """The weighted group sums of days above day 0, by blocks of whole groups (a grouping outside
    the atoms: runs of one pair and of several; blocks of one group up to all), equal bitwise
    ``weight @ counts`` of the run-by-run counts, summed run by run in a plain loop."""
    _with_block(block, _check_above_sums, seed, ties, announce)


def _check_above_sums(seed: int, ties: bool, announce: bool) -> None:
    rng = np.random.default_rng(seed)
    n, t, est, inp, first, order, m = _sorted_parts(rng, seed, 40, ties)
    a = 1.0 / (m + 2.0)
    mask = rng.random(n) < 0.85
    rows = np.flatnonzero(mask)
    labels = [rng.integers(0, k, n) for k in (1, 3, n)]
    groupings = [Groups.from_labels(lab.astype(str)) for lab in labels]
    if announce:
        inp.memo[GROUPINGS_KEY] = tuple(groupings)
    for groups in groupings:
        x = rng.standard_normal(len(rows))
        with np.errstate(invalid="ignore"):
            n_le = (est[rows] <= x[:, None]).sum(axis=1).astype(float)
            above = est[rows] > x[:, None]
        runs, sums = gc.above_sums(inp, groups, mask, a, n_le, first, order)
        ref = np.zeros((groups.size, t))
        for r in range(runs.size):  # each run's integer count times its weight, in run order
            members = np.flatnonzero(runs.run_of == r)
            ref[runs.group[r]] += runs.scale[r] * above[members].sum(axis=0).astype(float)
            assert runs.lead[r] == members[0] and runs.members[r] == len(members)
            assert sorted(runs.by[runs.members[:r].sum() : runs.members[: r + 1].sum()]) == list(members)
        np.testing.assert_array_equal(sums, ref)
        _, counts = gc.above_counts(replace(inp), groups, mask, a, n_le, first, order)
        np.testing.assert_array_equal(sums, np.asarray(runs.weight @ counts))


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(2, 60),
    ties=st.booleans(),
    day0_ties=st.booleans(),
    n_windows=st.integers(1, 3),
)
def test_small_study_direct_route_equals_the_shared_passes_bitwise(
    seed: int, n: int, ties: bool, day0_ties: bool, n_windows: int
) -> None:
    """Below ``DIRECT_CELLS`` GRANK compares the whole panel once per grouping, keeps the
    estimation ranks whole and counts below day 0 by a compare: its statistics, p-values and
    notes equal those of the shared passes (atoms, blocks of groups, binary searches) bit for bit,
    for every grouping of every window."""
    rng = np.random.default_rng(seed)
    base = make_input(n=n, seed=seed % 1000, missing=0.15, effect=0.3)
    est = np.round(base.est_sar * 2) / 2 if ties else base.est_sar.copy()
    windows = []
    for w in range(n_windows):
        car = base.car + w * 0.1
        car[rng.random(n) < 0.1] = np.nan  # a different mask per window
        if day0_ties:  # day 0 of the whole sample equal to an estimation day
            scar = car / base.se
            spread = np.nanstd(scar, ddof=1) if np.isfinite(scar).sum() > 1 else 1.0
            est[:, 2] = scar / spread
        windows.append({"car": car})
    labels = [np.zeros(n, dtype=int), np.arange(n) % 2, rng.integers(0, 4, n), np.arange(n)]
    groupings = [Groups.from_labels(lab.astype(str)) for lab in labels]

    def run(direct: int) -> list[np.ndarray]:
        old = gc.DIRECT_CELLS
        gc.DIRECT_CELLS, gk.DIRECT_CELLS = direct, direct
        try:
            shared = replace(base, est_sar=est.copy())  # the windows of one study share its cache
            out = []
            for w, kw in enumerate(windows):
                inp = replace(shared, cache=shared.cache, **kw)
                out += _grank_all(inp, groupings, announce=w == 0)
            return out
        finally:
            gc.DIRECT_CELLS, gk.DIRECT_CELLS = old, old

    direct, passes = run(2**30), run(-1)
    for x, y in zip(direct, passes, strict=True):
        np.testing.assert_array_equal(x, y)
