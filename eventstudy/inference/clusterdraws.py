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
  the cells fill at least :data:`GRID_FILL` of it (a market grouping whose
  markets share the clusters): the draws are first decided from the expanded
  square, whose sums are products of the grid with the weights, and only the
  draws near the bar (within :data:`BAND` of the terms' size, far more than
  either form's rounding) from the residual sums of their grid rows, so the
  counts are the residual form's;
* the cells in a row, each group one contiguous run of them
  (``np.add.reduceat``), otherwise, in blocks of at most :data:`CELL_BLOCK`
  values.
"""

from __future__ import annotations

import numpy as np

from .flips import add_product

__all__ = ["BAND", "CELL_BLOCK", "DRAW_BLOCK", "GRID_BLOCK", "GRID_FILL", "extreme_counts"]

#: Share of the groups × clusters grid that the cells must fill for the grid layout.
GRID_FILL = 0.5

#: Largest draws × cells array computed at once (bounds memory).
CELL_BLOCK = 1 << 21

#: Values of the (draw, group) × clusters residual sums of the grid computed at once.
GRID_BLOCK = 1 << 15

#: Values of the draws × groups arrays of the expanded form computed at once.
DRAW_BLOCK = 1 << 16

#: Relative margin within which the expanded form leaves a draw to the residual sums.
BAND = 1e-8


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
    """:func:`extreme_counts` on the groups × clusters grid.

    Each group's draws are first decided from the expanded square: with
    M_b = Σ_k w_bk s_k, C_b = Σ_k w_bk s_k n_k and A_b = Σ_k w_bk² s_k²
    (products with the weights), N² m_b² ≥ bar² G/(G − 1) q_b reads
    M_b² (N² − κ D)/N² + 2κ M_b C_b / N − κ A_b ≥ 0 with κ = bar² G/(G − 1)
    and D = Σ_k n_k². Where that difference is within :data:`BAND` of the
    sum of its terms' magnitudes (far more than the rounding of either form),
    or not a number, the draw is decided by the residual sums themselves
    (:func:`_exact`), so the counts are those of the residual form.
    """
    shape = (len(big_n), w_all.shape[1])
    s = np.zeros(shape)
    n = np.zeros(shape)
    s[row, cl] = s_c
    n[row, cl] = n_c
    extreme = np.zeros(len(big_n))
    step = max(1, DRAW_BLOCK // max(len(w_all), 1))
    for lo in range(0, len(big_n), step):
        rows = slice(lo, min(lo + step, len(big_n)))
        sure, diff = _expanded(w_all, s[rows], n[rows], big_n[rows], g[rows], bar[rows])
        extreme[rows] += np.count_nonzero(sure & (diff > 0.0), axis=1)
        gu, bu = np.nonzero(~sure)
        if len(gu):
            gu += lo
            hit = _exact(w_all, bu, gu, s, n, big_n, g, bar)
            extreme += np.bincount(gu, weights=hit, minlength=len(big_n))
    return extreme


def _expanded(
    w_all: np.ndarray, s: np.ndarray, n: np.ndarray, big_n: np.ndarray, g: np.ndarray, bar: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For groups (rows of the grid ``s``, ``n``) × draws: whether the expanded form decides, and its value.

    Returns ``(sure, diff)``: ``diff`` is the expanded difference of
    :func:`_grid` and ``sure`` where it exceeds :data:`BAND` times its
    terms' magnitudes (bounds from the largest |weight|).
    """
    w_top = float(np.abs(w_all).max())
    unit = bool((np.abs(w_all) == 1.0).all())
    sn = s * n
    ss = s * s
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        kappa = bar * bar * g / (g - 1.0)
        d = np.einsum("gk,gk->g", n, n)
        a_top = w_top * w_top * ss.sum(axis=1)
        s_top = w_top * np.abs(s).sum(axis=1)
        c_top = w_top * np.abs(sn).sum(axis=1)
        n2 = big_n * big_n
        # the difference: M² α + M C β − γ; its terms' size: |M| (|M| P + Q) + R
        alpha = ((n2 - kappa * d) / n2)[:, None]
        beta = (2.0 * kappa / big_n)[:, None]
        big_p = (BAND * (n2 + kappa * d) / n2)[:, None]
        big_q = (BAND * 2.0 * (big_n * s_top + kappa * c_top) / big_n)[:, None]
        big_r = (BAND * (s_top * s_top + kappa * a_top))[:, None]
    shape = (len(big_n), len(w_all))
    wt = w_all.T
    m = np.zeros(shape)
    add_product(m, s, wt)
    c = np.zeros(shape)
    add_product(c, sn, wt)
    if unit:
        gamma = (kappa * ss.sum(axis=1))[:, None]
    else:
        gamma = np.zeros(shape)
        add_product(gamma, ss, np.square(wt))
        np.multiply(gamma, kappa[:, None], out=gamma)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        np.multiply(c, beta, out=c)
        diff = np.multiply(m, alpha)
        np.add(diff, c, out=diff)
        np.multiply(diff, m, out=diff)
        np.subtract(diff, gamma, out=diff)
        size = np.abs(m, out=m)
        band = np.multiply(size, big_p, out=c)
        np.add(band, big_q, out=band)
        np.multiply(band, size, out=band)
        np.add(band, big_r, out=band)
        sure = np.abs(diff) > band
    return sure, diff


def _exact(
    w_all: np.ndarray,
    bu: np.ndarray,
    gu: np.ndarray,
    s: np.ndarray,
    n: np.ndarray,
    big_n: np.ndarray,
    g: np.ndarray,
    bar: np.ndarray,
) -> np.ndarray:
    """Whether draw ``bu[i]`` of group ``gu[i]`` is extreme, from the grid's residual sums.

    m_b = Σ_k w_bk s_k / N (numpy's sum over the group's row of the grid),
    q_b = Σ_k (w_bk s_k − n_k m_b)²: a draw that leaves no spread has q_b = 0.
    """
    out = np.zeros(len(bu), dtype=bool)
    step = max(1, GRID_BLOCK // max(s.shape[1], 1))
    for lo in range(0, len(bu), step):
        b, k = bu[lo : lo + step], gu[lo : lo + step]
        ws = w_all[b] * s[k]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_b = ws.sum(axis=1) / big_n[k]
            ws -= n[k] * mean_b[:, None]
            q = np.einsum("uk,uk->u", ws, ws)
            t_b = np.abs(mean_b / (np.sqrt(g[k] / (g[k] - 1.0) * q) / big_n[k]))
        out[lo : lo + step] = np.where(np.isnan(t_b), 0.0, t_b) >= bar[k]
    return out


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
