"""Window sums of cross-moments for designs with several benchmark regressors.

The Dimson (1979) and Scholes–Williams (1977) betas regress a market's return
on the benchmark's returns of several sessions (lags, the same date, leads).
As in :mod:`eventstudy.moments`, whether an estimation day is used depends
only on its position in the panel's long arrays, so every pair's Gram matrix
Z'Z of the columns ``Z = [c, x_1 … x_K, y]`` over its estimation window is a
difference of cumulative sums of the products of the columns: one
subtraction per pair, no loop over pairs.

Returns spanning k sessions enter with the weights of the trade-to-trade
model (Maynes and Rumsey 1993; formula sheet §6.3): ``c = √k`` and the other
columns divided by √k, so that the intercept regressor of such a row is k and
its variance kσ². Values are centred per market block (minus k times the
block's mean) before the products are summed, for accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .panel import Panel

__all__ = ["GramSums", "GramWindow", "gram_sums"]


@dataclass(frozen=True, eq=False)
class GramWindow:
    """Per pair: n, the Gram matrix (P, m, m) of ``[c, x_1 … x_K, y]``, the centring and active regressors."""

    n: np.ndarray
    G: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    active: np.ndarray


@dataclass(frozen=True, eq=False)
class GramSums:
    """Cumulative sums (leading 0) of the upper-triangle products of the columns.

    Attributes
    ----------
    used : ndarray of bool
        Long-array positions used for estimation.
    count : ndarray of int
        Cumulative count of used positions.
    cum : ndarray (N + 1, q)
        Cumulative sums of the q = m(m + 1)/2 products, in ``np.triu_indices(m)`` order.
    cx : ndarray (blocks, K)
        Centring constants of the regressors per market block.
    cy : ndarray (blocks,)
        Centring constant of the market's return per block.
    active : ndarray (blocks, K) of bool
        Regressors estimated for the pairs of each block (an inactive one has
        coefficient 0).
    starts : ndarray of int
        First long-array position of each block.
    """

    used: np.ndarray
    count: np.ndarray
    cum: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    active: np.ndarray
    starts: np.ndarray

    @property
    def m(self) -> int:
        """Number of columns of Z (intercept, K regressors, y)."""
        return self.cx.shape[1] + 2

    def window(self, a: np.ndarray, b: np.ndarray) -> GramWindow:
        """Sums over the half-open long-array ranges ``[a, b)``."""
        m = self.m
        iu, ju = np.triu_indices(m)
        flat = self.cum[b] - self.cum[a]
        G = np.empty((len(a), m, m))
        G[:, iu, ju] = flat
        G[:, ju, iu] = flat
        block = np.searchsorted(self.starts, a, side="right") - 1
        n = (self.count[b] - self.count[a]).astype("float64")
        return GramWindow(n, G, self.cx[block], self.cy[block], self.active[block])

    def sliced(self, lo: int, hi: int, k0: int, k1: int, starts: np.ndarray) -> GramSums:
        """The sums of positions ``[lo, hi)``, re-indexed from 0 (as ``moments.slice_sums``)."""
        return GramSums(
            used=self.used[lo:hi],
            count=self.count[lo : hi + 1] - self.count[lo],
            cum=self.cum[lo : hi + 1],
            cx=self.cx[k0:k1],
            cy=self.cy[k0:k1],
            active=self.active[k0:k1],
            starts=starts,
        )


def gram_sums(panel: Panel, rows: np.ndarray, active: np.ndarray) -> GramSums:
    """Gram prefix sums of the regressors ``panel.BX[rows]`` and the returns ``panel.R``.

    ``active`` (blocks × K) says which regressors each market block estimates;
    a day is used when the return and every regressor are finite and the day
    is not masked.
    """
    X = panel.BX[rows] if panel.BX is not None else np.empty((0, len(panel.R)))
    K, N = X.shape
    used = np.isfinite(panel.R) & ~panel.masked & np.isfinite(X).all(axis=0)
    count: np.ndarray = np.zeros(N + 1, dtype=np.int64)
    np.cumsum(used, out=count[1:])
    starts = panel.starts
    ends = np.append(starts[1:], N).astype(np.int64)
    block = np.repeat(np.arange(len(starts), dtype=np.int64), ends - starts)
    cnt = np.maximum(np.bincount(block, weights=used, minlength=len(starts)), 1.0)
    k = np.ones(N) if panel.span is None else panel.span
    root = np.sqrt(k)

    def centred(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = np.bincount(block, weights=np.where(used, v, 0.0), minlength=len(starts)) / cnt
        return np.where(used, (v - k * c[block]) / root, 0.0), c

    cols = [np.where(used, root, 0.0)]
    cx = np.empty((len(starts), K))
    for j in range(K):
        col, cx[:, j] = centred(X[j])
        cols.append(col)
    ycol, cy = centred(panel.R)
    cols.append(ycol)
    Z = np.stack(cols, axis=1)
    iu, ju = np.triu_indices(K + 2)
    cum = np.zeros((N + 1, len(iu)))
    for c, (i, j) in enumerate(zip(iu.tolist(), ju.tolist(), strict=True)):  # one product column at a time
        np.multiply(Z[:, i], Z[:, j], out=cum[1:, c])
    np.cumsum(cum[1:], axis=0, out=cum[1:])
    return GramSums(used, count, cum, cx, cy, np.asarray(active, dtype=bool), starts)
