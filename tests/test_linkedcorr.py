"""KP r̄ of ragged studies of any size: the linked pairs' correlations computed once, band by band."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_crosscorr_linked import _with_event_days
from test_inference_batch import _assert_same
from test_inference_kp_overlap import _reference_rbar

import eventstudy.inference.crosscorr as cc
import eventstudy.inference.crossgroups as cg
import eventstudy.inference.kpdense as kd
import eventstudy.inference.linkedcorr as lc
import eventstudy.inference.paircorr as pc
from eventstudy.inference import TESTS, Groups
from eventstudy.inference.runner import run_tests

STARTS = [0, 0, 2, 30, 31, 34, 80, 80, 200, 203, *[400] * 40, *range(500, 700, 5), *[900] * 70]


@pytest.mark.parametrize("seed", [1, 2])
def test_take_reads_the_study_matrix(seed: int) -> None:
    """Every ρ_ij the bands keep is the P × P matrix's entry (chunk by chunk: to rounding), NaN
    where the matrix has NaN (the diagonal, unlinked pairs); a chunk read twice is computed once."""
    inp, _ = _with_event_days(seed, STARTS)
    store = lc.linked_correlations(inp)
    assert store is not None
    full = cc.study_correlations(dataclasses.replace(inp, cache={}))
    n = len(STARTS)
    i, j = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    got = store.take(inp, i, j).reshape(n, n)
    assert np.array_equal(np.isnan(got), np.isnan(full))
    np.testing.assert_allclose(got, full, rtol=1e-12, atol=1e-14)
    assert np.isfinite(got).any() and np.isnan(got).any()
    assert lc.linked_correlations(inp) is store  # memoized for the study's windows
    before = store.values.copy()
    store.values[:] = np.where(np.isnan(before), before, 7.0)  # a refill would overwrite the 7s
    again = store.take(inp, i, j).reshape(n, n)
    assert np.array_equal(np.isnan(again), np.isnan(full)) and (again[np.isfinite(again)] == 7.0).all()


def test_memo_follows_the_event_days_and_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another set of event days gets its own bands; beyond the budget there is no store."""
    inp, _ = _with_event_days(3, STARTS)
    first = lc.linked_correlations(inp)
    moved = dataclasses.replace(inp, event_day=inp.event_day + 1000 * (np.arange(len(STARTS)) % 2)[:, None])
    other = lc.linked_correlations(moved)
    assert other is not None and other is not first
    assert np.isnan(other.take(moved, np.array([0]), np.array([1])))[0]  # now a thousand days apart
    monkeypatch.setattr(lc, "LINKED_ENTRIES", 10)
    assert lc.linked_correlations(dataclasses.replace(inp, cache={})) is None
    assert lc.linked_correlations(dataclasses.replace(inp, event_day=None, cache={})) is None


def _labels(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "all": np.full(n, "all", dtype=object),
        "g": np.array([f"g{k}" for k in rng.integers(0, 4, n)], dtype=object),
        "pair": np.array([f"p{k // 2:03d}" for k in range(n)], dtype=object),
    }


@pytest.mark.parametrize("seed", [4, 5])
def test_ragged_study_above_the_dense_limit_reads_the_bands(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above DENSE_LIMIT a ragged study keeps the dense route through the bands: its KP table equals
    the atoms' route and the per-group pair-by-pair reference; beyond the budget it takes the atoms."""
    inp, _ = _with_event_days(seed, STARTS)
    n = len(STARTS)
    labels = _labels(n, np.random.default_rng(seed))
    specs = [TESTS["kp_bmp_t"], TESTS["kp_patell_z"]]
    monkeypatch.setattr(cc, "DENSE_LIMIT", 10)
    monkeypatch.setattr(kd, "DENSE_LIMIT", 10)
    assert kd.dense_route(dataclasses.replace(inp, cache={}))  # ragged: the bands
    bands = run_tests({"w": dataclasses.replace(inp, cache={})}, labels, specs)
    reference = run_tests({"w": dataclasses.replace(inp, cache={})}, labels, specs, batched=False)
    monkeypatch.setattr(lc, "LINKED_ENTRIES", 10)
    assert not kd.dense_route(dataclasses.replace(inp, cache={}))  # over budget: the atoms
    atoms = run_tests({"w": dataclasses.replace(inp, cache={})}, labels, specs)
    _assert_same(bands, reference)
    _assert_same(bands, atoms)
    assert bands["statistic"].notna().sum() >= 4
    pd.testing.assert_frame_equal(bands[["group_by", "group", "n"]], atoms[["group_by", "group", "n"]])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.integers(-1, 60), min_size=3, max_size=3), min_size=1, max_size=120))
def test_linked_total_counts_the_bands_without_building_them(rows: list[list[int]]) -> None:
    """The budget's count (two binary searches per band) is Σ rows × partners of the bands."""
    days = np.array(rows, dtype=np.int64)
    want = sum(len(band) * len(partners) for band, partners in cc.linked_bands(days))
    assert lc.linked_total(days) == want


@pytest.mark.parametrize("seed", [6, 7])
def test_link_by_link_sums_equal_one_array_of_terms(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dense route's two summations (every term as one array; link by link with whole links
    added at once) give the same KP table, and the per-group pair-by-pair reference's."""
    inp, _ = _with_event_days(seed, STARTS)
    n = len(STARTS)
    rng = np.random.default_rng(seed)
    labels = _labels(n, rng) | {"event": np.array([f"e{s}" for s in STARTS], dtype=object)}
    specs = [TESTS["kp_bmp_t"], TESTS["kp_patell_z"]]
    tables = []
    for entries in (10**9, 0):  # every window as one array of terms; every window link by link
        monkeypatch.setattr(kd, "LINK_ENTRIES", entries)
        monkeypatch.setattr(kd, "TERMS_ENTRIES", 10**9)
        fresh = dataclasses.replace(inp, cache={})
        assert kd.dense_route(fresh)
        tables.append(run_tests({"w": fresh}, labels, specs))
        linked = kd._linked(fresh, np.ones(n, dtype=bool))
        assert isinstance(linked, kd._Terms if entries else kd._Links)
    monkeypatch.setattr(kd, "LINK_ENTRIES", 10**9)
    monkeypatch.setattr(kd, "TERMS_ENTRIES", 0)  # too many terms for one array: link by link
    fresh = dataclasses.replace(inp, cache={})
    assert isinstance(kd._linked(fresh, np.ones(n, dtype=bool)), kd._Links)
    reference = run_tests({"w": dataclasses.replace(inp, cache={})}, labels, specs, batched=False)
    _assert_same(tables[0], tables[1])
    _assert_same(tables[1], reference)
    assert tables[1]["statistic"].notna().sum() >= 6


def test_a_chunk_is_correlated_only_when_read() -> None:
    """Reading a band's rows against the partners of one band fills that chunk alone."""
    inp, _ = _with_event_days(8, STARTS)
    store = lc.linked_correlations(inp)
    assert store is not None
    k = int(store.band_of[len(STARTS) - 1])  # the band of the last event's pairs
    chunks = set(np.unique(store.band_of[store.partners[k]]).tolist())
    assert len(chunks) >= 2  # its partners lie in several bands
    own = store.partners[k][store.band_of[store.partners[k]] == k]
    rows = store.rows[k]
    got = store.take(inp, np.repeat(rows, len(own)), np.tile(own, len(rows)))
    assert store._filled[k] == {k} and not any(store._filled[m] for m in range(len(store.rows)) if m != k)
    full = cc.pairwise_correlation(inp.est_resid, inp.est_day)[np.ix_(rows, own)].ravel()
    np.testing.assert_allclose(got, full, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("entries", [10**9, 0])
def test_rbar_through_the_bands_equals_a_pandas_double_loop(
    entries: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """r̄ of the whole sample on the dense route, read from the bands a chunk at a time (both
    summations), against a plain double loop of numpy correlations on pandas' common dates."""
    starts = [0, 0, 1, 2, 5, 9, 9, *[20] * 36, 60, 61, 140]  # more than a band of pairs in one event
    inp, _ = _with_event_days(11, starts)
    n = len(starts)
    monkeypatch.setattr(kd, "DENSE_LIMIT", 10)  # above it: the bands, not the P × P matrix
    monkeypatch.setattr(kd, "LINK_ENTRIES", entries)
    assert kd.dense_route(inp)
    rbar, n_corr = cg.group_rbar_batch(inp, Groups.from_labels(np.full(n, "all")), np.ones(n, dtype=bool))
    assert lc.linked_correlations(inp) is not None and n_corr[0] > 0
    assert rbar[0] == pytest.approx(_reference_rbar(inp), abs=1e-12)


@pytest.mark.parametrize("seed", [4, 5])
def test_link_sum_is_the_sum_over_the_block(seed: int) -> None:
    """Σ and count of the defined ρ_ij over any two sets of pairs, whether the whole chunk less a
    few columns or the columns themselves are read: the P × P matrix's block summed directly."""
    inp, _ = _with_event_days(seed, STARTS)
    store = lc.linked_correlations(inp)
    assert store is not None
    full = cc.study_correlations(dataclasses.replace(inp, cache={}))
    rng = np.random.default_rng(seed)
    n = len(STARTS)
    for keep in (1.0, 0.97, 0.6, 0.2, 0.02):
        for _ in range(6):
            ra = np.flatnonzero(rng.random(n) < max(keep, 0.3))
            rb = np.flatnonzero(rng.random(n) < keep)
            block = full[np.ix_(ra, rb)]
            ok = np.isfinite(block)
            total, count = store.link_sum(inp, ra, rb)
            assert count == int(ok.sum())
            assert total == pytest.approx(float(block[ok].sum()), rel=1e-12, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    ga=st.lists(st.integers(0, 6), max_size=25),
    gb=st.lists(st.integers(0, 6), max_size=25),
)
def test_same_group_pairs_are_the_pairs_of_equal_codes_row_by_row(ga: list[int], gb: list[int]) -> None:
    """Property: every (a, b) with ga[a] = gb[b], once, in row-major order (a plain double loop)."""
    a, b = kd._same_group_pairs(np.array(ga, dtype=np.int64), np.array(gb, dtype=np.int64))
    expected = [(i, j) for i in range(len(ga)) for j in range(len(gb)) if ga[i] == gb[j]]
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == expected


def test_correlations_written_into_a_view_equal_a_new_array() -> None:
    """``out=``: the same numbers written into a strided view of a larger matrix, the rest untouched."""
    inp, _ = _with_event_days(6, STARTS)
    v, d = inp.est_resid, inp.est_day
    big = np.full((len(STARTS), 3 * len(STARTS)), 5.0)
    view = big[:, 10 : 10 + len(STARTS)]
    pc.pairwise_correlation(v, d, out=view)
    assert np.array_equal(view, pc.pairwise_correlation(v, d), equal_nan=True)
    half = big[:20, 200:230]
    pc.cross_correlation(v[:20], d[:20], v[40:70], d[40:70], out=half)
    assert np.array_equal(half, pc.cross_correlation(v[:20], d[:20], v[40:70], d[40:70]), equal_nan=True)
    assert (big[:, :10] == 5.0).all() and (big[20:, 200:230] == 5.0).all()
    with pytest.raises(ValueError, match="out: expected shape"):
        pc.cross_correlation(v[:20], d[:20], v[:5], d[:5], out=half)


def test_a_chunk_whose_mirror_is_filled_is_its_transpose(monkeypatch: pytest.MonkeyPatch) -> None:
    """Band k's chunk of band m's rows, once band m holds all of band k's rows filled, is copied
    transposed (ρ_ij = ρ_ji exactly) instead of correlated again; the values are the matrix's."""
    inp, _ = _with_event_days(8, STARTS)
    store = lc.linked_correlations(inp)
    assert store is not None
    full = cc.study_correlations(dataclasses.replace(inp, cache={}))
    n_bands = len(store.rows)
    everything = np.arange(len(STARTS))
    for m in range(n_bands):  # fill every band's chunks first
        store.fill(inp, m, store.column[m, everything][store.column[m, everything] >= 0])
    calls: list[int] = []
    real = lc.cross_correlation

    def counting(*args: object, **kwargs: object) -> np.ndarray:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lc, "cross_correlation", counting)
    bands = list(zip(store.rows, store.partners, strict=True))
    mirrored = 0
    for k in range(n_bands):
        for m in range(n_bands):
            at_km = np.flatnonzero(store._chunk[k] == m)
            at_mk = np.flatnonzero(store._chunk[m] == k)
            if m == k or not len(at_km) or len(at_mk) != store.height[k]:
                continue
            mirrored += 1
            fresh = lc.LinkedCorrelations(dataclasses.replace(inp, cache={}), bands)
            fresh.fill(inp, m, at_mk[:1])  # band m's chunk of band k
            n_before = len(calls)
            fresh.fill(inp, k, at_km[:1])  # band k's chunk of band m: the transpose
            assert len(calls) == n_before
            got = fresh.band(k)[:, at_km]
            back = fresh.band(m)[np.ix_(fresh.pos[store.partners[k][at_km]], at_mk)]
            assert np.array_equal(got, back.T, equal_nan=True)
            ref = full[np.ix_(store.rows[k], store.partners[k][at_km])]
            assert np.array_equal(np.isnan(got), np.isnan(ref))
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)
    assert mirrored > 0


def test_a_chunk_another_thread_is_filling_is_waited_for() -> None:
    """The runner reads from threads: a thread needing a chunk that another is filling (in place)
    waits until it is complete, and the chunk is correlated once; the sums read are a sequential
    store's."""
    inp, _ = _with_event_days(10, STARTS)
    store = lc.linked_correlations(inp)
    assert store is not None
    k = int(store.band_of[len(STARTS) - 1])
    ra = store.rows[k]
    rb = store.partners[k][store.band_of[store.partners[k]] == k]
    expected = lc.LinkedCorrelations(
        dataclasses.replace(inp, cache={}), list(zip(store.rows, store.partners, strict=True))
    )
    want = expected.link_sum(inp, ra, rb)
    entered, release = threading.Event(), threading.Event()
    filled: list[tuple[int, int]] = []
    real = store._fill_chunk

    def slow(inp_: object, k_: int, m_: int) -> None:
        filled.append((k_, m_))
        entered.set()
        assert release.wait(10)
        real(inp_, k_, m_)  # type: ignore[arg-type]

    store._fill_chunk = slow  # type: ignore[method-assign]
    first = threading.Thread(target=store.fill, args=(inp, k, store.column[k, rb]))
    first.start()
    assert entered.wait(10)
    got: list[tuple[float, int]] = []
    second = threading.Thread(target=lambda: got.append(store.link_sum(inp, ra, rb)))
    second.start()
    second.join(0.3)
    assert second.is_alive() and not got  # waiting for the chunk, not reading it half filled
    release.set()
    first.join(10)
    second.join(10)
    assert filled == [(k, k)] and got == [want]


def test_threads_read_the_bands_as_one_thread_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ragged study on the bands gives the same tests table with the windows on two threads as on
    one, run after run (the chunks filled in place are never read half written)."""
    inp, _ = _with_event_days(11, STARTS)
    labels = _labels(len(STARTS), np.random.default_rng(11))
    specs = [TESTS["kp_bmp_t"], TESTS["kp_patell_z"]]
    monkeypatch.setattr(cc, "DENSE_LIMIT", 10)
    monkeypatch.setattr(kd, "DENSE_LIMIT", 10)
    cuts = [(0, 1), (1, 2), (2, 3), (0, 2), (1, 3), (0, 3)]
    windows = {f"w{a}{b}": dataclasses.replace(inp, window_day=inp.window_day[:, a:b]) for a, b in cuts}

    def table(threads: int) -> pd.DataFrame:
        shared: dict[object, object] = {}  # the windows of one study share its memo (and its bands)
        fresh = {w: dataclasses.replace(v, cache=shared) for w, v in windows.items()}
        return run_tests(fresh, labels, specs, threads=threads)

    one = table(1)
    assert one["statistic"].notna().sum() >= 12
    for _ in range(4):
        pd.testing.assert_frame_equal(table(2), one)
