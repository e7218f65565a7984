"""Quantities of the estimation-window residuals that several tests share, each built once per study.

``cda_t`` and ``placebo`` sum per-pair rows of the estimation window over the
pairs of each group (G × T group sums, :func:`announced_row_sums`), and both
count the pairs with an available AR per group and day or position
(:func:`missing_counts`). These depend on the estimation arrays, the
grouping and the mask of pairs only, so they are memoized in the study-wide
``inp.cache`` (see :class:`~eventstudy.inference.base.TestInput`):

* :func:`est_missing` — row and column of every missing residual;
* :func:`est_zeroed` — the residuals with 0 where missing (P × T);
* :func:`missing_counts` — per group and column, the masked pairs without a
  residual (an integer count, so the available counts n_g − missing equal the
  0/1 sums they replace exactly);
* :func:`announced_row_sums` — group sums of per-pair rows for the grouping
  asked and, in the same pass over the rows, every other grouping the runner
  announced (:data:`~eventstudy.inference.grouped.GROUPINGS_KEY`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse

from .availcounts import cell_counts
from .base import TestInput
from .grouped import Groups, digest, groupings_together

__all__ = [
    "BLOCK_ROWS",
    "CARRY_RATIO",
    "announced_row_sums",
    "as_slice",
    "est_missing",
    "est_zeroed",
    "missing_counts",
    "zeroed_rows",
]


def est_missing(inp: TestInput) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every missing (not finite) estimation AR, in row-major order.

    As ``np.nonzero(~np.isfinite(inp.est_resid))``, in int32 when the matrix
    allows (memoized in ``inp.cache``); found a block of rows at a time (a
    small mask, reused, instead of one of the whole matrix).
    """
    hit = inp.cache.get("est_missing")
    if isinstance(hit, tuple):
        return hit
    resid = inp.est_resid
    n, t = resid.shape
    dtype = np.int32 if max(resid.shape) < 2**31 else np.intp
    found: list[tuple[np.ndarray, np.ndarray]] = []
    buf = np.empty((min(BLOCK_ROWS, n), t), dtype=bool)
    for lo in range(0, n, BLOCK_ROWS):
        part = resid[lo : lo + BLOCK_ROWS]
        miss = buf[: len(part)]
        np.isfinite(part, out=miss)
        np.logical_not(miss, out=miss)
        rows, cols = np.divmod(np.flatnonzero(miss), t)  # row-major, as np.nonzero
        found.append(((rows + lo).astype(dtype), cols.astype(dtype)))
    empty = np.zeros(0, dtype=dtype)
    out = (
        np.concatenate([r for r, _ in found]) if found else empty,
        np.concatenate([c for _, c in found]) if found else empty,
    )
    inp.cache["est_missing"] = out
    return out


def est_zeroed(inp: TestInput) -> np.ndarray:
    """The estimation ARs with 0 where missing (not finite), P × T (memoized in ``inp.cache``)."""
    hit = inp.cache.get("est_zeroed")
    if isinstance(hit, np.ndarray):
        return hit
    out = np.array(inp.est_resid, dtype="float64")  # a copy, zeroed in place
    rows, cols = est_missing(inp)
    out[rows, cols] = 0.0
    inp.cache["est_zeroed"] = out
    return out


def missing_counts(inp: TestInput, groups: Groups, mask: np.ndarray) -> np.ndarray:
    """Per group and estimation column, the pairs with ``mask`` whose AR is missing (int64, G × T).

    Memoized in ``inp.cache`` by grouping and mask; the missing entries of the
    masked pairs are found once per mask for every grouping.
    """
    dmask = digest(mask)
    key = ("est_missing_counts", groups.uid, dmask)
    hit = inp.cache.get(key)
    if isinstance(hit, np.ndarray):
        return hit
    t = inp.est_resid.shape[1]
    mkey = ("est_missing_masked", dmask)
    masked = inp.cache.get(mkey)
    if not isinstance(masked, tuple):
        rows, cols = est_missing(inp)
        keep = mask[rows]
        masked = (rows[keep], cols[keep])
        inp.cache[mkey] = masked
    rows, cols = masked
    out = cell_counts(groups, rows, cols, t)
    inp.cache[key] = out
    return out


#: Pairs whose rows are built and added to the group sums at a time (at least; see
#: :func:`announced_row_sums`): small buffers, reused, instead of a P × T array.
BLOCK_ROWS = 1024

#: A block holds at least this many pairs per group sum carried through it (the
#: carried sums then cost at most a quarter of the block's work).
CARRY_RATIO = 4


def announced_row_sums(
    inp: TestInput,
    groups: Groups,
    mask: np.ndarray,
    name: str,
    width: int,
    fill: Callable[[np.ndarray, np.ndarray], None],
) -> np.ndarray:
    """Group sums (G × ``width``) of per-pair rows, for every announced grouping in one pass.

    ``fill(rows, out)`` writes the rows of the pairs ``rows`` (ascending) into
    ``out`` (len(rows) × ``width``). The sums over the pairs with ``mask`` are
    those of ``groups.matrix(mask) @ rows`` (:func:`~eventstudy.inference.grouped.group_products`)
    bit for bit, without ever holding every pair's rows: the pairs are taken a
    block at a time, and each block's product starts from the sums so far
    (a column-compressed product adds, for each group, first the running sum,
    to 0, then the block's rows in pair order: the same additions in the same
    order as one product over all pairs; a running sum started at 0 is never
    −0, so adding it to 0 leaves it unchanged). The groupings announced in
    ``inp.memo`` (:func:`~eventstudy.inference.grouped.groupings_together`)
    not yet known are summed in the same pass (their one-hot matrices
    stacked). Memoized in ``inp.cache`` under ``(name, groups.uid, digest(mask))``.
    """
    dmask = digest(mask)
    key = (name, groups.uid, dmask)
    hit = inp.cache.get(key)
    if isinstance(hit, np.ndarray):
        return hit
    together = [
        g
        for g in groupings_together(inp.memo, groups)
        if not isinstance(inp.cache.get((name, g.uid, dmask)), np.ndarray)
    ]
    sizes = np.array([g.size for g in together], dtype=np.int64)
    offsets = np.cumsum(sizes) - sizes
    n_sums = int(sizes.sum())
    rows = np.flatnonzero(mask)
    step = max(BLOCK_ROWS, CARRY_RATIO * n_sums)  # the sums so far are carried through each block
    buf = np.empty((n_sums + min(step, len(rows)), width))
    sums = np.zeros((n_sums, width))
    carry = np.arange(n_sums)
    k = len(together)
    for lo in range(0, len(rows), step):
        part = rows[lo : lo + step]
        n = len(part)
        x = buf[: n_sums + n]
        x[:n_sums] = sums
        fill(part, x[n_sums:])
        # the one-hot matrix in compressed columns directly: column j < n_sums carries group
        # sum j; then each pair's column holds its group in every grouping (no sorting)
        stacked = np.empty((n, k), dtype=np.int64)
        for j, (g, off) in enumerate(zip(together, offsets, strict=True)):
            np.add(g.codes[part], off, out=stacked[:, j])
        indices = np.concatenate([carry, stacked.ravel()])
        indptr = np.concatenate([carry, n_sums + k * np.arange(n + 1)])
        onehot = sparse.csc_matrix((np.ones(len(indices)), indices, indptr), shape=(n_sums, n_sums + n))
        sums = np.asarray(onehot @ x)
    for g, off, size in zip(together, offsets, sizes, strict=True):
        inp.cache[(name, g.uid, dmask)] = sums[off : off + size]
    out = inp.cache[key]
    assert isinstance(out, np.ndarray)
    return out


def zeroed_rows(inp: TestInput) -> Callable[[np.ndarray, np.ndarray], None]:
    """A ``fill`` for :func:`announced_row_sums`: the pairs' estimation ARs with 0 where missing.

    A run of consecutive pairs is copied and its missing entries
    (:func:`est_missing`) set to 0; other pairs are gathered and zeroed where
    not finite (the same numbers).
    """

    def fill(rows: np.ndarray, out: np.ndarray) -> None:
        run = as_slice(rows)
        if run is None:
            np.take(inp.est_resid, rows, axis=0, out=out)
            np.copyto(out, 0.0, where=~np.isfinite(out))
            return
        np.copyto(out, inp.est_resid[run])
        miss_r, miss_c = est_missing(inp)
        a, b = np.searchsorted(miss_r, np.array([run.start, run.stop], dtype=miss_r.dtype))
        out[miss_r[a:b] - run.start, miss_c[a:b]] = 0.0

    return fill


def as_slice(rows: np.ndarray) -> slice | None:
    """``rows`` as a slice when they are consecutive ascending indices (else ``None``)."""
    if len(rows) and int(rows[-1]) - int(rows[0]) == len(rows) - 1:
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return None
