"""Row-wise sorts of a panel a block of rows at a time, for results that are row by row.

:func:`~eventstudy.inference.rowsort.sort_rows` makes fresh n × t arrays
for its packed keys and sorted values; where a caller needs only centred
ranks put back in place (Corrado 1989, over estimation and event days side
by side, copied a block at a time) or the arrays it keeps (Kolari and
Pynnönen 2011's sorted values, first ordinals and order, with the ranks
made from them a block at a time; formula sheet §5.6, §5.8), the same
keys, sort and checks run here on blocks of
:data:`BLOCK_CELLS` cells, in small buffers used again for each block: the
passes stay in cache and no transient n × t array is made (fresh memory is
costly). Every result is row by row, so it is the same bitwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

import numpy as np

from .rowsearch import count_sorted_below
from .rowsort import (
    _FLOAT_BITS,
    _HUGE,
    _PROXY,
    _STAND_IN,
    RowSort,
    _checked,
    tie_runs,
)

__all__ = ["BLOCK_CELLS", "RankParts", "block_ranks", "centred_ranks", "sorted_rank_parts", "sorted_ranks"]


#: Cells of the blocks of rows that the sorts here take at a time (2 MiB of float64).
BLOCK_CELLS = 2**18


def centred_ranks(parts: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Each row's average ranks 1…T_i minus (T_i + 1)/2 (0 where NaN) over ``parts`` side by side.

    ``parts``: 2-D float arrays with the same rows (e.g. the estimation and
    event days of Corrado 1989, formula sheet §5.6), ranked as their
    concatenation without making it: each block of rows is copied into a
    small buffer. Returns ``(centred, available, missing)``: the centred
    ranks as float32 (half-integers below 2**15 in magnitude: exact), where a
    value is, and the flat places of the NaN (ascending, as
    ``np.flatnonzero(~available)``), or ``None`` when the values leave the
    packed float keys' range (an
    infinity or a magnitude above 1e300) or there are too many columns. The
    same numbers as :meth:`RowSort.positions` (``centre=True, missing=0.0``)
    put back in place by :meth:`RowSort.scatter`, from the same keys and sort,
    one block of rows at a time (:func:`_sorted_blocks`: no fresh n × t
    float64 array).
    """
    parts = [np.asarray(x, dtype=np.float64) for x in parts]
    n, t = parts[0].shape[0], sum(x.shape[1] for x in parts)
    if not all(_in_float_range(x) for x in parts) or not _few_columns(t):
        return None
    centred = np.empty((n, t), dtype=np.float32)
    available = np.empty((n, t), dtype=bool)
    pos = np.empty((min(_block_rows(t), n), t), dtype=np.float32)  # exact: half-integers
    missing: list[np.ndarray] = []
    for lo, block, srt in _sorted_blocks(_joined_blocks(parts, n, t), t):
        hi = lo + len(block)
        np.isfinite(block, out=available[lo:hi])  # (no infinity here)
        missing.append(_missing_places(srt, lo))
        srt.scatter(srt.positions(centre=True, missing=0.0, out=pos[: hi - lo]), out=centred[lo:hi])
    return centred, available, _ascending(missing)


class RankParts(NamedTuple):
    """The arrays of :func:`sorted_rank_parts`."""

    #: Each row sorted, NaN last (n × t float64).
    values: np.ndarray
    #: First ordinals (:meth:`RowSort.first_ordinals`) and the column at each sorted position.
    first: np.ndarray
    order: np.ndarray
    #: The tied elements' flat places (ascending) and their average ranks (:func:`block_ranks`).
    tied: tuple[np.ndarray, np.ndarray]
    #: The available (non-NaN) values of each row, and the NaN's flat places (ascending).
    available: np.ndarray
    missing: np.ndarray


def sorted_rank_parts(a: np.ndarray, dtype: type[np.integer]) -> RankParts | None:
    """``sort_rows(a).values``, the first ordinals and order of :func:`first_order_ranks`, the
    tied elements' ranks and the missing cells, a block of rows at a time.

    Returns :class:`RankParts`, or ``None`` when ``a``'s values leave the
    packed float keys' range (an infinity or a magnitude above 1e300) or it
    has too many columns. With the first ordinals the tied elements give the
    ranks a block of rows at a time (:func:`block_ranks`). Only ``values``,
    ``first`` and ``order`` are n × t arrays; every intermediate is a small
    buffer used again for each block (:func:`_sorted_blocks`), so the passes
    over it stay in cache.
    """
    a = np.ascontiguousarray(a, dtype="float64")
    if not (_in_float_range(a) and _few_columns(a.shape[1])):
        return None
    n, t = a.shape
    values = np.empty((n, t))
    first, order = np.empty((n, t), dtype=dtype), np.empty((n, t), dtype=dtype)
    count = np.empty(n, dtype=np.intp)
    places: list[np.ndarray] = []
    ranks: list[np.ndarray] = []
    missing: list[np.ndarray] = []
    for lo, block, srt in _sorted_blocks(_row_blocks(a), t, values):
        hi = lo + len(block)
        runs = srt.tie_runs()
        srt._first_ordinals(dtype, runs, out=first[lo:hi])
        q, start, end = runs
        if q.size:  # each tied element once (runs of three or more list the middle ones twice)
            at, once = np.unique(np.concatenate([q, q + 1]), return_index=True)
            avg = np.tile(0.5 * (start + end) + 1.0, 2)[once]
            where = lo * t + srt.flat.reshape(-1)[at]
            by = np.argsort(where)
            places.append(where[by])
            ranks.append(avg[by])
        count[lo:hi] = srt.count
        missing.append(_missing_places(srt, lo))
        np.subtract(srt.flat, (np.arange(hi - lo) * t)[:, None], out=order[lo:hi], casting="unsafe")
    tied = (np.concatenate(places or [np.empty(0, np.int64)]), np.concatenate(ranks or [np.empty(0)]))
    return RankParts(values, first, order, tied, count, _ascending(missing))


def _missing_places(srt: RowSort, lo: int) -> np.ndarray:
    """Flat places in the panel (rows from ``lo``) of a block's NaN: its rows' sorted positions from
    their counts on."""
    t = srt.shape[1]
    short = np.flatnonzero(srt.count < t)
    if not short.size:
        return np.empty(0, dtype=np.int64)
    count = srt.count[short]
    lens = t - count
    ends = np.cumsum(lens)
    at = np.arange(ends[-1]) + np.repeat(short * t + count - (ends - lens), lens)
    return lo * t + srt.flat.reshape(-1)[at]


def _ascending(parts: list[np.ndarray]) -> np.ndarray:
    """The blocks' flat places together, ascending (a row's NaN follow their columns' order unless
    the row was sorted exactly)."""
    out = np.concatenate(parts or [np.empty(0, dtype=np.int64)]).astype(np.int64, copy=False)
    if out.size > 1 and not bool((out[1:] > out[:-1]).all()):
        out.sort()
    return out


def block_ranks(
    first: np.ndarray, tied: tuple[np.ndarray, np.ndarray], lo: int, hi: int, out: np.ndarray
) -> np.ndarray:
    """The ranks of :func:`first_order_ranks` (average ranks, 0 where missing) of rows ``lo:hi``
    from all rows' first ordinals and ``tied`` (:func:`sorted_rank_parts`), into ``out`` (float64).

    An untied element's average rank is its first ordinal; a tied element's
    is its run's mean rank.
    """
    t = first.shape[1]
    np.copyto(out, first[lo:hi])
    places, ranks = tied
    a, b = np.searchsorted(places, [lo * t, hi * t])
    if b > a:
        out.reshape(-1)[places[a:b] - lo * t] = ranks[a:b]
    return out


def sorted_ranks(
    values: np.ndarray, first: np.ndarray, order: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """The ranks of :func:`first_order_ranks` (average ranks, 0 where missing; float64) of rows
    given their sorted values, first ordinals and column order (:func:`sorted_rank_parts`; any
    rows, where :func:`block_ranks` takes a range of them).

    An untied element's average rank is its first ordinal; the elements of a
    tie run (equal sorted neighbours) take its mean rank. ``out`` (float64,
    C-contiguous) receives them.
    """
    t = values.shape[1]
    ranks = np.empty(first.shape) if out is None else out
    np.copyto(ranks, first)
    q, start, end = tie_runs(values)
    if q.size:
        avg = 0.5 * (start + end) + 1.0
        row = q - q % t  # the flat start of each member's row
        column, flat = order.reshape(-1), ranks.reshape(-1)
        flat[row + column[q]] = avg
        flat[row + column[q + 1]] = avg
    return ranks


def _in_float_range(a: np.ndarray) -> bool:
    """Whether every value of ``a`` is NaN or at most 1e300 in magnitude (the packed float keys'
    range, :func:`_sorted_blocks`)."""
    # (the extremes ignore NaN; they are NaN only when every value is)
    return not (a.size and (np.fmax.reduce(a, axis=None) > _HUGE or np.fmin.reduce(a, axis=None) < -_HUGE))


def _few_columns(t: int) -> bool:
    """Whether ``t`` columns fit the packed float keys' low bits."""
    return max(int(t - 1).bit_length(), 1) <= _FLOAT_BITS


def _block_rows(t: int) -> int:
    """Rows of a block of :data:`BLOCK_CELLS` cells of ``t`` columns."""
    return max(1, BLOCK_CELLS // max(t, 1))


def _row_blocks(a: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """``(lo, a[lo : lo + rows])`` for each block of rows of ``a`` (C-contiguous)."""
    rows = _block_rows(a.shape[1])
    for lo in range(0, a.shape[0], rows):
        yield lo, a[lo : lo + rows]


def _joined_blocks(parts: Sequence[np.ndarray], n: int, t: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(lo, block)``: each block of rows of the ``parts`` side by side (n × t), copied into one
    buffer that the next block reuses."""
    rows = _block_rows(t)
    buf = np.empty((min(rows, n), t))
    edges = np.cumsum([0] + [x.shape[1] for x in parts]).tolist()
    for lo in range(0, n, rows):
        block = buf[: min(rows, n - lo)]
        for x, c0, c1 in zip(parts, edges[:-1], edges[1:], strict=True):
            block[:, c0:c1] = x[lo : lo + len(block)]
        yield lo, block


def _sorted_blocks(
    blocks: Iterable[tuple[int, np.ndarray]], t: int, values_out: np.ndarray | None = None
) -> Iterator[tuple[int, np.ndarray, RowSort]]:
    """Each block of ``blocks`` (C-contiguous blocks of rows of ``t`` columns, at most
    :func:`_block_rows` rows, :func:`_in_float_range`, :func:`_few_columns`) with its
    :class:`RowSort`, as :func:`sort_rows` makes it.

    Yields ``(lo, block, srt)``: ``block`` holds rows ``lo …`` of the panel;
    ``srt.flat`` indexes ``block.ravel()`` and lives in a buffer that the
    next block reuses, as do ``srt.values`` unless ``values_out`` (n × t)
    receives them.
    """
    bits = max(int(t - 1).bit_length(), 1)
    keys = seen = np.empty((0, t))
    column = np.arange(t, dtype=np.int64)
    for lo, block in blocks:
        m = block.shape[0]
        if keys.shape[0] < m:  # the buffers, sized by the first (largest) block
            keys, seen = np.empty((m, t)), np.empty((m if values_out is None else 0, t))
        key = keys[:m]
        np.fmin(block, _PROXY, out=key)  # the keys of _float_keys
        k = key.view(np.int64)
        np.bitwise_and(k, np.int64(~((1 << bits) - 1)), out=k)
        np.bitwise_or(k, column, out=k)
        key.sort(axis=1)
        count = count_sorted_below(key, np.arange(m), np.full(m, _STAND_IN))
        np.bitwise_and(k, np.int64((1 << bits) - 1), out=k)
        np.add(k, (np.arange(m, dtype=np.int64) * t)[:, None], out=k)
        values = seen[:m] if values_out is None else values_out[lo : lo + m]
        np.take(block.reshape(-1), k, out=values, mode="clip")  # the indices are in range: no buffering
        yield lo, block, _checked(RowSort(k, values, count), block)
