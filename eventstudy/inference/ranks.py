"""Rank tests: Corrado (1989) / Cowan (1992) and Kolari–Pynnönen (2011) GRANK.

Ranks are taken within each pair over time (average ranks for ties; missing
days are left out of the ranking), for all pairs at once with
:func:`row_ranks`; cross-sectional sums over a group are column sums of the
group's rows, so no pair is looped over.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .base import TestInput, TestResult, finite_subset, normal_p, not_applicable, t_p
from .grouped import (
    BatchResult,
    GroupMoments,
    Groups,
    digest,
    group_products,
    moments,
    normal_p_array,
    t_p_array,
)
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
    "row_ranks",
]


def _ranks(a: np.ndarray, split: int | None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """:func:`row_ranks` of ``a`` and, with ``split``, of its first ``split`` columns alone.

    Returns ``(ranks, first_ranks, first_order)``, ``first_order`` the column
    order that sorts each row's first ``split`` columns (NaN last); the last
    two are ``None`` without ``split``.
    """
    a = np.asarray(a, dtype="float64")
    if split is None:
        return row_ranks(a), None, None
    if a.size == 0:
        empty = np.empty((a.shape[0], split))
        return a.copy(), empty, empty.astype(np.intp)
    first = sort_rows(a[:, :split])
    return row_ranks(a), first.ranks(), first.order


def _corrado_base(inp: TestInput) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Window-independent arrays of the Corrado test.

    Returns ``(D0, F, cols, D_v)``: D0 = K_it − (T_i + 1)/2 (0 where missing)
    and F = 1 where available, P × (T + W') over the estimation columns of
    ``est_resid`` followed by the W' event-window columns ``cols`` that have
    an AR; ``D_v`` the event-window part of D0. The ranks over the combined
    days come from one row-wise sort of the estimation and event days
    together.

    With ``event_ar`` (the whole event window) these do not depend on the
    CAR window, so they are computed once per study (``inp.cache``);
    otherwise the window's own days are the event days (``inp.memo``).
    """
    evt = inp.event_ar
    win = np.isfinite(inp.ar)
    shared = evt is not None and bool(np.array_equal(inp.ar[win], evt[win]))
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
    combined = np.concatenate([e, evt[:, cols]], axis=1)
    ok = np.isfinite(combined)
    srt = sort_rows(combined)
    t_i = ok.sum(axis=1)
    if np.array_equal(t_i, srt.count):  # K_it − (T_i + 1)/2 straight from the sort, in place
        d0 = srt.scatter(srt.positions(centre=True, missing=0.0, out=srt.values), out=combined)
    else:  # infinite ARs are ranked but not counted in T_i
        d0 = np.where(ok, srt.ranks() - (t_i[:, None] + 1.0) / 2.0, 0.0)
    out = (d0, ok.astype("float64"), cols, d0[:, e.shape[1] :])
    memo["corrado_base"] = (inp.event_ar, out)
    return out


def corrado_columns(inp: TestInput) -> np.ndarray:
    """The event-window columns of :func:`corrado_sums`' combined days (after the T estimation days)."""
    return _corrado_base(inp)[2]


def _corrado_parts(inp: TestInput) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Arrays of the Corrado test for the input's window (memoized).

    Returns ``(D0, F, D0w, Fw)``: D0 and F of :func:`_corrado_base`; D0w and
    Fw the same restricted to the CAR window's days, P × W'.
    """
    hit = inp.memo.get("corrado")
    if isinstance(hit, tuple):
        return hit
    d0, f, cols, d_v = _corrado_base(inp)
    win = np.isfinite(inp.ar)[:, cols]
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
    cnt = f[used].sum(axis=0)
    have = cnt > 0
    dbar = d0[used].sum(axis=0)[have] / cnt[have]
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


def _est_parts(inp: TestInput) -> None:
    """One row-wise sort of ``est_sar`` gives GRANK's estimation-window arrays (in ``inp.cache``).

    ``est_sar_ranks``: the ranks (0 where missing), availability and M_i;
    ``est_sar_sorted``: each row sorted, NaN last; ``est_sar_first``: the
    first ordinals (:meth:`RowSort.first_ordinals`, 16-bit where the days
    allow), or ``False`` when ``est_sar`` has an infinity. The sort's order
    is not kept.
    """
    srt = sort_rows(inp.est_sar)
    ok = np.isfinite(inp.est_sar)
    m = ok.sum(axis=1)
    finite = bool(np.array_equal(m, srt.count))
    r = srt.ranks(missing=0.0) if finite else np.where(ok, srt.ranks(), 0.0)
    inp.cache["est_sar_ranks"] = (r, ok.astype("float64"), m.astype("float64"))
    inp.cache["est_sar_sorted"] = srt.values
    small = np.int16 if srt.shape[1] < 2**15 - 1 else np.int32
    inp.cache["est_sar_first"] = srt.first_ordinals(small) if finite else False


def _est_ranks(inp: TestInput) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimation-window ranks of ``est_sar`` per pair (0 where missing), availability, M_i.

    Memoized in ``inp.cache`` (depends on ``est_sar`` only; see :func:`_est_parts`).
    """
    hit = inp.cache.get("est_sar_ranks")
    if not isinstance(hit, tuple):
        _est_parts(inp)
        hit = inp.cache["est_sar_ranks"]
    return hit  # type: ignore[return-value]


def _est_first(inp: TestInput) -> np.ndarray | None:
    """First ordinals of ``est_sar`` (memoized, :func:`_est_parts`); ``None`` if it has an infinity.

    SAR_it > x exactly when its first ordinal exceeds the pair's count of
    SARs ≤ x, so one compare of small integers tells every estimation day
    above GRANK's day 0.
    """
    if "est_sar_first" not in inp.cache:
        _est_parts(inp)
    hit = inp.cache["est_sar_first"]
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
    r_est, f_est, m_est = _est_ranks(inp)
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
    n_t = f_est[used].sum(axis=0)
    sum_u = a @ r_est[used] + a @ above + 0.5 * (a @ tie) - 0.5 * n_t
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
    d0, f, d0w, fw = _corrado_parts(inp)
    shared = inp.cache.get("corrado_base")
    if isinstance(shared, tuple) and shared[1][0] is d0:  # window-independent: shared by the windows
        sums, cnt = group_products(inp, groups, mask, "corrado", (d0, f))
    else:
        onehot = groups.matrix(mask)
        sums, cnt = np.asarray(onehot @ d0), np.asarray(onehot @ f)
    l_i = fw.sum(axis=1)
    has = mask & (l_i > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = d0w.sum(axis=1) / np.sqrt(l_i)
    _, big_l = groups.spread(l_i.astype("float64"), mask)
    return sums, cnt, groups.total(u, has), groups.count(has), big_l


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


def _sorted_est(inp: TestInput) -> np.ndarray:
    """``est_sar`` sorted within each row, NaN last (memoized, :func:`_est_parts`)."""
    hit = inp.cache.get("est_sar_sorted")
    if not isinstance(hit, np.ndarray):
        _est_parts(inp)
        hit = inp.cache["est_sar_sorted"]
    return hit  # type: ignore[return-value]


def _count_below(inp: TestInput, rows: np.ndarray, x: np.ndarray, *, or_equal: bool = False) -> np.ndarray:
    """Per row of ``est_sar[rows]``: how many values are < ``x`` (≤ ``x`` with ``or_equal``).

    A binary search of all rows at once in the row-sorted ``est_sar``
    (sorted once per study, memoized in ``inp.cache``).
    """
    srt = _sorted_est(inp)
    _, _, m = _est_ranks(inp)
    t = srt.shape[1]
    m_rows = m[rows].astype(np.intp)
    base = (rows if len(rows) != len(srt) else np.arange(len(rows))) * t - 1
    values = srt.reshape(-1)
    below = np.less_equal if or_equal else np.less
    count = np.zeros(len(rows), dtype=np.intp)
    step = 1 << max(t.bit_length() - 1, 0) if t else 0
    while step:  # branchless: advance each count by step while the value there is still below x
        grow = count + step
        ok = (grow <= m_rows) & below(values[base + np.minimum(grow, t)], x)
        count += step * ok
        step >>= 1
    return count.astype("float64")


def _weight_runs(
    inp: TestInput, groups: Groups, mask: np.ndarray, a: np.ndarray
) -> tuple[sparse.csc_matrix, sparse.csc_matrix]:
    """Runs of pairs with ``mask`` sharing a group and a weight ``a``: membership and weights.

    Returns ``(runs, weight)``: ``runs`` is the 0/1 runs × pairs matrix
    (float32, columns = the pairs with ``mask`` in order) and ``weight`` the
    G × runs matrix of the runs' weights, so that ``weight @ (runs @ X)`` is
    the a-weighted group sum of the rows of a 0/1 matrix X, counted exactly in
    float32 (memoized in ``inp.cache``).
    """
    key = ("weight_runs", groups.uid, digest(mask))
    hit = inp.cache.get(key)
    if isinstance(hit, tuple):
        return hit
    rows = np.flatnonzero(mask)
    codes, w = groups.codes[rows], a[rows]
    by = np.lexsort((w, codes))  # runs in order of group, then weight
    new = np.ones(len(rows), dtype=bool)
    new[1:] = (codes[by][1:] != codes[by][:-1]) | (w[by][1:] != w[by][:-1])
    run_of = np.empty(len(rows), dtype=np.int64)
    run_of[by] = np.cumsum(new) - 1
    n_runs = int(new.sum())
    runs = sparse.csc_matrix(
        (np.ones(len(rows), dtype=np.float32), (run_of, np.arange(len(rows)))), shape=(n_runs, len(rows))
    )
    weight = sparse.csc_matrix((w[by][new], (codes[by][new], np.arange(n_runs))), shape=(groups.size, n_runs))
    out = (runs, weight)
    inp.cache[key] = out
    return out


def grank_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`grank_t` for every group of ``groups`` at once."""
    mask = np.isfinite(inp.scar)
    m = moments(groups, inp.scar, mask)
    n_t, sum_u, u0 = grank_sums(inp, groups, mask, m.sd)
    u0_total = np.bincount(groups.codes[mask], weights=u0, minlength=groups.size)
    return grank_result(m, n_t, sum_u, u0_total)


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
    r_est, f_est, m_est = _est_ranks(inp)
    a = 1.0 / (m_est + 2.0)  # 1/(T_i + 1), T_i = M_i + 1
    (n_t,) = group_products(inp, groups, mask, "grank_n", (f_est,))
    (rank_sum,) = group_products(inp, groups, mask, "grank_a", (r_est,), a)
    # estimation days above day 0: one compare of the panel, then per-day counts
    # of each run of pairs with the same group and the same weight a_i
    est = inp.est_sar if len(rows) == len(mask) else inp.est_sar[rows]
    buf = inp.memo.get("grank_buf")
    if not isinstance(buf, np.ndarray) or buf.shape != est.shape:
        buf = np.empty(est.shape, dtype=np.float32)
        inp.memo["grank_buf"] = buf
    first = _est_first(inp)
    if first is not None:  # SAR_it > g0_i ⇔ its first ordinal > #(SAR_i ≤ g0_i): a compare of integers
        n_le = np.where(np.isnan(g0), m_est[rows], _count_below(inp, rows, g0, or_equal=True))
        ordinal = first if len(rows) == len(mask) else first[rows]
        above = np.greater(ordinal, n_le.astype(first.dtype)[:, None], out=buf, casting="unsafe")
    else:
        with np.errstate(invalid="ignore"):
            above = np.greater(est, g0[:, None], out=buf, casting="unsafe")  # 0/1 exactly; NaN counts 0
        n_le = m_est[rows] - above.sum(axis=1, dtype=np.float64)
    srt = _sorted_est(inp)
    at = np.clip(n_le.astype(np.int64) - 1, 0, max(srt.shape[1] - 1, 0))
    n_below, n_tie = n_le, np.zeros(len(rows))
    tied = bool(((n_le > 0) & (srt[rows, at] == g0)).any())
    if tied:  # a day-0 value equal to estimation values: they count half
        n_below = _count_below(inp, rows, g0)
        n_tie = n_le - n_below
    runs, weight = _weight_runs(inp, groups, mask, a)
    # counts of 0/1 values are exact in float32 (runs are far below 2**24 pairs)
    sum_u = rank_sum - 0.5 * n_t + np.asarray(weight @ np.asarray(runs @ above, dtype=np.float64))
    if tied:
        with np.errstate(invalid="ignore"):
            same = (est == g0[:, None]).astype(np.float32)
        sum_u = sum_u + 0.5 * np.asarray(weight @ np.asarray(runs @ same, dtype=np.float64))
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
