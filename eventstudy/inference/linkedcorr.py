"""The correlations of every two pairs whose event windows can share a day, kept band by band.

Kolari and Pynnönen's r̄ weighs each correlation ρ_ij of two pairs'
estimation residuals by the calendar overlap of their windows (see
:mod:`~eventstudy.inference.crosscorr`), so only pairs whose event windows
meet need ρ_ij. :func:`linked_correlations` keeps them for a study, band by
band (the bands of :func:`~eventstudy.inference.crosscorr.linked_bands`,
consecutive bands with the same partners as one), each computed once when a
window first reads it (a band's rows with the partners of one band at a
time), so that every window and grouping reads the same numbers instead of
correlating its blocks again: a study of ragged dates (nearly every pair its
own estimation dates) pays the pairwise-complete correlations it uses once,
whatever its size, within :data:`LINKED_ENTRIES`.

Kolari, J. W. and Pynnönen, S. (2010), Review of Financial Studies 23(11),
3996–4025 (formula sheet §5.5).
"""

from __future__ import annotations

import mmap
import threading

import numpy as np

from .base import TestInput
from .crosscorr import BAND_ROWS, day_spans, linked_bands, merged_bands
from .paircorr import MIN_OVERLAP, cross_correlation, pairwise_correlation

__all__ = ["LINKED_ENTRIES", "LinkedCorrelations", "linked_correlations"]

#: Most correlations (rows × partners over the bands) a study keeps: 1 GiB of
#: float64, filled only where a window reads. A study beyond it takes the atoms'
#: route of :mod:`~eventstudy.inference.crossgroups`, which correlates blocks again
#: in every window. Measured (7 Dec 2026, whole battery, CPU / wall / peak): 28,000
#: pairs (1,400 stocks × 20 events, 114 M linked correlations), every stock 1 %
#: blank, 9.8 s / 7.0 s / 1.33 GiB on this store against 260 s / 133 s / 1.50 GiB by
#: the atoms at 512 MiB; a tenth of the stocks gappy, 9.0 s / 5.9 s / 1.25 GiB
#: against 57 s / 31 s / 1.40 GiB (the atoms keep block matrices too).
LINKED_ENTRIES = 2**27


class LinkedCorrelations:
    """ρ_ij of the linked pairs, band by band (NaN where undefined and for i = j).

    A band's matrix is filled a *chunk* at a time when first read: the
    partners that lie in one band (their own rows' band) form a chunk,
    correlated with all of the band's rows in one product. Partners no
    window reads (the next event's pairs, whose event window touches this
    one by a day but whose tested windows never meet) are never correlated.
    Chunks are fixed by the bands, so a value is the same whichever window
    reads it first. The test runner reads from several threads: a chunk is
    filled by one of them, in place, and a thread that needs a chunk another
    is filling waits for it (never reading a chunk half written).
    """

    def __init__(self, inp: TestInput, bands: list[tuple[np.ndarray, np.ndarray]]) -> None:
        n = len(inp.car)  # (the residuals are read from the input at each fill: the study's
        # shared memo, which holds this, must not hold its own estimation arrays)
        self.rows = [rows for rows, _ in bands]
        self.band_of = np.full(n, -1, dtype=np.int64)
        self.pos = np.zeros(n, dtype=np.int64)
        for k, rows in enumerate(self.rows):
            self.band_of[rows] = k
            self.pos[rows] = np.arange(len(rows))
        # a band's partners in the order of their own bands' rows: each chunk is a run of
        # columns, and the band's own chunk is its rows in their order
        self.partners = [p[np.lexsort((self.pos[p], self.band_of[p]))] for _, p in bands]
        self.width = np.array([len(p) for p in self.partners], dtype=np.int64)
        self.height = np.array([len(r) for r in self.rows], dtype=np.int64)
        sizes = self.width * self.height
        self.offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        # an anonymous map of small pages: memory is taken only where a chunk is written (numpy
        # asks for huge pages, which a strided chunk commits 2 MiB at a time around it, and
        # which a long-running, fragmented machine hands out slowly: 40-50 ms for a chunk of
        # 992 × 992 against 6 ms, 6 Dec 2026)
        self._map = mmap.mmap(-1, max(int(sizes.sum()), 1) * 8)
        self.values = np.frombuffer(self._map, dtype=np.float64, count=int(sizes.sum()))
        self.column = np.full((len(bands), n), -1, dtype=np.int32)
        for k, partners in enumerate(self.partners):
            self.column[k, partners] = np.arange(len(partners), dtype=np.int32)
        self._chunk = [self.band_of[partners] for partners in self.partners]  # each column's chunk
        self._filled: list[set[int]] = [set() for _ in bands]
        self._busy: set[tuple[int, int]] = set()  # chunks (band, chunk) being filled
        self._turn = threading.Condition()
        # per band and filled chunk: its columns, and each row's Σ and count of defined ρ over them
        self._sums: list[dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]] = [{} for _ in bands]

    def band(self, k: int) -> np.ndarray:
        """Band ``k``'s rows × partners matrix (a view; only its filled chunks are meaningful)."""
        start, rows, width = int(self.offset[k]), int(self.height[k]), int(self.width[k])
        return self.values[start : start + rows * width].reshape(rows, width)

    def fill(self, inp: TestInput, k: int, cols: np.ndarray) -> None:
        """Correlate band ``k``'s rows with the chunks holding its columns ``cols`` not yet filled.

        Returns when those chunks are filled, by this thread or another.
        """
        for m in np.unique(self._chunk[k][cols]).tolist():
            with self._turn:
                while (k, m) in self._busy:  # another thread is filling it: wait
                    self._turn.wait()
                if m in self._filled[k]:
                    continue
                self._busy.add((k, m))
            done = False
            try:
                self._fill_chunk(inp, k, m)
                done = True
            finally:
                with self._turn:
                    self._busy.discard((k, m))
                    if done:
                        self._filled[k].add(m)
                    self._turn.notify_all()

    def _fill_chunk(self, inp: TestInput, k: int, m: int) -> None:
        """Band ``k``'s chunk of band ``m``'s rows, written in place, and its rows' sums."""
        at = np.flatnonzero(self._chunk[k] == m)
        rows, partners = self.rows[k], self.partners[k][at]
        resid, days = inp.est_resid, inp.est_day
        r = self.band(k)[:, at[0] : at[-1] + 1]  # (a chunk's columns are a run)
        mirror = self._mirror(m, k, partners)
        if m == k:  # the band's own rows, in their order: one symmetric set
            pairwise_correlation(resid[rows], days[rows], MIN_OVERLAP, out=r)
        elif mirror is not None:  # band m holds these correlations already, transposed
            np.copyto(r, mirror.T)
        else:  # (a pair lies in one band: no pair of another band's chunk is itself)
            cross_correlation(resid[rows], days[rows], resid[partners], days[partners], MIN_OVERLAP, out=r)
        ok = np.isfinite(r)
        self._sums[k][m] = (at, np.where(ok, r, 0.0).sum(axis=1), ok.sum(axis=1))

    def _mirror(self, m: int, k: int, rows_m: np.ndarray) -> np.ndarray | None:
        """ρ of band ``m``'s rows ``rows_m`` × all of band ``k``'s rows, if band m has them filled."""
        if m == k or k not in self._filled[m]:
            return None
        at = np.flatnonzero(self._chunk[m] == k)
        if len(at) != self.height[k]:  # some of band k's rows are not band m's partners
            return None
        return np.take(self.band(m)[:, at[0] : at[-1] + 1], self.pos[rows_m], axis=0)

    def link_sum(self, inp: TestInput, ra: np.ndarray, rb: np.ndarray) -> tuple[float, int]:
        """Σ of the defined ρ_ij over i in ``ra`` and j in ``rb`` (sets of pairs), and their number.

        By band of the rows and chunk of the columns: the rows' sums over the
        whole chunk (kept when it was filled) less the columns of the chunk
        not in ``rb``, when those are fewer than ``rb``'s; else ``rb``'s
        columns directly. Columns that are not a band's partners have no ρ.
        """
        total, count = 0.0, 0
        band_of = self.band_of[ra]
        for k in np.unique(band_of[band_of >= 0]).tolist():
            rows = self.pos[ra[band_of == k]]
            col = self.column[k, rb]
            col = col[col >= 0]
            chunk = self._chunk[k][col]
            self.fill(inp, k, col)
            band = self.band(k)
            for m in np.unique(chunk).tolist():
                at, sums, counts = self._sums[k][m]
                cols = col[chunk == m]
                if 2 * len(cols) >= len(at):  # the whole chunk, less the few columns not asked
                    keep = np.ones(len(at), dtype=bool)  # (a chunk's columns are a run)
                    keep[cols - at[0]] = False
                    rest = at[0] + np.flatnonzero(keep)
                    total += float(sums[rows].sum())
                    count += int(counts[rows].sum())
                    sign, cols = -1.0, rest
                else:
                    sign = 1.0
                if len(cols):
                    r = np.take(np.take(band, cols, axis=1), rows, axis=0)
                    ok = np.isfinite(r)
                    total += sign * float(r[ok].sum())
                    count += int(sign) * int(ok.sum())
        return total, count

    def take(self, inp: TestInput, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """ρ_ij of ``inp``'s pairs ``i`` and ``j`` (arrays of equal length); NaN where not linked."""
        band = self.band_of[i]
        col = np.where(band >= 0, self.column[np.maximum(band, 0), j], -1)
        found = col >= 0
        for k in np.unique(band[found]).tolist():
            self.fill(inp, k, col[found & (band == k)])
        at = self.offset[band[found]] + self.pos[i[found]] * self.width[band[found]] + col[found]
        out = np.full(len(i), np.nan)
        out[found] = self.values[at]
        return out


def linked_correlations(inp: TestInput) -> LinkedCorrelations | None:
    """The linked pairs' correlations of ``inp`` (memoized in ``inp.cache``), or ``None``.

    ``None`` without event days or when the bands would hold more than
    :data:`LINKED_ENTRIES` correlations. The correlations are computed when
    first read (:meth:`LinkedCorrelations.fill`), by
    :func:`~eventstudy.inference.crosscorr.cross_correlation` of a band's
    rows with a chunk of its partners (the values of
    :func:`~eventstudy.inference.crosscorr.study_correlations` to rounding).
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
        if len(bands) * n <= LINKED_ENTRIES:
            store = LinkedCorrelations(inp, bands)
    inp.cache[key] = (evt, store)
    return store


def linked_total(days: np.ndarray) -> int:
    """Σ rows × partners over the bands of :func:`~eventstudy.inference.crosscorr.linked_bands`.

    Counted from the sorted first and last days: a band spanning days lo … hi
    has as partners the rows whose first day is at most hi, less those whose
    last day is before lo (those have their first day before hi too).
    """
    rows, first_of, last_of = day_spans(days)
    if rows.size == 0:
        return 0
    first, last = first_of[rows], last_of[rows]  # rows by first day, as the bands take them
    starts = np.arange(0, len(rows), BAND_ROWS)
    lo = first[starts]  # each band's first day (rows by first day)
    hi = np.maximum.reduceat(last, starts)
    partners = np.searchsorted(first, hi, "right") - np.searchsorted(np.sort(last), lo, "left")
    height = np.diff(np.append(starts, len(rows)))
    return int((height * partners).sum())
