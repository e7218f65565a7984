"""Pairwise-complete correlations (``inference/paircorr.py``) against pandas pair by pair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.inference import paircorr as pc


def _reference(
    va: np.ndarray, da: np.ndarray, vb: np.ndarray, db: np.ndarray, min_overlap: int
) -> np.ndarray:
    """Pearson correlation of every two rows on their common days: pandas, pair by pair."""
    out = np.full((len(va), len(vb)), np.nan)
    a = [pd.Series(va[i], index=da[i]).dropna() for i in range(len(va))]
    b = [pd.Series(vb[j], index=db[j]).dropna() for j in range(len(vb))]
    for i, si in enumerate(a):
        for j, sj in enumerate(b):
            both = pd.concat([si, sj], axis=1, join="inner")
            if len(both) < max(min_overlap, 2):
                continue
            x, y = both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy()
            if np.ptp(x) > 0 and np.ptp(y) > 0:
                out[i, j] = np.corrcoef(x, y)[0, 1]
    return out


def _series(seed: int, n: int, days: int, missing: float, shift: int = 0, masked: int = 0):
    """``n`` series on ``days`` days, ``missing`` of the values blank, the first ``masked`` days
    blank on a ramp (as a confounding mask that covers each series' days a little differently),
    the days shifted by ``shift``, and a common factor so that correlations are not all near 0."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(days)
    v = 0.5 * common[None, :] + rng.standard_normal((n, days))
    v[rng.random(v.shape) < missing] = np.nan
    if masked:
        ends = rng.integers(0, masked + 1, size=n)
        v[np.arange(days)[None, :] < ends[:, None]] = np.nan
    d = np.tile(np.arange(days) * 2 + 700 + shift, (n, 1))
    return v, d


@pytest.mark.parametrize("missing,masked", [(0.0, 0), (0.01, 0), (0.03, 12), (0.3, 0)])
def test_symmetric_set_matches_pandas_pair_by_pair(missing: float, masked: int) -> None:
    v, d = _series(1, 28, 60, missing, masked=masked)
    got = pc.pairwise_correlation(v, d)
    ref = _reference(v, d, v, d, pc.MIN_OVERLAP)
    np.fill_diagonal(ref, np.nan)
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    assert np.array_equal(got, got.T, equal_nan=True)  # each correlation computed once


@pytest.mark.parametrize("shift", [0, 6, 40])
def test_two_sets_match_pandas_pair_by_pair(shift: int) -> None:
    va, da = _series(2, 25, 50, 0.02, masked=8)
    vb, db = _series(3, 30, 50, 0.05, shift=shift)
    got = pc.cross_correlation(va, da, vb, db)
    ref = _reference(va, da, vb, db, pc.MIN_OVERLAP)
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


def test_undefined_pairs_are_nan() -> None:
    """Too few common days, a constant series, an empty one: NaN, as pandas leaves them."""
    v, d = _series(4, 6, 30, 0.0)
    v[0, :] = 3.0  # constant
    v[1, :] = np.nan  # empty
    v[2, 2:] = np.nan  # two values
    v[3, :3] = np.nan
    v[3, 4:] = np.nan  # one value
    got = pc.pairwise_correlation(v, d, min_overlap=3)
    ref = _reference(v, d, v, d, 3)
    np.fill_diagonal(ref, np.nan)
    assert np.isnan(got[:4]).all() and np.isnan(got[:, :4]).all()
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 40),
    missing=st.sampled_from([0.0, 0.02, 0.2, 0.6]),
    masked=st.integers(0, 15),
)
def test_one_set_equals_the_two_set_products(seed: int, n: int, missing: float, masked: int) -> None:
    """Property: a set with itself (triangle and mirror) gives the two-set correlations, symmetric."""
    v, d = _series(seed, n, 30, missing, masked=masked)
    one = pc.pairwise_correlation(v, d)
    two = pc.cross_correlation(v, d, v.copy(), d.copy())  # copies: the two-set products
    np.fill_diagonal(two, np.nan)
    assert np.array_equal(np.isnan(one), np.isnan(two))
    np.testing.assert_allclose(one, two, rtol=0, atol=1e-12)
    assert np.array_equal(one, one.T, equal_nan=True)


def test_days_far_apart_are_ranked_by_sorting_with_the_same_result() -> None:
    """Day codes spread far apart (no table of every day) give the same correlations."""
    va, da = _series(7, 20, 40, 0.05, masked=6)
    vb, db = _series(8, 15, 40, 0.05, shift=9)
    n_days, (pa, pb) = pc._day_positions(da.ravel() * 10**9, db.ravel() * 10**9)
    m, (qa, qb) = pc._day_positions(da.ravel(), db.ravel())
    assert n_days == m == len(np.union1d(da, db)) and np.array_equal(pa, qa) and np.array_equal(pb, qb)
    for f in (lambda d: d, lambda d: d * 10**9):
        np.testing.assert_array_equal(
            pc.cross_correlation(va, f(da), vb, f(db)), pc.cross_correlation(va, da, vb, db)
        )
        np.testing.assert_array_equal(pc.pairwise_correlation(va, f(da)), pc.pairwise_correlation(va, da))
