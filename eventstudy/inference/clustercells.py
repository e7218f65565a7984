"""Cluster sums of every group at once and the closed-form estimates of the cluster tests (formula sheet §7).

A *cell* is one cluster within one group (clusters of
:mod:`~eventstudy.inference.clusters`; exact duplicates count once). Every
statistic of :mod:`~eventstudy.inference.clustered` is a function of the
cells' pair counts n_c and CAR sums s_c (:func:`cells`), so each is a few
group sums of cell quantities (:func:`estimates`):

* ``im`` — Ibragimov and Müller (2010): the mean of the cluster mean CARs
  θ̂_g = s_g/n_g, its standard error sd(θ̂)/√G and G − 1 degrees of freedom;
* ``cr1`` — the CAAR with the CR1 cluster-robust standard error (G/(G − 1)
  correction), the t that the wild cluster bootstrap resamples (Cameron,
  Gelbach and Miller 2008);
* ``cr2`` — the CAAR with the CR2 standard error and Bell and McCaffrey
  (2002) degrees of freedom (Imbens and Kolesár 2016; Pustejovsky and Tipton
  2018), closed forms of the cluster sizes for a regression on a constant.

:func:`mde` turns a standard error and its degrees of freedom into the
minimum detectable effect (Bloom 1995; formula sheet §7.4).

Ibragimov, R. and Müller, U. K. (2010), J. Business & Economic Statistics
28(4), 453–468; Cameron, A. C., Gelbach, J. B. and Miller, D. L. (2008),
Review of Economics and Statistics 90(3), 414–427; Bell, R. M. and
McCaffrey, D. F. (2002), Survey Methodology 28(2), 169–181; Imbens, G. W. and
Kolesár, M. (2016), Review of Economics and Statistics 98(4), 701–712;
Pustejovsky, J. E. and Tipton, E. (2018), J. Business & Economic Statistics
36(4), 672–683; Bloom, H. S. (1995), Evaluation Review 19(5), 547–556.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .base import TestInput
from .clusters import first_of_duplicates, repeated_keys
from .grouped import Groups

__all__ = ["Cells", "cells", "cells_key", "estimates", "mde"]


@dataclass(frozen=True)
class Cells:
    """Cluster sums of one window for every group of a grouping.

    A cell is one cluster within one group. ``group``, ``cluster``, ``n``
    (pairs, duplicates once) and ``s`` (Σ CAR) have one entry per cell;
    ``g`` (clusters), ``pairs`` and ``dups`` (duplicates left out) one per group.
    """

    group: np.ndarray
    cluster: np.ndarray
    n: np.ndarray
    s: np.ndarray
    g: np.ndarray
    pairs: np.ndarray
    dups: np.ndarray


def cells_key(uid: int) -> tuple[str, int]:
    """Memo key of :func:`cells` for the grouping ``uid``."""
    return ("cluster_cells", uid)


def cells(inp: TestInput, groups: Groups) -> Cells | None:
    """The cells of ``inp`` for ``groups`` (memoized in ``inp.memo``); None without clusters."""
    if inp.cluster is None:
        return None
    key = cells_key(groups.uid)
    hit = inp.memo.get(key)
    if isinstance(hit, Cells):
        return hit
    mask, repeated, width, every = _window(inp)
    if len(repeated) == 0:  # no duplicates: the pairs kept are those of the mask
        keep = mask
    else:
        dup = inp.dup if inp.dup is not None else np.arange(len(inp.car), dtype=np.int64)
        keep = first_of_duplicates(dup, groups.codes, mask, repeated)
    if every and keep is mask:  # every pair: no copy of the codes, clusters and CARs
        codes, cluster, car = groups.codes, inp.cluster, inp.car
    else:
        rows = np.flatnonzero(keep)
        codes, cluster, car = groups.codes[rows], inp.cluster[rows], inp.car[rows]
    uniq, inv = _unique(codes * width + cluster, groups.size * width)
    k = groups.size
    cg = uniq // width
    pairs = groups.count(keep)
    out = Cells(
        group=cg,
        cluster=uniq % width,
        n=np.bincount(inv, minlength=len(uniq)).astype("float64"),
        s=np.bincount(inv, weights=car, minlength=len(uniq)),
        g=np.bincount(cg, minlength=k).astype(np.int64),
        pairs=pairs,
        dups=(groups.count(mask) - pairs) if keep is not mask else np.zeros(k, dtype=np.int64),
    )
    inp.memo[key] = out
    return out


def _window(inp: TestInput) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """The window's pairs with a CAR and a cluster, its repeated duplicate keys, the cluster
    codes' width and whether every pair is in (the same for every grouping; memoized)."""
    key = ("cluster_window",)
    hit = inp.memo.get(key)
    if isinstance(hit, tuple):
        return hit
    assert inp.cluster is not None
    mask = np.isfinite(inp.car) & (inp.cluster >= 0)
    dup = inp.dup if inp.dup is not None else np.arange(len(inp.car), dtype=np.int64)
    width = int(inp.cluster.max()) + 1 if len(inp.cluster) else 1
    out = (mask, repeated_keys(dup, mask), width, bool(mask.all()))
    inp.memo[key] = out
    return out


def _unique(code: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(code, return_inverse=True)`` for codes 0 … bound − 1 (by counting when bound is small)."""
    if bound > 4 * len(code) + 1024:
        uniq, inv = np.unique(code, return_inverse=True)
        return uniq, inv.ravel()
    present = np.bincount(code, minlength=bound) > 0
    return np.flatnonzero(present), (np.cumsum(present) - 1)[code]


def _per_group(values: np.ndarray, group: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(group, weights=values, minlength=k)


def estimates(kind: str, c: Cells) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(estimate, se, df)`` per group of ``c`` for ``kind`` ``"im"``, ``"cr2"`` or ``"cr1"``.

    ``im``: mean of the cluster mean CARs, sd/√G, G − 1. ``cr2``: the CAAR,
    its CR2 standard error and the Bell–McCaffrey degrees of freedom.
    ``cr1``: the CAAR, the CR1 standard error (G/(G − 1) correction) and G − 1.
    """
    k = len(c.g)
    g = c.g.astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "im":
            theta = c.s / c.n
            est = _per_group(theta, c.group, k) / g
            dev = theta - est[c.group]
            sd = np.sqrt(_per_group(dev * dev, c.group, k) / (g - 1.0))
            return est, sd / np.sqrt(g), g - 1.0
        big_n = c.pairs.astype("float64")
        est = _per_group(c.s, c.group, k) / big_n
        u = c.s - c.n * est[c.group]
        if kind == "cr1":
            var = g / (g - 1.0) * _per_group(u * u, c.group, k) / big_n**2
            return est, np.sqrt(var), g - 1.0
        share = c.n / big_n[c.group]
        k2 = 1.0 / (1.0 - share)  # (1 − n_g/N)⁻¹, the CR2 adjustment of the constant
        var = _per_group(u * u * k2, c.group, k) / big_n**2
        # Bell–McCaffrey: df = (tr M)² / tr M², M = diag(a) − w w'/N³ (closed form)
        nn = big_n[c.group]
        a = k2 * c.n / nn**2
        w2 = k2 * c.n**2
        sw2 = _per_group(w2, c.group, k)
        tr = _per_group(a, c.group, k) - sw2 / big_n**3
        tr2 = _per_group(a * a, c.group, k) - 2.0 * _per_group(a * w2, c.group, k) / big_n**3
        tr2 = tr2 + sw2**2 / big_n**6
        return est, np.sqrt(var), tr * tr / tr2


def mde(
    se: np.ndarray | float, df: np.ndarray | float, alpha: float = 0.05, power: float = 0.8
) -> np.ndarray:
    """Minimum detectable effect (t_{1−α/2, d} + t_{power, d}) · SE (formula sheet §7.4).

    The smallest true CAAR that a two-sided test at level ``alpha`` with
    standard error ``se`` and a t(``df``) reference rejects with probability
    ``power`` (Bloom 1995). NaN where ``df`` < 1 or ``se`` is not finite.
    """
    df = np.asarray(df, dtype="float64")
    with np.errstate(invalid="ignore"):
        crit = special.stdtrit(df, 1.0 - alpha / 2.0) + special.stdtrit(df, power)
        return np.asarray(np.where(df >= 1.0, crit * np.asarray(se, dtype="float64"), np.nan))
