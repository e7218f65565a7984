"""Shared estimation-window sums (cda_t, placebo): bit for bit those of the one-hot products and of loops."""

from __future__ import annotations

import importlib
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.inference import TestInput, estsums
from eventstudy.inference.grouped import GROUPINGS_KEY, Groups, group_products
from eventstudy.inference.parametric import cda_day_sums

placebo_mod = importlib.import_module("eventstudy.inference.placebo")


def _input(x: np.ndarray) -> TestInput:
    n = x.shape[0]
    z = np.zeros(n)
    return TestInput(
        z, z + 1, z + 1, z + 5, z + 7, np.zeros((n, 1)), np.zeros((n, 1)), x, x, np.zeros(x.shape, np.int64)
    )


def _residuals(rng: np.random.Generator, n: int, t: int, missing: float) -> np.ndarray:
    x = rng.standard_normal((n, t)) * 10.0 ** rng.integers(-6, 6, (n, 1))
    x[rng.random((n, t)) < missing] = np.nan
    if x.size and rng.random() < 0.5:
        x.flat[int(rng.integers(x.size))] = rng.choice([np.inf, -np.inf])  # not finite: missing
    return x


cases = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**31 - 1),
        "n": st.integers(0, 40),
        "t": st.integers(0, 9),
        "missing": st.sampled_from([0.0, 0.2, 0.7, 1.0]),
        "kept": st.sampled_from([1.0, 0.6, 0.0]),
        "block": st.integers(1, 12),
        "order": st.permutations([0, 1, 2]),
    }
)


@settings(max_examples=80, deadline=None)
@given(case=cases)
def test_missing_entries_and_counts_against_nonzero_and_a_loop(case) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(estsums, "BLOCK_ROWS", case["block"])
        _check_missing(case)


def _check_missing(case) -> None:
    rng = np.random.default_rng(case["seed"])
    x = _residuals(rng, case["n"], case["t"], case["missing"])
    inp = _input(x)
    rows, cols = estsums.est_missing(inp)
    want = np.nonzero(~np.isfinite(x))
    np.testing.assert_array_equal(rows, want[0])
    np.testing.assert_array_equal(cols, want[1])
    assert rows.dtype == cols.dtype == np.int32
    np.testing.assert_array_equal(estsums.est_zeroed(inp), np.where(np.isfinite(x), x, 0.0))
    groups = Groups.from_labels(rng.integers(0, 4, case["n"]).astype(str))
    mask = rng.random(case["n"]) < case["kept"]
    got = estsums.missing_counts(inp, groups, mask)
    loop = np.zeros((groups.size, case["t"]), dtype=np.int64)
    for i in np.flatnonzero(mask):
        for t in range(case["t"]):
            loop[groups.codes[i], t] += not np.isfinite(x[i, t])
    np.testing.assert_array_equal(got, loop)


@settings(max_examples=80, deadline=None)
@given(case=cases)
def test_block_sums_of_every_announced_grouping_equal_one_product_bit_for_bit(case) -> None:
    """The running sums carried from block to block add the same numbers in the same order as one
    product over all pairs; several groupings in one pass change nothing."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(estsums, "BLOCK_ROWS", case["block"])
        mp.setattr(estsums, "CARRY_RATIO", 0)  # blocks of BLOCK_ROWS pairs whatever the groups
        _check_sums(case)


def _check_sums(case) -> None:
    rng = np.random.default_rng(case["seed"])
    n, t = case["n"], case["t"]
    x = _residuals(rng, n, t, case["missing"])
    inp = _input(x)
    groupings = [Groups.from_labels(rng.integers(0, k, n).astype(str)) for k in (1, 3, 12)]
    inp.memo[GROUPINGS_KEY] = tuple(groupings)
    mask = rng.random(n) < case["kept"]
    filled = np.where(np.isfinite(x), x, 0.0)
    running = np.concatenate([np.zeros((n, 1)), np.cumsum(filled, axis=1)], axis=1)
    ref = _input(x)  # its own memo: the one-hot products of the whole arrays
    for k in case["order"]:
        g = groupings[k]
        sums, counts = cda_day_sums(inp, g, mask)
        want_s, want_c = group_products(ref, g, mask, "ref", (filled, np.isfinite(x).astype("float64")))
        assert sums.tobytes() == want_s.tobytes() and sums.shape == want_s.shape
        assert counts.tobytes() == want_c.tobytes() and counts.dtype == want_c.dtype
        (want_r,) = group_products(ref, g, mask, "ref_running", (running,))
        got_r = placebo_mod._running_group_sums(inp, g, mask)
        assert got_r.tobytes() == want_r.tobytes() and got_r.shape == want_r.shape
        # a plain loop over the pairs, in order, from 0
        loop = np.zeros((g.size, t))
        for i in np.flatnonzero(mask):
            loop[g.codes[i]] += filled[i]
        assert sums.tobytes() == loop.tobytes()


def test_one_pass_serves_the_other_announced_groupings() -> None:
    rng = np.random.default_rng(5)
    x = _residuals(rng, 30, 6, 0.2)
    inp = _input(x)
    a, b = (
        Groups.from_labels(rng.integers(0, 2, 30).astype(str)),
        Groups.from_labels(rng.integers(0, 5, 30).astype(str)),
    )
    inp.memo[GROUPINGS_KEY] = (a, b)
    calls = []

    def fill(rows: np.ndarray, out: np.ndarray) -> None:
        calls.append(len(rows))
        estsums.zeroed_rows(inp)(rows, out)

    mask = np.ones(30, dtype=bool)
    estsums.announced_row_sums(inp, a, mask, "s", 6, fill)
    estsums.announced_row_sums(inp, b, mask, "s", 6, fill)
    assert sum(calls) == 30  # every pair's row built once for both groupings


@settings(max_examples=60, deadline=None)
@given(case=cases)
def test_signs_and_atoms_read_from_the_missing_entries_equal_direct_counts(case) -> None:
    """gen_sign_z's counts and the KP atoms' row keys, with the missing entries known or not."""
    from eventstudy.inference import kpatoms
    from eventstudy.inference.signs import _est_signs

    rng = np.random.default_rng(case["seed"])
    n, t = case["n"], case["t"]
    x = _residuals(rng, n, t, case["missing"])
    if x.size:
        x.flat[int(rng.integers(x.size))] = 0.0  # zero is not positive
    days = np.tile(np.arange(t, dtype=np.int32), (n, 1)) + rng.integers(0, 2, (n, 1)).astype(np.int32)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(estsums, "BLOCK_ROWS", case["block"])
        mp.setattr(importlib.import_module("eventstudy.inference.signs"), "BLOCK_ROWS", case["block"])
        mp.setattr(kpatoms, "_KEY_ROWS", case["block"])
        for known in (False, True):
            inp = replace(_input(x), est_day=days, cache={})
            if known:
                estsums.est_missing(inp)
            pos, have = _est_signs(inp)
            with np.errstate(invalid="ignore"):
                np.testing.assert_array_equal(pos, [float(np.sum(r > 0)) for r in x])
            np.testing.assert_array_equal(have, [float(np.isfinite(r).sum()) for r in x])
            keys = np.where(np.isfinite(x), days, -1)
            codes = kpatoms.est_atoms(inp).codes
            first: dict[bytes, int] = {}
            want = [first.setdefault(k.tobytes(), len(first)) for k in keys]  # order of first appearance
            np.testing.assert_array_equal(codes, want)
