"""Window sums of the estimation data by prefix sums over the panel's long arrays.

Whether an estimation day is used depends only on its position in the long
arrays (a finite return, a finite benchmark return when the model has one,
not masked by another event), never on the pair. So the sums an OLS fit on a
window needs — n, Σx, Σy, Σx², Σxy, Σy² over the used days — are differences
of six cumulative sums, one subtraction per pair instead of a pass over its
whole window. Values are centred per market before summing, which keeps the
running totals small and the differences accurate (about 1e-13 relative).

A return that spans k sessions (a session missing from the data) has k times
the normal return and the variance of a one-session return (trade-to-trade,
Maynes and Rumsey 1993; formula sheet §6.3): its row is weighted by 1/k and
its intercept regressor is k. The sums are then Σk (``sk``, in place of n for
the intercept), Σx, Σy, Σx²/k, Σxy/k and Σy²/k, and centring subtracts k
times the market constant. Without such returns nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .panel import Panel

#: Positions between two checkpoints of :func:`checkpoints` (about 50 KB of
#: checkpoints per million long-array positions).
CHECKPOINT_EVERY = 1024

__all__ = [
    "Checkpoints",
    "PrefixSums",
    "WindowSums",
    "checkpoint_sums",
    "checkpoints",
    "prefix_sums",
    "slice_sums",
]


@dataclass(frozen=True, eq=False)
class WindowSums:
    """Per pair: n and the centred sums over the used days of its window.

    ``x``/``y`` are centred by the market constants ``cx``/``cy``; the fit
    adds them back. ``sk`` is Σk, the sessions spanned (``None`` when every
    return spans one session, i.e. ``sk == n``).
    """

    n: np.ndarray
    sx: np.ndarray
    sy: np.ndarray
    sxx: np.ndarray
    sxy: np.ndarray
    syy: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    sk: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class PrefixSums:
    """Cumulative sums (with a leading 0) over the long arrays.

    ``cx``/``cy`` are the centring constants per market block, and
    ``starts`` the blocks' first positions (``Panel.starts``).
    """

    used: np.ndarray
    count: np.ndarray
    sx: np.ndarray
    sy: np.ndarray
    sxx: np.ndarray
    sxy: np.ndarray
    syy: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    starts: np.ndarray
    sk: np.ndarray | None = None

    def window(self, a: np.ndarray, b: np.ndarray) -> WindowSums:
        """Sums over the half-open long-array ranges ``[a, b)``."""

        def d(c: np.ndarray) -> np.ndarray:
            return c[b] - c[a]

        block = np.searchsorted(self.starts, a, side="right") - 1
        return WindowSums(
            n=d(self.count).astype("float64"),
            sx=d(self.sx),
            sy=d(self.sy),
            sxx=d(self.sxx),
            sxy=d(self.sxy),
            syy=d(self.syy),
            cx=self.cx[block],
            cy=self.cy[block],
            sk=None if self.sk is None else d(self.sk),
        )


def slice_sums(ps: PrefixSums, lo: int, hi: int, k0: int, k1: int, starts: np.ndarray) -> PrefixSums:
    """The sums of long-array positions ``[lo, hi)``, re-indexed from 0.

    Blocks ``k0 … k1 − 1`` cover the range and ``starts`` are their rebased
    starts. Window differences are unchanged: the cumulative sums keep their
    values (counts are shifted by an integer).
    """
    return PrefixSums(
        used=ps.used[lo:hi],
        count=ps.count[lo : hi + 1] - ps.count[lo],
        sx=ps.sx[lo : hi + 1],
        sy=ps.sy[lo : hi + 1],
        sxx=ps.sxx[lo : hi + 1],
        sxy=ps.sxy[lo : hi + 1],
        syy=ps.syy[lo : hi + 1],
        cx=ps.cx[k0:k1],
        cy=ps.cy[k0:k1],
        starts=starts,
        sk=None if ps.sk is None else ps.sk[lo : hi + 1],
    )


def _block_means(
    values: np.ndarray, unused: np.ndarray, block: np.ndarray, cnt: np.ndarray, buf: np.ndarray
) -> np.ndarray:
    """Mean of ``values`` over the used positions of each block (0 for a block with none).

    ``buf`` (as long as ``values``) receives the values with the unused ones
    zeroed.
    """
    np.copyto(buf, values)
    buf[unused] = 0.0
    tot = np.bincount(block, weights=buf, minlength=len(cnt))
    return np.where(cnt > 0, tot / np.where(cnt > 0, cnt, 1.0), 0.0)


def _centre(
    values: np.ndarray,
    unused: np.ndarray,
    block: np.ndarray,
    means: np.ndarray,
    buf: np.ndarray,
    span: np.ndarray | None = None,
) -> None:
    """Write ``values`` minus its block's mean (times the span) into ``buf``, 0 where unused."""
    np.take(means, block, out=buf, mode="clip")  # "raise" would buffer a copy
    if span is not None:
        buf *= span
    np.subtract(values, buf, out=buf)
    buf[unused] = 0.0


def _products(
    a: np.ndarray, b: np.ndarray, span: np.ndarray | None = None, out: np.ndarray | None = None
) -> np.ndarray:
    """``a * b`` divided by ``span`` (when given), into ``out`` (a new array when omitted)."""
    out = np.multiply(a, b, out=out)
    if span is not None:
        np.divide(out, span, out=out)
    return out


def _products_cumsum(a: np.ndarray, b: np.ndarray, span: np.ndarray | None = None) -> np.ndarray:
    """Cumulative sum of ``a * b`` (divided by ``span``) with a leading 0 (one allocation)."""
    out: np.ndarray = np.empty(len(a) + 1)
    out[0] = 0.0
    _products(a, b, span, out=out[1:])
    np.cumsum(out[1:], out=out[1:])
    return out


def prefix_sums(panel: Panel, with_benchmark: bool) -> PrefixSums:
    """Prefix sums of the used estimation data of ``panel`` (see the module docstring).

    Counts are int32 when the long arrays allow it; the sums are float64.
    Every cumulative sum is taken in place in its own output array and the
    centred values are built in the buffers that become ``sx``/``sy``, so a
    universe-scale panel (tens of millions of positions) allocates little
    beyond the outputs.
    """
    N = len(panel.R)
    used = np.isfinite(panel.R) & ~panel.masked
    if with_benchmark:
        used &= np.isfinite(panel.B)
    unused = ~used
    count: np.ndarray = np.empty(N + 1, dtype=np.int32 if N < 2**31 - 1 else np.int64)
    count[0] = 0
    np.cumsum(used, out=count[1:])
    # market block of every long-array position (padding belongs to its market)
    starts = panel.starts
    ends = np.append(starts[1:], N).astype(np.int64)
    block = np.repeat(np.arange(len(starts), dtype=np.int64), ends - starts)
    cnt = (count[ends] - count[starts]).astype("float64")
    span = panel.span
    sk = None
    if span is not None:
        sk = np.empty(N + 1)
        sk[0] = 0.0
        np.cumsum(np.where(used, span, 0.0), out=sk[1:])
    sy: np.ndarray = np.empty(N + 1)
    sy[0] = 0.0
    y = sy[1:]
    cy_b = _block_means(panel.R, unused, block, cnt, y)
    _centre(panel.R, unused, block, cy_b, y, span)
    if with_benchmark:
        sx: np.ndarray = np.empty(N + 1)
        sx[0] = 0.0
        x = sx[1:]
        cx_b = _block_means(panel.B, unused, block, cnt, x)
        _centre(panel.B, unused, block, cx_b, x, span)
        del block
        sxx = _products_cumsum(x, x, span)
        sxy = _products_cumsum(x, y, span)
        np.cumsum(x, out=x)
    else:
        del block
        cx_b = np.zeros(len(starts))
        sx = np.zeros(N + 1)
        sxx = np.zeros(N + 1)
        sxy = np.zeros(N + 1)
    syy = _products_cumsum(y, y, span)
    np.cumsum(y, out=y)
    return PrefixSums(
        used=used,
        count=count,
        sx=sx,
        sy=sy,
        sxx=sxx,
        sxy=sxy,
        syy=syy,
        cx=cx_b,
        cy=cy_b,
        starts=starts,
        sk=sk,
    )


@dataclass(frozen=True, eq=False)
class Checkpoints:
    """The cumulative sums of :class:`PrefixSums` at every ``every``-th position only.

    Entry ``j`` of ``count``, ``sx`` … ``syy`` (and ``sk``) is the prefix sum
    at position ``j · every``; ``used``, ``cx``, ``cy`` and ``starts`` are
    those of the whole sums. :func:`checkpoint_sums` rebuilds the sums of any
    range from them, bit for bit.
    """

    every: int
    with_benchmark: bool
    used: np.ndarray
    count: np.ndarray
    sx: np.ndarray
    sy: np.ndarray
    sxx: np.ndarray
    sxy: np.ndarray
    syy: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    starts: np.ndarray
    sk: np.ndarray | None = None


def checkpoints(panel: Panel, with_benchmark: bool, every: int = CHECKPOINT_EVERY) -> Checkpoints:
    """:func:`prefix_sums` of ``panel`` kept every ``every`` positions (the rest dropped at once).

    The whole sums (about 48 bytes a position) exist only while this runs;
    what is kept is ``used`` (one byte a position) and the checkpoints.
    """
    ps = prefix_sums(panel, with_benchmark)

    def pick(c: np.ndarray) -> np.ndarray:
        return c[::every].copy()

    return Checkpoints(
        every=every,
        with_benchmark=with_benchmark,
        used=ps.used,
        count=pick(ps.count),
        sx=pick(ps.sx),
        sy=pick(ps.sy),
        sxx=pick(ps.sxx),
        sxy=pick(ps.sxy),
        syy=pick(ps.syy),
        cx=ps.cx,
        cy=ps.cy,
        starts=ps.starts,
        sk=None if ps.sk is None else pick(ps.sk),
    )


def checkpoint_sums(
    panel: Panel, cp: Checkpoints, lo: int, hi: int, k0: int, k1: int, starts: np.ndarray
) -> PrefixSums:
    """``slice_sums(prefix_sums(panel, …), lo, hi, k0, k1, starts)``, rebuilt from ``cp``.

    The values of positions from the checkpoint at or before ``lo`` up to
    ``hi`` are centred and multiplied as :func:`prefix_sums` does, element by
    element, and accumulated from the checkpoint's sums: ``np.cumsum`` adds
    sequentially, so every cumulative sum is the very number of the whole
    array (work ∝ ``hi − lo`` plus at most ``cp.every`` positions).
    """
    j0 = lo // cp.every
    p0 = j0 * cp.every
    used = cp.used[p0:hi]
    unused = ~used
    # market block of every position (a position belongs to the last block starting at or before it)
    block = np.searchsorted(cp.starts, np.arange(p0, hi), side="right") - 1
    span = None if panel.span is None else panel.span[p0:hi]
    n = hi - p0
    skip = lo - p0

    def running(values: np.ndarray | None, seeds: np.ndarray) -> np.ndarray:
        out = np.empty(n + 1)
        if values is None:  # no benchmark: the sums are zeros
            out[:] = 0.0
            return out[skip:]
        out[1:] = values
        if p0 == 0:  # as prefix_sums: the first cumulative sum is the first value itself
            out[0] = 0.0
            np.cumsum(out[1:], out=out[1:])
        else:
            out[0] = seeds[j0]
            np.cumsum(out, out=out)
        return out[skip:]

    y = np.empty(n)
    _centre(panel.R[p0:hi], unused, block, cp.cy, y, span)
    x: np.ndarray | None = None
    if cp.with_benchmark:
        x = np.empty(n)
        _centre(panel.B[p0:hi], unused, block, cp.cx, x, span)
    count = np.empty(hi - lo + 1, dtype=cp.count.dtype)
    count[0] = 0
    np.cumsum(used[skip:], out=count[1:])
    return PrefixSums(
        used=cp.used[lo:hi],
        count=count,
        sx=running(x, cp.sx),
        sy=running(y, cp.sy),
        sxx=running(None if x is None else _products(x, x, span), cp.sxx),
        sxy=running(None if x is None else _products(x, y, span), cp.sxy),
        syy=running(_products(y, y, span), cp.syy),
        cx=cp.cx[k0:k1],
        cy=cp.cy[k0:k1],
        starts=starts,
        sk=None if cp.sk is None or span is None else running(np.where(used, span, 0.0), cp.sk),
    )
