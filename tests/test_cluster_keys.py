"""The integer shortcuts of the cluster code against ``numpy.unique`` and plain loops.

Event codes by counting, one joint sort key for the duplicate keys and the
interval order (with the lexsort kept for ranges too wide for one key), the
first of duplicates found only among keys seen twice, and the study's
window-by-window cluster labels against the whole-array day numbers.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from conftest import build_synthetic, random_event_records
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from eventstudy import EventStudy
from eventstudy.chunks import compute_chunks
from eventstudy.inference import clusters as cl
from eventstudy.models import configured_model
from eventstudy.pairclusters import _filled_days, _filled_days_at, pair_clusters
from eventstudy.panel import build_panel

small = hnp.arrays(np.int64, st.integers(0, 80), elements=st.integers(-5, 5))
wide = hnp.arrays(np.int64, st.integers(0, 80), elements=st.sampled_from([-(2**40), -7, 0, 3, 2**40, 2**50]))


@given(st.one_of(small, wide))
def test_dense_codes_equal_numpy_unique_inverse(v: np.ndarray) -> None:
    want = np.unique(v, return_inverse=True)[1].ravel() if len(v) else np.empty(0, np.int64)
    got = cl.dense_codes(v)
    assert got.dtype == np.int64 and np.array_equal(got, want)


@given(st.one_of(small, wide), st.integers(0, 2**32 - 1))
def test_duplicate_keys_equal_unique_rows_for_narrow_and_wide_ranges(sym: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    first = rng.choice([-1, 3, 4, 2**33], len(sym)) if seed % 2 else rng.integers(-3, 3, len(sym))
    last = first + rng.integers(0, 2, len(sym)) * (2**31 if seed % 3 == 0 else 1)
    want = np.unique(np.column_stack([sym, first, last]), axis=0, return_inverse=True)[1].ravel()
    assert np.array_equal(cl.duplicate_keys(sym, first, last), want.astype(np.int64))


@given(st.one_of(small, wide), st.integers(0, 2**32 - 1))
def test_order_of_sorts_by_first_then_last(first: np.ndarray, seed: int) -> None:
    last = first + np.random.default_rng(seed).integers(0, 3, len(first))
    order = cl._order_of(first, last)
    assert sorted(order.tolist()) == list(range(len(first)))
    got = list(zip(first[order].tolist(), last[order].tolist(), strict=True))
    assert got == sorted(zip(first.tolist(), last.tolist(), strict=True))


@settings(max_examples=80)
@given(
    hnp.arrays(np.int64, st.integers(1, 60), elements=st.integers(0, 8)),
    st.integers(0, 2**32 - 1),
    st.sampled_from([0, 10**12]),
)
def test_first_of_duplicates_equals_a_loop(keys: np.ndarray, seed: int, shift: int) -> None:
    rng = np.random.default_rng(seed)
    keys = keys + shift  # a wide key range takes the sort, a narrow one counting
    group = rng.integers(0, 3, len(keys))
    mask = rng.random(len(keys)) < 0.8
    seen: set[tuple[int, int]] = set()
    want = np.zeros(len(keys), dtype=bool)
    for i in range(len(keys)):
        if mask[i] and (int(group[i]), int(keys[i])) not in seen:
            seen.add((int(group[i]), int(keys[i])))
            want[i] = True
    assert np.array_equal(cl.first_of_duplicates(keys, group, mask), want)
    repeated = cl.repeated_keys(keys, mask)  # computed once for every grouping of a window
    assert np.array_equal(cl.first_of_duplicates(keys, group, mask, repeated), want)
    assert np.array_equal(
        cl.first_of_duplicates(keys, np.zeros_like(group), mask, repeated), mask & ~_later(keys, mask)
    )
    twice = [i for i in range(len(keys)) if mask[i] and int(mask[keys == keys[i]].sum()) > 1]
    assert repeated.tolist() == twice


def _later(keys: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rows of ``mask`` whose key appeared in an earlier row of ``mask``."""
    out = np.zeros(len(keys), dtype=bool)
    seen: set[int] = set()
    for i in range(len(keys)):
        if mask[i]:
            out[i] = int(keys[i]) in seen
            seen.add(int(keys[i]))
    return out


def test_pair_clusters_equal_whole_array_days_and_reference_keys() -> None:
    # gaps and padding (dropped rows), uncertain day 0s and a window past the data
    dates = pd.bdate_range("2019-01-01", periods=400)
    recs = random_event_records(np.random.default_rng(3), dates, 12, margin=1)
    recs[-1] = recs[-1] | {"timestamp": dates[-4].strftime("%Y-%m-%d"), "tz": ""}  # window past the data
    syn = build_synthetic(3, n_days=400, records=recs, drop={"AAA": 25, "MKT": 6, "CCC": [0, 1, 2]})
    study = EventStudy(syn.events, syn.prices, model="market", benchmark="MKT", min_estimation=50)
    cfg = study.config
    panel = build_panel(study.events, study.prices, study.symbols, cfg, study.mask_events, True)
    model, panel = configured_model(cfg, panel).bind(panel, study.prices, study.events, cfg)
    windows = study.engine_windows() + ((-10, 10),)
    out = compute_chunks(panel, replace(cfg, car_windows=windows), model, 20_000, None, False, "full")
    kept = panel.pairs.iloc[out.keep].reset_index(drop=True)
    got_c, got_d = pair_clusters(panel, out.car, out.car_ext, kept, windows)
    days = _filled_days(panel)
    everywhere = np.arange(len(days))
    assert np.array_equal(_filled_days_at(panel, everywhere), days)  # right padding too
    base = kept["base"].to_numpy()
    top = len(days) - 1
    eid = kept["event_id"].to_numpy(dtype=object)  # labels: the factorizing path
    reach = np.clip(base[:, None] + np.arange(-10, 13)[None, :], 0, top)
    assert np.isnat(panel.dates[reach]).any()  # some windows reach into padding
    for c, (t1, t2) in enumerate(windows):
        first = days[np.clip(base + t1, 0, top)]
        last = days[np.clip(base + t2 + out.car_ext[:, c], 0, top)]
        first = np.where(np.isfinite(out.car[:, c]), first, -1)
        assert np.array_equal(got_c[:, c], cl.cluster_labels(eid, first, last))
        rows = np.column_stack([kept["mk"].to_numpy(), first, last])
        assert np.array_equal(got_d[:, c], np.unique(rows, axis=0, return_inverse=True)[1].ravel())
    assert (got_c >= 0).any() and len(pd.unique(got_c[:, 0])) > 1


def _components_reference(event: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Clusters from the full pair × pair link matrix (scipy components), numbered by earliest day."""
    from scipy.sparse import csgraph, csr_matrix

    ok = first >= 0
    f, la, ev = first[ok], np.maximum(last[ok], first[ok]), event[ok]
    link = (ev[:, None] == ev[None, :]) | ((f[:, None] <= la[None, :]) & (f[None, :] <= la[:, None]))
    _, comp = csgraph.connected_components(csr_matrix(link), directed=False)
    start = np.array([f[comp == g].min() for g in range(comp.max() + 1)]) if len(f) else np.zeros(0)
    rank = np.argsort(np.argsort(start, kind="stable"), kind="stable")
    out = np.full(len(first), -1, dtype=np.int64)
    out[ok] = rank[comp]
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.integers(0, 2**32 - 1), st.sampled_from([3, 30, 3000]), st.integers(0, 4))
def test_cluster_labels_of_few_or_many_distinct_days_equal_the_link_matrix(
    n: int, seed: int, days: int, reach: int
) -> None:
    # few distinct days: the intervals merged once each (counting); many: sorted pair by pair
    rng = np.random.default_rng(seed)
    event = rng.integers(0, max(1, n // 5), n)
    first = rng.integers(0, days, n) + 10_000
    last = first + rng.integers(0, reach + 1, n)
    first[rng.random(n) < 0.05] = -1
    assert np.array_equal(cl.cluster_labels(event, first, last), _components_reference(event, first, last))
