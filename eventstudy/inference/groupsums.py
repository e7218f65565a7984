"""Group sums of a pairs × days array for every announced grouping in one pass over the array.

The rank tests need, per grouping, the group sums Σ_{i∈g} w_i·X_it of a
study-wide P × T array X (Corrado 1989's D_it, Kolari and Pynnönen 2011's
weighted ranks; formula sheet §5.6, §5.8). One sparse product per grouping
reads all of X each time; here the one-hot matrices of the groupings the
runner announces (:data:`~eventstudy.inference.grouped.GROUPINGS_KEY`) are
stacked, so X is read once and each pair's row is added to its group of
every grouping while it is in cache. A column-compressed product adds the
pairs to each group in pair order, as the product of that grouping's own
matrix does, so the sums are the same bitwise; they are kept where
:func:`~eventstudy.inference.grouped.group_products` finds them. Sums that
are exact in any order (half-integers, unit weights) may come from an array
of another type, a block of pairs at a time in float64
(:func:`exact_product`), with no float64 copy of the whole array. An
array that is never kept whole (:class:`BlockRows`, made a block of pairs
at a time) is summed by :func:`carried_product`, the same bits as the one
product.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, cast

import numpy as np
from scipy import sparse

from .grouped import Groups, digest, group_products, groupings_together

__all__ = ["EXACT_BLOCK_CELLS", "BlockRows", "carried_product", "exact_product", "products_together"]

#: Cells of the blocks of pairs that :func:`exact_product` converts to float64 at a time (8 MiB).
EXACT_BLOCK_CELLS = 2**20


@dataclass(frozen=True)
class BlockRows:
    """A P × T float64 array given a block of rows at a time: ``rows(lo, hi, out)`` writes
    ``array[lo:hi]`` to ``out``."""

    shape: tuple[int, int]
    rows: Callable[[int, int, np.ndarray], object]


def products_together(
    inp: Any,
    groups: Groups,
    mask: np.ndarray,
    name: str,
    array: np.ndarray | BlockRows,
    weights: np.ndarray | None = None,
    *,
    exact: bool = False,
) -> np.ndarray:
    """``group_products(inp, groups, mask, name, (array,), weights)[0]``, with the announced groupings.

    On the first request of a study (nothing in ``inp.cache`` yet), the
    announced groupings that still lack their sums get them from one
    stacked product; later requests read ``inp.cache``. With ``exact`` (the
    sums are exact in any order, e.g. half-integers with unit weights), the
    product goes by blocks of pairs (:func:`exact_product`), so ``array``
    may be float32 without a float64 copy of it. A :class:`BlockRows` array
    is read a block at a time (:func:`carried_product`).
    """
    key = digest(mask)
    if (name, groups.uid, key) not in inp.cache:
        todo = [
            g
            for g in groupings_together(inp.memo, groups)
            if len(g.codes) == len(mask) and (name, g.uid, key) not in inp.cache
        ]
        if len(todo) > 1 or (todo and (exact or isinstance(array, BlockRows))):
            for g, sums in zip(todo, _stacked(todo, mask, array, weights, exact), strict=True):
                inp.cache[(name, g.uid, key)] = (sums,)
    if isinstance(array, BlockRows) and (name, groups.uid, key) not in inp.cache:
        whole = np.empty(array.shape)  # (a grouping of other pairs: never in a study)
        array.rows(0, array.shape[0], whole)
        array = whole
    return group_products(inp, groups, mask, name, (cast(np.ndarray, array),), weights)[0]


def _stacked(
    todo: list[Groups],
    mask: np.ndarray,
    array: np.ndarray | BlockRows,
    weights: np.ndarray | None,
    exact: bool = False,
) -> list[np.ndarray]:
    """``g.matrix(mask, weights) @ array`` for each grouping ``g`` of ``todo``, from one product
    (:func:`exact_product` with ``exact``, :func:`carried_product` for :class:`BlockRows`)."""
    rows = np.flatnonzero(mask)
    vals = np.ones(len(rows)) if weights is None else np.asarray(weights, dtype="float64")[rows]
    offsets = np.cumsum([0] + [g.size for g in todo])
    k = len(todo)
    # compressed columns directly: each masked pair's column holds its group in every grouping
    codes = np.empty((len(rows), k), dtype=np.int64)
    for j, (g, off) in enumerate(zip(todo, offsets[:-1], strict=True)):
        np.add(g.codes[rows], off, out=codes[:, j])
    indptr = np.zeros(len(mask) + 1, dtype=np.int64)
    indptr[rows + 1] = k
    np.cumsum(indptr, out=indptr)
    stacked = sparse.csc_matrix(
        (np.repeat(vals, k), codes.ravel(), indptr), shape=(int(offsets[-1]), len(mask))
    )
    if isinstance(array, BlockRows):
        sums = carried_product(stacked, array)
    else:
        sums = exact_product(stacked, array) if exact else np.asarray(stacked @ array)
    return [sums[a:b] for a, b in pairwise(offsets)]


def exact_product(matrix: Any, array: np.ndarray) -> np.ndarray:
    """``matrix @ array`` (a sparse G × P matrix, a P × T array) in float64, a block of rows of
    ``array`` at a time.

    Only for sums that are exact in any order (e.g. half-integers times unit
    weights, far below 2**52): the blocks' products are added up, so the sum
    of each group is the one exact number whatever the blocks. A float32
    ``array`` is summed in float32 a block at a time, with no float64 copy
    of it: its values must be half-integers and ``matrix`` small integers
    whose block sums stay below 2**22 in magnitude (exact in float32; for
    centred ranks |D| < T/2, so a block's sums are below
    :data:`EXACT_BLOCK_CELLS` / 2).
    """
    p, t = array.shape
    out = np.zeros((matrix.shape[0], t))
    single = array.dtype == np.float32
    for lo, hi, part in _column_blocks(matrix, p, t, 0, np.float32 if single else np.float64):
        out += part @ (array[lo:hi] if single else np.asarray(array[lo:hi], dtype=np.float64))
    return out


def carried_product(matrix: Any, array: BlockRows) -> np.ndarray:
    """``matrix @ array`` (a sparse G × P matrix, ``array`` given by blocks of rows), the same bits
    as the product of ``matrix`` with the whole array, without it.

    A column-compressed product adds, for each group, the rows of its pairs
    in pair order from zero. Each block carries the sums so far in as G
    leading rows with unit weights: ``[I | M_b] @ [S; X_b]`` starts every
    group from 0 + S_g = S_g and goes on adding in pair order, as the whole
    product does (exact unless a partial sum is −0.0, which then continues
    as +0.0: not the case for sums of non-negative terms).
    """
    g = matrix.shape[0]
    p, t = array.shape
    out = np.zeros((g, t))
    buf = np.empty((g + min(_step(t), p), t))
    for lo, hi, part in _column_blocks(matrix, p, t, g):
        buf[:g] = out
        array.rows(lo, hi, buf[g : g + hi - lo])
        out = np.asarray(part @ buf[: g + hi - lo])
    return out


def _step(t: int) -> int:
    """Rows of a block of :data:`EXACT_BLOCK_CELLS` cells of ``t`` columns."""
    return max(1, EXACT_BLOCK_CELLS // max(t, 1))


def _column_blocks(
    matrix: Any, p: int, t: int, lead: int, dtype: type = np.float64
) -> Iterator[tuple[int, int, sparse.csc_matrix]]:
    """``(lo, hi, part)`` for each block of columns ``lo:hi`` of ``matrix`` (G × ``p``) with entries:
    ``part`` (of ``dtype``) holds them after ``lead`` unit columns (column k has a one in row k)."""
    m = sparse.csc_matrix(matrix)
    data = m.data.astype(dtype, copy=False)
    g, step = m.shape[0], _step(t)
    eye = np.arange(lead)
    for lo in range(0, p, step):
        hi = min(lo + step, p)
        a, b = m.indptr[lo], m.indptr[hi]
        if a == b:
            continue
        part = sparse.csc_matrix(
            (
                np.concatenate([np.ones(lead, dtype=dtype), data[a:b]]),
                np.concatenate([eye, m.indices[a:b]]),
                np.concatenate([eye, m.indptr[lo : hi + 1] - a + lead]),
            ),
            shape=(g, lead + hi - lo),
        )
        yield lo, hi, part
