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
(:func:`exact_product`), with no float64 copy of the whole array.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
from scipy import sparse

from .grouped import Groups, digest, group_products, groupings_together

__all__ = ["EXACT_BLOCK_CELLS", "exact_product", "products_together"]

#: Cells of the blocks of pairs that :func:`exact_product` converts to float64 at a time (8 MiB).
EXACT_BLOCK_CELLS = 2**20


def products_together(
    inp: Any,
    groups: Groups,
    mask: np.ndarray,
    name: str,
    array: np.ndarray,
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
    may be float32 without a float64 copy of it.
    """
    key = digest(mask)
    if (name, groups.uid, key) not in inp.cache:
        todo = [
            g
            for g in groupings_together(inp.memo, groups)
            if len(g.codes) == len(mask) and (name, g.uid, key) not in inp.cache
        ]
        if len(todo) > 1 or exact:
            for g, sums in zip(todo, _stacked(todo, mask, array, weights, exact), strict=True):
                inp.cache[(name, g.uid, key)] = (sums,)
    return group_products(inp, groups, mask, name, (array,), weights)[0]


def _stacked(
    todo: list[Groups], mask: np.ndarray, array: np.ndarray, weights: np.ndarray | None, exact: bool = False
) -> list[np.ndarray]:
    """``g.matrix(mask, weights) @ array`` for each grouping ``g`` of ``todo``, from one product
    (:func:`exact_product` with ``exact``)."""
    rows = np.flatnonzero(mask)
    vals = np.ones(len(rows)) if weights is None else np.asarray(weights, dtype="float64")[rows]
    offsets = np.cumsum([0] + [g.size for g in todo])
    codes = np.concatenate([g.codes[rows] + off for g, off in zip(todo, offsets[:-1], strict=True)])
    stacked = sparse.csc_matrix(
        (np.tile(vals, len(todo)), (codes, np.tile(rows, len(todo)))), shape=(int(offsets[-1]), len(mask))
    )
    sums = exact_product(stacked, array) if exact else np.asarray(stacked @ array)
    return [sums[a:b] for a, b in pairwise(offsets)]


def exact_product(matrix: Any, array: np.ndarray) -> np.ndarray:
    """``matrix @ array`` (a sparse G × P matrix, a P × T array) in float64, a block of rows of
    ``array`` at a time.

    Only for sums that are exact in any order (e.g. half-integers times unit
    weights, far below 2**52): the blocks' products are added up, so the sum
    of each group is the one exact number whatever the blocks. ``array``
    (e.g. float32) is converted to float64 a block at a time.
    """
    matrix = sparse.csc_matrix(matrix)
    p, t = array.shape
    out = np.zeros((matrix.shape[0], t))
    step = max(1, EXACT_BLOCK_CELLS // max(t, 1))
    for lo in range(0, p, step):
        part = matrix[:, lo : lo + step]
        if part.nnz:
            out += part @ np.asarray(array[lo : lo + step], dtype=np.float64)
    return out
