"""The wild bootstrap over several blocks of rows reads the flips from the top again for each block.

With the flips drawn block by block (neither kept as floats nor as int8
signs: large studies; packed or drawn again), every
block of :data:`~eventstudy.inference.bootstrap._ROW_BLOCK` group rows sweeps
the flip matrix from its first row; the results equal the per-group
reference whatever the block size and the memo in use.
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


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 1000),
    n=st.integers(20, 70),
    row_block=st.sampled_from([1, 2, 3, 5]),
    packed_cache=st.sampled_from([0, 2**30]),
    int8_cache=st.sampled_from([0, 0, 2**30]),
)
def test_row_blocks_equal_the_per_group_reference(
    seed: int, n: int, row_block: int, packed_cache: int, int8_cache: int
) -> None:
    rng = np.random.default_rng(seed)
    base = make_input(n=n, seed=seed % 50)
    labels = np.array([f"g{k}" for k in rng.integers(0, 3, n)], dtype=object)
    groups = Groups.from_labels(labels)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fl, "FLIP_BLOCK", 8)
        mp.setattr(fl, "_FLIP_CACHE_BYTES", 0)
        mp.setattr(fl, "_PACKED_CACHE_BYTES", packed_cache)
        mp.setattr(fl, "_INT8_CACHE_BYTES", int8_cache)
        mp.setattr(fl, "_SLAB_BYTES", 8 * 8 * base.draws)  # slabs of 8 flip rows: several per group
        mp.setattr(rs, "_ROW_BLOCK", row_block)
        shared: dict[object, object] = {}
        windows = [replace(base, car=base.car * rng.uniform(0.5, 2, n) + k, cache=shared) for k in range(2)]
        res = rs.wild_bootstrap_windows(windows, groups)
        for w, inp in enumerate(windows):
            for g, idx in enumerate(groups.members(np.ones(n, dtype=bool))):
                one = TESTS["wild_bootstrap"].func(replace(inp, cache={}), idx)
                assert res[w].p_value[g] == pytest.approx(one.p_value, abs=1e-12, nan_ok=True)
                assert res[w].statistic[g] == pytest.approx(one.statistic, rel=1e-12, nan_ok=True)
