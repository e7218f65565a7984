"""Clusters of dependent event×market pairs: the unit of inference (formula sheet §7.1).

Pairs that share calendar days are not independent observations: one piece of
news moves every market on the same day, and windows that overlap reuse the
same market-days. Per CAR window, two pairs are *connected* when

* they belong to the same event (the same news moves every market), or
* their windows overlap in calendar time (the first to the last calendar date
  of the window, in any market: markets correlate on the same days, and two
  windows of one market that share a session overlap by construction).

The connected components are the clusters. Tests that treat clusters, not
pairs, as independent (:mod:`~eventstudy.inference.clustered`) are valid under
any dependence within a cluster (Ibragimov and Müller 2010; Cameron, Gelbach
and Miller 2008).

Exact duplicates — pairs of the same market whose windows span the same
sessions (two events with the same day 0 window) — have identical CARs; they
fall in one cluster by construction, and the cluster tests count them once
(:func:`first_of_duplicates`).

Everything is vectorized: the calendar-overlap components are one sort and a
running maximum (interval merging), and the event links are joined with one
sparse connected-components pass (no loop over pairs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["cluster_labels", "dense_codes", "duplicate_keys", "first_of_duplicates", "repeated_keys"]


def _interval_components(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Components of the overlap graph of closed intervals ``[first, last]`` (int64 codes)."""
    n = len(first)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    lo_f, lo_l = int(first.min()), int(last.min())
    span_l = int(last.max()) - lo_l + 1
    span = (int(first.max()) - lo_f + 1) * span_l
    if span <= 4 * n + 1024:  # few distinct intervals (days): each merged once, found by counting
        key = (first - lo_f) * span_l + (last - lo_l)
        present = np.bincount(key, minlength=span) > 0
        uniq = np.flatnonzero(present)  # ascending: by first, then last
        f, la = uniq // span_l + lo_f, uniq % span_l + lo_l
        reach = np.maximum.accumulate(la)
        new = np.r_[True, f[1:] > reach[:-1]]
        return (np.cumsum(new) - 1)[(np.cumsum(present) - 1)[key]]
    order = _order_of(first, last)
    f, la = first[order], last[order]
    reach = np.maximum.accumulate(la)
    new = np.r_[True, f[1:] > reach[:-1]]
    comp = np.empty(n, dtype=np.int64)
    comp[order] = np.cumsum(new) - 1
    return comp


#: Rounds of label propagation tried before the sparse connected-components pass.
_PROPAGATION_ROUNDS = 8


def _joined(comp: np.ndarray, ev: np.ndarray) -> np.ndarray:
    """Components of pairs linked by a shared interval component ``comp`` or event ``ev``.

    Any labelling of the same partition will do (clusters are renumbered by
    their earliest day afterwards). A few rounds of minimum-label propagation
    (each pair takes the smallest label of its event, then of its interval
    component) settle most studies in a handful of array operations; when they
    have not settled, one sparse connected-components pass over the bipartite
    graph pair — interval component, pair — event.
    """
    n = len(comp)
    n_int, n_ev = int(comp.max()) + 1, int(ev.max()) + 1
    lab = comp.copy()
    for _ in range(_PROPAGATION_ROUNDS):
        by_ev = np.full(n_ev, n_int, dtype=np.int64)
        np.minimum.at(by_ev, ev, lab)
        by_int = np.full(n_int, n_int, dtype=np.int64)
        np.minimum.at(by_int, comp, by_ev[ev])
        new = by_int[comp]
        if np.array_equal(new, lab):
            return lab
        lab = new
    rows = np.r_[np.arange(n), np.arange(n)]
    cols = np.r_[n + comp, n + n_int + ev]
    size = n + n_int + n_ev
    graph = sparse.coo_matrix((np.ones(2 * n, dtype=np.int8), (rows, cols)), shape=(size, size))
    from scipy.sparse import csgraph  # the fallback only: not imported by a default run

    _, out = csgraph.connected_components(graph, directed=False)
    return np.asarray(out[:n], dtype=np.int64)


def cluster_labels(event: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Cluster of every pair for one CAR window (formula sheet §7.1).

    Parameters
    ----------
    event : ndarray (P,)
        Event of each pair (any hashable labels).
    first, last : ndarray (P,) of int
        First and last calendar day (e.g. days since 1970-01-01) of each
        pair's window; pairs without a window (no CAR) have ``first < 0``.

    Returns
    -------
    ndarray (P,) of int64
        Cluster ids 0 … G − 1 numbered by the cluster's earliest calendar day
        (so the numbering does not depend on the order of events or markets),
        −1 for pairs without a window.
    """
    event = np.asarray(event)
    first = np.asarray(first, dtype=np.int64)
    last = np.asarray(last, dtype=np.int64)
    out = np.full(len(first), -1, dtype=np.int64)
    ok = np.flatnonzero(first >= 0)
    if len(ok) == 0:
        return out
    f, la = first[ok], np.maximum(last[ok], first[ok])
    comp = _interval_components(f, la)
    if event.dtype.kind in "iu":
        ev_codes = dense_codes(event[ok])
    else:
        ev_codes, _ = pd.factorize(pd.Series(event[ok], dtype=object))
    lab = _joined(comp, np.asarray(ev_codes, dtype=np.int64))
    # canonical numbering: by the earliest first day of each cluster
    start = np.full(int(lab.max()) + 1, np.iinfo(np.int64).max)
    np.minimum.at(start, lab, f)
    rank = np.empty_like(start)
    rank[np.argsort(start, kind="stable")] = np.arange(len(start))
    out[ok] = rank[lab]
    return out


def duplicate_keys(symbol: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """One int64 code per distinct (market, first day, last day) of a window.

    Pairs with equal codes are exact duplicates: the same market over the same
    sessions, hence the same CAR. ``symbol`` may be labels or integer codes.
    """
    sym = np.asarray(symbol)
    if sym.dtype.kind not in "iu":
        sym = pd.factorize(pd.Series(sym, dtype=object))[0]
    cols = (np.asarray(last, np.int64), np.asarray(first, np.int64), sym.astype(np.int64))
    if len(cols[0]) == 0:
        return np.empty(0, dtype=np.int64)
    # rank of each distinct (market, first, last) in lexicographic order, as
    # ``np.unique(..., axis=0, return_inverse=True)`` numbers them: one sort of a
    # single int64 key (market major) when the three ranges fit in it, else a lexsort
    key = _joint_key(cols[::-1])
    if key is not None:
        order = np.argsort(key, kind="stable")  # the market-major key is mostly in runs
        ks = key[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = ks[1:] != ks[:-1]
    else:
        order = np.lexsort(cols)
        new = np.ones(len(order), dtype=bool)
        new[1:] = np.any([c[order[1:]] != c[order[:-1]] for c in cols], axis=0)
    codes = np.empty(len(order), dtype=np.int64)
    codes[order] = np.cumsum(new) - 1
    return codes


def first_of_duplicates(
    keys: np.ndarray, group: np.ndarray, mask: np.ndarray, repeated: np.ndarray | None = None
) -> np.ndarray:
    """``mask`` restricted to the first pair of each (group, duplicate key).

    Within one group an exact duplicate counts once; the same window in two
    different groups (events of opposite direction on one day) counts in each.
    ``repeated`` (:func:`repeated_keys` of ``keys`` and ``mask``), when given,
    spares finding the rows whose key is not unique again for every grouping.
    """
    if repeated is None:
        repeated = repeated_keys(keys, mask)
    keep = np.array(mask, dtype=bool)
    if len(repeated) == 0:
        return keep
    keep[repeated] = False
    pair = np.asarray(group, dtype=np.int64)[repeated] * (int(keys.max()) + 1) + keys[repeated]
    _, first = np.unique(pair, return_index=True)
    keep[repeated[first]] = True
    return keep


def repeated_keys(keys: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rows of ``mask`` (ascending) whose key occurs in another row of ``mask``.

    By counting when the keys span a small range (as :func:`duplicate_keys`
    gives them), else by one sort.
    """
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return rows
    k = np.asarray(keys)[rows]
    lo, hi = int(k.min()), int(k.max())
    if hi - lo < 4 * len(k) + 1024:
        shifted = k - lo
        return rows[np.bincount(shifted)[shifted] > 1]
    _, inv, counts = np.unique(k, return_inverse=True, return_counts=True)
    return rows[counts[inv.ravel()] > 1]


def dense_codes(values: np.ndarray) -> np.ndarray:
    """``np.unique(values, return_inverse=True)[1]`` of integers (by counting when their range is small)."""
    v = np.asarray(values)
    if len(v) == 0:
        return np.empty(0, dtype=np.int64)
    lo, hi = int(v.min()), int(v.max())
    if hi - lo >= 4 * len(v) + 1024:
        return np.asarray(np.unique(v, return_inverse=True)[1], dtype=np.int64).ravel()
    shifted = v.astype(np.int64) - lo
    present = np.bincount(shifted, minlength=hi - lo + 1) > 0
    return (np.cumsum(present) - 1)[shifted]


def _joint_key(cols: tuple[np.ndarray, ...]) -> np.ndarray | None:
    """One int64 key ordering the rows as the columns ``cols`` do lexicographically (first major).

    Each column is shifted to start at 0 and weighted by the ranges of the
    columns after it; ``None`` when the product of the ranges does not fit in
    62 bits.
    """
    if len(cols[0]) == 0:
        return np.empty(0, dtype=np.int64)
    lows = [int(c.min()) for c in cols]
    spans = [int(c.max()) - lo + 1 for c, lo in zip(cols, lows, strict=True)]
    total = 1
    for s in spans:
        total *= s
    if total >= 2**62:
        return None
    key = cols[0] - lows[0]
    for c, lo, s in zip(cols[1:], lows[1:], spans[1:], strict=True):
        key = key * s + (c - lo)
    return np.asarray(key, dtype=np.int64)


def _order_of(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """An order of the rows by ``first``, then ``last`` (ties in any order)."""
    key = _joint_key((first, last))
    return np.lexsort((last, first)) if key is None else np.argsort(key)
