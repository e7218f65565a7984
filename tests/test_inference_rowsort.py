"""Row-wise sorting and ranking by packed-key sorts, against scipy and numpy's argsort one row at a time."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats
from test_inference_synth import make_input, replace

from eventstudy.inference import TESTS, Groups, rowblocks
from eventstudy.inference import grank as gk
from eventstudy.inference import ranks as rk
from eventstudy.inference.rowsort import (
    count_sorted_below,
    first_order_ranks,
    row_ranks,
    sort_rows,
    stable_available_first,
)

_ONE = 1.0 + np.finfo(float).eps
#: Values that stress the packed keys: signed zeros, infinities, NaNs of both signs,
#: values a few units in the last place apart, subnormals and huge magnitudes.
_AWKWARD = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1.0, _ONE, _ONE + 2e-16, -1.0, -_ONE]
_AWKWARD += [5e-324, -5e-324, 1e308, -1e308]


def _scipy_ranks(a: np.ndarray) -> np.ndarray:
    return np.vstack([stats.rankdata(row, nan_policy="omit") for row in a]).reshape(a.shape)


def _first_ordinal_loop(a: np.ndarray) -> np.ndarray:
    """1 + the number of the row's values below each value (0 where missing)."""
    out = np.zeros(a.shape, dtype=np.int64)
    for i, row in enumerate(a):
        for j, x in enumerate(row):
            if not np.isnan(x):
                out[i, j] = 1 + int(np.sum(row[~np.isnan(row)] < x))
    return out


_ELEMENTS = st.one_of(st.sampled_from(_AWKWARD), st.floats(-3, 3), st.integers(-2, 2).map(float))


@st.composite
def _panels(draw: st.DrawFn) -> np.ndarray:
    """Panels of up to 40 × 40 whose cells are drawn (seeded) from up to 64 values of ``_ELEMENTS``.

    Drawing each of up to 1,600 cells through hypothesis took most of the test's time; a pool
    of values drawn by hypothesis (shrinkable, with its awkward floats) and spread over the
    panel by a seeded generator gives rows of distinct values as well as rows full of ties.
    """
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40))
    pool = np.array(draw(st.lists(_ELEMENTS, min_size=1, max_size=64)), dtype=np.float64)
    picks = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(0, len(pool), size=shape)
    return pool[picks]


@settings(max_examples=150, deadline=None)
@given(a=_panels())
def test_sort_rows_orders_and_ranks_like_argsort_and_scipy(a: np.ndarray) -> None:
    s = sort_rows(a)
    for i, row in enumerate(a):
        ref = np.sort(row)
        np.testing.assert_array_equal(s.values[i], ref)  # NaN last, same values
        np.testing.assert_array_equal(row[s.order[i]], ref)
        assert s.count[i] == np.sum(~np.isnan(row))
    np.testing.assert_array_equal(a.reshape(-1)[s.flat.reshape(-1)], s.values.reshape(-1))
    ref_ranks = _scipy_ranks(a)
    np.testing.assert_array_equal(row_ranks(a), ref_ranks)
    first = s.first_ordinals(np.int16)
    assert first.dtype == np.int16
    np.testing.assert_array_equal(first, _first_ordinal_loop(a))
    both, _, ranks = first_order_ranks(sort_rows(a), np.int16)
    np.testing.assert_array_equal(both, first)
    np.testing.assert_array_equal(ranks, np.nan_to_num(ref_ranks, nan=0.0))


@settings(max_examples=120, deadline=None)
@given(a=_panels(), block=st.sampled_from([1, 7, 64, 2**18]), split=st.floats(0.0, 1.0))
def test_centred_ranks_equal_scipy_and_the_whole_sort(a: np.ndarray, block: int, split: float) -> None:
    """Block by block (blocks of one row up to the whole panel), the centred average ranks over two
    parts side by side (the panel split at any column) are scipy's ranks minus (T_i + 1)/2, 0 where
    missing, bitwise the whole sort's positions put back in place (float32: exact); a panel with
    an infinity or a huge value is refused."""
    cut = round(split * a.shape[1])
    old = rowblocks.BLOCK_CELLS
    rowblocks.BLOCK_CELLS = block
    try:
        found = rowblocks.centred_ranks((a[:, :cut], a[:, cut:]))
    finally:
        rowblocks.BLOCK_CELLS = old
    finite = np.isfinite(a)
    if np.abs(a[~np.isnan(a)]).max(initial=0.0) > 1e300:  # an infinity or a huge value
        assert found is None
        return
    assert found is not None
    got, available, missing = found
    assert got.dtype == np.float32 and available.dtype == np.bool_
    np.testing.assert_array_equal(available, finite)
    assert missing.tobytes() == np.flatnonzero(~finite).astype(np.int64).tobytes()
    count = available.sum(axis=1)
    ref = np.where(finite, _scipy_ranks(a) - (count[:, None] + 1.0) / 2.0, 0.0)
    np.testing.assert_array_equal(got, ref)
    srt = sort_rows(a)
    whole = srt.scatter(srt.positions(centre=True, missing=0.0))
    assert got.astype(np.float64).tobytes() == whole.tobytes()


def test_close_values_fall_back_to_an_exact_sort() -> None:
    """Values one unit in the last place apart share their packed key's high bits: the row is
    re-sorted exactly, and its ranks still distinguish them."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((50, 300))
    a[7, :4] = [_ONE + 2 * np.finfo(float).eps, 1.0, _ONE, 1.0]  # 300 columns: 9 column bits
    a[7, 4:] = rng.standard_normal(296) + 10.0
    np.testing.assert_array_equal(row_ranks(a), _scipy_ranks(a))
    assert list(row_ranks(a)[7, :4]) == [4.0, 1.5, 3.0, 1.5]


@pytest.mark.parametrize("low", [-np.inf, -1e308])
@pytest.mark.parametrize("column", [0, 3])
def test_a_value_below_the_packed_keys_range_takes_the_integer_keys(low: float, column: int) -> None:
    """−∞ or a value below −1e300 (first in column 0, or any other column) is found after the
    float keys are sorted: the rows are then sorted with the integer keys, like argsort."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 9))
    a[2, column] = low
    a[4, 5] = np.nan
    s = sort_rows(a)
    for i, row in enumerate(a):
        np.testing.assert_array_equal(s.values[i], np.sort(row))
    np.testing.assert_array_equal(s.count, [9, 9, 9, 9, 8, 9])
    np.testing.assert_array_equal(row_ranks(a), _scipy_ranks(a))


def test_hand_case_with_ties_and_missing_days() -> None:
    a = np.array([[3.0, np.nan, 1.0, 3.0, 2.0, 3.0], [np.nan, np.nan, -0.0, 0.0, np.nan, -1.0]])
    np.testing.assert_array_equal(
        row_ranks(a), [[4.0, np.nan, 1.0, 4.0, 2.0, 4.0], [np.nan, np.nan, 2.5, 2.5, np.nan, 1.0]]
    )
    np.testing.assert_array_equal(sort_rows(a).first_ordinals(), [[3, 0, 1, 3, 2, 3], [0, 0, 2, 2, 0, 1]])


@pytest.mark.parametrize("shape", [(5, 0), (0, 7), (0, 0), (3, 1)])
def test_block_sorts_of_empty_and_one_column_panels(shape: tuple[int, int]) -> None:
    """No rows, no columns or one column: the block sorts give the whole sort's arrays."""
    a = np.arange(np.prod(shape), dtype=float).reshape(shape)
    parts = rowblocks.sorted_rank_parts(a, np.int16)
    assert parts is not None
    srt = sort_rows(a)
    np.testing.assert_array_equal(parts[0], srt.values)
    for got, want in zip(
        (*parts[1:3], rowblocks.sorted_ranks(*parts[:3])), first_order_ranks(srt, np.int16), strict=True
    ):
        np.testing.assert_array_equal(got, want)
    found = rowblocks.centred_ranks((a, a[:, :0]))
    assert found is not None
    np.testing.assert_array_equal(found[1].sum(axis=1), np.full(shape[0], shape[1]))
    np.testing.assert_array_equal(found[0], np.zeros(shape))


def test_empty_and_one_column_panels() -> None:
    assert row_ranks(np.empty((3, 0))).shape == (3, 0)
    assert row_ranks(np.empty((0, 4))).shape == (0, 4)
    np.testing.assert_array_equal(row_ranks(np.array([[2.0], [np.nan]])), [[1.0], [np.nan]])


@settings(max_examples=60, deadline=None)
@given(ok=hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=50)))
def test_available_first_is_the_stable_argsort(ok: np.ndarray) -> None:
    np.testing.assert_array_equal(stable_available_first(ok), np.argsort(~ok, axis=1, kind="stable"))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), ties=st.booleans(), or_equal=st.booleans())
def test_count_below_is_a_row_count(seed: int, ties: bool, or_equal: bool) -> None:
    """GRANK's binary search over the sorted estimation SARs counts like a plain comparison."""
    inp = make_input(n=9, seed=seed % 1000, missing=0.2)
    est = np.round(inp.est_sar) if ties else inp.est_sar
    inp = replace(inp, est_sar=est)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(9, size=rng.integers(1, 10), replace=False))
    x = rng.normal(size=len(rows))
    x = np.where(rng.random(len(rows)) < 0.5, np.round(x), x)
    with np.errstate(invalid="ignore"):
        ref = (est[rows] <= x[:, None]) if or_equal else (est[rows] < x[:, None])
    np.testing.assert_array_equal(gk._count_below(inp, rows, x, or_equal=or_equal), ref.sum(axis=1))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ties", [False, True])
def test_grank_integer_route_equals_the_float_compare(
    seed: int, ties: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Days above day 0 counted from first ordinals give the very numbers of the direct compare
    (the route taken when the estimation SARs hold an infinity)."""
    inp = make_input(n=40, seed=seed, missing=0.15, effect=0.3)
    if ties:  # ties among estimation SARs and between them and day 0
        est = np.round(inp.est_sar * 2) / 2
        scar = inp.car / inp.se
        est[:, 3] = scar / np.std(scar, ddof=1)
        inp = replace(inp, est_sar=est)
    groups = Groups.from_labels(np.array(["a", "b", "c", "d"])[np.arange(40) % 4])
    fast = rk.grank_batch(replace(inp), groups)
    monkeypatch.setattr(gk, "_est_first", lambda _inp: None)
    slow = rk.grank_batch(replace(inp), groups)
    np.testing.assert_array_equal(fast.statistic, slow.statistic)
    np.testing.assert_array_equal(fast.p_value, slow.p_value)
    assert fast.note == slow.note
    looped = [TESTS["grank_t"].func(inp, np.flatnonzero(groups.codes == g)).statistic for g in range(4)]
    np.testing.assert_allclose(fast.statistic, looped, rtol=1e-10)


def test_grank_estimation_infinity_takes_the_float_compare() -> None:
    inp = make_input(n=10, seed=2)
    est = inp.est_sar.copy()
    est[0, 0] = np.inf
    assert gk._est_first(replace(inp, est_sar=est)) is None
    assert gk._est_first(replace(inp)) is not None


@pytest.mark.parametrize("infinite", [False, True])
@pytest.mark.parametrize("ties", [False, True])
def test_corrado_deviations_match_scipy_ranks(infinite: bool, ties: bool) -> None:
    """D_it = K_it − (T_i + 1)/2 over the combined days (0 where missing), T_i the finite days;
    an infinite AR (ranked, not counted) takes the general route."""
    inp = make_input(n=15, seed=4, missing=0.2, effect=0.2)
    assert inp.event_ar is not None
    est, evt, ar = inp.est_resid.copy(), inp.event_ar.copy(), inp.ar
    if ties:  # the window's days are event days too: round them alike
        est, evt, ar = np.round(est * 2) / 2, np.round(evt * 2) / 2, np.round(ar * 2) / 2
    if infinite:
        est[2, 5] = np.inf
    inp = replace(inp, est_resid=est, event_ar=evt, ar=ar)
    d0, f, cols, d_v = rk._corrado_base(inp)
    combined = np.concatenate([est, evt[:, cols]], axis=1)
    ok = np.isfinite(combined)
    ref = np.where(ok, _scipy_ranks(combined) - (ok.sum(axis=1)[:, None] + 1.0) / 2.0, 0.0)
    np.testing.assert_array_equal(d0, ref)
    np.testing.assert_array_equal(f, ok.astype(float))
    np.testing.assert_array_equal(d_v, ref[:, est.shape[1] :])


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), or_equal=st.booleans())
def test_count_sorted_below_counts_like_a_compare(seed: int, or_equal: bool) -> None:
    """The branchless search of row-sorted values (NaN last) counts as a plain comparison; a NaN
    query counts nothing."""
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 12)), int(rng.integers(1, 40)))
    pool = np.array(_AWKWARD + [0.5, -2.0, 3.5])
    a = np.where(rng.random(shape) < 0.5, rng.choice(pool, shape), np.round(rng.normal(size=shape), 1))
    rows = rng.integers(0, shape[0], 7)
    x = np.where(rng.random(7) < 0.5, rng.choice(pool, 7), np.round(rng.normal(size=7), 1))
    with np.errstate(invalid="ignore"):
        cmp = np.less_equal if or_equal else np.less
        ref = [int(np.sum(cmp(a[r], v))) for r, v in zip(rows, x, strict=True)]
    got = count_sorted_below(sort_rows(a).values, rows, x, or_equal=or_equal)
    np.testing.assert_array_equal(got, ref)
