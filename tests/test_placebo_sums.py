"""The placebo's running sums: against a loop over rows, and the same from the CDA test's filled ARs."""

from __future__ import annotations

import importlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

placebo_mod = importlib.import_module("eventstudy.inference.placebo")


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    shape=st.tuples(st.integers(1, 12), st.integers(0, 30)),
    missing=st.sampled_from([0.0, 0.3, 1.0]),
)
def test_running_sums_match_a_loop_and_do_not_depend_on_the_filled_input(seed, shape, missing):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 10.0 ** rng.integers(-4, 4)
    x[rng.random(shape) < missing] = np.nan
    if x.size:
        x.flat[int(rng.integers(x.size))] = np.inf  # not finite: left out like NaN
    csum, ccnt = placebo_mod._running_sums(x)
    ok = np.isfinite(x)
    again = placebo_mod._running_sums(x, np.where(ok, x, 0.0))
    np.testing.assert_array_equal(csum, again[0])
    np.testing.assert_array_equal(ccnt, again[1])
    assert ccnt.dtype == np.int32
    for i, row in enumerate(x):
        total, count = 0.0, 0
        assert csum[i, 0] == 0.0 and ccnt[i, 0] == 0
        for t, v in enumerate(row):
            if np.isfinite(v):
                total += v
                count += 1
            assert csum[i, t + 1] == total  # the same order of additions: exactly
            assert ccnt[i, t + 1] == count


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    shape=st.tuples(st.integers(1, 10), st.integers(1, 25)),
    missing=st.sampled_from([0.0, 0.3, 0.7, 1.0]),
    span=st.integers(1, 6),
    cda_first=st.booleans(),
)
def test_empty_positions_and_running_ars_equal_the_running_counts(seed, shape, missing, span, cda_first):
    """Windows with no available day, from the runs of missing ARs, are exactly those whose running
    counts do not rise (in the same row-major order); the running AR sums alone equal _running_sums'."""
    from eventstudy.inference import TestInput
    from eventstudy.inference.parametric import _est_filled

    rng = np.random.default_rng(seed)
    n, t = shape
    x = rng.standard_normal(shape)
    x[rng.random(shape) < missing] = np.nan
    if x.size and rng.random() < 0.5:
        x.flat[int(rng.integers(x.size))] = -np.inf
    z = np.zeros(n)
    inp = TestInput(
        z,
        z + 1,
        z + 1,
        z + 5,
        z + 7,
        np.zeros((n, 1)),
        np.zeros((n, 1)),
        x,
        x,
        np.zeros(shape, dtype=np.int64),
    )
    if cda_first:  # the CDA test's filled ARs already in the shared memo
        _est_filled(inp)
    csum, ccnt = placebo_mod._running_sums(x)
    np.testing.assert_array_equal(placebo_mod._running_ars(inp), csum)
    if span <= t:
        k = t - span + 1
        want = np.nonzero(ccnt[:, span : span + k] == ccnt[:, :k])
        got = placebo_mod._empty_positions(inp, span)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
        for i, s in zip(*got, strict=True):  # a loop: no finite AR in the window
            assert not np.isfinite(x[i, s : s + span]).any()
    np.testing.assert_array_equal(placebo_mod._running(inp)[1], ccnt)
