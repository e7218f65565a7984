"""Group sums over a mask that selects every pair skip the copy of the selection.

The counts, sums, spreads and moments must be the very bits of the general
path (the copied selection), and match a plain loop over the groups; the
fingerprint of a boolean mask must tell masks apart exactly as their bytes do.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.inference.grouped import Groups, digest, moments


def _groups(rng: np.random.Generator, n: int, k: int, in_order: bool = False) -> Groups:
    codes = rng.integers(0, k, n).astype(np.int64)
    return Groups(np.sort(codes) if in_order else codes, tuple(f"g{i}" for i in range(k)))


def _loop(groups: Groups, values: np.ndarray, mask: np.ndarray):
    """Count, sum in pair order, minimum and maximum of each group (NaN when empty)."""
    out = []
    for g in range(groups.size):
        v = [float(values[i]) for i in range(len(values)) if mask[i] and groups.codes[i] == g]
        total = 0.0
        for a in v:
            total += a
        out.append((len(v), total, min(v) if v else np.nan, max(v) if v else np.nan))
    return out


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(1, 60),
    k=st.integers(1, 7),
    ties=st.booleans(),
    in_order=st.booleans(),
)
def test_every_pair_gives_the_bits_of_the_copied_selection(seed, n, k, ties, in_order):
    rng = np.random.default_rng(seed)
    groups = _groups(rng, n, k, in_order)
    values = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 4, n)
    if ties:
        values = np.round(values)
    every = np.ones(n, dtype=bool)
    assert groups.every(every)
    # the general path: the same mask, seen as not selecting every pair
    general = Groups(groups.codes, groups.names)
    object.__setattr__(general, "every", lambda mask: False)
    np.testing.assert_array_equal(groups.count(every), general.count(every))
    assert groups.total(values, every).tobytes() == general.total(values, every).tobytes()
    for a, b in zip(groups.spread(values, every), general.spread(values, every), strict=True):
        assert a.tobytes() == b.tobytes()
    m1, m2 = moments(groups, values, every), moments(general, values, every)
    for f in ("n", "mean", "sd", "constant", "dev"):
        assert getattr(m1, f).tobytes() == getattr(m2, f).tobytes()
    ref = _loop(groups, values, every)
    assert groups.count(every).tolist() == [r[0] for r in ref]
    assert groups.total(values, every).tolist() == [r[1] for r in ref]
    lo, hi = groups.spread(values, every)
    np.testing.assert_array_equal(lo, [r[2] for r in ref])
    np.testing.assert_array_equal(hi, [r[3] for r in ref])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(0, 60), k=st.integers(1, 5), share=st.floats(0.0, 1.0))
def test_counts_over_any_mask_equal_a_loop(seed, n, k, share):
    """Masks that leave pairs out: counted as 0/1 weights (or by count_nonzero for one group)."""
    rng = np.random.default_rng(seed)
    groups = _groups(rng, n, k)
    mask = rng.random(n) < share
    got = groups.count(mask)
    assert got.dtype == np.int64
    assert got.tolist() == [int(np.sum(mask & (groups.codes == g))) for g in range(k)]
    np.testing.assert_array_equal(got, np.bincount(groups.codes[mask], minlength=k))
    lo, hi = groups.spread(np.arange(n, dtype="float64"), mask)
    ref = _loop(groups, np.arange(n, dtype="float64"), mask)
    np.testing.assert_array_equal(lo, [r[2] for r in ref])
    np.testing.assert_array_equal(hi, [r[3] for r in ref])


def test_counts_are_fresh_arrays_and_other_masks_take_the_general_path():
    groups = Groups(np.array([0, 1, 1, 2, 2, 2]), ("a", "b", "c"))
    counts = groups.count(np.ones(6, dtype=bool))
    counts[:] = -1  # the caller's copy: the next count is not changed
    assert groups.count(np.ones(6, dtype=bool)).tolist() == [1, 2, 3]
    assert not groups.every(np.array([True] * 5 + [False]))
    assert not groups.every(np.arange(6))  # an index array, not a mask
    assert groups.count(np.array([True] * 5 + [False])).tolist() == [1, 2, 2]
    assert groups.count(np.arange(6)).tolist() == [1, 2, 3]


@settings(max_examples=60, deadline=None)
@given(a=st.lists(st.booleans(), max_size=40), b=st.lists(st.booleans(), max_size=40))
def test_mask_fingerprints_differ_exactly_when_the_masks_do(a, b):
    x, y = np.array(a, dtype=bool), np.array(b, dtype=bool)
    assert (digest(x) == digest(y)) == (len(a) == len(b) and a == b)
    assert digest(x) == digest(x.copy())


@settings(max_examples=60, deadline=None)
@given(a=st.lists(st.integers(-5, 5), max_size=30), b=st.lists(st.integers(-5, 5), max_size=30))
def test_index_fingerprints_differ_exactly_when_the_arrays_do(a, b):
    x, y = np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)
    assert (digest(x) == digest(y)) == (a == b)
    wide = np.repeat(x, 2)[::2]  # a strided view hashes as its values
    assert digest(wide) == digest(x)
