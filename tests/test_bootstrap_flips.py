"""The wild bootstrap's flips, slabs and one-sweep groupings give the documented numbers.

* the flips read off the generator's raw stream are exactly
  ``default_rng([seed, k]).integers(0, 2, size=(FLIP_BLOCK, B), dtype=np.int8)``
  (any B, any block), and the ``integers`` fallback gives the same matrix;
* products swept a slab of rows at a time equal one dense product with the
  documented flip matrix, whatever the slab size and the memo in use;
* the bootstrap of several groupings in one sweep (groupings announced by the
  runner) equals each grouping on its own and the per-group reference.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_inference_synth import make_input, replace

from eventstudy.inference import TESTS, Groups
from eventstudy.inference import bootstrap as rs
from eventstudy.inference import flips as fl
from eventstudy.inference.grouped import GROUPINGS_KEY
from eventstudy.inference.runner import run_tests


def _reference(seed: int, n: int, draws: int, block: int) -> np.ndarray:
    """The documented flip matrix, block by block through ``Generator.integers``."""
    rows = []
    for k in range(-(-n // block)):
        gen = np.random.default_rng([seed, k])
        rows.append(2 * gen.integers(0, 2, size=(block, draws), dtype=np.int8).astype("float64") - 1)
    return np.concatenate(rows)[:n]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    draws=st.integers(1, 70),
    block=st.sampled_from([8, 16]),
)
def test_flips_are_the_integers_stream(seed: int, n: int, draws: int, block: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fl, "FLIP_BLOCK", block)
        np.testing.assert_array_equal(fl.rademacher(seed, n, draws), _reference(seed, n, draws, block))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    draws=st.integers(1, 70),
    block=st.sampled_from([8, 16]),
    raw=st.booleans(),
)
def test_int8_signs_are_the_integers_stream(seed: int, n: int, draws: int, block: int, raw: bool) -> None:
    """The int8 memo (read off the raw bytes, or through ``integers``) is the documented matrix."""
    inp = replace(make_input(n=n, seed=1), seed=seed)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fl, "FLIP_BLOCK", block)
        mp.setattr(fl, "_raw_bits_ok", lambda: raw)
        signs = fl._int8_signs(replace(inp, cache={}), n, draws)
    assert signs.dtype == np.int8
    np.testing.assert_array_equal(signs, _reference(seed, n, draws, block))


def test_full_block_of_999_draws_and_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    ref = _reference(20101, 4096 + 5, 999, 4096)
    assert fl._raw_bits_ok()  # this numpy draws the int8 flips as bit 7 of each raw byte
    np.testing.assert_array_equal(fl.rademacher(20101, 4096 + 5, 999), ref)
    monkeypatch.setattr(fl, "_RAW_BITS", [False])  # as on a numpy that draws them otherwise
    np.testing.assert_array_equal(fl.rademacher(20101, 4096 + 5, 999), ref)


@pytest.mark.parametrize("flip_cache", [0, 2**30])
@pytest.mark.parametrize("int8_cache", [0, 2**30])
@pytest.mark.parametrize("packed_cache", [0, 2**30])
@pytest.mark.parametrize("slab", [8, 16, 2**20])
def test_slab_products_equal_one_product(
    flip_cache: int, int8_cache: int, packed_cache: int, slab: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fl, "FLIP_BLOCK", 16)
    monkeypatch.setattr(fl, "_FLIP_CACHE_BYTES", flip_cache)
    monkeypatch.setattr(fl, "_INT8_CACHE_BYTES", int8_cache)
    monkeypatch.setattr(fl, "_PACKED_CACHE_BYTES", packed_cache)
    monkeypatch.setattr(fl, "_SLAB_BYTES", slab)
    inp = make_input(n=50, seed=2)
    x = np.random.default_rng(1).standard_normal((3, 45))
    expected = x @ _reference(inp.seed, 45, 11, 16)
    np.testing.assert_allclose(fl.flip_products(replace(inp), x, 11), expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("slab", [8, 2**20])
def test_int8_and_packed_flips_give_the_same_products_exactly(
    slab: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The int8 memo of the flips and the packed bits: the same slabs, so the same sums bit for bit."""
    monkeypatch.setattr(fl, "FLIP_BLOCK", 16)
    monkeypatch.setattr(fl, "_FLIP_CACHE_BYTES", 0)
    monkeypatch.setattr(fl, "_SLAB_BYTES", slab)
    inp = make_input(n=50, seed=4)
    x = np.random.default_rng(2).standard_normal((4, 50))
    got = {}
    for int8_cache in (0, 2**30):
        monkeypatch.setattr(fl, "_INT8_CACHE_BYTES", int8_cache)
        got[int8_cache] = fl.flip_products(replace(inp, cache={}), x, 13)
    np.testing.assert_array_equal(got[0], got[2**30])
    signs = fl._int8_signs(replace(inp, cache={}), 50, 13)
    assert signs.dtype == np.int8
    np.testing.assert_array_equal(signs, _reference(inp.seed, 50, 13, 16))


def _groupings(rng: np.random.Generator, n: int) -> list[Groups]:
    return [
        Groups.from_labels(np.full(n, "all", dtype=object)),
        Groups.from_labels(np.array([f"g{k}" for k in rng.integers(0, 6, n)], dtype=object)),
        Groups.from_labels(np.array([f"h{k}" for k in rng.integers(0, 2, n)], dtype=object)),
    ]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), n=st.integers(3, 60), slab=st.sampled_from([8, 32, 2**20]))
def test_groupings_in_one_sweep_equal_each_alone(seed: int, n: int, slab: int) -> None:
    rng = np.random.default_rng(seed)
    base = make_input(n=n, seed=seed % 50)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fl, "FLIP_BLOCK", 16)
        mp.setattr(fl, "_FLIP_CACHE_BYTES", 0)
        mp.setattr(fl, "_SLAB_BYTES", slab)
        shared: dict[object, object] = {}
        windows = [replace(base, car=base.car * rng.uniform(0.5, 2, n) + k, cache=shared) for k in range(2)]
        groupings = _groupings(rng, n)
        windows[0].memo[GROUPINGS_KEY] = tuple(groupings)
        swept = [rs.wild_bootstrap_windows(windows, gr) for gr in groupings]
        assert not any(isinstance(k, tuple) and k[0] == "wild_bootstrap" for k in windows[0].memo)
        for gr, res in zip(groupings, swept, strict=True):
            alone = rs.wild_bootstrap_windows([replace(w, cache=shared) for w in windows], gr)
            for a, b in zip(res, alone, strict=True):
                np.testing.assert_array_equal(a.p_value, b.p_value)
                np.testing.assert_array_equal(a.statistic, b.statistic)
                assert a.note == b.note
            for w, inp in enumerate(windows):  # the per-group reference (documented flips)
                for g, idx in enumerate(gr.members(np.ones(n, dtype=bool))):
                    one = TESTS["wild_bootstrap"].func(replace(inp), idx)
                    assert res[w].p_value[g] == pytest.approx(one.p_value, abs=1e-12, nan_ok=True)


def test_runner_announces_its_groupings_and_forgets_them() -> None:
    rng = np.random.default_rng(3)
    base = make_input(n=30, seed=3)
    labels = {
        "all": np.full(30, "all", dtype=object),
        "g": np.array([f"g{k}" for k in rng.integers(0, 4, 30)]),
    }
    shared: dict[object, object] = {}
    inputs = {f"w{k}": replace(base, car=base.car + k, cache=shared) for k in range(3)}
    table = run_tests(inputs, labels, [TESTS["wild_bootstrap"]])
    looped = run_tests(
        {k: replace(v, cache={}) for k, v in inputs.items()}, labels, [TESTS["wild_bootstrap"]], batched=False
    )
    np.testing.assert_allclose(table["p_value"], looped["p_value"], rtol=0, atol=1e-12)
    assert all(not inp.memo for inp in inputs.values())  # nothing left in the windows' memos


@settings(max_examples=30, deadline=None)
@given(
    m=st.integers(1, 40), k=st.integers(1, 300), n=st.integers(1, 50), tile=st.sampled_from([1, 64, 1 << 18])
)
def test_products_in_small_tiles_add_up_to_the_product(m: int, k: int, n: int, tile: int) -> None:
    rng = np.random.default_rng(m * 1000 + k)
    x = rng.standard_normal((m, k))
    flips = rng.choice([-1.0, 1.0], size=(k, n))
    acc = rng.standard_normal((m, n))
    expected = acc + x @ flips
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fl, "_TILE", tile)
        fl.add_product(acc, x, flips)
    np.testing.assert_allclose(acc, expected, rtol=1e-12, atol=1e-12)
