"""Rank tests: Corrado (1989) / Cowan (1992), and the home of Kolari–Pynnönen (2011) GRANK's names.

Ranks are taken within each pair over time (average ranks for ties; missing
days are left out of the ranking), for all pairs at once with
:func:`row_ranks`; cross-sectional sums over a group are column sums of the
group's rows, so no pair is looped over. GRANK lives in
:mod:`eventstudy.inference.grank` (its names are importable from here too).
"""

from __future__ import annotations

from typing import cast

import numpy as np

from .availcounts import Cells, available_counts, missing_cells, rare_cells
from .base import TestInput, TestResult, finite_subset, normal_p, not_applicable
from .grank import grank_batch, grank_result, grank_sums, grank_t, grank_windows
from .grouped import BatchResult, Groups, digest, normal_p_array
from .groupsums import exact_product, products_together
from .rowblocks import centred_ranks
from .rowsort import row_ranks, sort_rows

__all__ = [
    "corrado_batch",
    "corrado_columns",
    "corrado_rank",
    "corrado_result",
    "corrado_sums",
    "grank_batch",
    "grank_result",
    "grank_sums",
    "grank_t",
    "grank_windows",
    "row_ranks",
]


def _corrado_base(inp: TestInput) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_corrado_arrays` of the input, looked up once per window (``inp.memo``)."""
    hit = inp.memo.get("corrado_found")
    if isinstance(hit, tuple):
        return hit
    out = inp.memo["corrado_found"] = _corrado_arrays(inp)
    return out


def _corrado_arrays(inp: TestInput) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Window-independent arrays of the Corrado test.

    Returns ``(D0, F, cols, D_v)``: D0 = K_it − (T_i + 1)/2 (0 where missing)
    and F, true where available, P × (T + W') over the estimation columns of
    ``est_resid`` followed by the W' event-window columns ``cols`` that have
    an AR; ``D_v`` the event-window part of D0 (float64). The ranks over the
    combined days come from one row-wise sort of the estimation and event
    days together, a block of pairs at a time
    (:func:`~eventstudy.inference.rowblocks.centred_ranks`); D0 is then
    float32 (half-integers: exact), float64 where an AR leaves the sort's
    range. Its group sums are exact in any order.

    With ``event_ar`` (the whole event window) these do not depend on the
    CAR window, so they are computed once per study (``inp.cache``);
    otherwise the window's own days are the event days (``inp.memo``). The
    entry ``corrado_base`` also holds F's rarer cells
    (:func:`~eventstudy.inference.availcounts.rare_cells`, for N_t).
    """
    evt = inp.event_ar
    win = _window_days(inp)
    with np.errstate(invalid="ignore"):
        shared = evt is not None and bool(np.logical_or(inp.ar == evt, ~win).all())
    memo = inp.cache if shared else inp.memo
    hit = memo.get("corrado_base")
    if isinstance(hit, tuple) and (not shared or hit[0] is evt):
        return hit[1]
    if evt is None:
        evt = inp.ar
    elif not shared:
        evt = np.where(win, inp.ar, evt)  # the window's days are event days in any case
    cols = np.flatnonzero(np.isfinite(evt).any(axis=0))
    e = inp.est_resid
    found = centred_ranks((e, evt[:, cols]))  # no infinity: the T_i values are the non-NaN ones
    cells: Cells | None = None
    if found is not None:
        d0, ok, missing = found
        cells = missing_cells(missing, ok.shape)
    else:
        combined = np.concatenate([e, evt[:, cols]], axis=1)
        ok = np.isfinite(combined)
        t_i = ok.sum(axis=1)
        srt = sort_rows(combined)
        if np.array_equal(t_i, srt.count):  # K_it − (T_i + 1)/2 straight from the sort, in place
            d0 = srt.scatter(srt.positions(centre=True, missing=0.0, out=srt.values), out=combined)
        else:  # infinite ARs are ranked but not counted in T_i
            d0 = np.where(ok, srt.ranks() - (t_i[:, None] + 1.0) / 2.0, 0.0)
    # the event days in float64, contiguous: the windows read them a row at a time
    out = (d0, ok, cols, np.ascontiguousarray(d0[:, e.shape[1] :], dtype=np.float64))
    cells = rare_cells(ok) if cells is None else cells
    memo["corrado_base"] = (inp.event_ar, out, cells)  # one entry: read whole by other windows
    return out


def _window_days(inp: TestInput) -> np.ndarray:
    """Where the window has an AR (``isfinite(inp.ar)``, P × W; memoized in ``inp.memo``)."""
    hit = inp.memo.get("corrado_win")
    if isinstance(hit, np.ndarray):
        return hit
    out = inp.memo["corrado_win"] = np.isfinite(inp.ar)
    return out


def corrado_columns(inp: TestInput) -> np.ndarray:
    """The event-window columns of :func:`corrado_sums`' combined days (after the T estimation days)."""
    return _corrado_base(inp)[2]


def _corrado_parts(inp: TestInput) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Arrays of the Corrado test for the input's window (memoized).

    Returns ``(D0, F, D0w, Fw)``: D0 and F (bool) of :func:`_corrado_base`; D0w and
    Fw the same restricted to the CAR window's days, P × W'.
    """
    hit = inp.memo.get("corrado")
    if isinstance(hit, tuple):
        return hit
    d0, f, cols, d_v = _corrado_base(inp)
    win = _window_days(inp)[:, cols]
    out = (d0, f, np.where(win, d_v, 0.0), win.astype("float64"))
    inp.memo["corrado"] = out
    return out


def corrado_rank(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Corrado (1989) rank test; windows as in Cowan (1992) (formula sheet §5.6).

    K_it = rank of AR_it within pair i over its combined estimation and event
    days (T_i available days); D_it = K_it − (T_i + 1)/2;
    S_K = √(T⁻¹ Σ_t D̄_t²) with D̄_t = N_t⁻¹ Σ_i D_it over all T combined days;
    T_CAR = √L · (K̄_{τ1,τ2} − K̄) / S_K ~ N(0, 1), two-sided p.

    Conventions
    -----------
    * Combined days = the estimation days (``est_resid``; in-sample residuals)
      plus the whole event window (``event_ar``; only the CAR window's days
      when ``event_ar`` is not given), aligned by relative day.
    * Missing data: each pair's expected rank is its own (T_i + 1)/2 (equal
      to K̄ = (T + 1)/2 in a balanced panel; estudy2's "own mean rank"), and
      each day's mean uses the N_t pairs present that day; T counts the days
      with N_t > 0.
    * Windows of unequal length (date-only events extend some pairs' windows,
      missing days shorten others) are standardized pair by pair (formula
      sheet §7.5): U_i = Σ_{τ∈window_i} D_iτ / √L_i with L_i the pair's
      available window days, and T_CAR = Ū / S_K over the pairs with L_i ≥ 1.
      With one common L this is Cowan's (1992) √L · (K̄_{τ1,τ2} − K̄) / S_K;
      for L = 1 it is Corrado's single-day T = N⁻¹ Σ_i (K_i0 − K̄)/S_K. (Scaling
      a pooled mean by the longest window instead gave a statistic with sd
      1.12 and 7.8 % rejections at 5 % on the default design.) The note's L
      is the longest L_i.
    * Pairs without a CAR are left out. Ties get average ranks.
    * Invariant to any strictly increasing transformation of the ARs.
    """
    used = finite_subset(inp.car, idx)
    n = len(used)
    if n == 0:
        return not_applicable(0, "needs at least 1 pair with a CAR")
    d0, f, d0w, fw = _corrado_parts(inp)
    cnt = f[used].sum(axis=0).astype("float64")
    have = cnt > 0
    dbar = d0[used].sum(axis=0, dtype=np.float64)[have] / cnt[have]
    s_k = float(np.sqrt(np.mean(dbar**2)))
    if not s_k > 0.0:
        return not_applicable(n, "ranks have no variation")
    l_i = fw[used].sum(axis=1)
    if not l_i.any():
        return not_applicable(n, "no abnormal return in the window")
    has = l_i > 0
    u = d0w[used][has].sum(axis=1) / np.sqrt(l_i[has])
    big_l = int(l_i.max())
    stat = float(np.mean(u) / s_k)
    return TestResult(stat, normal_p(stat), n, f"T={int(have.sum())}, L={big_l}")


def corrado_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`corrado_rank` for every group of ``groups`` at once."""
    mask = np.isfinite(inp.car)
    return corrado_result(groups.count(mask), *corrado_sums(inp, groups, mask))


def corrado_sums(
    inp: TestInput, groups: Groups, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The sums over pairs behind :func:`corrado_batch`.

    Returns ``(sums, cnt, u_total, n_u, big_l)``: Σ_i D_it and N_t per group
    and combined day (G × (T + W')), and per group Σ U_i, the number of pairs
    with a window day and the longest L_i (NaN for none). All but the last add
    up over disjoint sets of pairs (the last is a maximum), so a study can
    compute them chunk by chunk of pairs (:mod:`eventstudy.streamtests`).
    """
    d0, f, _, _ = _corrado_base(inp)
    shared = inp.cache.get("corrado_base")
    if isinstance(shared, tuple) and shared[1][0] is d0:  # window-independent: shared by the windows
        sums = products_together(inp, groups, mask, "corrado", d0, exact=True)
        key = ("corrado_n", groups.uid, digest(mask))
        cnt = inp.cache.get(key)
        if not isinstance(cnt, np.ndarray):
            cnt = inp.cache[key] = available_counts(cast(Cells, shared[2]), groups, mask)
    else:
        sums = exact_product(groups.matrix(mask), d0)
        own = inp.memo.get("corrado_base")
        cells = own[2] if isinstance(own, tuple) and own[1][0] is d0 else rare_cells(f)
        cnt = available_counts(cast(Cells, cells), groups, mask)
    l_i, u = _window_u(inp)
    has = mask & (l_i > 0)
    _, big_l = groups.spread(l_i, mask)
    return sums, cnt, groups.total(u, has), groups.count(has), big_l


def _window_u(inp: TestInput) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, L_i and U_i = Σ_{τ ∈ window} D_iτ / √L_i (float64; the same for every grouping of
    the window, memoized in ``inp.memo``). The D_iτ are half-integers, so their sums are exact in
    any order."""
    hit = inp.memo.get("corrado_u")
    if isinstance(hit, tuple):
        return hit
    _, _, cols, d_v = _corrado_base(inp)
    win = _window_days(inp)[:, cols]
    l_i = np.count_nonzero(win, axis=1).astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(win, d_v, 0.0).sum(axis=1) / np.sqrt(l_i)
    out = inp.memo["corrado_u"] = (l_i, u)
    return out


def corrado_result(
    n: np.ndarray, sums: np.ndarray, cnt: np.ndarray, u_total: np.ndarray, n_u: np.ndarray, big_l: np.ndarray
) -> BatchResult:
    """:func:`corrado_batch`'s statistics from :func:`corrado_sums` (``n``: pairs with a CAR per group)."""
    have = cnt > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        dbar = np.where(have, sums / np.where(have, cnt, 1.0), 0.0)
        s_k = np.sqrt((dbar**2).sum(axis=1) / have.sum(axis=1))
        big_l = np.nan_to_num(big_l).astype(np.int64)
        stat = u_total / n_u / s_k
    notes = [f"T={a}, L={b}" for a, b in zip(have.sum(axis=1), big_l, strict=True)]
    reasons = [
        (n == 0, "needs at least 1 pair with a CAR"),
        (~(s_k > 0.0), "ranks have no variation"),
        (~(n_u > 0), "no abnormal return in the window"),
    ]
    return BatchResult.build(stat, normal_p_array(stat), n, notes, reasons)
