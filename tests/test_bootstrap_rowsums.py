"""The wild bootstrap's resampled sums read each row's entries as one run of the CARs.

Rows (window × grouping × group) lie one after the other in one array, with
no index of their entries; the slabs of each row are filled from those runs
(:func:`~eventstudy.inference.bootstrap._fill_rows`) and the sums equal the
plain product of each row with the first rows of the flip matrix.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.inference import TestInput
from eventstudy.inference import bootstrap as rs
from eventstudy.inference import flips as fl


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    lengths=st.lists(st.integers(0, 9), min_size=1, max_size=8),
    width=st.integers(1, 9),
)
def test_fill_rows_copies_each_run_into_its_row(seed, lengths, width):
    rng = np.random.default_rng(seed)
    length = np.minimum(np.sort(np.array(lengths))[::-1], width)
    first = rng.integers(0, 30, len(length))
    x = rng.standard_normal(40)
    dense = np.full((len(length), width), -7.0)
    rs._fill_rows(dense, x, first, length)
    for i, (f, n) in enumerate(zip(first, length, strict=True)):  # a loop over the rows
        np.testing.assert_array_equal(dense[i, :n], x[f : f + n])
        assert (dense[i, n:] == -7.0).all()  # the rest left as it was


def _input(n: int, draws: int) -> TestInput:
    z = np.zeros(n)
    e = np.zeros((n, 1))
    return TestInput(z, z, z, z, z, e, e, e, e, e.astype(np.int64), seed=11, draws=draws)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    sizes=st.lists(st.integers(0, 40), min_size=1, max_size=12),
    row_block=st.sampled_from([1, 2, 5, 2048]),
    slab_rows=st.sampled_from([8, 16]),
)
def test_row_sums_equal_each_row_times_the_flips(seed, sizes, row_block, slab_rows):
    """Every row with entries gets Σ_j x_j · flips_j over its own entries (flip rows 0 … size − 1),
    whatever the row blocks and slabs; rows come back once each."""
    rng = np.random.default_rng(seed)
    size = np.array(sizes, dtype=np.int64)
    x = rng.standard_normal(int(size.sum()))
    draws = 7
    inp = _input(max(int(size.max()), 1), draws)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fl, "FLIP_BLOCK", 16)
        mp.setattr(fl, "_FLIP_CACHE_BYTES", 0)
        mp.setattr(fl, "_SLAB_BYTES", 8 * slab_rows * draws)
        mp.setattr(rs, "_ROW_BLOCK", row_block)
        got = {
            int(r): s
            for rows, sums in rs._row_sums(inp, size, x, draws)
            for r, s in zip(rows, sums, strict=True)
        }
        flips = fl.rademacher(inp.seed, int(size.max()), draws)
    start = np.cumsum(size) - size
    for r in range(len(size)):
        if size[r] == 0:
            assert r not in got or (got[r] == 0.0).all()
            continue
        want = x[start[r] : start[r] + size[r]] @ flips[: size[r]]
        np.testing.assert_allclose(got[r], want, rtol=1e-12, atol=1e-12)
