"""Generalized rank test of Kolari and Pynnönen (2011) (GRANK, formula sheet §5.8).

The estimation-window SARs are sorted within each pair once per study, a
block of pairs at a time (:func:`~eventstudy.inference.rowblocks.sorted_rank_parts`;
:func:`~eventstudy.inference.rowsort.sort_rows` where a value leaves the
packed keys' range), and kept in ``inp.cache``;
the day-0 value of each pair is placed among them by a binary search, and
the per-day counts of estimation days above day 0 come from
:mod:`eventstudy.inference.grankcounts`, so no pair is looped over.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from .availcounts import Cells, available_counts, missing_cells, rare_cells
from .base import TestInput, TestResult, finite_subset, not_applicable, t_p
from .grankcounts import DIRECT_CELLS, SCRATCH_KEY, above_sums, segment_counts, weight_runs
from .grouped import (
    BatchResult,
    GroupMoments,
    Groups,
    digest,
    moments,
    t_p_array,
    windows_together,
)
from .groupsums import BlockRows, products_together
from .rowblocks import block_ranks, sorted_rank_parts, sorted_ranks
from .rowsearch import count_sorted_below
from .rowsort import first_order_ranks, sort_rows

__all__ = ["grank_batch", "grank_result", "grank_sums", "grank_t", "grank_windows"]


def _est_parts(inp: TestInput) -> None:
    """One row-wise sort of ``est_sar`` gives GRANK's estimation-window arrays (in ``inp.cache``).

    ``est_sar_ranks``: the ranks (0 where missing; ``None`` when they follow
    from the first ordinals and ``est_sar_tied``, the tied elements' ranks, a
    block of pairs at a time, :func:`_rank_rows`) and M_i;
    ``est_sar_cells``: the availability's rarer cells
    (:func:`~eventstudy.inference.availcounts.rare_cells`, for N_t; the
    missing ones straight from the sort where they are the fewer);
    ``est_sar_sorted``: each row sorted, NaN last; ``est_sar_first``: the
    first ordinals (:meth:`RowSort.first_ordinals`, 16-bit where the days
    allow), or ``False`` when ``est_sar`` has an infinity; ``est_sar_order``:
    the column at each sorted position (same integer type).
    """
    small = np.int16 if inp.est_sar.shape[1] < 2**15 - 1 else np.int32
    first: np.ndarray | bool
    r: np.ndarray | None = None
    cells: Cells | None = None
    parts = sorted_rank_parts(inp.est_sar, small)  # a block of pairs at a time
    if parts is not None:  # no infinity: M_i are the non-NaN values
        inp.cache["est_sar_sorted"], first, order, inp.cache["est_sar_tied"], m, _ = parts
        cells = missing_cells(parts.missing, inp.est_sar.shape)
    else:
        m = np.isfinite(inp.est_sar).sum(axis=1)
        srt = sort_rows(inp.est_sar)
        inp.cache["est_sar_sorted"] = srt.values
        if np.array_equal(m, srt.count):  # the ranks over the sort's spent index memory
            first, order, r = first_order_ranks(srt, small)
        else:  # an infinity: ranked, not counted in M_i
            first, r = False, np.where(np.isfinite(inp.est_sar), srt.ranks(), 0.0)
            offset = (np.arange(srt.shape[0], dtype=np.intp) * srt.shape[1])[:, None]
            order = np.subtract(srt.flat, offset, dtype=small, casting="unsafe")
    inp.cache["est_sar_ranks"] = (r, m.astype("float64"))
    inp.cache["est_sar_cells"] = rare_cells(np.isfinite(inp.est_sar)) if cells is None else cells
    inp.cache["est_sar_first"] = first
    inp.cache["est_sar_order"] = order


def _est_part(inp: TestInput, key: str) -> Any:
    """Entry ``key`` of :func:`_est_parts`: computed on the first request, then read from ``inp.cache``."""
    if key not in inp.cache:
        _est_parts(inp)
    return inp.cache[key]


def _est_ranks(inp: TestInput) -> tuple[np.ndarray | BlockRows, np.ndarray]:
    """Estimation-window ranks of ``est_sar`` per pair (0 where missing) and M_i.

    The ranks as an array, or as :class:`~eventstudy.inference.groupsums.BlockRows`
    that make them a block of pairs at a time (:func:`_rank_rows`). Memoized
    in ``inp.cache`` (depends on ``est_sar`` only; see :func:`_est_parts`).
    """
    r, m = cast(tuple[np.ndarray | None, np.ndarray], _est_part(inp, "est_sar_ranks"))
    if r is None and inp.est_sar.size <= DIRECT_CELLS:  # a small study: the ranks kept whole
        r = _rank_rows(inp, slice(0, inp.est_sar.shape[0]))
        inp.cache["est_sar_ranks"] = (r, m)
    if r is None:
        return BlockRows(inp.est_sar.shape, lambda lo, hi, out: _rank_rows(inp, slice(lo, hi), out)), m
    return r, m


def _rank_rows(inp: TestInput, rows: slice | np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The estimation-window ranks of ``est_sar[rows]`` (0 where missing; float64), into ``out``."""
    r, _ = cast(tuple[np.ndarray | None, np.ndarray], _est_part(inp, "est_sar_ranks"))
    if r is not None:
        if out is None:
            return r[rows]
        out[...] = r[rows]
        return out
    first = cast(np.ndarray, _est_part(inp, "est_sar_first"))  # an array whenever r is None
    if isinstance(rows, slice):
        lo, hi, _ = rows.indices(len(first))
        tied = cast(tuple[np.ndarray, np.ndarray], inp.cache["est_sar_tied"])
        return block_ranks(first, tied, lo, hi, np.empty((hi - lo, first.shape[1])) if out is None else out)
    return sorted_ranks(_sorted_est(inp)[rows], first[rows], _est_order(inp)[rows], out)


def _est_first(inp: TestInput) -> np.ndarray | None:
    """First ordinals of ``est_sar`` (memoized, :func:`_est_parts`); ``None`` if it has an infinity.

    SAR_it > x exactly when its first ordinal exceeds the pair's count of
    SARs ≤ x, so one compare of small integers tells every estimation day
    above GRANK's day 0.
    """
    hit = _est_part(inp, "est_sar_first")
    return hit if isinstance(hit, np.ndarray) else None


def grank_t(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Generalized rank test of Kolari and Pynnönen (2011) (formula sheet §5.8).

    1. SCAR_i = CAR_i / √(γ'V_iγ) (exact prediction-error corrected, §5.2);
    2. SCAR*_i = SCAR_i / S_SCAR, S_SCAR the cross-sectional standard deviation
       (N − 1) of the group's SCARs (no KP factor, unlike eventstudy2);
    3. GSAR_it = SAR_it = ε̂_it/σ̂_i on the estimation days and GSAR_i0 = SCAR*_i
       (the CAR window collapsed into one day 0);
    4. U_it = rank(GSAR_it)/(T_i + 1) − ½, T_i = M_i + 1 available days of pair i;
    5. Ū_t = N_t⁻¹ Σ_i U_it, S_Ū = √(T⁻¹ Σ_t (N_t/N) Ū_t²) over the T days
       (estimation days with N_t > 0, plus day 0), Z = Ū_0 / S_Ū;
    6. t_grank = Z √((T − 2)/(T − 1 − Z²)), two-sided p from t(T − 2).

    The statistic is t_grank; Z is written in the note (EST reports both).
    Needs N ≥ 2 (for S_SCAR). The estimation SARs are not re-standardized for
    prediction error (KP 2011). Invariant to rescaling all returns.
    """
    used = finite_subset(inp.scar, idx)
    n = len(used)
    if n < 2:
        return not_applicable(n, "needs at least 2 pairs")
    scar = inp.scar[used]
    s_scar = float(np.std(scar, ddof=1))
    if not s_scar > 0.0 or not np.max(scar) > np.min(scar):
        return not_applicable(n, "no cross-sectional variation of SCAR")
    g0 = scar / s_scar
    _, m_est = _est_ranks(inp)
    est = inp.est_sar[used]  # NaN compares false: missing days count nowhere
    below = est < g0[:, None]
    tie = est == g0[:, None]
    above = est > g0[:, None]
    t_i = m_est[used] + 1.0
    a = 1.0 / (t_i + 1.0)
    # rank of day 0 among the pair's T_i values, and Σ_i U_it of the estimation days:
    # rank_it = rank among estimation days + 1{GSAR_i0 below} (+ ½ on a tie)
    rank0 = 1.0 + below.sum(axis=1) + 0.5 * tie.sum(axis=1)
    u0 = rank0 * a - 0.5
    n_t = np.isfinite(est).sum(axis=0).astype("float64")
    sum_u = a @ _rank_rows(inp, used) + a @ above + 0.5 * (a @ tie) - 0.5 * n_t
    have = n_t > 0
    ubar_t = sum_u[have] / n_t[have]
    ubar0 = float(u0.mean())
    big_t = int(have.sum()) + 1
    s_u = float(np.sqrt((np.sum(n_t[have] / n * ubar_t**2) + ubar0**2) / big_t))
    if not s_u > 0.0:
        return not_applicable(n, "ranks have no variation")
    z = ubar0 / s_u
    if big_t < 3 or big_t - 1 - z * z <= 0.0:
        return not_applicable(n, f"t_grank undefined (T={big_t}, Z={z:.4f})")
    t = float(z * np.sqrt((big_t - 2) / (big_t - 1 - z * z)))
    return TestResult(t, t_p(t, big_t - 2), n, f"Z={z:.4f}; T={big_t}")


def _sorted_est(inp: TestInput) -> np.ndarray:
    """``est_sar`` sorted within each row, NaN last (memoized, :func:`_est_parts`)."""
    return cast(np.ndarray, _est_part(inp, "est_sar_sorted"))


def _est_order(inp: TestInput) -> np.ndarray:
    """The column at each sorted position of every row of ``est_sar`` (memoized, :func:`_est_parts`)."""
    return cast(np.ndarray, _est_part(inp, "est_sar_order"))


def _count_below(inp: TestInput, rows: np.ndarray, x: np.ndarray, *, or_equal: bool = False) -> np.ndarray:
    """Per row of ``est_sar[rows]``: how many values are < ``x`` (≤ ``x`` with ``or_equal``).

    A binary search of all rows at once in the row-sorted ``est_sar``
    (sorted once per study, memoized in ``inp.cache``). The groupings of a
    window differ in day 0 only by their groups' SCAR spread, so the last
    grouping's counts (``inp.memo``) are tried first and only the pairs they
    miss are searched.
    """
    if len(rows) * inp.est_sar.shape[1] <= DIRECT_CELLS and _est_first(inp) is not None:
        # a small study without infinities: one compare of the rows (NaN counts nowhere)
        est = inp.est_sar[rows]
        with np.errstate(invalid="ignore"):
            hit = np.less_equal(est, x[:, None]) if or_equal else np.less(est, x[:, None])
        return np.count_nonzero(hit, axis=1).astype("float64")
    srt = _sorted_est(inp)
    _, m = _est_ranks(inp)
    key = ("grank_below", or_equal)
    last = inp.memo.get(key)
    hint = last[1] if isinstance(last, tuple) and np.array_equal(last[0], rows) else None
    count = count_sorted_below(srt, rows, x, or_equal=or_equal, hint=hint)
    inp.memo[key] = (rows, count)
    return np.minimum(count, m[rows]).astype("float64")  # at most M_i (as the infinities count)


def _available(inp: TestInput, groups: Groups, mask: np.ndarray) -> np.ndarray:
    """N_t per group and estimation day over the pairs with ``mask`` (memoized in ``inp.cache``)."""
    key = ("grank_n", groups.uid, digest(mask))
    hit = inp.cache.get(key)
    if isinstance(hit, np.ndarray):
        return hit
    out = available_counts(cast(Cells, _est_part(inp, "est_sar_cells")), groups, mask)
    inp.cache[key] = out
    return out


def grank_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`grank_t` for every group of ``groups`` at once."""
    mask = np.isfinite(inp.scar)
    m = moments(groups, inp.scar, mask)
    n_t, sum_u, u0 = grank_sums(inp, groups, mask, m.sd)
    u0_total = np.bincount(groups.codes[mask], weights=u0, minlength=groups.size)
    return grank_result(m, n_t, sum_u, u0_total)


def grank_windows(inputs: Sequence[TestInput], groups: Groups) -> list[BatchResult]:
    """:func:`grank_batch` for every window of ``inputs`` (the runner's ``batch_windows``).

    When the runner has announced its groupings
    (:data:`~eventstudy.inference.grouped.GROUPINGS_KEY` in the first
    input's memo), every announced grouping of a window is computed at once,
    window after window, and the other groupings' results are kept in that
    memo for their calls; a window's shared counts are dropped once its
    groupings are done. A grouping counted whole on its own
    (:func:`~eventstudy.inference.grankcounts.above_counts`) compares in one
    scratch array that all windows share instead of a fresh P × T array
    each; the atoms and :func:`~eventstudy.inference.grankcounts.above_sums`
    compare a block of pairs at a time.
    """
    if not inputs:
        return []

    def compute(together: list[Groups]) -> list[list[BatchResult]]:
        scratch: dict[str, object] = {}
        results: list[list[BatchResult]] = [[] for _ in together]
        for inp in inputs:
            inp.memo[SCRATCH_KEY] = scratch
            try:
                for out, g in zip(results, together, strict=True):
                    out.append(grank_batch(inp, g))
            finally:
                for key in [k for k in inp.memo if k == SCRATCH_KEY or _window_part(k)]:
                    del inp.memo[key]
        return results

    return windows_together("grank_windows", inputs, groups, compute)


def _window_part(key: object) -> bool:
    """Whether ``key`` names one of GRANK's per-window intermediates in ``inp.memo``."""
    return isinstance(key, tuple) and key[0] in ("grank_atoms", "grank_base", "grank_below")


def grank_sums(
    inp: TestInput, groups: Groups, mask: np.ndarray, sd: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sums over pairs behind :func:`grank_batch`, given the groups' SCAR spread ``sd``.

    Returns ``(n_t, sum_u, u0)``: N_t and Σ_i U_it per group and estimation
    day (G × T), and U_i0 of each pair with ``mask`` (in pair order). Both
    sums add up over disjoint sets of pairs, so a study can compute them
    chunk by chunk of pairs (:mod:`eventstudy.streamtests`) with ``sd`` taken
    from all pairs.
    """
    rows = np.flatnonzero(mask)
    codes = groups.codes[rows]
    with np.errstate(invalid="ignore", divide="ignore"):
        g0 = inp.scar[rows] / sd[codes]
    r_est, m_est = _est_ranks(inp)
    a = 1.0 / (m_est + 2.0)  # 1/(T_i + 1), T_i = M_i + 1
    n_t = _available(inp, groups, mask)
    rank_sum = products_together(inp, groups, mask, "grank_a", r_est, a)
    first = _est_first(inp)
    if first is not None:  # SAR_it > g0_i ⇔ its first ordinal > #(SAR_i ≤ g0_i): a compare of integers
        n_le = np.where(np.isnan(g0), m_est[rows], _count_below(inp, rows, g0, or_equal=True))
    else:
        est = inp.est_sar if len(rows) == len(mask) else inp.est_sar[rows]
        with np.errstate(invalid="ignore"):
            above = np.greater(est, g0[:, None]).astype(np.float32)  # 0/1 exactly; NaN counts 0
        n_le = m_est[rows] - above.sum(axis=1, dtype=np.float64)
    srt = _sorted_est(inp)
    at = np.clip(n_le.astype(np.int64) - 1, 0, max(srt.shape[1] - 1, 0))
    n_below, n_tie = n_le, np.zeros(len(rows))
    tied = bool(((n_le > 0) & (srt[rows, at] == g0)).any())
    if tied:  # a day-0 value equal to estimation values: they count half
        n_below = _count_below(inp, rows, g0)
        n_tie = n_le - n_below
    # estimation days above day 0, counted per day for each run of pairs with the
    # same group and the same weight a_i (the window's groupings share the work)
    if first is not None:
        order = _est_order(inp)
        runs, weighted = above_sums(inp, groups, mask, a, n_le, first, order)
    else:
        runs = weight_runs(inp, groups, mask, a)
        counts = np.asarray(runs.matrix @ above, dtype=np.float64)  # 0/1 sums, exact in float32
        weighted = np.asarray(runs.weight @ counts)
    sum_u = rank_sum - 0.5 * n_t + weighted
    if tied:  # the days equal to day 0 count half
        if first is not None:  # at sorted positions n_below … n_le − 1 (none for a NaN day 0)
            lo = n_below.astype(np.int64)
            hi = np.where(np.isnan(g0), lo, n_le.astype(np.int64))
            same = segment_counts(order, rows, lo, hi, runs.run_of, np.ones(len(rows)), runs.size)
        else:
            with np.errstate(invalid="ignore"):
                same = np.asarray(runs.matrix @ (est == g0[:, None]).astype(np.float32), dtype=np.float64)
        sum_u = sum_u + 0.5 * np.asarray(runs.weight @ same)
    u0 = (1.0 + n_below + 0.5 * n_tie) * a[rows] - 0.5
    return n_t, sum_u, u0


def grank_result(m: GroupMoments, n_t: np.ndarray, sum_u: np.ndarray, u0_total: np.ndarray) -> BatchResult:
    """:func:`grank_batch`'s statistics from :func:`grank_sums`.

    ``m`` holds the groups' SCAR moments, ``u0_total`` the group sums Σ_i U_i0.
    """
    n = m.n
    have = n_t > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        ubar_t = np.where(have, sum_u / np.where(have, n_t, 1.0), 0.0)
        ubar0 = u0_total / n
        big_t = have.sum(axis=1) + 1
        s_u = np.sqrt(((n_t / n[:, None]) * ubar_t**2 * have).sum(axis=1) + ubar0**2) / np.sqrt(big_t)
        z = ubar0 / s_u
        t = z * np.sqrt((big_t - 2) / (big_t - 1 - z * z))
    notes = [f"Z={zz:.4f}; T={tt}" for zz, tt in zip(z, big_t, strict=True)]
    reasons = [
        (n < 2, "needs at least 2 pairs"),
        (m.constant | ~(m.sd > 0.0), "no cross-sectional variation of SCAR"),
        (~(s_u > 0.0), "ranks have no variation"),
        (
            (big_t < 3) | ~(big_t - 1 - z * z > 0.0),
            [f"t_grank undefined (T={tt}, Z={zz:.4f})" for zz, tt in zip(z, big_t, strict=True)],
        ),
    ]
    return BatchResult.build(t, t_p_array(t, big_t - 2), n, notes, reasons)
