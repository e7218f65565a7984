"""The bounded-memory paths of ``detail="pairs"``: touched-group totals, small counts, released caches.

* :class:`eventstudy.streamtotals.Totals` adds a chunk's sums only to the
  groups the chunk touches; the totals equal a dense accumulation of every
  chunk's G-row sums (exactly: the same additions, and zeros elsewhere),
  counts kept in the smallest integer type are exact, and dropping complete
  groups leaves the others' totals.
* ``concat_outputs(..., stats_windows=k)`` keeps t and p of the first k
  windows, equal to those columns of the whole output; every other field is
  unchanged.
* ``release_engine_caches`` drops the panel's prefix sums; the engine then
  builds them again with the very same numbers.

The study-level equality of the streamed tests with the full run (chunks
touching a few of 110 markets, per-market counts in one byte, the overall
group's in two) is in ``tests/test_streamtests.py``.
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pandas as pd
from conftest import build_synthetic
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy import EventStudy
from eventstudy.chunks import compute_chunks, release_engine_caches
from eventstudy.inference.grouped import Groups
from eventstudy.moments import PrefixSums
from eventstudy.panel import Panel, build_panel
from eventstudy.streamtotals import Totals, count_dtype, local_groups

KEY = ("sums", "g")


@settings(max_examples=40, deadline=None)
@given(
    n_groups=st.integers(1, 30),
    width=st.integers(1, 5),
    chunks=st.lists(st.integers(1, 40), min_size=1, max_size=6),
    seed=st.integers(0, 2**32 - 1),
)
def test_touched_rows_equal_a_dense_accumulation(
    n_groups: int, width: int, chunks: list[int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, n_groups, sum(chunks))
    values = rng.normal(size=(len(codes), width))
    groups = Groups(codes, tuple(f"g{i:02d}" for i in range(n_groups)))
    cdtype = count_dtype(groups)
    totals = Totals()
    dense_sum, dense_cnt = np.zeros((n_groups, width)), np.zeros((n_groups, width), dtype=np.int64)
    lo = 0
    for size in chunks:
        pos = np.arange(lo, lo + size)
        lo += size
        lg = local_groups(groups, pos, cdtype)
        # the chunk's groups, renumbered in order, with their study-wide names
        np.testing.assert_array_equal(lg.rows[lg.groups.codes], codes[pos])
        assert lg.groups.names == tuple(groups.names[i] for i in lg.rows)
        onehot = lg.groups.matrix(np.ones(size, dtype=bool))
        part_sum = np.asarray(onehot @ values[pos])
        part_cnt = np.asarray(onehot @ np.ones((size, width)))
        totals.new_chunk()
        totals.add(KEY, lg.rows, lg.cdtype, part_sum, part_cnt, counts=(1,))
        totals.add(KEY, lg.rows, lg.cdtype, part_sum, part_cnt, counts=(1,))  # once per chunk
        full_sum = np.asarray(groups.matrix(np.isin(np.arange(len(codes)), pos)) @ values)
        dense_sum += full_sum
        np.add.at(dense_cnt, codes[pos], 1)
    touched = np.unique(codes)
    np.testing.assert_array_equal(totals.rows[KEY], touched)  # only the touched groups have rows
    assert not dense_sum[np.setdiff1d(np.arange(n_groups), touched)].any()
    got_sum, got_cnt = totals.take(KEY, touched)
    np.testing.assert_array_equal(got_sum, dense_sum[touched])
    assert got_cnt.dtype == cdtype
    np.testing.assert_array_equal(got_cnt.astype(np.int64), dense_cnt[touched])
    # dropping complete groups keeps the others' totals
    gone = touched[::2]
    totals.drop("g", gone)
    rest = np.setdiff1d(touched, gone)
    np.testing.assert_array_equal(totals.rows[KEY], rest)
    np.testing.assert_array_equal(totals.take(KEY, rest)[0], dense_sum[rest])


def test_count_type_holds_the_largest_group() -> None:
    def of(sizes: list[int]) -> np.dtype:
        return count_dtype(Groups(np.repeat(np.arange(len(sizes)), sizes), tuple(map(str, sizes))))

    assert of([3, 255]) == np.uint8
    assert of([256, 1]) == np.uint16
    assert of([65_535]) == np.uint16
    assert of([65_536]) == np.uint32


def _study() -> EventStudy:
    syn = build_synthetic(seed=4, symbols=tuple(f"S{i:02d}" for i in range(8)), n_events=9, drop={"S03": 15})
    return EventStudy(syn.events, syn.prices, model="market", benchmark="MKT", min_estimation=60)


def _panel(study: EventStudy) -> Panel:
    need = study.model.needs_benchmark
    return build_panel(study.events, study.prices, study.symbols, study.config, study.mask_events, need)


def test_t_and_p_of_the_first_windows_only() -> None:
    study = _study()
    panel = _panel(study)
    cfg = replace(study.config, car_windows=study.engine_windows())
    whole = compute_chunks(panel, cfg, study.model, 13, detail="pairs")
    for chunk in (13, 10_000):  # several chunks, and one
        light = compute_chunks(panel, cfg, study.model, chunk, detail="pairs", stats_windows=4)
        for name in ("car_t", "car_p"):
            np.testing.assert_array_equal(getattr(light, name), getattr(whole, name)[:, :4])
        for f in fields(whole):
            if f.name in ("car_t", "car_p", "fit", "excluded", "rel", "detail", "est_span"):
                continue
            a, b = getattr(whole, f.name), getattr(light, f.name)
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), f.name


def test_released_prefix_sums_are_rebuilt_the_same() -> None:
    study = _study()
    panel = _panel(study)
    cfg = replace(study.config, car_windows=study.engine_windows())
    before = compute_chunks(panel, cfg, study.model, 17, detail="pairs")
    ps = panel.prefix_sums(True)
    release_engine_caches(panel)
    assert not [k for k in panel.__dict__ if k.startswith(("_prefix_", "_upos_", "_gram_"))]
    again = panel.prefix_sums(True)
    assert again is not ps
    for f in fields(PrefixSums):
        a, b = getattr(ps, f.name), getattr(again, f.name)
        assert (a is None and b is None) or np.array_equal(a, b), f.name
    after = compute_chunks(panel, cfg, study.model, 17, detail="pairs")
    for name in ("car", "car_se", "car_t", "car_p", "car_days"):
        np.testing.assert_array_equal(getattr(after, name), getattr(before, name), err_msg=name)


def test_pairs_run_equals_full_with_one_chunk_per_market() -> None:
    """Chunks that each touch one or two markets (the by-market totals are filled row by row)."""
    study = _study()
    full = study.run()
    per_market = int(pd.Series(full.car()["symbol"]).value_counts().min()) // 4  # pairs (4 CAR windows)
    got = study.run(chunk_size=per_market, detail="pairs").tests()
    ref = full.tests()
    ref = ref[ref["test"].isin(set(got["test"]))].reset_index(drop=True)
    key = ["group_by", "group", "window", "test"]
    pd.testing.assert_frame_equal(ref[key], got[key].reset_index(drop=True))
    for col in ("statistic", "p_value"):
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-12, atol=1e-14, err_msg=col)
    np.testing.assert_array_equal(got["n"], ref["n"])
