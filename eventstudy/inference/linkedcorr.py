"""The correlations of every two pairs whose event windows can share a day, kept band by band.

Kolari and Pynnönen's r̄ weighs each correlation ρ_ij of two pairs'
estimation residuals by the calendar overlap of their windows (see
:mod:`~eventstudy.inference.crosscorr`), so only pairs whose event windows
meet need ρ_ij. :func:`linked_correlations` computes those once for a study
(the bands of :func:`~eventstudy.inference.crosscorr.linked_bands`, one
product per set of rows with the same partners) and keeps each band's
rows × partners matrix, so that every window and grouping reads the same
numbers instead of correlating its blocks again: a study of ragged dates
(nearly every pair its own estimation dates) pays the pairwise-complete
correlations once, whatever its size, within :data:`LINKED_ENTRIES`.

Kolari, J. W. and Pynnönen, S. (2010), Review of Financial Studies 23(11),
3996–4025 (formula sheet §5.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import TestInput
from .crosscorr import BAND_ROWS, MIN_OVERLAP, cross_correlation, linked_bands, merged_bands

__all__ = ["LINKED_ENTRIES", "LinkedCorrelations", "linked_correlations"]

#: Most correlations (rows × partners over the bands) a study keeps: 512 MiB of
#: float64 (20,000 ragged pairs of 20 events a fortnight apart hold 60 M: their
#: whole battery in 19 s and 1.4 GiB, against 149 s by the atoms, 6 Dec 2026). A
#: study beyond it takes the atoms' route of :mod:`~eventstudy.inference.crossgroups`.
LINKED_ENTRIES = 2**26


@dataclass(frozen=True)
class LinkedCorrelations:
    """ρ_ij of the linked pairs, band by band (NaN where undefined and for i = j)."""

    values: np.ndarray  # every band's rows × partners matrix, raveled one after the other
    offset: np.ndarray  # first value of each band
    width: np.ndarray  # partners of each band
    height: np.ndarray  # rows of each band
    band_of: np.ndarray  # band of each pair (−1: in none)
    pos: np.ndarray  # each pair's row in its band
    column: np.ndarray  # (bands, pairs): each partner's column in each band (−1: not a partner)

    def band(self, k: int) -> np.ndarray:
        """Band ``k``'s rows × partners matrix (a view)."""
        start, rows, width = int(self.offset[k]), int(self.height[k]), int(self.width[k])
        return self.values[start : start + rows * width].reshape(rows, width)

    def take(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """ρ_ij for the pairs ``i`` and ``j`` (arrays of equal length); NaN where not linked."""
        band = self.band_of[i]
        inside = band >= 0
        col = np.where(inside, self.column[np.maximum(band, 0), j], -1)
        found = col >= 0
        at = self.offset[band[found]] + self.pos[i[found]] * self.width[band[found]] + col[found]
        out = np.full(len(i), np.nan)
        out[found] = self.values[at]
        return out


def linked_correlations(inp: TestInput) -> LinkedCorrelations | None:
    """The linked pairs' correlations of ``inp`` (memoized in ``inp.cache``), or ``None``.

    ``None`` without event days or when the bands would hold more than
    :data:`LINKED_ENTRIES` correlations. Each band's matrix is
    :func:`~eventstudy.inference.crosscorr.cross_correlation` of its rows with
    its partners, exactly as :func:`~eventstudy.inference.crosscorr.study_correlations`
    fills its P × P matrix (the same numbers).
    """
    evt = inp.event_day
    if evt is None:
        return None
    key = ("linked_corr", MIN_OVERLAP)
    hit = inp.cache.get(key)
    if isinstance(hit, tuple) and hit[0] is evt:
        return hit[1]
    store = None
    n = len(inp.car)
    if linked_total(evt) <= LINKED_ENTRIES:  # counted without the bands (a million pairs: no loop)
        bands = merged_bands(linked_bands(evt))
        sizes = np.array([len(rows) * len(partners) for rows, partners in bands], dtype=np.int64)
        if len(bands) * n <= LINKED_ENTRIES:
            store = _build(inp, bands, sizes, n)
    inp.cache[key] = (evt, store)
    return store


def linked_total(days: np.ndarray) -> int:
    """Σ rows × partners over the bands of :func:`~eventstudy.inference.crosscorr.linked_bands`.

    Counted from the sorted first and last days: a band spanning days lo … hi
    has as partners the rows whose first day is at most hi, less those whose
    last day is before lo (those have their first day before hi too).
    """
    days = np.asarray(days)
    has_day = days >= 0
    rows = np.flatnonzero(has_day.any(axis=1))
    if rows.size == 0:
        return 0
    big = np.iinfo(np.int64).max
    first = np.where(has_day, days, big).min(axis=1)[rows]
    last = np.where(has_day, days, -1).max(axis=1)[rows]
    order = np.argsort(first, kind="stable")
    first, last = first[order], last[order]
    starts = np.arange(0, len(rows), BAND_ROWS)
    lo = first[starts]  # each band's first day (rows by first day)
    hi = np.maximum.reduceat(last, starts)
    partners = np.searchsorted(first, hi, "right") - np.searchsorted(np.sort(last), lo, "left")
    height = np.diff(np.append(starts, len(rows)))
    return int((height * partners).sum())


def _build(
    inp: TestInput, bands: list[tuple[np.ndarray, np.ndarray]], sizes: np.ndarray, n: int
) -> LinkedCorrelations:
    offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    values = np.empty(int(sizes.sum()))
    band_of = np.full(n, -1, dtype=np.int64)
    pos = np.zeros(n, dtype=np.int64)
    column = np.full((len(bands), n), -1, dtype=np.int32)
    resid, days = inp.est_resid, inp.est_day
    for k, (rows, partners) in enumerate(bands):
        r = cross_correlation(resid[rows], days[rows], resid[partners], days[partners], MIN_OVERLAP)
        r[rows[:, None] == partners[None, :]] = np.nan  # a pair with itself is not a correlation
        values[offset[k] : offset[k] + r.size] = r.ravel()
        band_of[rows] = k
        pos[rows] = np.arange(len(rows))
        column[k, partners] = np.arange(len(partners), dtype=np.int32)
    width = np.array([len(p) for _, p in bands], dtype=np.int64)
    height = np.array([len(r) for r, _ in bands], dtype=np.int64)
    return LinkedCorrelations(values, offset, width, height, band_of, pos, column)
