"""The atoms and blocks of one window for the Kolari–Pynnönen r̄ (formula sheet §5.5).

Kolari and Pynnönen's (2010) r̄ weighs the correlation of two pairs'
estimation residuals by the calendar overlap of their CAR windows,
c_ij/√(L_i L_j) (see :mod:`~eventstudy.inference.crosscorr`). Pairs with the
same window days form a *block*: the weight is one number per pair of blocks,
from the blocks' common days c_AB and lengths L_A (one sparse product of the
block × day incidence). Within a block, the pairs with the same available
estimation dates form an *atom* (:func:`~eventstudy.inference.kpatoms.est_atoms`),
the unit of the group sums of :mod:`~eventstudy.inference.crossgroups`.

Kolari, J. W. and Pynnönen, S. (2010), Review of Financial Studies 23(11),
3996–4025.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from .base import TestInput
from .grouped import digest
from .kpatoms import by_columns, est_atoms, first_of, row_codes, split_codes, window_signatures

__all__ = ["WindowAtoms", "block_rows", "window_atoms"]


@dataclass(frozen=True)
class WindowAtoms:
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


def block_rows(atoms: WindowAtoms, in_block: np.ndarray | list[int]) -> np.ndarray:
    """The pairs of the atoms ``in_block`` of ``atoms`` (in atom order; a block's pairs when
    ``in_block`` is ``atoms.block_atoms[b]``)."""
    parts = [atoms.members[a] for a in in_block]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def window_atoms(inp: TestInput, mask: np.ndarray) -> WindowAtoms:
    """Atoms and blocks of the pairs with ``mask`` and a window day (memoized per input and mask)."""
    assert inp.window_day is not None
    key = ("kp_atoms", digest(mask))
    hit = inp.memo.get(key)
    if isinstance(hit, WindowAtoms):
        return hit
    est = est_atoms(inp)
    wd = np.asarray(inp.window_day, dtype=np.int64)
    last = by_columns(np.maximum, wd)
    rows = np.flatnonzero(mask & (last >= 0))  # pairs with a window day
    empty = np.zeros(0, dtype=np.int64)
    if len(rows) == 0:
        out = WindowAtoms([], empty, [], (empty, empty, np.zeros(0)), np.zeros(0))
        inp.memo[key] = out
        return out
    single = bool((by_columns(np.add, wd >= 0, np.int32)[rows] <= 1).all())  # a day per pair
    # single days: window_signatures' one column, its day
    signature = last[rows, None] if single and wd.shape[1] > 1 else window_signatures(wd[rows])
    bcodes = row_codes(signature)
    acodes = row_codes(np.concatenate([est.codes[rows, None], bcodes[:, None]], axis=1))
    members = [rows[at] for at in split_codes(acodes)]
    first = first_of(acodes)
    block_atoms = split_codes(bcodes[first])
    n_blocks = len(block_atoms)
    if single:  # a block per day: each block shares its one day with itself only
        own = np.arange(n_blocks, dtype=np.int32)
        links, length = (own, own.copy(), np.ones(n_blocks)), np.ones(n_blocks)
    else:  # block × calendar-day incidence of the window days → common days c_AB and L_A
        sig = signature[first_of(bcodes)]
        day_rows, day_cols = np.nonzero(sig >= 0)
        _, day_idx = np.unique(sig[day_rows, day_cols], return_inverse=True)
        day_idx = np.asarray(day_idx).ravel()
        inc = sparse.csr_matrix(
            (np.ones(len(day_rows)), (day_rows, day_idx)), shape=(n_blocks, int(day_idx.max()) + 1)
        )
        common = (inc @ inc.T).tocoo()
        links, length = (common.row, common.col, common.data), np.asarray(inc.sum(axis=1)).ravel()
    out = WindowAtoms(members, est.codes[rows[first]], block_atoms, links, length)
    inp.memo[key] = out
    return out
