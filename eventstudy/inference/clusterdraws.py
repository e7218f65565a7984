"""The resampled t's of the wild cluster bootstrap, every group and draw at once.

For each draw b and group, the restricted residuals are the cluster sums
multiplied by the cluster weights, w_bk·s_c (cells c = (group, cluster k));
the resampled CAAR is m_b = Σ_c w_bk s_c / N and the CR1 variance is built
from the residual sums w_bk s_c − n_c m_b of the cells, squared and summed per
group (no expansion of the square, so no cancellation: a draw that leaves no
spread gives exactly 0). See
:func:`~eventstudy.inference.clustered.cluster_bootstrap` for the test.

Two layouts of the same sums:

* a grid of groups × clusters (a cell missing from a group is a zero), when
  the cells fill at least :data:`GRID_FILL` of it: the weights broadcast over the groups,
  with no gather of weights per cell (a market grouping whose markets share
  the clusters);
* the cells in a row, each group one contiguous run of them
  (``np.add.reduceat``), otherwise.

Either way the draws are taken in blocks of at most :data:`CELL_BLOCK` values.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CELL_BLOCK", "GRID_FILL", "extreme_counts"]

#: Share of the groups × clusters grid that the cells must fill for the grid layout.
GRID_FILL = 0.5

#: Largest draws × cells array computed at once (bounds memory).
CELL_BLOCK = 1 << 21

#: Values of the draws × grid array computed at once: a block that stays in
#: the processor's cache while its few passes run (more blocks, each cheaper).
GRID_BLOCK = 1 << 15


def extreme_counts(
    weights: tuple[np.ndarray, np.ndarray],
    grp: np.ndarray,
    cl: np.ndarray,
    s_c: np.ndarray,
    n_c: np.ndarray,
    big_n: np.ndarray,
    g: np.ndarray,
    webb: np.ndarray,
    t_abs: np.ndarray,
    rtol: float,
) -> np.ndarray:
    """Per group, the draws whose |t*| is at least ``t_abs`` (1 − ``rtol``).

    Parameters
    ----------
    weights : (rademacher, webb), each draws × clusters
    grp, cl, s_c, n_c : ndarray (cells,)
        Group (0 … G − 1, cells sorted by group), cluster, Σ CAR and pairs of each cell.
    big_n, g : ndarray (G,)
        Pairs N and clusters G of each group (as floats).
    webb : ndarray (G,) of bool
        Groups resampled with Webb's weights (else Rademacher).
    t_abs : ndarray (G,)
        |t| observed.
    rtol : float
        Relative tolerance of the comparison.
    """
    n_groups = len(big_n)
    extreme = np.zeros(n_groups)
    clusters = weights[0].shape[1]
    for kind, w_all in ((True, weights[1]), (False, weights[0])):
        chosen = webb == kind
        if not chosen.any():
            continue
        at = np.flatnonzero(chosen[grp])  # this kind's cells, still sorted by group
        gid = np.flatnonzero(chosen)
        local = np.cumsum(chosen) - 1  # group → its row among this kind's groups
        bar = t_abs[gid] * (1.0 - rtol)
        args = (w_all, local[grp[at]], cl[at], s_c[at], n_c[at], big_n[gid], g[gid], bar)
        if len(at) >= GRID_FILL * len(gid) * clusters:
            extreme[gid] = _grid(*args)
        else:
            extreme[gid] = _runs(*args)
    return extreme


def _t_extreme(
    mean_b: np.ndarray, q: np.ndarray, big_n: np.ndarray, g: np.ndarray, bar: np.ndarray
) -> np.ndarray:
    """Count over the draws (axis 0) of |m_b| / (√(G/(G − 1) q_b) / N) ≥ ``bar`` (0/0 counts as 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        t_b = np.abs(mean_b / (np.sqrt(g / (g - 1.0) * q) / big_n))
    t_b = np.where(np.isnan(t_b), 0.0, t_b)
    return (t_b >= bar[None, :]).sum(axis=0)


def _grid(
    w_all: np.ndarray,
    row: np.ndarray,
    cl: np.ndarray,
    s_c: np.ndarray,
    n_c: np.ndarray,
    big_n: np.ndarray,
    g: np.ndarray,
    bar: np.ndarray,
) -> np.ndarray:
    """:func:`extreme_counts` on the groups × clusters grid."""
    shape = (len(big_n), w_all.shape[1])
    s = np.zeros(shape)
    n = np.zeros(shape)
    s[row, cl] = s_c
    n[row, cl] = n_c
    extreme = np.zeros(len(big_n))
    step = max(1, GRID_BLOCK // s.size)
    for lo in range(0, len(w_all), step):
        ws = w_all[lo : lo + step, None, :] * s[None]  # draws × groups × clusters
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_b = ws.sum(axis=2) / big_n
            ws -= n[None] * mean_b[:, :, None]  # the cells' residual sums (0 off the cells)
            q = np.einsum("bgk,bgk->bg", ws, ws)
        extreme += _t_extreme(mean_b, q, big_n, g, bar)
    return extreme


def _runs(
    w_all: np.ndarray,
    row: np.ndarray,
    cl: np.ndarray,
    s_c: np.ndarray,
    n_c: np.ndarray,
    big_n: np.ndarray,
    g: np.ndarray,
    bar: np.ndarray,
) -> np.ndarray:
    """:func:`extreme_counts` on the cells in a row (each group a contiguous run)."""
    first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    extreme = np.zeros(len(big_n))
    step = max(1, CELL_BLOCK // max(len(row), 1))
    for lo in range(0, len(w_all), step):
        ws = w_all[lo : lo + step][:, cl] * s_c  # draws × cells
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_b = np.add.reduceat(ws, first, axis=1) / big_n
            dev = ws - n_c * mean_b[:, row]
            q = np.add.reduceat(dev * dev, first, axis=1)
        extreme += _t_extreme(mean_b, q, big_n, g, bar)
    return extreme
