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
:func:`~eventstudy.inference.grouped.group_products` finds them.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
from scipy import sparse

from .grouped import Groups, digest, group_products, groupings_together

__all__ = ["products_together"]


def products_together(
    inp: Any,
    groups: Groups,
    mask: np.ndarray,
    name: str,
    array: np.ndarray,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """``group_products(inp, groups, mask, name, (array,), weights)[0]``, with the announced groupings.

    On the first request of a study (nothing in ``inp.cache`` yet), the
    announced groupings that still lack their sums get them from one
    stacked product; later requests read ``inp.cache``.
    """
    key = digest(mask)
    if (name, groups.uid, key) not in inp.cache:
        todo = [
            g
            for g in groupings_together(inp.memo, groups)
            if len(g.codes) == len(mask) and (name, g.uid, key) not in inp.cache
        ]
        if len(todo) > 1:
            for g, sums in zip(todo, _stacked(todo, mask, array, weights), strict=True):
                inp.cache[(name, g.uid, key)] = (sums,)
    return group_products(inp, groups, mask, name, (array,), weights)[0]


def _stacked(
    todo: list[Groups], mask: np.ndarray, array: np.ndarray, weights: np.ndarray | None
) -> list[np.ndarray]:
    """``g.matrix(mask, weights) @ array`` for each grouping ``g`` of ``todo``, from one product."""
    rows = np.flatnonzero(mask)
    vals = np.ones(len(rows)) if weights is None else np.asarray(weights, dtype="float64")[rows]
    offsets = np.cumsum([0] + [g.size for g in todo])
    codes = np.concatenate([g.codes[rows] + off for g, off in zip(todo, offsets[:-1], strict=True)])
    stacked = sparse.csc_matrix(
        (np.tile(vals, len(todo)), (codes, np.tile(rows, len(todo)))), shape=(int(offsets[-1]), len(mask))
    )
    sums = np.asarray(stacked @ array)
    return [sums[a:b] for a, b in pairwise(offsets)]
