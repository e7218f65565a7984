"""Average cross-correlation r̄ of estimation residuals (Kolari and Pynnönen 2010).

r̄ is the mean of the off-diagonal entries of the N×N sample correlation
matrix C of the pairs' estimation-window residuals, r̄ = (1'C1 − N)/(N(N − 1))
(formula sheet §5.5). Residuals are aligned on **calendar dates** (two pairs
are correlated over the dates on which both have a residual), never on
relative days: events of different dates observed in the same market share
calendar days, and that overlap is exactly the clustering KP adjust for.

Conventions
-----------
* Pairwise-complete: each correlation uses the dates both pairs have, with
  means and variances recomputed on those common dates (Pearson, as
  :meth:`pandas.DataFrame.corr`).
* A correlation enters the mean only when the two pairs share at least
  :data:`MIN_OVERLAP` dates and both have non-zero variance there; the others
  are left out of the average (not counted as zero).
* The residuals are the estimation residuals ε̂_it; dividing each series by its
  σ̂_i (the "standardized" residuals of §5.5) leaves every correlation unchanged.
* **Calendar overlap of the windows.** KP's adjustment is for the correlation
  of the pairs' *event-window* abnormal returns. Two pairs whose CAR windows
  share no calendar date are independent under the null whatever their
  estimation residuals' correlation (a market's events months apart share
  estimation dates and correlate at 1, yet their CARs are disjoint draws), and
  pairs whose windows share part of their days are correlated only through the
  shared days. With the windows' calendar days known (``TestInput.window_day``),
  the correlation of pair i and j's CARs is therefore taken as
  ρ_ij · c_ij / √(L_i L_j), with c_ij the number of common window dates and L
  the window lengths — zero for disjoint windows, ρ_ij for identical ones —
  and r̄ averages these over all i ≠ j (eventstudy2's ``kolblock`` likewise sets
  correlations across blocks to zero). Without window days every defined ρ_ij
  enters unweighted.

Everything is computed with matrix products over a dates×pairs matrix with a
0/1 availability mask, no Python loop over pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from .base import TestInput
from .paircorr import MIN_OVERLAP, cross_correlation, pairwise_correlation

__all__ = [
    "MIN_OVERLAP",
    "CrossCorrelation",
    "average_correlation",
    "cross_correlation",
    "day_spans",
    "group_rbar",
    "linked_bands",
    "merged_bands",
    "window_overlap",
    "pairwise_correlation",
    "study_correlations",
]


@dataclass(frozen=True)
class CrossCorrelation:
    """r̄ of a set of series and how many correlations it averages.

    Attributes
    ----------
    rbar : float
        Mean off-diagonal pairwise correlation (NaN when no correlation is
        defined).
    n_series : int
        N, the number of series.
    n_corr : int
        Number of unordered pairs of series whose correlation entered the mean
        (at most N(N − 1)/2).
    """

    rbar: float
    n_series: int
    n_corr: int


def _mean_offdiag(r: np.ndarray) -> CrossCorrelation:
    valid = np.isfinite(r)
    n_corr = int(valid.sum()) // 2
    if n_corr == 0:
        return CrossCorrelation(float("nan"), r.shape[0], 0)
    return CrossCorrelation(float(r[valid].mean()), r.shape[0], n_corr)


def average_correlation(
    values: np.ndarray, days: np.ndarray, min_overlap: int = MIN_OVERLAP
) -> CrossCorrelation:
    """r̄ of the rows of ``values``: mean of the defined off-diagonal correlations.

    See :func:`pairwise_correlation` for the arguments; r̄ = (1'C1 − N)/(N(N − 1))
    when every correlation is defined (formula sheet §5.5).
    """
    return _mean_offdiag(pairwise_correlation(values, days, min_overlap))


def study_correlations(inp: TestInput) -> np.ndarray:
    """The P×P pairwise correlations of the pairs of ``inp`` (memoized in ``inp.cache``).

    A pairwise-complete correlation does not depend on the other pairs, so
    every group's r̄ is the mean of a sub-matrix of this one. With
    ``inp.window_day`` and ``inp.event_day`` only pairs whose event windows
    can share days are correlated (:func:`linked_bands`), the others are NaN:
    no window weights them (their overlap is 0). A study whose events spread
    over years then costs a band of the P × P products on the band's own
    days instead of all of them over its whole calendar.
    """
    evt = inp.event_day if inp.window_day is not None else None
    hit = inp.cache.get(("corr", MIN_OVERLAP))
    if isinstance(hit, tuple) and hit[0] is evt:
        return cast(np.ndarray, hit[1])
    if evt is None:
        r = pairwise_correlation(inp.est_resid, inp.est_day, MIN_OVERLAP)
    else:
        r = np.full((len(inp.car), len(inp.car)), np.nan)
        values, days = inp.est_resid, inp.est_day
        for rows, partners in merged_bands(linked_bands(evt)):
            r[np.ix_(rows, partners)] = cross_correlation(
                values[rows], days[rows], values[partners], days[partners], MIN_OVERLAP
            )
        np.fill_diagonal(r, np.nan)
    inp.cache[("corr", MIN_OVERLAP)] = (evt, r)  # the event days it was computed for, and r
    return r


#: Rows of :func:`linked_bands` correlated with their partners at a time.
BAND_ROWS = 32

#: Most rows × partners entries of one merged product (:func:`merged_bands`).
MERGED_ENTRIES = 2**22


def merged_bands(bands: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Consecutive bands with the same partners as one set of rows (up to :data:`MERGED_ENTRIES`).

    The pairs of one event share their partners, band after band: one product
    of all their rows with the partners instead of one per band (the partners'
    day matrices built once). Every row keeps exactly its band's partners.
    """
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for band, partners in bands:
        if out:
            rows, held = out[-1]
            fits = (len(rows) + len(band)) * len(held) <= MERGED_ENTRIES
            if fits and len(held) == len(partners) and np.array_equal(held, partners):
                out[-1] = (np.concatenate([rows, band]), held)
                continue
        out.append((band, partners))
    return out


def day_spans(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows with a day (−1 = none), ordered by their first day, and every row's first and last day.

    The bands of :func:`linked_bands` are runs of these rows; ``first`` and
    ``last`` are indexed by row (meaningless for rows without a day).
    """
    days = np.asarray(days)
    has_day = days >= 0
    rows = np.flatnonzero(has_day.any(axis=1))
    big = np.iinfo(np.int64).max
    first = np.where(has_day, days, big).min(axis=1)
    last = np.where(has_day, days, -1).max(axis=1)
    return rows[np.argsort(first[rows], kind="stable")], first, last


def linked_bands(days: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Bands of rows and the rows that can share a day with them.

    Rows (−1 = no day) are ordered by their first day and cut into bands of
    :data:`BAND_ROWS`; a band's partners are the rows whose first-to-last
    day span meets the band's. Every two rows with a common day are thus a
    band row and one of its partners (the converse need not hold). Rows
    without a day are in no band.
    """
    rows, first, last = day_spans(days)
    if rows.size == 0:
        return []
    out = []
    for lo in range(0, len(rows), BAND_ROWS):
        band = rows[lo : lo + BAND_ROWS]
        reach = (first[rows] <= last[band].max()) & (last[rows] >= first[band].min())
        out.append((band, np.sort(rows[reach])))
    return out


def window_overlap(window_day: np.ndarray) -> np.ndarray:
    """c_ij / √(L_i L_j): the calendar overlap of the rows' window days.

    Parameters
    ----------
    window_day : ndarray (N, W) of int
        Calendar day of each window day, −1 where the row has none.

    Returns
    -------
    ndarray (N, N)
        The correlation two unit-variance white-noise sums over the rows'
        days would have: shared days over the geometric mean of the lengths.
    """
    wd = np.asarray(window_day)
    rows, cols = np.nonzero(wd >= 0)
    n = wd.shape[0]
    if rows.size == 0:
        return np.zeros((n, n))
    _, pos = np.unique(wd[rows, cols], return_inverse=True)
    A = np.zeros((n, int(pos.max()) + 1))
    A[rows, pos] = 1.0
    common = A @ A.T
    length = np.sqrt(np.diag(common))
    with np.errstate(invalid="ignore", divide="ignore"):
        w = common / np.outer(length, length)
    return np.nan_to_num(w, nan=0.0)


#: Up to this many pairs in a study the full pair-by-pair correlation matrix is
#: computed once and sliced per group; above it, correlations are computed only
#: for the blocks of pairs whose windows overlap (memory stays bounded).
DENSE_LIMIT = 3000


def _rho(inp: TestInput, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Pairwise-complete correlations between the pairs ``rows`` and ``cols``."""
    if len(inp.car) <= DENSE_LIMIT:
        return study_correlations(inp)[np.ix_(rows, cols)]
    # correlations do not depend on the window: blocks are shared by all windows
    key = ("rho", rows.tobytes(), cols.tobytes())
    hit = inp.cache.get(key)
    if isinstance(hit, np.ndarray):
        return hit
    both = np.unique(np.concatenate([rows, cols]))
    r = pairwise_correlation(inp.est_resid[both], inp.est_day[both], MIN_OVERLAP)
    pos = {int(k): n for n, k in enumerate(both)}
    ri = np.array([pos[int(k)] for k in rows], dtype=np.int64)
    ci = np.array([pos[int(k)] for k in cols], dtype=np.int64)
    out = r[np.ix_(ri, ci)]
    out[rows[:, None] == cols[None, :]] = np.nan  # a pair with itself is not a correlation
    inp.cache[key] = out
    return out


def _weighted_sum(inp: TestInput, idx: np.ndarray) -> tuple[float, int]:
    """Σ_{i≠j} ρ_ij c_ij/√(L_i L_j) and the number of linked pairs with a defined ρ.

    Pairs with the same set of window days form a block; only blocks whose
    windows share days are correlated, block by block.
    """
    assert inp.window_day is not None
    wd = np.sort(np.where(inp.window_day[idx] >= 0, inp.window_day[idx], -1), axis=1)
    uniq, inverse = np.unique(wd, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    blocks: dict[tuple[int, ...], list[int]] = {}
    for u, row in enumerate(uniq):
        blocks[tuple(int(d) for d in row[row >= 0])] = list(np.flatnonzero(inverse == u))
    sigs = list(blocks)
    total, linked = 0.0, 0
    day_sets = [set(k) for k in sigs]
    for a, ka in enumerate(sigs):
        if not ka:
            continue
        ra = idx[np.asarray(blocks[ka])]
        for b in range(a, len(sigs)):
            kb = sigs[b]
            common = len(day_sets[a] & day_sets[b])
            if common == 0:
                continue
            rb = idx[np.asarray(blocks[kb])]
            w = common / np.sqrt(len(ka) * len(kb))
            r = _rho(inp, ra, rb)
            ok = np.isfinite(r)
            factor = 1.0 if a == b else 2.0  # ordered pairs (i, j) and (j, i)
            total += factor * w * float(r[ok].sum())
            linked += int(ok.sum()) // (2 if a == b else 1)
    return total, linked


def group_rbar(inp: TestInput, idx: np.ndarray) -> CrossCorrelation:
    """r̄ of the pairs ``idx`` of ``inp`` (see the module's conventions).

    Without ``inp.window_day``: the mean of the defined off-diagonal entries
    of the ``idx`` × ``idx`` block of :func:`study_correlations`. With it: the
    mean over all i ≠ j of ρ_ij · c_ij/√(L_i L_j), where pairs with disjoint
    windows count as 0 and ``n_corr`` counts the pairs with overlapping
    windows and a defined ρ. Studies with more than :data:`DENSE_LIMIT` pairs
    compute correlations only within overlapping blocks (same numbers, bounded
    memory).
    """
    idx = np.asarray(idx, dtype=np.int64)
    wkey = None if inp.window_day is None else id(inp.window_day)
    key = ("rbar", MIN_OVERLAP, wkey, idx.tobytes())
    hit = inp.cache.get(key)
    if isinstance(hit, CrossCorrelation):
        return hit
    n = len(idx)
    if inp.window_day is None:
        res = _mean_offdiag(study_correlations(inp)[np.ix_(idx, idx)])
    elif n < 2:
        res = CrossCorrelation(float("nan"), n, 0)
    elif len(inp.car) <= DENSE_LIMIT:
        r = study_correlations(inp)[np.ix_(idx, idx)]
        full = inp.memo.get("window_overlap")
        if not isinstance(full, np.ndarray):
            full = window_overlap(inp.window_day)
            inp.memo["window_overlap"] = full
        w = full[np.ix_(idx, idx)].copy()
        np.fill_diagonal(w, 0.0)
        defined = (w > 0) & np.isfinite(r)
        total = float(np.where(defined, r * w, 0.0).sum())
        res = CrossCorrelation(total / (n * (n - 1)), n, int(defined.sum()) // 2)
    else:
        total, linked = _weighted_sum(inp, idx)
        res = CrossCorrelation(total / (n * (n - 1)), n, linked)
    inp.cache[key] = res
    return res
