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
cell (:mod:`~eventstudy.inference.clustercells`, with the bootstrap's draws in
:mod:`~eventstudy.inference.clusterdraws`); the per-group functions are plain
reference loops over the same definitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import cast

import numpy as np
import pandas as pd

from .base import TestInput, TestResult, not_applicable
from .clustercells import Cells, cells, estimates, mde
from .clusterdraws import extreme_counts
from .grouped import BatchResult, Groups, Reason, t_p_array

__all__ = [
    "WEBB_BELOW",
    "Cells",
    "bootstrap_sets",
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
    return bootstrap_sets([(inp, groups)])[0]


def bootstrap_sets(sets: Sequence[tuple[TestInput, Groups]]) -> list[BatchResult]:
    """:func:`cluster_bootstrap_batch` of each (input, grouping) of ``sets``, with one count of the
    draws for all the sets that draw from the same weights.

    A set's weights depend only on the seed, the draws and the number of
    cluster ids of its input (:func:`_weights`), so the sets that share them
    (the windows and groupings of one study) have their live cells side by
    side, each set's groups numbered after the previous set's, in one call of
    :func:`~eventstudy.inference.clusterdraws.extreme_counts`: each group's
    count reads only its own cells and its own weights, as in a call of its own.
    """
    heads = [_head(inp, groups) for inp, groups in sets]
    extreme: list[np.ndarray | None] = [None] * len(sets)
    draw_sets: dict[tuple[int, int, int], list[int]] = {}  # (seed, draws, clusters) → sets
    for k, ((inp, _), head) in enumerate(zip(sets, heads, strict=True)):
        if isinstance(head, _Head) and head.live.any() and int(inp.draws) >= 1:
            clusters = int(inp.cluster.max()) + 1  # type: ignore[union-attr]
            draw_sets.setdefault((int(inp.seed), int(inp.draws), clusters), []).append(k)
    for (_, _, clusters), members in draw_sets.items():
        parts = [cast(_Head, heads[k]) for k in members]
        starts = np.cumsum([0] + [int(h.live.sum()) for h in parts])
        counts = extreme_counts(_weights(sets[members[0]][0], clusters), *_live_cells(parts), _RTOL)
        for j, k in enumerate(members):
            extreme[k] = counts[starts[j] : starts[j + 1]]
    return [
        _finish(inp, groups, head, hit) for (inp, groups), head, hit in zip(sets, heads, extreme, strict=True)
    ]


@dataclass(frozen=True)
class _Head:
    """What the bootstrap of one (input, grouping) needs before its draws."""

    c: Cells
    t_obs: np.ndarray
    reasons: list[Reason]
    notes: list[str]
    webb: np.ndarray
    live: np.ndarray


def _head(inp: TestInput, groups: Groups) -> _Head | None:
    """The cells, observed t, reasons and notes of one (input, grouping); None without clusters."""
    c = cells(inp, groups)
    if c is None:
        return None
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
    return _Head(c, t_obs, reasons, notes, webb, (c.g >= 2) & (se > 0.0))


_Arrays8 = tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]


def _live_cells(parts: Sequence[_Head]) -> _Arrays8:
    """The live groups' cells of ``parts`` side by side, for :func:`extreme_counts` (its arguments
    from ``grp`` to ``t_abs``): each part's live groups numbered after the previous part's."""
    gids = [np.flatnonzero(h.live) for h in parts]
    on = [h.live[h.c.group] for h in parts]  # the live groups' cells, still sorted by group
    starts = np.cumsum([0] + [len(g) for g in gids])
    grp = [
        np.searchsorted(g, h.c.group[m]) + lo
        for g, h, m, lo in zip(gids, parts, on, starts[:-1], strict=True)
    ]
    cell = [(h.c.cluster[m], h.c.s[m], h.c.n[m]) for h, m in zip(parts, on, strict=True)]
    group = [(h.c.pairs[g], h.c.g[g], h.webb[g], h.t_obs[g]) for h, g in zip(parts, gids, strict=True)]
    cl, s_c, n_c = (np.concatenate(x) for x in zip(*cell, strict=True))
    big_n, g_, webb, t_obs = (np.concatenate(x) for x in zip(*group, strict=True))
    return (
        np.concatenate(grp),
        cl,
        s_c,
        n_c,
        big_n.astype("float64"),
        g_.astype("float64"),
        webb,
        np.abs(t_obs),
    )


def _finish(inp: TestInput, groups: Groups, head: _Head | None, extreme: np.ndarray | None) -> BatchResult:
    """The result of one (input, grouping) from its head and its groups' extreme draws."""
    if head is None:
        return _no_clusters(groups, inp)
    b = int(inp.draws)
    if b < 1:
        return BatchResult.build(head.t_obs, head.t_obs, head.c.g, head.notes, head.reasons)
    p = np.full(groups.size, np.nan)
    if extreme is not None:
        p[np.flatnonzero(head.live)] = (1.0 + extreme) / (1.0 + b)
    return BatchResult.build(head.t_obs, p, head.c.g, head.notes, head.reasons)


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
    by = df.groupby("cluster", sort=True)["car"]
    size, total = by.size(), by.sum()
    return Cells(
        group=np.zeros(len(size), dtype=np.int64),
        cluster=size.index.to_numpy(dtype=np.int64),
        n=size.to_numpy(dtype="float64"),
        s=total.to_numpy(dtype="float64"),
        g=np.array([len(size)]),
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
    """A plain reference of the bootstrap on one group's cells: every draw as a group of its own.

    Draw b's cells are the group's cells with sums w_bg · S_g, stacked as B
    groups of one :class:`Cells`, so :func:`estimates` gives each draw's CAAR
    and CR1 SE with the arithmetic of a loop over draws (each draw's sums are
    taken over its own clusters, in the same order).
    """
    est, se, _ = estimates("cr1", c)
    t_obs = est / se if se[0] > 0 else np.array([np.nan])
    b = int(inp.draws)
    g = int(c.g[0])
    kind = "Webb" if g < WEBB_BELOW else "Rademacher"
    note = _notes(c)[0] + f"; B={b} {kind} draws, seed={inp.seed}"
    reasons = _reasons(c, se)
    if b < 1:
        reasons.append((c.g >= 0, f"draws must be at least 1 (got {b})"))
    if g < 2 or not se[0] > 0 or b < 1:
        return BatchResult.build(t_obs, t_obs, c.g, [note], reasons)
    n_clusters = int(inp.cluster.max()) + 1  # type: ignore[union-attr]
    rad, wb = _weights(replace(inp, cache={}), n_clusters)
    weights = (wb if kind == "Webb" else rad)[:b, c.cluster]  # draw × cluster
    star = Cells(
        np.repeat(np.arange(b, dtype=np.int64), g),
        np.tile(c.cluster, b),
        np.tile(c.n, b),
        (weights * c.s).ravel(),
        np.full(b, g),
        np.full(b, c.pairs[0]),
        np.full(b, c.dups[0]),
    )
    e, s, _ = estimates("cr1", star)
    # a draw without spread has |t*| = ∞ (0/0 counts as 0), as in the batch form
    with np.errstate(invalid="ignore", divide="ignore"):
        tb = np.where(s > 0, np.abs(e / np.where(s > 0, s, 1.0)), np.where(e != 0, np.inf, 0.0))
    extreme = int(np.count_nonzero(tb >= abs(t_obs[0]) * (1.0 - _RTOL)))
    return BatchResult.build(t_obs, np.array([(1.0 + extreme) / (1.0 + b)]), c.g, [note], reasons)
