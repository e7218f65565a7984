"""The CAR table built from whole columns, against the table built row by row and statsmodels.

``adjust_columns`` (one family per column of a pairs × windows matrix) against
``multipletests`` per column and against :func:`adjust_car_table` on the
ravelled table; :func:`~eventstudy.cartable.car_table` (text columns taken by
position, adjusted p-values from the matrix, one frame) against the frame
built from per-row object arrays and adjusted by the table function, on a
study with overlapping events, uncertain day 0s and excluded pairs. The
window arrays turned column-major keep their values. The build holds at most
one column's worth of transients above the finished table (numpy memory as
``tracemalloc`` sees it), on the study repeated to 100,000+ rows.
"""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from property_helpers import multipletests_p

from eventstudy import EventStudy
from eventstudy.analysis.multitest import adjust_car_table, adjust_columns
from eventstudy.assembly import WINDOW_ARRAYS, window_major
from eventstudy.cartable import car_table, overlap_ids
from eventstudy.chunks import compute_chunks
from eventstudy.config import format_window
from eventstudy.errors import InputError
from eventstudy.pairclusters import pair_clusters

p_values = st.one_of(st.just(np.nan), st.sampled_from([0.0, 0.01, 0.05, 0.5, 1.0]), st.floats(0.0, 1.0))


@settings(max_examples=80)
@given(hnp.arrays(np.float64, st.tuples(st.integers(0, 40), st.integers(1, 4)), elements=p_values))
def test_adjust_columns_equal_multipletests_per_column_and_the_table(p: np.ndarray) -> None:
    got = adjust_columns(p)
    for c in range(p.shape[1]):
        ok = np.isfinite(p[:, c])
        for method, name in (("holm", "p_holm"), ("fdr_bh", "p_bh")):
            want = np.full(len(p), np.nan)
            if ok.any():
                want[ok] = multipletests_p(p[ok, c], method)
            # statsmodels divides by rank/m where the table multiplies by m, then divides by the
            # rank: the same value to 1e-12 relative except among subnormals (p near 5e-324),
            # where one rounding step is a large relative change but below 1e-300 absolute
            np.testing.assert_allclose(got[name][:, c], want, rtol=1e-12, atol=1e-300)
    labels = [f"w{c}" for c in range(p.shape[1])]
    table = pd.DataFrame({"window": np.tile(labels, len(p)), "p_value": p.ravel()})
    ref = adjust_car_table(table)  # the grouped sort over the table: bit for bit
    for name in ("p_holm", "p_bh"):
        np.testing.assert_array_equal(got[name].ravel(), ref[name].to_numpy())


def test_adjust_columns_rejects_bad_values_and_methods() -> None:
    with pytest.raises(InputError, match="p_value"):
        adjust_columns(np.array([[0.5], [1.5]]))
    with pytest.raises(InputError, match="p_value"):
        adjust_columns(np.array([[np.inf]]))
    with pytest.raises(InputError, match="columns"):
        adjust_columns(np.array([[0.5]]), {"bonferroni": "p_bonf"})


def _reference(kept: pd.DataFrame, out, labels, clusters, overlaps, vol_ratio) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The table from per-row object arrays, adjusted over the table (the earlier construction)."""
    P, C = len(kept), len(labels)
    tab = pd.DataFrame(
        {
            "event_id": np.repeat(kept["event_id"].to_numpy(), C),
            "symbol": np.repeat(kept["symbol"].to_numpy(), C),
            "window": np.tile(labels, P),
            "car": out.car[:, :C].ravel(),
            "se": out.car_se[:, :C].ravel(),
            "t_stat": out.car_t[:, :C].ravel(),
            "p_value": out.car_p[:, :C].ravel(),
            "n_est": np.repeat(out.fit.n.astype(np.int64), C),
            "day0": np.repeat(kept["day0"].to_numpy(), C),
            "day0_latest": np.repeat(kept["day0_latest"].to_numpy(), C),
            "cluster": clusters.ravel(),
            "day0_uncertain": np.repeat(kept["day0_uncertain"].to_numpy(), C),
            "overlaps": overlaps.ravel(),
            "days": out.car_days[:, :C].ravel(),
            "extended_by": out.car_ext[:, :C].ravel(),
        }
    )
    tab = adjust_car_table(tab)
    tab["vol_ratio"] = vol_ratio.ravel()
    return tab


def _window_parts(syn, windows, mask=None):  # type: ignore[no-untyped-def]
    """A study's engine output for ``windows`` and its kept pairs, clusters and overlaps."""
    kw = {} if mask is None else {"mask_events": mask}
    st_ = EventStudy(syn.events, syn.prices, model="market", benchmark="MKT", **kw)
    panel = st_._bound_panel()
    cfg = replace(st_.config, car_windows=windows)
    out = compute_chunks(panel, cfg, st_.model, 20_000, None, False, "full")
    kept = panel.pairs.iloc[out.keep].reset_index(drop=True)
    clusters = pair_clusters(panel, out.car, out.car_ext, kept, windows)[0]
    events = (syn.events if mask is None else mask).table["event_id"].to_numpy()
    overlaps = overlap_ids(panel, out.car_ext, kept, windows, events)
    return out, kept, clusters, overlaps


def test_car_table_equals_the_table_of_object_arrays(synthetic_panel) -> None:  # type: ignore[no-untyped-def]
    syn = synthetic_panel(seed=5, n_days=500, n_events=14, drop={"AAA": 300})
    windows = ((-10, 10), (-1, 1), (0, 0))
    out, kept, clusters, overlaps = _window_parts(syn, windows, mask=syn.events)
    assert len(out.excluded) > 0  # AAA's early events have too little estimation data
    labels = [format_window(w) for w in windows]
    assert (overlaps != "").any() and (overlaps == "").any()
    vol = np.random.default_rng(0).normal(size=(len(kept), len(windows)))
    got = car_table(kept, out, labels, clusters, overlaps, vol)
    want = _reference(kept, out, labels, clusters, overlaps, vol)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_car_table_holds_at_most_one_column_beyond_the_table(synthetic_panel) -> None:  # type: ignore[no-untyped-def]
    syn = synthetic_panel(seed=5, n_days=500, n_events=14)
    windows = ((-10, 10), (-1, 1), (0, 0))
    one, kept1, clusters1, overlaps1 = _window_parts(syn, windows)
    reps = -(-40_000 // len(kept1))  # 40,000+ pairs, 120,000+ rows: transients well above noise
    names = ("car", "car_se", "car_t", "car_p", "car_days", "car_ext")
    # as in a study, the engine's windows go beyond the CAR windows (here: them again)
    out = SimpleNamespace(**{n: np.tile(np.hstack([getattr(one, n)] * 2), (reps, 1)) for n in names})
    out.fit = SimpleNamespace(n=np.tile(one.fit.n, reps))
    kept = pd.concat([kept1] * reps, ignore_index=True)
    clusters, overlaps = np.tile(clusters1, (reps, 1)), np.tile(overlaps1, (reps, 1))
    vol = np.random.default_rng(1).normal(size=clusters.shape)
    labels = [format_window(w) for w in windows]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        got = car_table(kept, out, labels, clusters, overlaps, vol)  # type: ignore[arg-type]
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    column = 8 * len(got)
    assert held - before >= 10 * column  # the table's numeric columns are held
    assert peak - held <= column + 2**20  # beyond them: at most one column's transient
    want = _reference(kept, out, labels, clusters, overlaps, vol)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_window_arrays_in_column_major_order_keep_their_values(synthetic_panel) -> None:  # type: ignore[no-untyped-def]
    syn = synthetic_panel(seed=2, n_days=400, n_events=8)
    st_ = EventStudy(syn.events, syn.prices, model="market", benchmark="MKT")
    panel = st_._bound_panel()
    cfg = replace(st_.config, car_windows=st_.engine_windows())
    out = compute_chunks(panel, cfg, st_.model, 20_000, None, False, "full")
    new = out
    for name in WINDOW_ARRAYS:
        new = window_major(new, name)
    for name in WINDOW_ARRAYS:
        a, b = getattr(out, name), getattr(new, name)
        assert (
            b.flags.f_contiguous
            and b.dtype == a.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )
    assert new.fit is out.fit and new.ar is out.ar  # nothing else copied
    assert window_major(new, "car") is new  # already column-major: as it is


@given(
    hnp.arrays(
        np.float64, st.integers(0, 200), elements=st.sampled_from([0.0, 0.25, 0.5, 1.0]) | st.floats(0, 1)
    )
)
def test_stable_order_equals_a_stable_argsort(v: np.ndarray) -> None:
    from eventstudy.analysis.multitest import _stable_order

    assert np.array_equal(_stable_order(v), np.argsort(v, kind="stable"))
