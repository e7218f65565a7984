"""The rank tests' shared kernels against plain references: availability counts from the rare
cells, ranks over the sort's spent memory, hinted sorted searches and GRANK's windows in one call."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from test_inference_synth import make_input, replace

from eventstudy.inference import TESTS, Groups, TestInput, rowblocks
from eventstudy.inference import grank as gk
from eventstudy.inference.availcounts import available_counts, missing_cells, rare_cells
from eventstudy.inference.grouped import GROUPINGS_KEY
from eventstudy.inference.rowblocks import block_ranks, sorted_rank_parts, sorted_ranks
from eventstudy.inference.rowsort import count_sorted_below, first_order_ranks, sort_rows
from eventstudy.inference.runner import run_tests


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    share=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]),
    n=st.integers(1, 25),
    t=st.integers(1, 12),
    k=st.integers(1, 5),
)
def test_available_counts_equal_the_one_hot_product(seed: int, share: float, n: int, t: int, k: int) -> None:
    """Group sizes less the missing cells (or the available cells when fewer) give exactly the
    one-hot product with the float availability, masked pairs left out."""
    rng = np.random.default_rng(seed)
    ok = rng.random((n, t)) >= share
    groups = Groups.from_labels(rng.integers(0, k, n).astype(str))
    mask = rng.random(n) < 0.8
    cells = rare_cells(ok)
    assert cells.missing == (2 * ok.sum() >= ok.size)
    got = available_counts(cells, groups, mask)
    ref = np.zeros((groups.size, t))
    for i in range(n):  # a plain loop over pairs and days
        if mask[i]:
            ref[groups.codes[i]] += ok[i]
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(got, np.asarray(groups.matrix(mask) @ ok.astype(float)))
    assert got.dtype == np.float64
    from_sort = missing_cells(np.flatnonzero(~ok), ok.shape)  # the missing cells as a row sort finds them
    if from_sort is None:
        assert not cells.missing
    else:
        assert cells.missing
        for x, y in ((from_sort.rows, cells.rows), (from_sort.cols, cells.cols)):
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes()


_ELEMENTS = st.one_of(st.sampled_from([np.nan, 0.0, -0.0, 1.0, -1.0, 0.5]), st.floats(-3, 3))


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(st.lists(_ELEMENTS, min_size=6, max_size=6), min_size=1, max_size=8),
    dtype=st.sampled_from([np.int16, np.int32]),
)
def test_first_order_ranks_equal_the_rowsort_accessors_and_scipy(
    rows: list[list[float]], dtype: type
) -> None:
    """Ranks written over the spent index memory are scipy's average ranks (0 where missing);
    first ordinals and the column order are those of a fresh sort."""
    a = np.array(rows)
    fresh = sort_rows(a)
    first_ref, ranks_ref = fresh.first_ordinals(dtype), fresh.ranks(missing=0.0)
    first, order, ranks = first_order_ranks(sort_rows(a), dtype)
    np.testing.assert_array_equal(first, first_ref)
    np.testing.assert_array_equal(ranks, ranks_ref)
    np.testing.assert_array_equal(order, fresh.order)
    assert first.dtype == dtype and order.dtype == dtype and ranks.dtype == np.float64
    scipy_ranks = np.vstack([stats.rankdata(r, nan_policy="omit") for r in a]).reshape(a.shape)
    np.testing.assert_array_equal(ranks, np.where(np.isnan(a), 0.0, scipy_ranks))
    # the order sorts each row (NaN last)
    np.testing.assert_array_equal(np.take_along_axis(a, order.astype(np.intp), axis=1), fresh.values)


_CLOSE = 1.0 + np.finfo(float).eps  # one unit in the last place above 1: the packed keys tie it with 1


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.one_of(_ELEMENTS, st.just(_CLOSE), st.just(np.inf)), min_size=6, max_size=6),
        min_size=1,
        max_size=9,
    ),
    block=st.sampled_from([1, 12, 30, 2**18]),
)
def test_block_sorted_rank_parts_equal_the_whole_sort(rows: list[list[float]], block: int) -> None:
    """Sorted a block of rows at a time (one row up to all), the sorted values, first ordinals,
    order and the ranks made from them (from the sorted values, or any range of rows from the first
    ordinals and the tied elements) are bitwise those of one sort of the whole panel; an infinity
    declines."""
    a = np.array(rows)
    old = rowblocks.BLOCK_CELLS
    rowblocks.BLOCK_CELLS = block
    try:
        parts = sorted_rank_parts(a, np.int16)
    finally:
        rowblocks.BLOCK_CELLS = old
    if np.isinf(a).any():
        assert parts is None
        return
    assert parts is not None
    srt = sort_rows(a)
    values = srt.values.copy()
    ref = first_order_ranks(srt, np.int16)
    assert parts[0].tobytes() == values.tobytes()
    for got, want in zip((*parts[1:3], sorted_ranks(*parts[:3])), ref, strict=True):
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
    np.testing.assert_array_equal(parts.available, (~np.isnan(a)).sum(axis=1))
    assert parts.missing.tobytes() == np.flatnonzero(np.isnan(a)).astype(np.int64).tobytes()
    places = parts[3][0]
    assert np.all(np.diff(places) > 0)  # each tied element once, in order
    for lo in range(a.shape[0] + 1):  # the ranks of any range of rows from the first ordinals and the ties
        for hi in range(lo, a.shape[0] + 1):
            got = block_ranks(parts[1], parts[3], lo, hi, np.full((hi - lo, a.shape[1]), -1.0))
            assert got.tobytes() == ref[2][lo:hi].tobytes()


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), or_equal=st.booleans())
def test_hinted_search_counts_like_a_compare(seed: int, or_equal: bool) -> None:
    """Any hint (right, near, far, out of range) gives the plain comparison's count."""
    rng = np.random.default_rng(seed)
    n, t = int(rng.integers(1, 10)), int(rng.integers(1, 30))
    a = np.round(rng.normal(size=(n, t)), 1)
    a[rng.random((n, t)) < 0.2] = np.nan
    k = 12
    rows = rng.integers(0, n, k)
    x = np.round(rng.normal(size=k), 1)
    x[rng.random(k) < 0.1] = np.nan
    with np.errstate(invalid="ignore"):
        cmp = np.less_equal if or_equal else np.less
        ref = np.array([int(np.sum(cmp(a[r], v))) for r, v in zip(rows, x, strict=True)])
    hint = np.where(rng.random(k) < 0.5, ref + rng.integers(-2, 3, k), rng.integers(-3, t + 4, k))
    values = sort_rows(a).values
    got = count_sorted_below(values, rows, x, or_equal=or_equal, hint=hint)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(count_sorted_below(values, rows, x, or_equal=or_equal, hint=ref), ref)


def _windows(seed: int, ties: bool) -> list[TestInput]:
    """Three windows of one study (one cache), some pairs without a CAR in some windows."""
    base = make_input(n=50, seed=seed, missing=0.15, effect=0.2)
    if ties:
        base = replace(base, est_sar=np.round(base.est_sar * 2) / 2)
    out = [base]
    rng = np.random.default_rng(seed)
    for _ in range(2):
        car = base.car[rng.permutation(50)].copy()
        car[rng.random(50) < 0.1] = np.nan
        out.append(replace(base, car=car, cache=base.cache))
    return out


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ties", [False, True])
def test_grank_windows_equal_each_window_alone_and_the_per_group_test(seed: int, ties: bool) -> None:
    """GRANK of several windows in one call (groupings announced, one scratch array) gives bitwise
    the numbers of each window computed on its own, and the per-group test's."""
    labels = [np.zeros(50, dtype=int), np.arange(50) % 3, np.arange(50) // 2]
    groupings = [Groups.from_labels(lab.astype(str)) for lab in labels]
    together = _windows(seed, ties)
    together[0].memo[GROUPINGS_KEY] = tuple(groupings)
    alone = _windows(seed, ties)
    for groups in groupings:
        got = gk.grank_windows(together, groups)
        parts = (gk.SCRATCH_KEY, "grank_atoms", "grank_base", "grank_below")
        for inp in together:  # the scratch array and the windows' shared counts are freed
            assert not [k for k in inp.memo if (k[0] if isinstance(k, tuple) else k) in parts]
        for res, inp in zip(got, alone, strict=True):
            ref = gk.grank_batch(inp, groups)
            np.testing.assert_array_equal(res.statistic, ref.statistic)
            np.testing.assert_array_equal(res.p_value, ref.p_value)
            assert res.note == ref.note
            func = TESTS["grank_t"].func
            looped = [func(inp, np.flatnonzero(groups.codes == g)) for g in range(groups.size)]
            np.testing.assert_allclose(res.statistic, [r.statistic for r in looped], rtol=1e-10)
    # every announced grouping was asked for: no result is left waiting in the first window's memo
    assert not [k for k in together[0].memo if isinstance(k, tuple) and k[0] == "grank_windows"]


def test_the_runner_hands_grank_its_windows_and_matches_the_per_group_path() -> None:
    """Through ``run_tests``: GRANK and Corrado batched (GRANK's windows together) equal the
    group-by-group reference."""
    assert TESTS["grank_t"].batch_windows is gk.grank_windows
    wins = _windows(3, ties=False)
    inputs = {f"w{k}": inp for k, inp in enumerate(wins)}
    labels = {"all": np.zeros(50, dtype=int).astype(str), "third": (np.arange(50) % 3).astype(str)}
    specs = [TESTS["grank_t"], TESTS["corrado_rank"]]
    batched = run_tests(inputs, labels, specs)
    looped = run_tests({k: replace(v) for k, v in inputs.items()}, labels, specs, batched=False)
    assert len(batched) == len(looped) == 2 * 3 * 4
    np.testing.assert_allclose(batched["statistic"], looped["statistic"], rtol=1e-10)
    assert batched["n"].tolist() == looped["n"].tolist()
