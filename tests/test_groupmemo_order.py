"""The shared group order of the values equals ``Groups.sorted_within`` exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.inference import Groups, TestInput
from eventstudy.inference.groupmemo import sorted_by_group


def _input(car: np.ndarray) -> TestInput:
    e = np.zeros((len(car), 1))
    return TestInput(car, car, car, car, car, e, e, e, e, e.astype(np.int64))


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(0, 60),
    n_groups=st.integers(1, 7),
    ties=st.booleans(),
)
def test_sorted_by_group_equals_sorted_within(seed, n, n_groups, ties):
    """Ties (equal values, ±0) and missing values: the same pairs in the same order, the same starts."""
    rng = np.random.default_rng(seed)
    values = rng.integers(-2, 3, n).astype(float) if ties else rng.standard_normal(n)
    if ties and n:
        values[values == 0] = rng.choice([0.0, -0.0], int((values == 0).sum()))
    values[rng.random(n) < 0.2] = np.nan
    groups = Groups.from_labels(np.array([f"g{k}" for k in rng.integers(0, n_groups, n)], dtype=object))
    mask = np.isfinite(values)
    inp = _input(values)
    order, starts = sorted_by_group(inp, groups, "v", values, mask)
    want_order, want_starts = groups.sorted_within(values, mask)
    np.testing.assert_array_equal(order, want_order)
    np.testing.assert_array_equal(starts, want_starts)
    for g in range(groups.size):  # a loop: each group's masked pairs by value, ties in pair order
        members = [i for i in range(n) if mask[i] and groups.codes[i] == g]
        want = sorted(members, key=lambda i: (values[i], i))
        assert list(order[starts[g] : starts[g + 1]]) == want


@pytest.mark.parametrize("n_groups", [1, 2**15 - 1, 2**15 + 3])
def test_sorted_by_group_with_many_groups(n_groups):
    """Codes beyond int16 are sorted as they are: the same order as sorted_within."""
    rng = np.random.default_rng(n_groups)
    n = 2 * n_groups + 50
    values = rng.standard_normal(n)
    groups = Groups.from_labels(
        np.array([f"{k:06d}" for k in rng.permutation(np.arange(n) % n_groups)], dtype=object)
    )
    assert groups.size == n_groups
    mask = rng.random(n) < 0.9
    order, starts = sorted_by_group(_input(values), groups, "v", values, mask)
    want_order, want_starts = groups.sorted_within(values, mask)
    np.testing.assert_array_equal(order, want_order)
    np.testing.assert_array_equal(starts, want_starts)


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(0, 80),
    kind=st.sampled_from(["distinct", "ties", "signed_zeros", "infinities"]),
)
def test_stable_argsort_equals_numpy_stable_sort(seed, n, kind):
    """Distinct values (the quicksort's order kept), ties, ±0 and ±∞: numpy's stable argsort exactly."""
    from eventstudy.inference.groupmemo import stable_argsort, value_order

    rng = np.random.default_rng(seed)
    v = rng.standard_normal(n)
    if kind == "ties":
        v = np.round(v, 0)
    elif kind == "signed_zeros":
        v[rng.random(n) < 0.3] = 0.0
        v[rng.random(n) < 0.3] = -0.0
    elif kind == "infinities" and n:
        v[rng.integers(n)] = np.inf
        v[rng.integers(n)] = -np.inf
    np.testing.assert_array_equal(stable_argsort(v), np.argsort(v, kind="stable"))
    mask = rng.random(n) < 0.8
    rows = np.flatnonzero(mask)  # the plain stable order of the masked pairs
    np.testing.assert_array_equal(value_order({}, "v", v, mask), rows[np.argsort(v[rows], kind="stable")])
