"""Kernels of the atoms' r̄ (kpatoms, crossgroups): slices for runs, each pair's own mean, shared atom sums."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_inference_batch import _kp_input
from test_inference_synth import replace

import eventstudy.inference.crosscorr as cc
import eventstudy.inference.crossgroups as cg
import eventstudy.inference.kpatoms as kp
import eventstudy.inference.kpdense as kd
from eventstudy.inference import TESTS
from eventstudy.inference.runner import run_tests


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    shape=st.tuples(st.integers(1, 15), st.integers(1, 25)),
    rows_kind=st.sampled_from(["run", "stride", "runs", "any"]),
    cols_kind=st.sampled_from(["run", "stride", "runs", "any"]),
)
def test_take_equals_fancy_indexing(seed, shape, rows_kind, cols_kind):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)

    def pick(n: int, kind: str) -> np.ndarray:
        lo = int(rng.integers(0, n))
        if kind == "run":
            return np.arange(lo, int(rng.integers(lo + 1, n + 1)))
        if kind == "stride":  # one step, as the pairs of one event
            return np.arange(lo, n, int(rng.integers(1, 4)))
        if kind == "runs":  # increasing, with gaps (estimation dates around a hole)
            return np.flatnonzero(rng.random(n) < 0.8) if n > 1 else np.arange(n)
        return np.sort(rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False))[::-1]

    rows, cols = pick(shape[0], rows_kind), pick(shape[1], cols_kind)
    got = kp.take(a, rows, cols)
    np.testing.assert_array_equal(got, a[np.ix_(rows, cols)])
    assert got.flags.c_contiguous
    got[...] = 0.0  # a new array: the source is untouched
    assert np.isfinite(a).all() and (a != 0.0).any()


def test_take_copies_many_runs_by_fancy_indexing(monkeypatch):
    a = np.arange(60.0).reshape(6, 10)
    rows, cols = np.array([0, 2, 4]), np.array([0, 2, 3, 5, 9])
    monkeypatch.setattr(kp, "_COL_RUNS", 2)  # more runs than copied run by run
    np.testing.assert_array_equal(kp.take(a, rows, cols), a[np.ix_(rows, cols)])
    assert kp.as_stride(rows) == slice(0, 5, 2) and kp.as_stride(np.array([3, 1])) is None


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), missing=st.sampled_from([0.0, 0.3, 1.0]))
def test_own_means_are_nanmean_without_warnings(seed, missing):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((9, 17)) * 10.0 ** rng.integers(-5, 5)
    x[rng.random(x.shape) < missing] = np.nan
    inp = replace(_kp_input(rng, 9, 3), est_resid=x)
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as mp:
        mp.setattr(kp, "_KEY_ROWS", 4)  # rows a block at a time
        warnings.simplefilter("error")
        got = kp.own_means(replace(inp, cache={}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = np.nanmean(x, axis=1)
    np.testing.assert_array_equal(got, want)
    loop = [np.mean(r[~np.isnan(r)]) if (~np.isnan(r)).any() else np.nan for r in x]
    np.testing.assert_allclose(got, loop, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("seed", [1, 5])
def test_windows_sharing_atoms_give_each_window_s_own_numbers(seed, monkeypatch):
    """Windows of one study reuse the atom-pair sums: each window's rows equal it run alone."""
    monkeypatch.setattr(cc, "DENSE_LIMIT", 0)
    monkeypatch.setattr(kd, "DENSE_ATOM_SIZE", 0.0)
    monkeypatch.setattr(kd, "DENSE_LINK_ATOMS", np.inf)
    rng = np.random.default_rng(seed)
    n = 60
    inp = _kp_input(rng, n, 4)
    base = replace(inp, est_day=np.repeat(inp.est_day[:6], 10, axis=0))
    # single-day windows: the same atoms, other days (and one window with other atoms)
    wins = {}
    for k in range(3):
        wd = np.repeat(base.window_day[:6, k : k + 1], 10, axis=0)
        wins[f"d{k}"] = replace(base, window_day=wd, car=base.car * (k + 1) + k, cache=base.cache)
    wins["all"] = replace(base, window_day=np.repeat(inp.window_day[:6], 10, axis=0), cache=base.cache)
    labels = {
        "all": np.full(n, "all", dtype=object),
        "g": np.array([f"g{k}" for k in rng.integers(0, 4, n)], dtype=object),
    }
    specs = [TESTS["kp_bmp_t"], TESTS["kp_patell_z"]]
    together = run_tests(wins, labels, specs)
    alone = pd.concat(
        [run_tests({w: replace(i, cache={})}, labels, specs) for w, i in wins.items()], ignore_index=True
    )
    key = ["group_by", "window", "group", "test"]
    a = together.sort_values(key).reset_index(drop=True)
    b = alone.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a["statistic"].notna().sum() > 8


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(0, 60),
    t=st.integers(1, 4),
    block=st.sampled_from([1, 3, 7, 2048]),
    collide=st.booleans(),
)
def test_row_codes_number_distinct_rows_by_first_appearance(seed, n, t, block, collide):
    """Codes of identical rows: first appearance order (a dict loop); on a hash collision, np.unique's.

    ``row_codes`` of one or two columns factorizes (first appearance order, whatever the hash).
    """
    rng = np.random.default_rng(seed)
    keys = rng.integers(-1, 3, (n, t)).astype(np.int64)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kp, "_KEY_ROWS", block)
        if collide:  # every row hashes alike: the exact grouping
            mp.setattr(kp, "_HASH", np.zeros(4096, dtype=np.uint64))
        got = kp.codes_of_rows(lambda sel: keys[sel], n, t)  # the hashed kernel
        direct = kp.row_codes(keys)  # one or two columns: factorized, never hashed
    first: dict[tuple[int, ...], int] = {}
    in_order = np.array([first.setdefault(tuple(r), len(first)) for r in keys.tolist()], dtype=np.int64)
    if collide and len({tuple(r) for r in keys}) > 1:
        want = np.unique(keys, axis=0, return_inverse=True)[1].ravel()
    else:
        want = in_order
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(direct, in_order if t <= 2 or not collide else want)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), width=st.integers(1, 5), single=st.booleans())
def test_window_signatures_group_rows_with_the_same_days(seed, width, single):
    """Single-day rows as one column, others sorted: rows get equal signatures exactly when same days."""
    rng = np.random.default_rng(seed)
    wd = rng.integers(-1, 4, (30, width))
    if single:
        wd[:, 1:] = -1
        wd = rng.permuted(wd, axis=1)
    sig = kp.window_signatures(wd)
    days = [sorted(int(d) for d in r if d >= 0) for r in wd]
    for i in range(30):
        for j in range(30):
            assert (sig[i] == sig[j]).all() == (days[i] == days[j])
        assert sorted(int(d) for d in sig[i] if d >= 0) == days[i]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(0, 40), width=st.integers(1, 6))
def test_by_columns_equals_the_row_reduction(seed, n, width):
    """Column-by-column max, sum and any of integer rows: exactly numpy's reduction along the rows."""
    rng = np.random.default_rng(seed)
    wd = rng.integers(-3, 9, (n, width))
    np.testing.assert_array_equal(kp.by_columns(np.maximum, wd), wd.max(axis=1) if n else np.zeros(0))
    np.testing.assert_array_equal(kp.by_columns(np.add, wd >= 0, np.int32), (wd >= 0).sum(axis=1))
    sig = kp.window_signatures(wd)
    single = width > 1 and ((wd >= 0).sum(axis=1) <= 1).all()
    days = np.where(wd >= 0, wd, -1)
    np.testing.assert_array_equal(sig, days.max(axis=1, keepdims=True) if single else np.sort(days, axis=1))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), atoms=st.booleans(), single=st.booleans())
def test_group_rbar_batch_memo_is_per_grouping_and_mask(seed, atoms, single):
    """The r̄ of one grouping and mask is kept for the other KP test of the window; another mask
    or grouping gets its own, equal to the per-group r̄ of a fresh input (dense and atom forms;
    multi-day windows, or single days at varying positions of the window's columns)."""
    from eventstudy.inference import Groups

    rng = np.random.default_rng(seed)
    inp = _kp_input(rng, 24, 3)
    if single:  # one day per pair (or none), in any column
        wd = np.full((24, 3), -1, dtype=np.int64)
        wd[np.arange(24), rng.integers(0, 3, 24)] = 500 + rng.choice([0, 1, 3], 24)
        wd[rng.random(24) < 0.1] = -1
        inp = replace(inp, window_day=wd)
    by = [Groups.from_labels((np.arange(24) % k).astype(str)) for k in (2, 5)]
    masks = [np.ones(24, dtype=bool), rng.random(24) < 0.7]
    with pytest.MonkeyPatch.context() as mp:
        if atoms:
            mp.setattr(kd, "DENSE_ATOM_SIZE", 0.0)
            mp.setattr(kd, "DENSE_LINK_ATOMS", np.inf)
        for groups in by:
            for mask in masks:
                first = cg.group_rbar_batch(inp, groups, mask)
                assert cg.group_rbar_batch(inp, groups, mask) is first  # memoized
                for g, idx in enumerate(groups.members(mask)):
                    want = cc.group_rbar(replace(inp, cache={}), idx)
                    assert first[1][g] == want.n_corr
                    np.testing.assert_allclose(first[0][g], want.rbar, rtol=1e-9, atol=1e-12)


@settings(max_examples=12, deadline=None)  # each example checks 45 groups against the pair-by-pair r̄
@given(seed=st.integers(0, 2**31 - 1), shuffled=st.booleans(), k=st.integers(2, 9))
def test_groups_of_one_row_sum_to_their_rows_exactly(seed, shuffled, k):
    """One row per group (by market within an event): the sums are numpy's one-row reduceat sums
    bit for bit, and r̄ of such a grouping is the pair-by-pair r̄."""
    from eventstudy.inference import Groups

    rng = np.random.default_rng(seed)
    n = 30
    inp = _kp_input(rng, n, 3)
    labels = rng.permutation(n) if shuffled else np.arange(n)  # codes of the rows out of order or in
    groups = Groups.from_labels(np.array([f"m{v:02d}" for v in labels], dtype=object))
    rows = np.sort(rng.choice(n, size=k, replace=False))
    cols = np.flatnonzero(np.isfinite(inp.est_resid[rows]).all(axis=0))
    got = cg._group_sums(inp, groups, rows, cols, ("kp_sums", groups.uid, b"rows", 0))
    z, valid = kp.standardized(replace(inp, cache={}), rows, cols)
    codes = groups.codes[rows]
    order = np.argsort(codes, kind="stable")
    each = np.arange(k)
    np.testing.assert_array_equal(got[0], codes[order])
    np.testing.assert_array_equal(got[1], np.add.reduceat(z[order], each, axis=0))
    np.testing.assert_array_equal(got[2], np.add.reduceat(valid[order].astype("float64"), each))
    # every group of the whole study has one pair: r̄ undefined; pairs of two: the pair's ρ w
    for size in (1, 2):
        by = Groups.from_labels(np.array([f"p{v // size:02d}" for v in labels], dtype=object))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(kd, "DENSE_ATOM_SIZE", 0.0)
            mp.setattr(kd, "DENSE_LINK_ATOMS", np.inf)
            rbar, n_corr = cg.group_rbar_batch(replace(inp, cache={}), by, np.ones(n, dtype=bool))
        for g, idx in enumerate(by.members(np.ones(n, dtype=bool))):
            want = cc.group_rbar(replace(inp, cache={}), idx)
            assert n_corr[g] == want.n_corr
            np.testing.assert_allclose(rbar[g], want.rbar, rtol=1e-9, atol=1e-12)
