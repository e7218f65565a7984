"""Kolari–Pynnönen r̄ sums of two linked blocks' pairs as correlation matrices (ragged data).

When two blocks of a window (pairs with the same window days, see
:mod:`~eventstudy.inference.kpwindows`) hold many atoms each — ragged data
where nearly every pair has its own estimation dates, or gappy series beside
complete ones — the atom-by-atom group sums of
:mod:`~eventstudy.inference.crossgroups` would be one small product per atom
pair. Here two sets of the blocks' pairs (those of the small atoms with the
whole other block, and those of the large atoms with the other block's small
atoms) are instead correlated pairwise-complete as one matrix each (rows in
chunks of at most :data:`_BLOCK_ENTRIES` entries,
:func:`~eventstudy.inference.crosscorr.cross_correlation`),
and the correlations Σ ρ_ij of each group and their count are one sparse
product per chunk, weighted by the blocks' overlap c_AB/√(L_A L_B) (Kolari
and Pynnönen 2010; formula sheet §5.5).

Kolari, J. W. and Pynnönen, S. (2010), Review of Financial Studies 23(11),
3996–4025.
"""

from __future__ import annotations

import numpy as np

from .base import TestInput
from .crosscorr import cross_correlation
from .grouped import Groups, digest, onehot_columns

__all__ = ["block_sums"]

#: Entries of one chunk of a block's correlation matrix (bounds memory).
_BLOCK_ENTRIES = 4_000_000


def block_sums(
    inp: TestInput,
    groups: Groups,
    rows_a: np.ndarray,
    rows_b: np.ndarray,
    w: float,
    total: np.ndarray,
    linked: np.ndarray,
) -> None:
    """Add Σ ρ_ij w and the count of defined ρ_ij over i ∈ ``rows_a``, j ∈ ``rows_b`` of one group.

    The pairs are correlated pairwise-complete as one matrix, rows in chunks
    (a pair with itself is no correlation). The unweighted group sums do not
    depend on the window and are memoized in ``inp.cache``; so is the matrix
    itself while the memoized matrices stay under :data:`_BLOCK_CACHE_BYTES`.
    """
    if len(rows_a) == 0 or len(rows_b) == 0:
        return
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
    onehot_b = onehot_columns(codes_b, (groups.size, len(rows_b)))
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
