"""How many values of each row of a row-sorted panel lie below a number, all rows at once.

Kolari and Pynnönen's (2011) GRANK places each pair's day-0 value among its
sorted estimation-window values (formula sheet §5.8): a branchless
lower-bound search of every query at once over the flat sorted array, so no
pair is looped over; a likely count per query (the last grouping's) is
checked first with two reads.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["count_sorted_below"]


def count_sorted_below(
    values: np.ndarray,
    rows: np.ndarray,
    x: np.ndarray,
    *,
    or_equal: bool = False,
    hint: np.ndarray | None = None,
) -> np.ndarray:
    """How many values of row ``rows[k]`` of row-sorted ``values`` are < ``x[k]`` (≤ with ``or_equal``).

    A branchless lower-bound search of all queries at once; NaN (past a
    row's available values) is never below, and a NaN ``x`` counts 0.
    ``hint``, a likely count per query (e.g. for nearby ``x``), is checked
    with two reads per query, and only the queries it misses are searched.
    Returns intp counts.
    """
    t = values.shape[1]
    if t == 0 or len(rows) == 0:
        return np.zeros(len(rows), dtype=np.intp)
    below = np.less_equal if or_equal else np.less
    flat = values.reshape(-1)
    start = np.asarray(rows, dtype=np.intp) * t
    if hint is not None:  # the count is h exactly when the h-th value is below and the next is not
        h = np.clip(np.asarray(hint, dtype=np.intp), 0, t)
        good = (h == 0) | below(flat[start + np.maximum(h - 1, 0)], x)
        good &= (h == t) | ~below(flat[start + np.minimum(h, t - 1)], x)
        miss = np.flatnonzero(~good)
        if miss.size:
            rest = np.asarray(rows)[miss], np.asarray(x)[miss]
            h[miss] = count_sorted_below(values, *rest, or_equal=or_equal)
        return h
    return _search(flat, start, x, t, below) - start


def _search(flat: np.ndarray, at: np.ndarray, x: np.ndarray, size: int, below: Any) -> np.ndarray:
    """Branchless lower-bound search: each count lies in ``at … at + size`` (flat positions);
    returns the flat position ``at`` + count."""
    at = at.copy()
    step = np.empty_like(at)
    while size > 1:  # the count lies in at … at + size
        half = size // 2
        np.add(at, half, out=step)
        step[...] = below(flat.take(step), x)  # 0/1: then the step itself
        step *= half
        at += step
        size -= half
    return at + below(flat[at], x)
