"""Tests that treat clusters of dependent pairs, not pairs, as independent (formula sheet §7).

The clusters are those of :mod:`~eventstudy.inference.clusters` (pairs linked by
one event or by windows that overlap in calendar time); exact duplicates (same
market, same window sessions) count once. Three tests:

* ``cluster_t`` — Ibragimov and Müller (2010): the t statistic of the G cluster
  mean CARs, t = √G · mean(θ̂_g) / sd(θ̂_g), against t(G − 1). Valid (and
  conservative at 5 % for G ≤ 14) when clusters are independent, whatever the
  dependence inside them and however their variances differ.
* ``cluster_cr2_t`` — the CAAR (mean CAR over pairs) with the CR2
  cluster-robust standard error and Bell and McCaffrey (2002) degrees of
  freedom (Imbens and Kolesár 2016; Pustejovsky and Tipton 2018). For a
  regression on a constant both are closed forms of the cluster sizes:
  V = N⁻² Σ_g (Σ_{i∈g} û_i)² / (1 − n_g/N).
* ``cluster_bootstrap`` — wild cluster bootstrap of the CAAR t (CR1 standard
  error, G/(G − 1) correction) with the null imposed (Cameron, Gelbach and
  Miller 2008): one weight per cluster and draw, Rademacher when the group has
  at least :data:`WEBB_BELOW` clusters, else Webb's six-point weights (Webb
  2023); p = (1 + #{|t*_b| ≥ |t|}) / (1 + B).

Each reports ``n`` = clusters G and the pairs in ``note``. Every group of a
grouping is computed at once from the cluster sums of each (group, cluster)
cell; the per-group functions are plain reference loops over the same
definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import special

from .base import TestInput, TestResult, not_applicable
from .clusterdraws import extreme_counts
from .clusters import first_of_duplicates, repeated_keys
from .grouped import BatchResult, Groups, Reason, t_p_array

__all__ = [
    "WEBB_BELOW",
    "Cells",
    "cells",
    "cluster_bootstrap",
    "cluster_bootstrap_batch",
    "cluster_cr2_batch",
    "cluster_cr2_t",
    "cluster_t",
    "cluster_t_batch",
    "estimates",
    "mde",
    "webb_weights",
]

#: Groups with fewer clusters than this use Webb's six-point bootstrap weights.
WEBB_BELOW = 12

#: Largest pair of weight matrices (bytes) kept for the windows of a study.
_WEIGHTS_CACHE_BYTES = 64 * 2**20

#: Relative tolerance when counting resampled statistics as extreme as the observed one.
_RTOL = 1e-10

_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


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


def cells(inp: TestInput, groups: Groups) -> Cells | None:
    """The cells of ``inp`` for ``groups`` (memoized in ``inp.memo``); None without clusters."""
    if inp.cluster is None:
        return None
    key = ("cluster_cells", groups.uid)
    hit = inp.memo.get(key)
    if isinstance(hit, Cells):
        return hit
    mask = np.isfinite(inp.car) & (inp.cluster >= 0)
    dup = inp.dup if inp.dup is not None else np.arange(len(inp.car), dtype=np.int64)
    repeated = inp.memo.get(("cluster_repeated",))  # the same for every grouping of the window
    if not isinstance(repeated, np.ndarray):
        repeated = inp.memo[("cluster_repeated",)] = repeated_keys(dup, mask)
    keep = first_of_duplicates(dup, groups.codes, mask, repeated)
    rows = np.flatnonzero(keep)
    width = int(inp.cluster.max()) + 1 if len(inp.cluster) else 1
    code = groups.codes[rows] * width + inp.cluster[rows]
    uniq, inv = _unique(code, groups.size * width)
    k = groups.size
    cg = uniq // width
    out = Cells(
        group=cg,
        cluster=uniq % width,
        n=np.bincount(inv, minlength=len(uniq)).astype("float64"),
        s=np.bincount(inv, weights=inp.car[rows], minlength=len(uniq)),
        g=np.bincount(cg, minlength=k).astype(np.int64),
        pairs=groups.count(keep),
        dups=groups.count(mask) - groups.count(keep),
    )
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


def _reasons(c: Cells, se: np.ndarray) -> list[Reason]:
    few = c.g < 2
    return [
        (few, [f"needs at least 2 clusters (has {int(v)})" for v in c.g]),
        (~(se > 0.0), "no variation across clusters"),
    ]


def _notes(c: Cells) -> list[str]:
    return [
        f"pairs={int(n)}" + (f", {int(d)} exact duplicates counted once" if d else "")
        for n, d in zip(c.pairs, c.dups, strict=True)
    ]


def _no_clusters(groups: Groups, inp: TestInput) -> BatchResult:
    n = groups.count(np.isfinite(inp.car))
    return BatchResult.build(
        np.full(groups.size, np.nan), np.full(groups.size, np.nan), n, reasons=[(n >= 0, "no clusters given")]
    )


def _t_batch(inp: TestInput, groups: Groups, kind: str) -> BatchResult:
    c = cells(inp, groups)
    if c is None:
        return _no_clusters(groups, inp)
    est, se, df = estimates(kind, c)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = est / se
    notes = _notes(c)
    if kind == "cr2":
        notes = [f"{n}; df={d:.1f}" if np.isfinite(d) else n for n, d in zip(notes, df, strict=True)]
    return BatchResult.build(t, t_p_array(t, df), c.g, notes, _reasons(c, se))


def cluster_t_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`cluster_t` for every group of ``groups`` at once."""
    return _t_batch(inp, groups, "im")


def cluster_cr2_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`cluster_cr2_t` for every group of ``groups`` at once."""
    return _t_batch(inp, groups, "cr2")


def webb_weights(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Webb's six-point weights ±√(3/2), ±1, ±√(1/2), each with probability 1/6."""
    return _WEBB[rng.integers(0, 6, size=size)]


def _weights(inp: TestInput, clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """Rademacher and Webb weights, draws × clusters, from one generator seeded by ``inp.seed``.

    Weight (b, k) depends only on the seed, the number of draws and clusters,
    b and the cluster id k (numbered by calendar date), so results do not
    depend on the order of events, markets or groups. Memoized in
    ``inp.cache`` (the windows and groupings of a study share them).
    """
    b = int(inp.draws)
    key = ("cluster_weights", int(inp.seed), b, clusters)
    hit = inp.cache.get(key)
    if isinstance(hit, tuple):
        return hit
    rng = np.random.default_rng([int(inp.seed), 0xC1, clusters])
    rad = rng.integers(0, 2, size=(b, clusters), dtype=np.int8).astype("float64") * 2.0 - 1.0
    out = (rad, webb_weights(rng, (b, clusters)))
    if b * clusters * 16 <= _WEIGHTS_CACHE_BYTES:
        inp.cache[key] = out
    return out


def cluster_bootstrap_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`cluster_bootstrap` for every group of ``groups`` at once.

    The resampled t of every group and draw comes from sums of the weighted
    cluster sums over each group's cells, for blocks of draws at once (no loop
    over groups or draws within a block; :mod:`~eventstudy.inference.clusterdraws`).
    """
    c = cells(inp, groups)
    if c is None:
        return _no_clusters(groups, inp)
    est, se, _ = estimates("cr1", c)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_obs = est / se
    b = int(inp.draws)
    reasons = _reasons(c, se)
    webb = c.g < WEBB_BELOW
    kinds = np.where(webb, "Webb", "Rademacher")
    notes = [f"{n}; B={b} {w} draws, seed={inp.seed}" for n, w in zip(_notes(c), kinds, strict=True)]
    if b < 1:
        reasons.append((c.g >= 0, f"draws must be at least 1 (got {b})"))
        return BatchResult.build(t_obs, t_obs, c.g, notes, reasons)
    p = np.full(groups.size, np.nan)
    live = (c.g >= 2) & (se > 0.0)
    cell_live = live[c.group]
    if cell_live.any():
        grp = c.group[cell_live]
        gid = np.unique(grp)
        local = np.searchsorted(gid, grp)
        extreme = extreme_counts(
            _weights(inp, int(inp.cluster.max()) + 1),  # type: ignore[union-attr]
            local,
            c.cluster[cell_live],
            c.s[cell_live],
            c.n[cell_live],
            c.pairs[gid].astype("float64"),
            c.g[gid].astype("float64"),
            webb[gid],
            np.abs(t_obs[gid]),
            _RTOL,
        )
        p[gid] = (1.0 + extreme) / (1.0 + b)
    return BatchResult.build(t_obs, p, c.g, notes, reasons)


# ------------------------------------------------------ per-group reference forms
def _group_frame(inp: TestInput, idx: np.ndarray) -> pd.DataFrame | None:
    """The group's pairs with a CAR and a cluster, exact duplicates once (a plain pandas path)."""
    if inp.cluster is None:
        return None
    idx = np.asarray(idx, dtype=np.int64)
    dup = inp.dup if inp.dup is not None else np.arange(len(inp.car), dtype=np.int64)
    df = pd.DataFrame({"car": inp.car[idx], "cluster": inp.cluster[idx], "dup": dup[idx]})
    df = df[np.isfinite(df["car"]) & (df["cluster"] >= 0)]
    return df.drop_duplicates("dup")


def _group_cells(inp: TestInput, idx: np.ndarray) -> Cells | None:
    df = _group_frame(inp, idx)
    if df is None:
        return None
    n_all = int((np.isfinite(inp.car[idx]) & (inp.cluster[idx] >= 0)).sum())  # type: ignore[index]
    agg = df.groupby("cluster", sort=True)["car"].agg(["size", "sum"])
    return Cells(
        group=np.zeros(len(agg), dtype=np.int64),
        cluster=agg.index.to_numpy(dtype=np.int64),
        n=agg["size"].to_numpy(dtype="float64"),
        s=agg["sum"].to_numpy(dtype="float64"),
        g=np.array([len(agg)]),
        pairs=np.array([len(df)]),
        dups=np.array([n_all - len(df)]),
    )


def _one(batch: BatchResult) -> TestResult:
    return TestResult(float(batch.statistic[0]), float(batch.p_value[0]), int(batch.n[0]), batch.note[0])


def _single(inp: TestInput, idx: np.ndarray, kind: str) -> TestResult:
    c = _group_cells(inp, idx)
    if c is None:
        return not_applicable(int(np.isfinite(inp.car[idx]).sum()), "no clusters given")
    if kind == "im":
        theta = c.s / c.n
        g = len(theta)
        if g < 2:
            return not_applicable(g, f"needs at least 2 clusters (has {g})")
        sd = float(np.std(theta, ddof=1))
        if not sd > 0.0:
            return not_applicable(g, "no variation across clusters")
        t = float(np.sqrt(g) * np.mean(theta) / sd)
        dups = int(c.dups[0])
        note = f"pairs={int(c.pairs[0])}" + (f", {dups} exact duplicates counted once" if dups else "")
        return TestResult(t, float(t_p_array(np.array(t), np.array(g - 1.0))), g, note)
    est, se, df = estimates(kind, c)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = est / se
    notes = _notes(c)
    if kind == "cr2" and np.isfinite(df[0]):
        notes = [f"{notes[0]}; df={df[0]:.1f}"]
    return _one(BatchResult.build(t, t_p_array(t, df), c.g, notes, _reasons(c, se)))


def cluster_t(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Ibragimov and Müller (2010) t on cluster mean CARs (formula sheet §7.2).

    θ̂_g = mean CAR of cluster g (exact duplicates once); t = √G · mean(θ̂) /
    sd(θ̂) (sd with G − 1); two-sided p from t(G − 1). Ibragimov, R. and
    Müller, U. K. (2010), J. Business & Economic Statistics 28(4), 453–468.
    Needs G ≥ 2 clusters and some variation across them.
    """
    return _single(inp, idx, "im")


def cluster_cr2_t(inp: TestInput, idx: np.ndarray) -> TestResult:
    """CAAR t with the CR2 cluster-robust SE and Bell–McCaffrey df (formula sheet §7.3).

    The regression of CAR_i on a constant: CAAR = N⁻¹ Σ CAR_i (exact duplicates
    once), û_i = CAR_i − CAAR, V_CR2 = N⁻² Σ_g (Σ_{i∈g} û_i)² / (1 − n_g/N),
    since (I − H_gg)^{-1/2} scales only the constant direction of cluster g.
    Degrees of freedom: Bell and McCaffrey (2002), (tr M)²/tr M² with
    M = G'G of Imbens and Kolesár (2016, Review of Economics and Statistics
    98(4), 701–712), a closed form of the cluster sizes here. Two-sided p from
    t(df); the df are in the note.
    """
    return _single(inp, idx, "cr2")


def cluster_bootstrap(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Wild cluster bootstrap of the CAAR t, null imposed (formula sheet §7.3).

    t = CAAR / SE_CR1 with SE²_CR1 = G/(G − 1) · N⁻² Σ_g (Σ_{i∈g} (CAR_i − CAAR))².
    Under H0 the restricted residuals are the CARs: each draw multiplies every
    CAR of cluster g by one weight w_g (Rademacher with G ≥ 12 clusters, else
    Webb's six-point weights) and recomputes t*; p = (1 + #{|t*| ≥ |t|}) / (1 + B).
    A draw whose clusters leave no spread has |t*| = ∞ and counts as extreme.
    Cameron, Gelbach and Miller (2008), Review of Economics and Statistics
    90(3), 414–427; Webb (2023), Canadian Journal of Economics 56(3), 839–858.
    The weights of cluster g in draw b depend only on the seed, b and the
    cluster's id (numbered by calendar date), so the result does not depend on
    the order of events or markets.
    """
    c = _group_cells(inp, idx)
    if c is None:
        return not_applicable(int(np.isfinite(inp.car[idx]).sum()), "no clusters given")
    return _one(_bootstrap_loop(inp, c))


def _bootstrap_loop(inp: TestInput, c: Cells) -> BatchResult:
    """A slow draw-by-draw reference of the bootstrap on one group's cells."""
    est, se, _ = estimates("cr1", c)
    t_obs = est / se if se[0] > 0 else np.array([np.nan])
    b = int(inp.draws)
    g = int(c.g[0])
    kind = "Webb" if g < WEBB_BELOW else "Rademacher"
    note = _notes(c)[0] + f"; B={b} {kind} draws, seed={inp.seed}"
    reasons = _reasons(c, se)
    if g < 2 or not se[0] > 0 or b < 1:
        return BatchResult.build(t_obs, t_obs, c.g, [note], reasons)
    n_clusters = int(inp.cluster.max()) + 1  # type: ignore[union-attr]
    rad, wb = _weights(replace(inp, cache={}), n_clusters)
    weights = wb if kind == "Webb" else rad
    extreme = 0
    for j in range(b):
        star = Cells(c.group, c.cluster, c.n, weights[j, c.cluster] * c.s, c.g, c.pairs, c.dups)
        e, s, _ = estimates("cr1", star)
        # a draw without spread has |t*| = ∞ (0/0 counts as 0), as in the batch form
        tb = abs(e[0] / s[0]) if s[0] > 0 else (np.inf if e[0] != 0 else 0.0)
        extreme += int(tb >= abs(t_obs[0]) * (1.0 - _RTOL))
    return BatchResult.build(t_obs, np.array([(1.0 + extreme) / (1.0 + b)]), c.g, [note], reasons)
