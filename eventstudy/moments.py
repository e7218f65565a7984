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
    """Cumulative sums (with a leading 0) over the long arrays."""

    used: np.ndarray
    count: np.ndarray
    sx: np.ndarray
    sy: np.ndarray
    sxx: np.ndarray
    sxy: np.ndarray
    syy: np.ndarray
    cx: np.ndarray
    cy: np.ndarray

    def window(self, a: np.ndarray, b: np.ndarray) -> WindowSums:
        """Sums over the half-open long-array ranges ``[a, b)``."""

        def d(c: np.ndarray) -> np.ndarray:
            return c[b] - c[a]

        return WindowSums(
            n=d(self.count).astype("float64"),
            sx=d(self.sx),
            sy=d(self.sy),
            sxx=d(self.sxx),
            sxy=d(self.sxy),
            syy=d(self.syy),
            cx=self.cx[a],
            cy=self.cy[a],
        )


def _block_means(values: np.ndarray, used: np.ndarray, block: np.ndarray, n_blocks: int) -> np.ndarray:
    v = np.where(used, values, 0.0)
    tot = np.bincount(block, weights=v, minlength=n_blocks)
    cnt = np.bincount(block, weights=used.astype("float64"), minlength=n_blocks)
    return np.where(cnt > 0, tot / np.where(cnt > 0, cnt, 1.0), 0.0)


def prefix_sums(panel: Panel, with_benchmark: bool) -> PrefixSums:
    """Prefix sums of the used estimation data of ``panel`` (see the module docstring)."""
    used = np.isfinite(panel.R) & ~panel.masked
    if with_benchmark:
        used &= np.isfinite(panel.B)
    # market block of every long-array position (padding belongs to its market)
    starts = panel.offsets - panel.pad
    block = np.searchsorted(starts, np.arange(len(panel.R)), side="right") - 1
    n_blocks = len(starts)
    cy_b = _block_means(panel.R, used, block, n_blocks)
    cx_b = _block_means(panel.B, used, block, n_blocks) if with_benchmark else np.zeros(n_blocks)
    cy, cx = cy_b[block], cx_b[block]
    y = np.where(used, panel.R - cy, 0.0)
    x = np.where(used, panel.B - cx, 0.0) if with_benchmark else np.zeros_like(y)

    def cum(v: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(v)])

    return PrefixSums(
        used=used,
        count=np.concatenate([[0], np.cumsum(used, dtype=np.int64)]),
        sx=cum(x),
        sy=cum(y),
        sxx=cum(x * x),
        sxy=cum(x * y),
        syy=cum(y * y),
        cx=np.concatenate([cx, [0.0]]),
        cy=np.concatenate([cy, [0.0]]),
    )
