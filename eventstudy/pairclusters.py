"""Clusters of dependent event×market pairs from the panel (formula sheet §7.1).

Each pair's window is mapped to its calendar span (the dates of its first and
last session, extension for an uncertain day 0 included); pairs of one event
and pairs whose spans overlap are connected
(:func:`~eventstudy.inference.clusters.cluster_labels`), and pairs of one market
over the same sessions are exact duplicates
(:func:`~eventstudy.inference.clusters.duplicate_keys`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .config import Window
from .inference.clusters import cluster_labels, dense_codes, duplicate_keys
from .panel import Panel

__all__ = ["pair_clusters"]


def pair_clusters(
    panel: Panel, car: np.ndarray, ext: np.ndarray, kept: pd.DataFrame, windows: Sequence[Window]
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster id and exact-duplicate key of every pair (rows of ``kept``) in every window.

    Parameters
    ----------
    panel : Panel
    car, ext : ndarray (P, C)
        CAR (NaN: no window, cluster −1) and extension of each pair's window.
    kept : DataFrame
        The included pairs (``base``, ``ev``, ``mk`` columns of ``panel.pairs``).
    windows : sequence of (int, int)
        The C windows, relative to day 0.

    Returns
    -------
    clusters, dups : ndarray (P, C) of int64
        In column-major order (a window's column is contiguous).
    """
    base = kept["base"].to_numpy(dtype=np.int64)
    top = len(panel.dates) - 1
    eids = dense_codes(kept["ev"].to_numpy(dtype=np.int64))  # the same codes for every window
    syms = kept["mk"].to_numpy(dtype=np.int64)
    # window-major (each window's column contiguous: the tests read them one window at a time)
    clusters = np.empty(car.shape[::-1], dtype=np.int64).T
    dups = np.empty(car.shape[::-1], dtype=np.int64).T
    for c, (t1, t2) in enumerate(windows):  # window by window: a few P-arrays at a time
        first = _filled_days_at(panel, np.clip(base + t1, 0, top))
        last = _filled_days_at(panel, np.clip(base + (t2 + ext[:, c]), 0, top))
        first[~np.isfinite(car[:, c])] = -1
        clusters[:, c] = cluster_labels(eids, first, last)
        dups[:, c] = duplicate_keys(syms, first, last)
    return clusters, dups


def _filled_days_at(panel: Panel, pos: np.ndarray) -> np.ndarray:
    """:func:`_filled_days` at the long-array positions ``pos`` only (any shape, in range).

    A position with a date gives that date's day; only positions without one
    (padding) look up the valid dates around them (binary searches). No pass
    over the whole array.
    """
    dates = panel.dates
    flat = pos.ravel()
    d = dates[flat]
    out = d.astype("datetime64[D]").astype(np.int64)  # a position with a date is its own day
    gap = np.flatnonzero(np.isnat(d))
    if len(gap):
        out[gap] = _padding_days(panel, flat[gap])
    return out.reshape(pos.shape)


def _padding_days(panel: Panel, flat: np.ndarray) -> np.ndarray:
    """:func:`_filled_days` at long-array positions ``flat`` (1-D) that have no date.

    Left padding takes its market's first data date, right padding its last
    (the ends of the market's session grid); a position without a date inside
    a market's data (or a market without dates) is looked up among the valid
    dates around it (binary searches over the array's dated positions).
    """
    dates = panel.dates
    if len(panel.markets) != len(panel.offsets):  # a panel without its markets' returns
        return _searched_days(panel, flat)
    block = np.searchsorted(panel.starts, flat, side="right") - 1
    lo = np.asarray(panel.offsets, dtype=np.int64)[block]
    hi = lo + np.asarray([len(m.ret) for m in panel.markets], dtype=np.int64)[block]
    src = np.where(flat < lo, lo, hi - 1)
    d = dates[np.clip(src, 0, len(dates) - 1)]
    out = d.astype("datetime64[D]").astype(np.int64)
    odd = np.flatnonzero(((flat >= lo) & (flat < hi)) | (hi <= lo) | np.isnat(d))
    if len(odd):
        out[odd] = _searched_days(panel, flat[odd])
    return out


def _searched_days(panel: Panel, flat: np.ndarray) -> np.ndarray:
    """:func:`_filled_days` at positions ``flat`` by binary searches among the dated positions."""
    dates = panel.dates
    valid_pos = np.flatnonzero(~np.isnat(dates))
    n = len(dates)
    k = np.searchsorted(valid_pos, flat, side="left")  # first valid position >= flat
    nxt = np.where(k < len(valid_pos), valid_pos[np.minimum(k, len(valid_pos) - 1)], n)
    k = np.searchsorted(valid_pos, flat, side="right") - 1  # last valid position <= flat
    prv = np.where(k >= 0, valid_pos[np.maximum(k, 0)], -1)
    block = np.searchsorted(panel.starts, flat, side="right") - 1
    left = flat < np.asarray(panel.offsets)[block]
    src = np.clip(np.where(left, nxt, prv), 0, n - 1)
    d = dates[src]
    ok = ~np.isnat(d)
    out = np.zeros(len(flat), dtype=np.int64)
    out[ok] = d[ok].astype("datetime64[D]").astype(np.int64)
    return out


def _filled_days(panel: Panel) -> np.ndarray:
    """Calendar day number (days since 1970-01-01) of every long-array position.

    Padding takes the nearest date of its own market's data: left padding the
    first date, right padding the last, so a window reaching past the data
    spans the dates it actually covers.
    """
    dates = panel.dates
    valid = ~np.isnat(dates)
    days = np.zeros(len(dates), dtype=np.int64)
    days[valid] = dates[valid].astype("datetime64[D]").astype(np.int64)
    pos = np.arange(len(dates))
    if len(dates) == 0:
        return days
    last_valid = np.maximum.accumulate(np.where(valid, pos, -1))
    next_valid = np.minimum.accumulate(np.where(valid, pos, len(dates))[::-1])[::-1]
    block = np.searchsorted(panel.starts, pos, side="right") - 1
    left = pos < np.asarray(panel.offsets)[block]
    src = np.where(left, next_valid, last_valid)
    src = np.clip(src, 0, len(dates) - 1)
    return days[src]
