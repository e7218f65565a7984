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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from .base import TestInput
from .crosscorr import (
    DENSE_LIMIT,
    MIN_OVERLAP,
    cross_correlation,
    group_rbar,
    study_correlations,
    window_overlap,
)
from .grouped import Groups, digest
from .kpatoms import (
    by_columns,
    est_atoms,
    first_of,
    row_codes,
    split_codes,
    standardized,
    window_signatures,
)

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


@dataclass(frozen=True)
class _WindowAtoms:
    """Atoms (same estimation dates and window days) within blocks (same window days).

    Every pair of one block has the same window days, so the overlap weight
    c/√(L L) is one number per pair of blocks.
    """

    members: list[np.ndarray]  # pair indices of each atom
    est: np.ndarray  # estimation atom of each atom
    block_atoms: list[np.ndarray]  # atoms of each block
    links: tuple[np.ndarray, np.ndarray, np.ndarray]  # (A, B, c_AB) of every overlapping ordered block pair
    length: np.ndarray  # L_A, window days of each block
    digests: dict[int, bytes] = field(default_factory=dict)  # of each atom's members, once per window


def _window_atoms(inp: TestInput, mask: np.ndarray) -> _WindowAtoms:
    """Atoms and blocks of the pairs with ``mask`` and a window day (memoized per input and mask)."""
    assert inp.window_day is not None
    key = ("kp_atoms", digest(mask))
    hit = inp.memo.get(key)
    if isinstance(hit, _WindowAtoms):
        return hit
    est = est_atoms(inp)
    wd = np.asarray(inp.window_day, dtype=np.int64)
    last = by_columns(np.maximum, wd)
    rows = np.flatnonzero(mask & (last >= 0))  # pairs with a window day
    empty = np.zeros(0, dtype=np.int64)
    if len(rows) == 0:
        out = _WindowAtoms([], empty, [], (empty, empty, np.zeros(0)), np.zeros(0))
        inp.memo[key] = out
        return out
    if wd.shape[1] > 1 and (by_columns(np.add, wd >= 0, np.int32)[rows] <= 1).all():
        signature = last[rows, None]  # single days: window_signatures' one column, its day
    else:
        signature = window_signatures(wd[rows])
    bcodes = row_codes(signature)
    acodes = row_codes(np.concatenate([est.codes[rows, None], bcodes[:, None]], axis=1))
    members = [rows[at] for at in split_codes(acodes)]
    first = first_of(acodes)
    block_atoms = split_codes(bcodes[first])
    n_blocks = len(block_atoms)
    # block × calendar-day incidence of the window days → common days c_AB and L_A
    sig = signature[first_of(bcodes)]
    day_rows, day_cols = np.nonzero(sig >= 0)
    _, day_idx = np.unique(sig[day_rows, day_cols], return_inverse=True)
    day_idx = np.asarray(day_idx).ravel()
    inc = sparse.csr_matrix(
        (np.ones(len(day_rows)), (day_rows, day_idx)), shape=(n_blocks, int(day_idx.max()) + 1)
    )
    common = (inc @ inc.T).tocoo()
    out = _WindowAtoms(
        members,
        est.codes[rows[first]],
        block_atoms,
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
    est = est_atoms(inp)
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
    window days every group is computed pair by pair. Memoized in ``inp.memo``
    by grouping and mask (not to be changed).
    """
    key = ("kp_rbar", groups.uid, digest(mask))
    hit = inp.memo.get(key)
    if isinstance(hit, tuple):  # KP–BMP and KP–Patell on the same pairs: one r̄
        return hit
    n = groups.count(mask)
    if inp.window_day is None:
        res = [group_rbar(inp, idx) for idx in groups.members(mask)]
        out = (np.array([r.rbar for r in res]), np.array([r.n_corr for r in res], dtype=np.int64))
    elif len(inp.car) <= DENSE_LIMIT:
        total, count = _dense_rbar(inp, groups, mask)
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

#: Entries of one chunk of a block's correlation matrix (bounds memory).
_BLOCK_ENTRIES = 4_000_000


def _atom_rbar(
    inp: TestInput, groups: Groups, mask: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """r̄ and n_corr of every group from the atoms' group sums (or block matrices)."""
    atoms = _window_atoms(inp, mask)
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
        if len(in_a) * len(in_b) > ATOM_LINKS:  # ragged data: one matrix for the two blocks
            _block_sums(inp, groups, atoms, A, B, w, total, linked)
            continue
        for a in in_a:
            for b in in_b:
                _atom_pair(inp, groups, atoms, int(a), int(b), w, dig, total, linked)
    with np.errstate(invalid="ignore", divide="ignore"):
        rbar = np.where(n >= 2, total / (n * (n - 1.0)), np.nan)
    return rbar, (linked // 2).astype(np.int64)


def _atom_pair(
    inp: TestInput,
    groups: Groups,
    atoms: _WindowAtoms,
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
    inp: TestInput, groups: Groups, atoms: _WindowAtoms, a: int, b: int, A: int, B: int, dig: Any
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


def _block_sums(
    inp: TestInput,
    groups: Groups,
    atoms: _WindowAtoms,
    A: int,
    B: int,
    w: float,
    total: np.ndarray,
    linked: np.ndarray,
) -> None:
    """Add Σ ρ_ij w and the count of defined ρ_ij over i, j of one group, for blocks A and B.

    The pairs of the two blocks are correlated pairwise-complete as one
    matrix, rows in chunks. The unweighted group sums do not depend on the
    window and are memoized in ``inp.cache``; so is the matrix itself while
    the memoized matrices stay under :data:`_BLOCK_CACHE_BYTES`.
    """
    rows_a = np.concatenate([atoms.members[a] for a in atoms.block_atoms[A]])
    rows_b = np.concatenate([atoms.members[b] for b in atoms.block_atoms[B]])
    da, db = digest(rows_a), digest(rows_b)
    key = ("kp_block_sums", groups.uid, da, db)
    hit = inp.cache.get(key)
    if not isinstance(hit, tuple):
        hit = _block_group_sums(inp, groups, rows_a, rows_b, ("kp_block", da, db))
        inp.cache[key] = hit
    total += w * hit[0]
    linked += hit[1]


#: Bytes of block correlation matrices kept for the other groupings.
_BLOCK_CACHE_BYTES = 512 * 2**20


def _block_group_sums(
    inp: TestInput, groups: Groups, rows_a: np.ndarray, rows_b: np.ndarray, key: tuple[object, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Σ_{i∈a, j∈b, same group, i≠j} ρ_ij and the count of defined ρ_ij, per group."""
    codes_b = groups.codes[rows_b]
    onehot_b = sparse.csc_matrix(
        (np.ones(len(rows_b)), (codes_b, np.arange(len(rows_b)))), shape=(groups.size, len(rows_b))
    )
    total = np.zeros(groups.size)
    count = np.zeros(groups.size)
    step = max(1, _BLOCK_ENTRIES // max(len(rows_b), 1))
    stored = inp.cache.get(key)
    chunks: list[tuple[np.ndarray, np.ndarray]] = stored if isinstance(stored, list) else []
    for n_chunk, lo in enumerate(range(0, len(rows_a), step)):
        ra = rows_a[lo : lo + step]
        if n_chunk < len(chunks):
            filled, ok = chunks[n_chunk]
        else:
            r = cross_correlation(
                inp.est_resid[ra], inp.est_day[ra], inp.est_resid[rows_b], inp.est_day[rows_b]
            )
            r[ra[:, None] == rows_b[None, :]] = np.nan  # a pair with itself is not a correlation
            ok = np.isfinite(r).astype("float64")
            filled = np.where(ok > 0, r, 0.0)
            used = inp.cache.get("kp_block_bytes", 0)
            used = used if isinstance(used, int) else 0
            if len(chunks) == n_chunk and used + 2 * filled.nbytes <= _BLOCK_CACHE_BYTES:
                chunks.append((filled, ok))
                inp.cache["kp_block_bytes"] = used + 2 * filled.nbytes
        codes_a = groups.codes[ra]
        at = np.arange(len(ra))
        s = np.asarray(onehot_b @ filled.T).T  # Σ over j of each group, per i
        cnt = np.asarray(onehot_b @ ok.T).T
        np.add.at(total, codes_a, s[at, codes_a])
        np.add.at(count, codes_a, cnt[at, codes_a])
    if chunks and len(chunks) == -(-len(rows_a) // step):
        inp.cache[key] = chunks
    return total, count
