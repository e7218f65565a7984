"""Sign-based tests on CARs: generalized sign (Cowan 1992), sign, Wilcoxon signed-rank."""

from __future__ import annotations

from functools import lru_cache
from math import comb

import numpy as np

from .base import TestInput, TestResult, average_ranks, finite_subset, normal_p, not_applicable
from .estsums import BLOCK_ROWS
from .grouped import BatchResult, Groups, normal_p_array
from .groupmemo import car_count, sorted_by_group

__all__ = [
    "EXACT_MAX_N",
    "exact_sign_p",
    "exact_signed_rank_p",
    "gen_sign_batch",
    "gen_sign_z",
    "sign_batch",
    "sign_z",
    "wilcoxon_batch",
    "wilcoxon_z",
]

#: Largest N for which ``sign_z`` and ``wilcoxon_z`` report an exact p-value.
EXACT_MAX_N = 25


@lru_cache(maxsize=4096)
def exact_sign_p(w: int, n: int) -> float:
    """Exact two-sided p of ``w`` successes under Bin(n, ½): min(1, 2 min(P(W ≤ w), P(W ≥ w))).

    For p = ½ this equals :func:`scipy.stats.binomtest`'s two-sided p-value;
    computed in exact integer arithmetic.
    """
    lo = sum(comb(n, k) for k in range(w + 1))
    hi = sum(comb(n, k) for k in range(w, n + 1))
    return min(1.0, 2.0 * min(lo, hi) / 2.0**n)


@lru_cache(maxsize=64)
def _signed_rank_counts(n: int) -> tuple[int, ...]:
    """Number of subsets of {1, …, n} with each sum s = 0 … n(n + 1)/2."""
    counts = [1] + [0] * (n * (n + 1) // 2)
    for k in range(1, n + 1):
        for s in range(k * (k + 1) // 2, k - 1, -1):
            counts[s] += counts[s - k]
    return tuple(counts)


@lru_cache(maxsize=4096)
def exact_signed_rank_p(w: int, n: int) -> float:
    """Exact two-sided p of the signed-rank sum ``w`` (integer) for ``n`` untied non-zero values.

    p = min(1, 2 min(P(W ≤ w), P(W ≥ w))) under the null distribution of W
    (all 2ⁿ sign patterns equally likely), as :func:`scipy.stats.wilcoxon`
    with ``method="exact"``.
    """
    c = _signed_rank_counts(n)
    lo = sum(c[: w + 1])
    hi = sum(c[w:])
    return min(1.0, 2.0 * min(lo, hi) / 2.0**n)


def gen_sign_z(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Generalized sign test of Cowan (1992) (formula sheet §5.7).

    Z_G = (w − N p̂) / √(N p̂ (1 − p̂)) ~ N(0, 1), two-sided p, with
    w = #{i : CAR_i > 0} over the N pairs with a CAR.

    Conventions
    -----------
    * p̂ is the **pooled** fraction of positive estimation-window ARs over all
      estimation observations of the N pairs, Σ_i Σ_t 1{AR_it > 0} / Σ_i M_i
      (as estudy2 and eventstudy2). Cowan's displayed p̂ = N⁻¹ Σ_i M_i⁻¹ Σ_t
      1{AR_it > 0} averages per-pair fractions instead; the two coincide when
      every M_i is equal. p̂ is written in the note.
    * Strict inequalities (a zero AR or CAR counts as not positive); no
      continuity correction.
    * Not applicable when p̂ is 0 or 1.
    """
    used = finite_subset(inp.car, idx)
    n = len(used)
    if n == 0:
        return not_applicable(0, "needs at least 1 pair with a CAR")
    est = inp.est_resid[used]
    m = int(np.isfinite(est).sum())
    if m == 0:
        return not_applicable(n, "no estimation-window ARs")
    p = float(np.sum(est > 0) / m)
    if not 0.0 < p < 1.0:
        return not_applicable(n, f"p̂={p:.4f} leaves no variance")
    w = float(np.sum(inp.car[used] > 0))
    z = (w - n * p) / np.sqrt(n * p * (1.0 - p))
    return TestResult(float(z), normal_p(z), n, f"p̂={p:.4f}")


def sign_z(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Simple sign test on CARs (formula sheet §5.7).

    Z = (w − N/2) / (√N / 2), w = #{i : CAR_i > 0} over the N pairs with a CAR
    (a zero CAR counts as not positive; no continuity correction).

    The statistic is always Z. The p-value is two-sided: from N(0, 1), except
    for N ≤ :data:`EXACT_MAX_N`, where it is the exact binomial
    Bin(N, ½) two-sided p (:func:`exact_sign_p`, equal to
    :func:`scipy.stats.binomtest`'s) and the note says so.
    """
    used = finite_subset(inp.car, idx)
    n = len(used)
    if n == 0:
        return not_applicable(0, "needs at least 1 pair with a CAR")
    w = int(np.sum(inp.car[used] > 0))
    z = float((w - 0.5 * n) / (0.5 * np.sqrt(n)))
    if n <= EXACT_MAX_N:
        p = exact_sign_p(w, n)
        return TestResult(z, p, n, f"exact binomial p (N ≤ {EXACT_MAX_N})")
    return TestResult(z, normal_p(z), n)


def wilcoxon_z(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Wilcoxon (1945) signed-rank test on CARs, normal approximation (formula sheet §5.9).

    W = Σ_i rank(|CAR_i|) · 1{CAR_i > 0}, E = N(N + 1)/4,
    Var = N(N + 1)(2N + 1)/24, Z = (W − E)/√Var over the N pairs with a CAR
    (average ranks for tied |CAR|; no tie or zero correction, as the formula).

    The statistic is always Z. The p-value is two-sided: from N(0, 1), except
    for N ≤ :data:`EXACT_MAX_N` without zero or tied |CAR|, where it is the
    exact signed-rank p-value (:func:`exact_signed_rank_p`, the null
    distribution of W by enumeration, equal to :func:`scipy.stats.wilcoxon`
    with ``method="exact"``; estudy2 uses ``qsignrank``); the note says which.
    """
    used = finite_subset(inp.car, idx)
    n = len(used)
    if n == 0:
        return not_applicable(0, "needs at least 1 pair with a CAR")
    v = inp.car[used]
    a = np.abs(v)
    r = average_ranks(a)
    w = float(np.sum(r[v > 0]))
    e = n * (n + 1) / 4.0
    var = n * (n + 1) * (2 * n + 1) / 24.0
    z = float((w - e) / np.sqrt(var))
    if n <= EXACT_MAX_N:
        if np.all(a > 0) and len(np.unique(a)) == n:
            p = exact_signed_rank_p(round(w), n)
            return TestResult(z, p, n, f"exact p (N ≤ {EXACT_MAX_N})")
        return TestResult(z, normal_p(z), n, "normal p: zero or tied |CAR| prevent the exact p")
    return TestResult(z, normal_p(z), n)


def _est_signs(inp: TestInput) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: number of positive estimation ARs and of estimation ARs (memoized in ``inp.cache``).

    Counted a block of pairs at a time (one small mask, reused); the available
    ARs are the row length less the missing ones when those are known
    (:func:`~eventstudy.inference.estsums.est_missing`, found by ``cda_t``).
    """
    hit = inp.cache.get("est_signs")
    if isinstance(hit, tuple):
        return hit
    resid = inp.est_resid
    n, t = resid.shape
    pos = np.empty(n, dtype=np.int64)
    have = np.empty(n, dtype=np.int64)
    missing = inp.cache.get("est_missing")
    if isinstance(missing, tuple):
        np.subtract(t, np.bincount(missing[0], minlength=n), out=have)
    buf = np.empty((min(BLOCK_ROWS, n), t), dtype=bool)
    for lo in range(0, n, BLOCK_ROWS):
        part = resid[lo : lo + BLOCK_ROWS]
        flags = buf[: len(part)]
        with np.errstate(invalid="ignore"):
            np.greater(part, 0, out=flags)
        pos[lo : lo + len(part)] = np.count_nonzero(flags, axis=1)
        if not isinstance(missing, tuple):
            np.isfinite(part, out=flags)
            have[lo : lo + len(part)] = np.count_nonzero(flags, axis=1)
    out = (pos.astype("float64"), have.astype("float64"))
    inp.cache["est_signs"] = out
    return out


def gen_sign_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`gen_sign_z` for every group of ``groups`` at once."""
    mask = np.isfinite(inp.car)
    n = car_count(inp, groups)
    pos, m_i = _est_signs(inp)
    m = groups.total(m_i, mask)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = groups.total(pos, mask) / m
        w = groups.count(mask & (inp.car > 0))
        z = (w - n * p) / np.sqrt(n * p * (1.0 - p))
    reasons = [
        (n == 0, "needs at least 1 pair with a CAR"),
        (m == 0, "no estimation-window ARs"),
        (~((p > 0.0) & (p < 1.0)), [f"p̂={v:.4f} leaves no variance" for v in p]),
    ]
    return BatchResult.build(z, normal_p_array(z), n, [f"p̂={v:.4f}" for v in p], reasons)


def sign_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`sign_z` for every group of ``groups`` at once."""
    mask = np.isfinite(inp.car)
    n = car_count(inp, groups)
    with np.errstate(invalid="ignore"):
        w = groups.count(mask & (inp.car > 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (w - 0.5 * n) / (0.5 * np.sqrt(n))
    p = normal_p_array(z)
    notes = [""] * len(n)
    for g in np.flatnonzero((n > 0) & (n <= EXACT_MAX_N)):
        p[g] = exact_sign_p(int(w[g]), int(n[g]))
        notes[g] = f"exact binomial p (N ≤ {EXACT_MAX_N})"
    return BatchResult.build(z, p, n, notes, [(n == 0, "needs at least 1 pair with a CAR")])


def wilcoxon_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`wilcoxon_z` for every group of ``groups`` at once (one sort of all groups' |CAR|)."""
    mask = np.isfinite(inp.car)
    n = car_count(inp, groups)
    a = np.abs(inp.car)
    order, starts = sorted_by_group(inp, groups, "abs_car", a, mask)
    codes, s = groups.codes[order], a[order]
    # average ranks within each group: ties are equal |CAR| in the same group
    new = np.r_[True, (s[1:] != s[:-1]) | (codes[1:] != codes[:-1])]
    untied = bool(new.all())
    if untied:  # every run one value long: first = last = position, 0.5·(2i) = i exactly
        rank = np.arange(len(s)) + 1.0 - starts[codes]
    else:
        run = np.cumsum(new) - 1
        first = np.flatnonzero(new)
        last = np.r_[first[1:], len(s)] - 1
        rank = 0.5 * (first[run] + last[run]) + 1.0 - starts[codes]
    positive = inp.car[order] > 0
    w = np.bincount(codes[positive], weights=rank[positive], minlength=groups.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        e = n * (n + 1) / 4.0
        var = n * (n + 1) * (2 * n + 1) / 24.0
        z = (w - e) / np.sqrt(var)
    p = normal_p_array(z)
    notes = [""] * len(n)
    tied = (s == 0) if untied else ~new | np.r_[~new[1:], False] | (s == 0)
    tied_or_zero = np.bincount(codes, weights=tied, minlength=groups.size)
    for g in np.flatnonzero((n > 0) & (n <= EXACT_MAX_N)):
        if tied_or_zero[g] == 0:
            p[g] = exact_signed_rank_p(round(float(w[g])), int(n[g]))
            notes[g] = f"exact p (N ≤ {EXACT_MAX_N})"
        else:
            notes[g] = "normal p: zero or tied |CAR| prevent the exact p"
    return BatchResult.build(z, p, n, notes, [(n == 0, "needs at least 1 pair with a CAR")])
