"""The estimation-window tests of a per-pair study, accumulated chunk by chunk of pairs.

A study run with ``detail="pairs"`` (:meth:`eventstudy.EventStudy.run`) keeps
no pairs × days array. The tests that read the estimation window
(``TestSpec.uses_estimation``) are nevertheless sums over pairs, by group, of
per-pair rows, followed by a few operations per group. This module computes
the study again chunk by chunk of consecutive pairs (:func:`~eventstudy.chunks.iter_chunks`,
in this process or on an executor, the same chunks as the first pass), builds
each chunk's estimation arrays, adds the chunk's group sums to running totals
and drops the chunk; the statistics are then taken from the totals with the
tests' own code. So the numbers equal those of a ``detail="full"`` run up to
the order of floating-point additions (about 1e-15 relative), whatever the
chunk size or the executor.

What is accumulated (G groups, T estimation days, K placebo positions):

* ``gen_sign_z`` — per pair, the positive and the available estimation ARs
  (two P-vectors);
* ``cda_t`` — per group and estimation day, Σ AR and the count (G × T);
* ``placebo`` — per group and position, Σ placebo CAR and the count (G × K,
  per window length);
* ``corrado_rank`` — ranks are within each pair, so a chunk ranks its own
  pairs; per group and combined day Σ D and the count (G × (T + W)), and per
  group Σ U_i, the pairs with a window day and the longest window;
* ``grank_t`` — the day-0 value GSAR_i0 = SCAR_i / S_SCAR needs the group's
  SCAR spread, taken from all pairs (the first pass); per group and day N_t
  and Σ U_it (G × T) and Σ U_i0.

Not accumulated: ``kp_bmp_t`` and ``kp_patell_z`` (:data:`NOT_STREAMED`).

Memory: a chunk's sums cover only the groups its pairs touch, and a group's
tests are finished, and its totals dropped, as soon as the chunk holding its
last pair is in (:mod:`eventstudy.streamtotals`), so the by-market totals of
a universe stay at about one chunk's markets. The pass is the study's last
engine work: it releases the panel's prefix sums when done
(:func:`~eventstudy.chunks.release_engine_caches`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .chunks import iter_chunks, release_engine_caches
from .heap import trim_heap
from .inference.base import TestInput, TestSpec
from .inference.grouped import BatchResult, Groups, digest, group_products, moments
from .inference.parametric import _est_filled, cda_batch
from .inference.placebo import _placebo_length, _running, placebo_batch, placebo_group_sums
from .inference.ranks import corrado_columns, corrado_result, corrado_sums, grank_result, grank_sums
from .inference.signs import _est_signs, gen_sign_batch
from .streamtotals import GroupIndex, Local, Part, Stitch, Totals, count_dtype, local_groups, subset_input

if TYPE_CHECKING:
    from .panel import Panel
    from .study import EventStudy

__all__ = ["NOT_STREAMED", "STREAMED", "streamed_specs"]

#: Estimation-window tests that a ``detail="pairs"`` study accumulates chunk by chunk.
STREAMED: tuple[str, ...] = ("cda_t", "corrado_rank", "grank_t", "gen_sign_z", "placebo")

#: Estimation-window tests that cannot be accumulated over chunks of pairs, and why.
NOT_STREAMED: dict[str, str] = {
    name: (
        "its r̄ averages the correlations of every two pairs of a group on their common "
        "dates, so a chunk's pairs meet the pairs of every other chunk (O(P²) pairs, or "
        "atoms of pairs standardized on the dates each atom shares with every other one)"
    )
    for name in ("kp_bmp_t", "kp_patell_z")
}

Key = tuple[object, ...]


@dataclass
class _Job:
    """One window × grouping of the battery, with its study-wide (per-pair) input."""

    window: str
    grouping: str
    inp: TestInput
    groups: Groups
    mask: np.ndarray  # pairs with a CAR
    mkey: bytes
    smask: np.ndarray  # pairs with a SCAR (grank_t)
    smkey: bytes
    sd: np.ndarray  # the groups' SCAR spread (grank_t)
    length: np.ndarray  # placebo window lengths
    lkey: bytes
    cdtype: np.dtype[Any]  # counts of pairs per group (:func:`~eventstudy.streamtotals.count_dtype`)


def _pad(a: np.ndarray, width: int) -> np.ndarray:
    """``a`` with zero columns added on the right up to ``width``."""
    if a.shape[1] == width:
        return a
    out = np.zeros((a.shape[0], width))
    out[:, : a.shape[1]] = a
    return out


def streamed_specs(
    study: EventStudy,
    panel: Panel,
    keep: np.ndarray,
    sets: Sequence[tuple[Mapping[str, TestInput], Mapping[str, np.ndarray]]],
    specs: Sequence[TestSpec],
    chunk_size: int,
    executor: Executor | None = None,
) -> list[TestSpec]:
    """``specs`` with each :data:`STREAMED` test replaced by its accumulated results.

    Parameters
    ----------
    study : EventStudy
        The study (its configuration, model and per-chunk test inputs).
    panel : Panel
        The study's panel.
    keep : ndarray of int
        The included pairs (rows of ``panel.pairs``), in order; the rows of the inputs.
    sets : sequence of (inputs, labels)
        The windows and groupings the runner will be called with
        (:func:`~eventstudy.inference.runner.run_tests`): per-pair inputs
        without estimation arrays, and the group label of every pair.
    specs : sequence of TestSpec
        The tests to run.
    chunk_size : int
        Pairs per chunk (as in the first pass).
    executor : Executor, optional
        Where the chunks' engine work runs (as in the first pass).

    Returns
    -------
    list of TestSpec
        The same tests; a streamed test's batch form looks its results up.
    """
    names = {s.name for s in specs if s.name in STREAMED}
    if not names or len(keep) == 0:
        return list(specs)
    jobs = _jobs(sets)
    by_window: dict[str, list[int]] = {}
    for k, job in enumerate(jobs):
        by_window.setdefault(job.window, []).append(k)
    totals = Totals()
    index = {id(job.groups): GroupIndex(job.groups) for job in jobs}
    stitch = [{name: Stitch(job.groups.size) for name in names} for job in jobs]
    of_groups: dict[int, list[int]] = {}
    for k, job in enumerate(jobs):
        of_groups.setdefault(id(job.groups), []).append(k)

    def close(gid: int, done: np.ndarray) -> None:
        """Finish the tests of the complete groups ``done`` of grouping ``gid``; drop their totals."""
        part = index[gid].part(done)
        for k in of_groups[gid]:
            for name, res in _finish(totals, k, jobs[k], names, signs, width, part).items():
                stitch[k][name].put(done, res)
        totals.drop(jobs[of_groups[gid][0]].grouping, done)

    ecfg = replace(study.config, car_windows=study.engine_windows())
    n_pairs = len(keep)
    signs = (np.zeros(n_pairs), np.zeros(n_pairs))
    width: dict[str, int] = {}
    # no t and p: the tests read the CARs and estimation arrays only
    chunks = iter_chunks(
        panel, ecfg, study.model, chunk_size, executor, True, "full", bounded=True, stats_windows=0
    )
    for cout in chunks:
        if len(cout.keep) == 0:
            continue
        pos = np.searchsorted(keep, cout.keep)
        kept = panel.pairs.iloc[cout.keep].reset_index(drop=True)
        dummy = np.zeros((len(pos), len(ecfg.car_windows)), dtype=np.int64)
        cin, _ = study._test_inputs(panel, cout, kept, dummy, dummy)
        width.setdefault("T", cout.est_day.shape[1])
        width.setdefault("W", len(cout.rel))
        totals.new_chunk()
        if "gen_sign_z" in names:
            pos_c, m_c = _est_signs(next(iter(cin.values())))
            signs[0][pos], signs[1][pos] = pos_c, m_c
        cgroups: dict[int, Local] = {}
        for window, ks in by_window.items():
            ci = cin[window]
            for k in ks:
                job = jobs[k]
                lg = cgroups.get(id(job.groups))
                if lg is None:
                    lg = cgroups[id(job.groups)] = local_groups(job.groups, pos, job.cdtype)
                _accumulate(totals, k, job, ci, lg, pos, names, width)
            ci.memo.clear()  # the window's own arrays, before the next window's (as the runner does)
        del cin, ci, cout
        for gid, lg in cgroups.items():  # groups whose last pair was in this chunk
            done = index[gid].complete(lg.rows, int(pos[-1]))
            if len(done):
                close(gid, done)
    release_engine_caches(panel)  # the last engine pass of the study: its prefix sums can go
    for gid, idx in index.items():  # groups open to the end (spread over the study)
        rest = np.flatnonzero(~idx.closed)
        if len(rest):
            close(gid, rest)
    results: dict[Key, dict[str, BatchResult]] = {}
    for k, job in enumerate(jobs):
        res = {name: st.result() for name, st in stitch[k].items()}
        results.setdefault((id(job.inp), digest(job.groups.codes), job.groups.names), {}).update(res)
    totals.data.clear()
    trim_heap()
    return [_lookup(spec, results) if spec.name in names else spec for spec in specs]


def _jobs(sets: Sequence[tuple[Mapping[str, TestInput], Mapping[str, np.ndarray]]]) -> list[_Job]:
    made: dict[int, Groups] = {}
    cdtypes: dict[int, np.dtype[Any]] = {}
    per_input: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, tuple[bytes, bytes, bytes]]] = {}
    same: dict[bytes, np.ndarray] = {}
    jobs = []
    for inputs, labels in sets:
        for gb, lab in labels.items():
            groups = made.setdefault(id(lab), Groups.from_labels(lab))
            cdtype = cdtypes.setdefault(id(lab), count_dtype(groups))
            for w, inp in inputs.items():
                if id(inp) not in per_input:  # one set of masks per window, shared by its groupings
                    arrays = (np.isfinite(inp.car), np.isfinite(inp.scar), _placebo_length(inp))
                    keys = (digest(arrays[0]), digest(arrays[1]), digest(arrays[2]))
                    # windows with equal masks (and lengths) share one array
                    mask, smask, length = (same.setdefault(k, a) for k, a in zip(keys, arrays, strict=True))
                    per_input[id(inp)] = (mask, smask, length, keys)
                mask, smask, length, keys = per_input[id(inp)]
                sd = moments(groups, inp.scar, smask).sd
                jobs.append(
                    _Job(w, gb, inp, groups, mask, keys[0], smask, keys[1], sd, length, keys[2], cdtype)
                )
    return jobs


def _accumulate(
    totals: Totals,
    k: int,
    job: _Job,
    ci: TestInput,
    lg: Local,
    pos: np.ndarray,
    names: set[str],
    width: Mapping[str, int],
) -> None:
    """Add one chunk's group sums of job ``k`` to ``totals`` (the groups the chunk touches)."""
    gb, cm, cg, at_g = job.grouping, job.mask[pos], lg.groups, (lg.rows, lg.cdtype)
    if "cda_t" in names:
        sums, cnt = group_products(ci, cg, cm, "est_day_sums", _est_filled(ci))
        totals.add(("cda", gb, job.mkey), *at_g, sums, cnt, counts=(1,))
    if "placebo" in names:
        _placebo_sums(totals, job, ci, lg, cm, width["T"])
    if "corrado_rank" in names:
        sums, cnt, u_total, n_u, big_l = corrado_sums(ci, cg, cm)
        t, cols = width["T"], corrado_columns(ci)
        at = np.concatenate([np.arange(t), t + cols])
        full_s, full_c = np.zeros((cg.size, t + width["W"])), np.zeros((cg.size, t + width["W"]))
        full_s[:, at], full_c[:, at] = sums, cnt
        shared = ci.cache.get("corrado_base")
        window_free = isinstance(shared, tuple) and shared[1][2] is cols
        skey: Key = ("corrado", gb, job.mkey) if window_free else ("corrado", gb, job.mkey, job.window)
        totals.add(skey, *at_g, full_s, full_c, counts=(1,))
        totals.add(("corrado_u", gb, k), *at_g, u_total, n_u)
        totals.fmax(("corrado_l", gb, k), lg.rows, big_l)
    if "grank_t" in names:
        sm = job.smask[pos]
        n_t, sum_u, u0 = grank_sums(ci, cg, sm, job.sd[lg.rows])
        totals.add(("grank_n", gb, job.smkey), *at_g, n_t, counts=(0,))
        u0_sums = np.bincount(cg.codes[sm], weights=u0, minlength=cg.size)
        totals.add(("grank", gb, k), *at_g, sum_u, u0_sums)


def _equal_span(job: _Job, t: int) -> int:
    """The pairs' common placebo window length when all are equal and fit (else 0)."""
    length = job.length
    if len(length) and t and length.min() == length.max() and length[0] <= t:
        return int(length[0])
    return 0


def _placebo_sums(totals: Totals, job: _Job, ci: TestInput, lg: Local, cm: np.ndarray, t: int) -> None:
    """Add a chunk's placebo sums of a job (see :func:`~eventstudy.inference.placebo.placebo_caar_groups`).

    With one window length L for every pair, the group sums of the running
    sums (G × (T + 1), shared by all lengths) and the counts of pairs without
    an available day at each position; otherwise the group sums of the
    placebo CARs and their counts, padded to the study's K positions.
    """
    gb, cg, at_g = job.grouping, lg.groups, (lg.rows, lg.cdtype)
    span = _equal_span(job, t)
    if span:
        if totals.wants(("placebo_cs", gb, job.mkey)):
            (cs,) = group_products(ci, cg, cm, "running_group_sums", (_running(ci)[0],))
            totals.add(("placebo_cs", gb, job.mkey), *at_g, cs)
        ekey: Key = ("placebo_empty", gb, job.mkey, job.lkey)
        if totals.wants(ekey):
            k = t - span + 1
            # the pairs' empty positions do not depend on the grouping: found once per chunk
            hit = ci.cache.get(("placebo_empty_at", job.mkey, span))
            if not isinstance(hit, tuple):
                ccnt = _running(ci)[1]
                rows = np.flatnonzero(cm)
                empty_i, empty_k = np.nonzero(ccnt[rows, span : span + k] == ccnt[rows, :k])
                hit = (rows[empty_i], empty_k)
                ci.cache[("placebo_empty_at", job.mkey, span)] = hit
            empty_p, empty_k = hit
            empty = np.bincount(cg.codes[empty_p] * k + empty_k, minlength=cg.size * k)
            totals.add(ekey, *at_g, empty.reshape(cg.size, k), counts=(0,))
        return
    lmin = int(job.length.min())
    k_all = t - lmin + 1 if lmin <= t else 0
    pkey: Key = ("placebo", gb, job.mkey, job.lkey)
    if totals.wants(pkey):
        total, count = placebo_group_sums(ci, cg, cm)
        totals.add(pkey, *at_g, _pad(total, k_all), _pad(count, k_all), counts=(1,))


def _placebo_caars(totals: Totals, job: _Job, t: int, part: Part, mask: np.ndarray) -> np.ndarray:
    """The placebo CAARs (groups × K) of the groups of ``part`` from the totals of :func:`_placebo_sums`."""
    gb, done = job.grouping, part.done
    span = _equal_span(job, t)
    if span:
        k = t - span + 1
        (cs,) = totals.take(("placebo_cs", gb, job.mkey), done)
        (empty,) = totals.take(("placebo_empty", gb, job.mkey, job.lkey), done)
        total = cs[:, span : span + k] - cs[:, :k]
        count = part.groups.count(mask)[:, None] - empty.astype(np.int64)
    else:
        total, count = totals.take(("placebo", gb, job.mkey, job.lkey), done)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / np.where(count > 0, count, np.nan))


def _finish(
    totals: Totals,
    k: int,
    job: _Job,
    names: set[str],
    signs: tuple[np.ndarray, np.ndarray],
    width: Mapping[str, int],
    part: Part,
) -> dict[str, BatchResult]:
    """The streamed tests' results of job ``k`` for the complete groups of ``part`` (the tests' own code).

    The tests run on the groups' pairs alone (:func:`~eventstudy.streamtotals.subset_input`)
    with their totals in a private memo: each group's numbers are those of the
    whole study (every group sum runs over the group's own pairs, in order).
    """
    gb, groups, done, idx = job.grouping, part.groups, part.done, part.idx
    ginp = subset_input(job.inp, idx)  # a private memo, filled with the totals
    mask, smask = job.mask[idx], job.smask[idx]
    mkey = digest(mask)
    out: dict[str, BatchResult] = {}
    if "gen_sign_z" in names:
        ginp.cache["est_signs"] = (signs[0][idx], signs[1][idx])
        out["gen_sign_z"] = gen_sign_batch(ginp, groups)
    if "cda_t" in names:
        ginp.cache[("est_day_sums", groups.uid, mkey)] = tuple(
            np.asarray(a, dtype="float64") for a in totals.take(("cda", gb, job.mkey), done)
        )
        out["cda_t"] = cda_batch(ginp, groups)
    if "placebo" in names:
        caars = _placebo_caars(totals, job, width["T"], part, mask)
        ginp.cache[("placebo_groups", groups.uid, mkey, digest(job.length[idx]))] = caars
        out["placebo"] = placebo_batch(ginp, groups)
    if "corrado_rank" in names:
        skey: Key = ("corrado", gb, job.mkey)
        if not totals.has(skey):
            skey = ("corrado", gb, job.mkey, job.window)
        s_sum, s_cnt = totals.take(skey, done)
        u_total, n_u = totals.take(("corrado_u", gb, k), done)
        (big_l,) = totals.take(("corrado_l", gb, k), done)
        out["corrado_rank"] = corrado_result(
            groups.count(mask), s_sum, s_cnt.astype("float64"), u_total, n_u, big_l
        )
    if "grank_t" in names:
        n_t = totals.take(("grank_n", gb, job.smkey), done)[0].astype("float64")
        sum_u, u0_total = totals.take(("grank", gb, k), done)
        m = moments(groups, ginp.scar, smask)
        out["grank_t"] = grank_result(m, n_t, sum_u, u0_total)
    return out


def _lookup(spec: TestSpec, results: Mapping[Key, Mapping[str, BatchResult]]) -> TestSpec:
    """``spec`` whose batch form returns the accumulated results of its window and grouping."""

    def batch(inp: TestInput, groups: Groups) -> BatchResult:
        return results[(id(inp), digest(groups.codes), groups.names)][spec.name]

    return replace(spec, batch=batch, batch_windows=None, uses_estimation=False)
