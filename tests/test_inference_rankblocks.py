"""The rank tests' block-wise kernels against plain references: group sums a block of pairs at a
time (exact sums of half-integers; ordered sums carried from block to block) and rows' tails."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.inference import Groups, groupsums
from eventstudy.inference.grouped import GROUPINGS_KEY, group_products
from eventstudy.inference.groupsums import exact_product, products_together
from eventstudy.inference.rowsort import fill_tails


def _half_integers(rng: np.random.Generator, shape: tuple[int, int], dtype: type) -> np.ndarray:
    """Centred-rank-like values: half-integers in [−60, 60], some zeros."""
    return (rng.integers(-120, 121, shape) / 2.0).astype(dtype)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    p=st.integers(0, 40),
    t=st.integers(0, 9),
    block=st.sampled_from([1, 5, 17, 2**20]),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_exact_product_equals_the_whole_product_and_a_loop(
    seed: int, p: int, t: int, block: int, dtype: type
) -> None:
    """Block by block (one cell up to all), the group sums of half-integers are bitwise the one
    float64 product's and a plain loop's, in float64 whatever the array's type."""
    rng = np.random.default_rng(seed)
    x = _half_integers(rng, (p, t), dtype)
    groups = Groups.from_labels(rng.integers(0, 4, p).astype(str)) if p else None
    mask = rng.random(p) < 0.8
    if groups is None:
        return
    matrix = groups.matrix(mask)
    old = groupsums.EXACT_BLOCK_CELLS
    groupsums.EXACT_BLOCK_CELLS = block
    try:
        got = exact_product(matrix, x)
    finally:
        groupsums.EXACT_BLOCK_CELLS = old
    assert got.dtype == np.float64 and got.shape == (groups.size, t)
    want = np.asarray(matrix @ x.astype(np.float64))
    assert got.tobytes() == want.tobytes()
    loop = np.zeros((groups.size, t))
    for i in range(p):  # a plain loop over pairs
        if mask[i]:
            loop[groups.codes[i]] += x[i]
    np.testing.assert_array_equal(got, loop)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_products_together_equal_each_groupings_own_product(dtype: type) -> None:
    """With the groupings announced, the exact route fills every grouping's sums at once, bitwise
    each grouping's own float64 product."""
    rng = np.random.default_rng(7)
    p, t = 60, 11
    x = _half_integers(rng, (p, t), dtype)
    labels = [np.zeros(p, dtype=int), np.arange(p) % 4, np.arange(p) // 3]
    groupings = tuple(Groups.from_labels(lab.astype(str)) for lab in labels)
    mask = rng.random(p) < 0.9

    class Inp:
        def __init__(self) -> None:
            self.cache: dict[object, object] = {}
            self.memo: dict[object, object] = {GROUPINGS_KEY: groupings}

    inp = Inp()
    for g in groupings:
        got = products_together(inp, g, mask, "x", x, exact=True)
        (want,) = group_products(Inp(), g, mask, "x", (x.astype(np.float64),))
        assert got.tobytes() == np.asarray(want).tobytes()
    alone = Inp()
    alone.memo = {}  # nothing announced: the grouping on its own, still block by block
    got = products_together(alone, groupings[1], mask, "x", x, exact=True)
    assert got.tobytes() == np.asarray(groupings[1].matrix(mask) @ x.astype(np.float64)).tobytes()


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    p=st.integers(1, 40),
    t=st.integers(0, 9),
    block=st.sampled_from([1, 5, 17, 2**20]),
)
def test_carried_product_is_the_whole_product_bitwise(seed: int, p: int, t: int, block: int) -> None:
    """Rows handed a block at a time, with float weights (sums that depend on their order), give
    bitwise the one column-compressed product, and a pair-by-pair loop's numbers."""
    rng = np.random.default_rng(seed)
    x = np.where(rng.random((p, t)) < 0.2, 0.0, rng.random((p, t)) * 100.0)  # non-negative
    labels = [rng.integers(0, 3, p), np.arange(p) % 5]
    groupings = [Groups.from_labels(lab.astype(str)) for lab in labels]
    mask = rng.random(p) < 0.85
    weights = 1.0 / rng.integers(2, 300, p)
    stacked = groupsums._stacked(groupings, mask, x, weights)  # the one product
    asked: list[tuple[int, int]] = []

    def rows(lo: int, hi: int, out: np.ndarray) -> None:
        asked.append((lo, hi))
        out[...] = x[lo:hi]

    old = groupsums.EXACT_BLOCK_CELLS
    groupsums.EXACT_BLOCK_CELLS = block
    try:
        carried = groupsums._stacked(groupings, mask, groupsums.BlockRows(x.shape, rows), weights)
    finally:
        groupsums.EXACT_BLOCK_CELLS = old
    for got, want, g in zip(carried, stacked, groupings, strict=True):
        assert got.tobytes() == want.tobytes()
        loop = np.zeros((g.size, t))
        for i in range(p):  # each group adds its pairs in pair order from zero
            if mask[i]:
                loop[g.codes[i]] = loop[g.codes[i]] + weights[i] * x[i]
        assert got.tobytes() == loop.tobytes()
    assert all(hi - lo <= max(1, block // max(t, 1)) for lo, hi in asked)  # never the whole array at once


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(0, 12),
    t=st.integers(0, 12),
    strided=st.booleans(),
)
def test_fill_tails_sets_each_rows_tail_like_a_mask(seed: int, n: int, t: int, strided: bool) -> None:
    """Each row's positions from its count on take the value, the others keep theirs (a contiguous
    array by the tails' flat places, a strided one by the mask)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 2 * t))
    a = base[:, ::2] if strided else base[:, :t].copy()
    count = rng.integers(0, t + 1, n)
    want = a.copy()
    for i in range(n):  # a plain loop
        want[i, count[i] :] = -7.0
    fill_tails(a, count, -7.0)
    assert a.tobytes() == want.tobytes()
