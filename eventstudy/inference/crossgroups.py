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

The atoms and blocks of a window are those of
:mod:`~eventstudy.inference.kpwindows`; in two linked blocks with many atoms
(ragged data, or gappy series beside complete ones) the atoms of at least
:data:`ATOM_LARGE` pairs keep their group sums with each other and the other
pairs are correlated as a matrix (:mod:`~eventstudy.inference.kpblocks`).
Kolari, J. W. and Pynnönen, S. (2010), Review of Financial Studies 23(11),
3996–4025 (formula sheet §5.5).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import TestInput
from .crosscorr import MIN_OVERLAP, group_rbar
from .grouped import Groups, digest
from .kpatoms import est_atoms, standardized
from .kpblocks import block_sums
from .kpdense import dense_rbar, dense_route
from .kpwindows import WindowAtoms, block_rows, window_atoms

__all__ = ["group_rbar_batch"]


def _z(
    inp: TestInput, rows: np.ndarray, cols: np.ndarray, key: tuple[object, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`standardized` of ``rows`` on ``cols``, memoized (it does not depend on the grouping)."""
    zkey = ("kp_z", *key[2:])
    hit = inp.cache.get(zkey)
    if isinstance(hit, tuple):
        return hit
    z, valid = standardized(inp, rows, cols)
    _keep(inp, zkey, (z, valid), z.nbytes)
    return z, valid


def _group_sums(
    inp: TestInput, groups: Groups, rows: np.ndarray, cols: np.ndarray, key: tuple[object, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groups present among ``rows``, Σ z over each group's rows, and its count of defined z."""
    hit = inp.cache.get(key)
    if isinstance(hit, tuple):
        return hit
    codes = groups.codes[rows]
    if len(rows) and (codes == codes[0]).all():  # one group: the rows' total, shared by such groupings
        tkey = ("kp_total", *key[2:])
        hit = inp.cache.get(tkey)
        if not isinstance(hit, tuple):
            z, valid = _z(inp, rows, cols, key)
            hit = (np.add.reduceat(z, [0], axis=0), np.add.reduceat(valid.astype("float64"), [0]))
            _keep(inp, tkey, hit, hit[0].nbytes)
        out = (codes[:1], hit[0], hit[1])
        _keep(inp, key, out, 0)
        return out
    z, valid = _z(inp, rows, cols, key)
    if not len(rows):
        out = (codes, np.zeros((0, z.shape[1])), np.zeros(0))
        _keep(inp, key, out, 0)
        return out
    if (codes[1:] < codes[:-1]).any():  # rows not yet by group: a stable sort of them
        order = np.argsort(codes, kind="stable")
        codes, z, valid = codes[order], z[order], valid[order]
    first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    if len(first) == len(codes):  # one row per group (by market, say): the sums are the rows
        out = (codes, z, valid.astype("float64"))  # (reduceat's per-row overhead, for a copy)
        memo = inp.cache.get(("kp_z", *key[2:]))
        shared = isinstance(memo, tuple) and memo[0] is z  # the memoized z: no new memory
        _keep(inp, key, out, 0 if shared else z.nbytes)
        return out
    # z is 0 where undefined: the rows of each group summed in order (one reduction)
    out = (codes[first], np.add.reduceat(z, first, axis=0), np.add.reduceat(valid.astype("float64"), first))
    _keep(inp, key, out, out[1].nbytes)
    return out


#: Bytes of standardized residuals and their group sums that KP keeps for
#: other windows and groupings; beyond it they are computed again (memory
#: stays bounded on large studies).
_KP_CACHE_BYTES = 768 * 2**20


def _keep(inp: TestInput, key: tuple[object, ...], value: object, nbytes: int) -> None:
    """Memoize ``value`` in ``inp.cache`` while the KP memo stays under :data:`_KP_CACHE_BYTES`."""
    used = inp.cache.get("kp_cache_bytes", 0)
    used = used if isinstance(used, int) else 0
    if used + nbytes <= _KP_CACHE_BYTES:
        inp.cache[key] = value
        inp.cache["kp_cache_bytes"] = used + nbytes


def _common_columns(inp: TestInput, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns of estimation atoms a and b on their common dates (memoized in ``inp.cache``)."""
    key = ("kp_common", a, b)
    hit = inp.cache.get(key)
    if isinstance(hit, tuple):
        return hit
    est = est_atoms(inp)
    _, ia, ib = np.intersect1d(est.dates[a], est.dates[b], return_indices=True)
    out = (est.cols[a][ia], est.cols[b][ib])
    inp.cache[key] = out
    return out


def group_rbar_batch(inp: TestInput, groups: Groups, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~eventstudy.inference.crosscorr.group_rbar` of the pairs with ``mask``, every group.

    Returns ``(rbar, n_corr)``, arrays of length G. With ``inp.window_day``:
    on the :func:`~eventstudy.inference.kpdense.dense_route` (ragged dates),
    the linked pairs' correlations summed by group
    (:func:`~eventstudy.inference.kpdense.dense_rbar`); else the atoms' group
    sums (see the module docstring). Without window days every group is
    computed pair by pair. Memoized in ``inp.memo`` by grouping and mask (not
    to be changed).
    """
    key = ("kp_rbar", groups.uid, digest(mask))
    hit = inp.memo.get(key)
    if isinstance(hit, tuple):  # KP–BMP and KP–Patell on the same pairs: one r̄
        return hit
    n = groups.count(mask)
    if inp.window_day is None:
        res = [group_rbar(inp, idx) for idx in groups.members(mask)]
        out = (np.array([r.rbar for r in res]), np.array([r.n_corr for r in res], dtype=np.int64))
    elif dense_route(inp, mask):
        total, count = dense_rbar(inp, groups, mask)
        with np.errstate(invalid="ignore", divide="ignore"):
            rbar = np.where(n >= 2, total / (n * (n - 1.0)), np.nan)
        out = (rbar, (np.rint(count).astype(np.int64) // 2))
    else:
        out = _atom_rbar(inp, groups, mask, n)
    inp.memo[key] = out
    return out


#: Above this many atom pairs between two linked blocks (pairs with the same
#: window days), the blocks' correlations are computed as one matrix (rows in
#: chunks) instead of atom pair by atom pair: ragged data where nearly every
#: pair is its own atom.
ATOM_LINKS = 64

#: Atoms of at least this many pairs in such blocks keep their group sums with
#: each other (when at most :data:`ATOM_LINKS` pairs of them), and only the pairs
#: of the other atoms are correlated as a matrix: the complete series around an
#: event beside a few gappy ones (each its own atom) correlate the gappy pairs
#: with the block, not the whole block with itself.
ATOM_LARGE = 16


def _atom_rbar(
    inp: TestInput, groups: Groups, mask: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """r̄ and n_corr of every group from the atoms' group sums (or block matrices)."""
    atoms = window_atoms(inp, mask)
    total = np.zeros(groups.size)
    linked = np.zeros(groups.size)
    digests = atoms.digests  # shared by the groupings of the window

    def dig(a: int) -> bytes:
        if a not in digests:
            digests[a] = digest(atoms.members[a])
        return digests[a]

    for A, B, c in zip(*atoms.links, strict=True):
        A, B = int(A), int(B)
        w = float(c) / np.sqrt(atoms.length[A] * atoms.length[B])
        in_a, in_b = atoms.block_atoms[A], atoms.block_atoms[B]
        if len(in_a) * len(in_b) > ATOM_LINKS:  # ragged data: matrices for the small atoms
            large_a, large_b = _large(atoms, in_a), _large(atoms, in_b)
            if len(large_a) * len(large_b) > ATOM_LINKS:
                large_a = large_b = np.zeros(0, dtype=np.int64)
            for a in large_a:
                for b in large_b:
                    _atom_pair(inp, groups, atoms, int(a), int(b), w, dig, total, linked)
            small_a = block_rows(atoms, in_a[~np.isin(in_a, large_a)])
            small_b = block_rows(atoms, in_b[~np.isin(in_b, large_b)])
            # every i, j once: small i with all j, then large i with small j
            block_sums(inp, groups, small_a, block_rows(atoms, in_b), w, total, linked)
            block_sums(inp, groups, block_rows(atoms, large_a), small_b, w, total, linked)
            continue
        for a in in_a:
            for b in in_b:
                _atom_pair(inp, groups, atoms, int(a), int(b), w, dig, total, linked)
    with np.errstate(invalid="ignore", divide="ignore"):
        rbar = np.where(n >= 2, total / (n * (n - 1.0)), np.nan)
    return rbar, (linked // 2).astype(np.int64)


def _large(atoms: WindowAtoms, in_block: np.ndarray) -> np.ndarray:
    """The atoms of ``in_block`` with at least :data:`ATOM_LARGE` pairs."""
    sizes = np.array([len(atoms.members[a]) for a in in_block], dtype=np.int64)
    return np.asarray(in_block, dtype=np.int64)[sizes >= ATOM_LARGE]


def _atom_pair(
    inp: TestInput,
    groups: Groups,
    atoms: WindowAtoms,
    a: int,
    b: int,
    w: float,
    dig: Any,
    total: np.ndarray,
    linked: np.ndarray,
) -> None:
    """Add the group sums of ρ_ij w over i in atom ``a``, j in atom ``b`` (same group, i ≠ j).

    The unweighted sums do not depend on the window beyond its atoms: memoized
    in ``inp.cache`` for the other windows with the same atoms (the single days).
    """
    A, B = int(atoms.est[a]), int(atoms.est[b])
    key = ("kp_pair", groups.uid, dig(a), dig(b), A, B)
    hit = inp.cache.get(key)
    if not isinstance(hit, tuple):
        hit = _atom_pair_sums(inp, groups, atoms, a, b, A, B, dig)
        inp.cache[key] = hit
    both, dot, pairs = hit
    if len(both):
        total[both] += w * dot
        linked[both] += pairs


def _atom_pair_sums(
    inp: TestInput, groups: Groups, atoms: WindowAtoms, a: int, b: int, A: int, B: int, dig: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groups present in both atoms, Σ ρ_ij over their pairs (i ≠ j) and the count of defined ρ_ij."""
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0))
    cols_a, cols_b = _common_columns(inp, A, B)
    if len(cols_a) < MIN_OVERLAP:
        return empty
    ga, ya, na = _group_sums(inp, groups, atoms.members[a], cols_a, ("kp_sums", groups.uid, dig(a), B))
    gb, yb, nb = _group_sums(inp, groups, atoms.members[b], cols_b, ("kp_sums", groups.uid, dig(b), A))
    pa: slice | np.ndarray
    pb: slice | np.ndarray
    if ga is gb:  # the atom with itself
        both, pa, pb = ga, slice(None), slice(None)
    else:
        both, pa, pb = np.intersect1d(ga, gb, assume_unique=True, return_indices=True)
    if not len(both):
        return empty
    dot = (ya[pa] * yb[pb]).sum(axis=1)
    pairs = na[pa] * nb[pb]
    if a == b:  # the i = j terms: z_i·z_i = 1 for every defined z
        dot = dot - na[pa]
        pairs = pairs - na[pa]
    return both, dot, pairs
