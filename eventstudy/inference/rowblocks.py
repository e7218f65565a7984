"""Row-wise sorts of a panel a block of rows at a time, for results that are row by row.

:func:`~eventstudy.inference.rowsort.sort_rows` makes fresh n × t arrays
for its packed keys and sorted values; where a caller needs only ranks put
back in place (Corrado 1989) or the arrays it keeps (Kolari and Pynnönen
2011's sorted values, first ordinals, order and ranks; formula sheet §5.6,
§5.8), the same keys, sort and checks run here on blocks of
:data:`BLOCK_CELLS` cells, in small buffers used again for each block: the
passes stay in cache and no transient n × t array is made (fresh memory is
costly). Every result is row by row, so it is the same bitwise.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .rowsort import (
    _FLOAT_BITS,
    _HUGE,
    _PROXY,
    _STAND_IN,
    RowSort,
    _checked,
    count_sorted_below,
    first_order_ranks,
)

__all__ = ["BLOCK_CELLS", "centred_ranks_in_place", "sorted_rank_parts"]


#: Cells of the blocks of rows that :func:`centred_ranks_in_place` sorts at a time (2 MiB of float64).
BLOCK_CELLS = 2**18


def centred_ranks_in_place(a: np.ndarray) -> np.ndarray | None:
    """Overwrite ``a`` with each available element's average rank 1…T_i minus (T_i + 1)/2, 0 where NaN.

    ``a``: a C-contiguous float64 array; returns T_i per row (intp), or
    ``None`` with ``a`` untouched when its values leave the packed float keys'
    range (an infinity or a magnitude above 1e300) or it has too many
    columns. The same numbers as :meth:`RowSort.positions` (``centre=True,
    missing=0.0``) put back in place by :meth:`RowSort.scatter`, from the
    same keys and sort, one block of rows at a time (:func:`_sorted_blocks`:
    no fresh n × t arrays); a block's rows are written once its values are read.
    """
    if not (a.flags.c_contiguous and a.dtype == np.float64 and _in_float_range(a)):
        return None
    count = np.empty(a.shape[0], dtype=np.intp)
    for lo, block, srt in _sorted_blocks(a):
        count[lo : lo + len(block)] = srt.count
        srt.scatter(srt.positions(centre=True, missing=0.0, out=srt.values), out=block)
    return count


def sorted_rank_parts(
    a: np.ndarray, dtype: type[np.integer]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """``sort_rows(a).values`` and :func:`first_order_ranks` of it, a block of rows at a time.

    Returns ``(values, first, order, ranks)``, or ``None`` when ``a``'s
    values leave the packed float keys' range (an infinity or a magnitude
    above 1e300) or it has too many columns. Only the four results are
    n × t arrays; every intermediate is a small buffer used again for each
    block (:func:`_sorted_blocks`), so the passes over it stay in cache.
    """
    a = np.ascontiguousarray(a, dtype="float64")
    if not _in_float_range(a):
        return None
    n, t = a.shape
    values, ranks = np.empty((n, t)), np.empty((n, t))
    first, order = np.empty((n, t), dtype=dtype), np.empty((n, t), dtype=dtype)
    for lo, block, srt in _sorted_blocks(a, values):
        hi = lo + len(block)
        first[lo:hi], order[lo:hi], ranks[lo:hi] = first_order_ranks(srt, dtype)
    return values, first, order, ranks


def _in_float_range(a: np.ndarray) -> bool:
    """Whether every value of ``a`` is NaN or at most 1e300 in magnitude, with few enough columns
    for the packed float keys (:func:`_sorted_blocks`)."""
    if max(int(a.shape[1] - 1).bit_length(), 1) > _FLOAT_BITS:
        return False
    # (the extremes ignore NaN; they are NaN only when every value is)
    return not (a.size and (np.fmax.reduce(a, axis=None) > _HUGE or np.fmin.reduce(a, axis=None) < -_HUGE))


def _sorted_blocks(
    a: np.ndarray, values_out: np.ndarray | None = None
) -> Iterator[tuple[int, np.ndarray, RowSort]]:
    """Each block of :data:`BLOCK_CELLS` cells of rows of ``a`` (C-contiguous, :func:`_in_float_range`)
    with its :class:`RowSort`, as :func:`sort_rows` makes it.

    Yields ``(lo, block, srt)``: ``block`` is ``a[lo : lo + len(block)]``;
    ``srt.flat`` indexes ``block.ravel()`` and lives in a buffer that the
    next block reuses, as do ``srt.values`` unless ``values_out`` (n × t)
    receives them.
    """
    n, t = a.shape
    bits = max(int(t - 1).bit_length(), 1)
    rows = max(1, BLOCK_CELLS // max(t, 1))
    keys = np.empty((min(rows, n), t))
    seen = np.empty((min(rows, n), t)) if values_out is None else None
    column = np.arange(t, dtype=np.int64)
    for lo in range(0, n, rows):
        block = a[lo : lo + rows]
        m = block.shape[0]
        key = keys[:m]
        np.fmin(block, _PROXY, out=key)  # the keys of _float_keys
        k = key.view(np.int64)
        np.bitwise_and(k, np.int64(~((1 << bits) - 1)), out=k)
        np.bitwise_or(k, column, out=k)
        key.sort(axis=1)
        count = count_sorted_below(key, np.arange(m), np.full(m, _STAND_IN))
        np.bitwise_and(k, np.int64((1 << bits) - 1), out=k)
        np.add(k, (np.arange(m, dtype=np.int64) * t)[:, None], out=k)
        values = seen[:m] if seen is not None else values_out[lo : lo + m]  # type: ignore[index]
        np.take(block.reshape(-1), k, out=values, mode="clip")  # the indices are in range: no buffering
        yield lo, block, _checked(RowSort(k, values, count), block)
