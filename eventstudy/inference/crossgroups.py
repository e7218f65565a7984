"""Kolari–Pynnönen r̄ of every group at once, without the pair-by-pair matrix.

The overlap-weighted r̄ of :func:`~eventstudy.inference.crosscorr.group_rbar`
is, for a group g of N pairs,

    r̄_g = Σ_{i≠j ∈ g} ρ_ij · c_ij / √(L_i L_j) / (N (N − 1)),

with ρ_ij the pairwise-complete correlation of the pairs' estimation
residuals on their common calendar dates and c_ij/√(L_i L_j) the calendar
overlap of their CAR windows (see :mod:`~eventstudy.inference.crosscorr`).

Pairs fall into *atoms*: the pairs with the same available estimation dates
(and so the same common dates with any other pair) and the same window days.
Within two atoms α and β every correlation is an inner product of series
standardized on the same common dates, ρ_ij = z_i·z_j with
z_i = (x_i − x̄_i)/‖x_i − x̄_i‖, and every weight is the same number w_αβ. So

    Σ_{i∈α∩g, j∈β∩g} ρ_ij w_ij = w_αβ · (Σ_{i∈α∩g} z_i) · (Σ_{j∈β∩g} z_j),

one group sum of standardized series per atom and linked atom, instead of a
P × P matrix: O(P·T) work and memory per linked pair of atoms. The i = j terms
of α = β (z_i·z_i = 1) are taken out. Series whose correlation is undefined on
the common dates (fewer than :data:`~eventstudy.inference.crosscorr.MIN_OVERLAP`
dates, or no variation) enter neither the sum nor the count, as in the
pair-by-pair form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from .base import TestInput
from .crosscorr import DENSE_LIMIT, MIN_OVERLAP, group_rbar, study_correlations, window_overlap
from .grouped import Groups, digest

__all__ = ["group_rbar_batch"]

#: Relative variance below which a series counts as constant (as in pairwise_correlation).
_TOL = 1e-12

_HASH = np.random.default_rng(20101).integers(1, 2**63, size=4096, dtype=np.uint64) | np.uint64(1)


def _row_codes(keys: np.ndarray) -> np.ndarray:
    """Codes 0… of identical rows of the int64 matrix ``keys`` (hash, then verified)."""
    n, t = keys.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    mult = np.resize(_HASH, t)
    with np.errstate(over="ignore"):
        h = (keys.astype(np.uint64) * mult[None, :]).sum(axis=1)
    codes, _ = pd.factorize(h)
    first = np.zeros(codes.max() + 1, dtype=np.int64)
    first[codes[::-1]] = np.arange(n)[::-1]
    if not (keys == keys[first[codes]]).all():  # a hash collision: exact grouping instead
        _, codes = np.unique(keys, axis=0, return_inverse=True)
    return np.asarray(codes, dtype=np.int64).ravel()


@dataclass(frozen=True)
class _EstAtoms:
    """Pairs with the same available estimation dates (in the same columns)."""

    codes: np.ndarray  # (P,) atom of each pair
    cols: list[np.ndarray]  # columns of est_resid available in each atom
    dates: list[np.ndarray]  # calendar dates of those columns


def _est_atoms(inp: TestInput) -> _EstAtoms:
    hit = inp.cache.get("est_atoms")
    if isinstance(hit, _EstAtoms):
        return hit
    ok = np.isfinite(inp.est_resid)
    keys = np.where(ok, np.asarray(inp.est_day, dtype=np.int64), -1)
    codes = _row_codes(keys)
    first = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    cols = [np.flatnonzero(ok[r]) for r in first]
    dates = [keys[r, c] for r, c in zip(first, cols, strict=True)]
    out = _EstAtoms(codes, cols, dates)
    inp.cache["est_atoms"] = out
    return out


def _standardized(inp: TestInput, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """z of each row on the columns ``cols`` (unit norm, centred) and whether it is defined."""
    x = inp.est_resid[np.ix_(rows, cols)]
    if x.shape[1] < MIN_OVERLAP:
        return np.zeros_like(x), np.zeros(len(rows), dtype=bool)
    q = x - x.mean(axis=1, keepdims=True)  # centred on the common dates
    v = (q * q).sum(axis=1)
    # the pair-by-pair form compares with Σx² of the series centred on all its own dates
    full = inp.est_resid[rows]
    own = full - np.nanmean(full, axis=1, keepdims=True)
    scale = (own[:, cols] ** 2).sum(axis=1)
    valid = v > _TOL * scale
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(valid[:, None], q / np.sqrt(v)[:, None], 0.0)
    return z, valid


def _group_sums(
    inp: TestInput, groups: Groups, rows: np.ndarray, cols: np.ndarray, key: tuple[object, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groups present among ``rows``, Σ z over each group's rows, and its count of defined z."""
    hit = inp.cache.get(key)
    if isinstance(hit, tuple):
        return hit
    zkey = ("kp_z", *key[2:])  # z does not depend on the grouping
    zhit = inp.cache.get(zkey)
    if isinstance(zhit, tuple):
        z, valid = zhit
    else:
        z, valid = _standardized(inp, rows, cols)
        inp.cache[zkey] = (z, valid)
    present, local = np.unique(groups.codes[rows], return_inverse=True)
    onehot = sparse.csc_matrix(
        (valid.astype("float64"), (local, np.arange(len(rows)))), shape=(len(present), len(rows))
    )
    out = (present, np.asarray(onehot @ z), np.asarray(onehot.sum(axis=1)).ravel())
    inp.cache[key] = out
    return out


@dataclass(frozen=True)
class _WindowAtoms:
    """Pairs with the same estimation atom and the same window days, and how atoms overlap."""

    members: list[np.ndarray]  # pair indices of each atom
    est: np.ndarray  # estimation atom of each atom
    links: tuple[np.ndarray, np.ndarray, np.ndarray]  # (α, β, c_αβ) of every overlapping ordered pair
    length: np.ndarray  # L_α, window days of each atom


def _window_atoms(inp: TestInput, mask: np.ndarray) -> _WindowAtoms:
    """Atoms of the pairs with ``mask`` and a window day (memoized per input and mask)."""
    assert inp.window_day is not None
    key = ("kp_atoms", digest(mask))
    hit = inp.memo.get(key)
    if isinstance(hit, _WindowAtoms):
        return hit
    est = _est_atoms(inp)
    wd = np.asarray(inp.window_day, dtype=np.int64)
    rows = np.flatnonzero(mask & (wd >= 0).any(axis=1))
    if len(rows) == 0:
        empty = np.zeros(0, dtype=np.int64)
        out = _WindowAtoms([], empty, (empty, empty, np.zeros(0)), np.zeros(0))
        inp.memo[key] = out
        return out
    wd = wd[rows]
    keys = np.concatenate([est.codes[rows, None], np.sort(np.where(wd >= 0, wd, -1), axis=1)], axis=1)
    acodes = _row_codes(keys)
    n_atoms = int(acodes.max()) + 1
    order = np.argsort(acodes, kind="stable")
    bounds = np.searchsorted(acodes[order], np.arange(n_atoms + 1))
    members = [rows[order[bounds[a] : bounds[a + 1]]] for a in range(n_atoms)]
    first = order[bounds[:-1]]
    # atom × calendar-day incidence of the window days → common days c_αβ and L_α
    day_rows, day_cols = np.nonzero(wd[first] >= 0)
    _, day_idx = np.unique(wd[first][day_rows, day_cols], return_inverse=True)
    day_idx = np.asarray(day_idx).ravel()
    inc = sparse.csr_matrix(
        (np.ones(len(day_rows)), (day_rows, day_idx)), shape=(n_atoms, int(day_idx.max()) + 1)
    )
    common = (inc @ inc.T).tocoo()
    out = _WindowAtoms(
        members,
        est.codes[rows[first]],
        (common.row, common.col, common.data),
        np.asarray(inc.sum(axis=1)).ravel(),
    )
    inp.memo[key] = out
    return out


def _common_columns(inp: TestInput, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns of estimation atoms a and b on their common dates (memoized in ``inp.cache``)."""
    key = ("kp_common", a, b)
    hit = inp.cache.get(key)
    if isinstance(hit, tuple):
        return hit
    est = _est_atoms(inp)
    _, ia, ib = np.intersect1d(est.dates[a], est.dates[b], return_indices=True)
    out = (est.cols[a][ia], est.cols[b][ib])
    inp.cache[key] = out
    return out


def _dense_terms(inp: TestInput) -> tuple[np.ndarray, np.ndarray]:
    """P × P matrices ρ_ij c_ij/√(L_i L_j) and 1{linked, ρ defined}, zero diagonal (memoized per input)."""
    hit = inp.memo.get("kp_dense")
    if isinstance(hit, tuple):
        return hit
    assert inp.window_day is not None
    r = study_correlations(inp)
    w = window_overlap(inp.window_day)
    np.fill_diagonal(w, 0.0)
    defined = (w > 0) & np.isfinite(r)
    out = (np.where(defined, r * w, 0.0), defined.astype("float64"))
    inp.memo["kp_dense"] = out
    return out


def _dense_rbar(inp: TestInput, groups: Groups, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group sums of the dense terms: Σ_{i,j ∈ g} as one sparse × dense product."""
    weighted, linked = _dense_terms(inp)
    rows = np.flatnonzero(mask)
    codes = groups.codes[rows]
    onehot = groups.matrix(mask)  # G × P
    total = np.bincount(codes, weights=np.asarray(onehot @ weighted)[codes, rows], minlength=groups.size)
    count = np.bincount(codes, weights=np.asarray(onehot @ linked)[codes, rows], minlength=groups.size)
    return total, count


def group_rbar_batch(inp: TestInput, groups: Groups, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~eventstudy.inference.crosscorr.group_rbar` of the pairs with ``mask``, every group.

    Returns ``(rbar, n_corr)``, arrays of length G. With ``inp.window_day``:
    up to :data:`~eventstudy.inference.crosscorr.DENSE_LIMIT` pairs, group
    sums of the P × P weighted correlations (one product for all groups);
    above it, the atoms' group sums (see the module docstring). Without
    window days every group is computed pair by pair.
    """
    n = groups.count(mask)
    if inp.window_day is None:
        res = [group_rbar(inp, idx) for idx in groups.members(mask)]
        return np.array([r.rbar for r in res]), np.array([r.n_corr for r in res], dtype=np.int64)
    if len(inp.car) <= DENSE_LIMIT:
        total, count = _dense_rbar(inp, groups, mask)
        with np.errstate(invalid="ignore", divide="ignore"):
            rbar = np.where(n >= 2, total / (n * (n - 1.0)), np.nan)
        return rbar, (np.rint(count).astype(np.int64) // 2)
    return _atom_rbar(inp, groups, mask, n)


def _atom_rbar(
    inp: TestInput, groups: Groups, mask: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """r̄ and n_corr of every group from the atoms' group sums."""
    atoms = _window_atoms(inp, mask)
    total = np.zeros(groups.size)
    linked = np.zeros(groups.size)
    digests = [digest(m) for m in atoms.members]
    for a, b, c in zip(*atoms.links, strict=True):
        A, B = int(atoms.est[a]), int(atoms.est[b])
        cols_a, cols_b = _common_columns(inp, A, B)
        if len(cols_a) < MIN_OVERLAP:
            continue
        ga, ya, na = _group_sums(
            inp, groups, atoms.members[a], cols_a, ("kp_sums", groups.uid, digests[a], B)
        )
        gb, yb, nb = _group_sums(
            inp, groups, atoms.members[b], cols_b, ("kp_sums", groups.uid, digests[b], A)
        )
        both, pa, pb = np.intersect1d(ga, gb, assume_unique=True, return_indices=True)
        if not len(both):
            continue
        w = c / np.sqrt(atoms.length[a] * atoms.length[b])
        dot = (ya[pa] * yb[pb]).sum(axis=1)
        pairs = na[pa] * nb[pb]
        if a == b:  # the i = j terms: z_i·z_i = 1 for every defined z
            dot = dot - na[pa]
            pairs = pairs - na[pa]
        total[both] += w * dot
        linked[both] += pairs
    with np.errstate(invalid="ignore", divide="ignore"):
        rbar = np.where(n >= 2, total / (n * (n - 1.0)), np.nan)
    return rbar, (linked // 2).astype(np.int64)
