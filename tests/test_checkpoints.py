"""Prefix sums by checkpoints: every range rebuilt bit for bit, and the engine's numbers unchanged.

* :func:`eventstudy.moments.checkpoint_sums` of any range ``[lo, hi)`` equals
  ``slice_sums(prefix_sums(panel))`` of that range bit for bit (float sums
  compared as bit patterns), with or without a benchmark, with returns that
  span several sessions, for any checkpoint spacing (hypothesis over the
  ranges and spacings, ranges starting at position 0 included);
* a ``detail="pairs"`` engine pass holding only checkpoints
  (``iter_chunks(..., bounded=True)``) gives the very arrays of the pass on
  the whole prefix sums, for chunk sizes cutting markets anywhere, and never
  builds the whole sums.
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
from conftest import build_synthetic
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy import EventStudy
from eventstudy.chunks import compute_chunks, concat_outputs, iter_chunks, release_engine_caches
from eventstudy.moments import PrefixSums, checkpoint_sums, checkpoints, prefix_sums, slice_sums
from eventstudy.panel import Panel, build_panel


def _study(model: str = "market") -> EventStudy:
    syn = build_synthetic(seed=5, symbols=tuple(f"S{i:02d}" for i in range(6)), n_events=7, drop={"S02": 20})
    bench = "MKT" if model == "market" else None
    return EventStudy(syn.events, syn.prices, model=model, benchmark=bench, min_estimation=60)


def _panel(study: EventStudy) -> Panel:
    need = study.model.needs_benchmark
    return build_panel(study.events, study.prices, study.symbols, study.config, study.mask_events, need)


PANEL = _panel(_study())
N = len(PANEL.R)
# returns spanning 1–3 sessions (trade-to-trade weights) on the same data
SPANNED = replace(PANEL, span=np.random.default_rng(0).integers(1, 4, N).astype("float64"))


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.int64) if a.dtype == np.float64 else a


def _assert_same(a: PrefixSums, b: PrefixSums) -> None:
    for f in fields(PrefixSums):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if x is None or y is None:
            assert x is None and y is None, f.name
            continue
        assert x.dtype == y.dtype and x.shape == y.shape, f.name
        np.testing.assert_array_equal(_bits(x), _bits(y), err_msg=f.name)


@settings(max_examples=60, deadline=None)
@given(
    spanned=st.booleans(),
    benchmark=st.booleans(),
    every=st.sampled_from([1, 2, 7, 64, 1024, 10**9]),
    lo=st.integers(0, N),
    length=st.integers(0, N),
)
def test_any_range_is_rebuilt_bit_for_bit(
    spanned: bool, benchmark: bool, every: int, lo: int, length: int
) -> None:
    panel = SPANNED if spanned else PANEL
    hi = min(lo + length, N)
    starts = panel.starts
    k0 = max(int(np.searchsorted(starts, lo, side="right")) - 1, 0)
    k1 = max(int(np.searchsorted(starts, max(hi - 1, lo), side="right")), k0)
    sub_starts = np.maximum(starts[k0:k1] - lo, 0)
    whole = prefix_sums(panel, benchmark)
    cp = checkpoints(panel, benchmark, every)
    assert len(cp.sy) == -(-(N + 1) // every)  # positions 0, every, … up to N
    _assert_same(
        checkpoint_sums(panel, cp, lo, hi, k0, k1, sub_starts), slice_sums(whole, lo, hi, k0, k1, sub_starts)
    )


def test_whole_range_from_position_zero() -> None:
    whole = prefix_sums(SPANNED, True)
    cp = checkpoints(SPANNED, True, 16)
    k = len(SPANNED.starts)
    _assert_same(checkpoint_sums(SPANNED, cp, 0, N, 0, k, SPANNED.starts), whole)


def test_checkpointed_pass_equals_the_pass_on_the_whole_sums() -> None:
    study = _study()
    cfg = replace(study.config, car_windows=study.engine_windows())
    ref_panel = _panel(study)
    ref = compute_chunks(ref_panel, cfg, study.model, 10**6, detail="full", need_resid=False)
    for chunk in (1, 5, 23, 10**6):
        panel = _panel(study)
        got = concat_outputs(iter_chunks(panel, cfg, study.model, chunk, None, False, "pairs", bounded=True))
        assert "_prefix_True" not in panel.__dict__ and "_prefix_cp_True" in panel.__dict__
        for name in (
            "keep",
            "car",
            "car_se",
            "car_t",
            "car_p",
            "car_days",
            "car_ext",
            "est_start",
            "est_end",
        ):
            a, b = getattr(ref, name), getattr(got, name)
            assert np.array_equal(_bits(a), _bits(b)), (chunk, name)
        for name in ("params", "sigma2", "n", "dof"):
            assert np.array_equal(_bits(getattr(ref.fit, name)), _bits(getattr(got.fit, name))), (chunk, name)
        assert ref.excluded == got.excluded
        release_engine_caches(panel)
        assert not [k for k in panel.__dict__ if k.startswith("_prefix_")]


def test_estimation_arrays_of_a_checkpointed_pass() -> None:
    """The second pass of a pairs run (estimation residuals per chunk) on checkpoints."""
    study = _study()
    cfg = replace(study.config, car_windows=study.engine_windows())
    ref = compute_chunks(_panel(study), cfg, study.model, 10**6, detail="full", need_resid=True)
    panel = _panel(study)
    got = concat_outputs(iter_chunks(panel, cfg, study.model, 9, None, True, "full", bounded=True))
    for name in ("est_day", "ar", "sar", "car"):
        a, b = getattr(ref, name), getattr(got, name)
        assert np.array_equal(_bits(a), _bits(b)), name
    assert np.array_equal(_bits(ref.fit.resid), _bits(got.fit.resid))
