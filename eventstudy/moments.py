"""Window sums of the estimation data by prefix sums over the panel's long arrays.

Whether an estimation day is used depends only on its position in the long
arrays (a finite return, a finite benchmark return when the model has one,
not masked by another event), never on the pair. So the sums an OLS fit on a
window needs — n, Σx, Σy, Σx², Σxy, Σy² over the used days — are differences
of six cumulative sums, one subtraction per pair instead of a pass over its
whole window. Values are centred per market before summing, which keeps the
running totals small and the differences accurate (about 1e-13 relative).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .panel import Panel

__all__ = ["PrefixSums", "prefix_sums", "WindowSums"]


@dataclass(frozen=True, eq=False)
class WindowSums:
    """Per pair: n and the centred sums over the used days of its window.

    ``x``/``y`` are centred by the market constants ``cx``/``cy``; the fit
    adds them back.
    """

    n: np.ndarray
    sx: np.ndarray
    sy: np.ndarray
    sxx: np.ndarray
    sxy: np.ndarray
    syy: np.ndarray
    cx: np.ndarray
    cy: np.ndarray


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
        )


def _block_means(values: np.ndarray, used: np.ndarray, block: np.ndarray, n_blocks: int) -> np.ndarray:
    v = np.where(used, values, 0.0)
    tot = np.bincount(block, weights=v, minlength=n_blocks)
    cnt = np.bincount(block, weights=used.astype("float64"), minlength=n_blocks)
    return np.where(cnt > 0, tot / np.where(cnt > 0, cnt, 1.0), 0.0)


def _cumsum(v: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """Cumulative sum of ``v`` with a leading 0 (one allocation)."""
    out: np.ndarray = np.empty(len(v) + 1, dtype=dtype)
    out[0] = 0
    np.cumsum(v, out=out[1:])
    return out


def _centred(values: np.ndarray, used: np.ndarray, means: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``values`` minus its block's mean where used, 0 elsewhere (one allocation)."""
    out = np.repeat(means, lengths)
    np.subtract(values, out, out=out)
    out[~used] = 0.0
    return out


def prefix_sums(panel: Panel, with_benchmark: bool) -> PrefixSums:
    """Prefix sums of the used estimation data of ``panel`` (see the module docstring).

    Counts are int32 when the long arrays allow it; the sums are float64.
    Temporaries are released as soon as possible (a universe-scale panel
    has tens of millions of positions).
    """
    used = np.isfinite(panel.R) & ~panel.masked
    if with_benchmark:
        used &= np.isfinite(panel.B)
    # market block of every long-array position (padding belongs to its market)
    starts = panel.starts
    n_blocks = len(starts)
    lengths = np.diff(np.append(starts, len(panel.R)))
    block = np.repeat(np.arange(n_blocks, dtype=np.int32 if n_blocks < 2**31 else np.int64), lengths)
    cy_b = _block_means(panel.R, used, block, n_blocks)
    cx_b = _block_means(panel.B, used, block, n_blocks) if with_benchmark else np.zeros(n_blocks)
    del block
    count = _cumsum(used, np.int32 if len(used) < 2**31 - 1 else np.int64)
    y = _centred(panel.R, used, cy_b, lengths)
    x = _centred(panel.B, used, cx_b, lengths) if with_benchmark else np.zeros_like(y)
    tmp = np.multiply(x, x)
    sxx = _cumsum(tmp)
    np.multiply(x, y, out=tmp)
    sxy = _cumsum(tmp)
    sx = _cumsum(x)
    del x
    np.multiply(y, y, out=tmp)
    syy = _cumsum(tmp)
    del tmp
    sy = _cumsum(y)
    del y
    return PrefixSums(
        used=used, count=count, sx=sx, sy=sy, sxx=sxx, sxy=sxy, syy=syy, cx=cx_b, cy=cy_b, starts=starts
    )
