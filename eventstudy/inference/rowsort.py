"""Row-wise order, sorted values and average ranks of a panel (pairs × days), all rows at once.

numpy's row-wise ``argsort`` of float64 is over ten times slower than its
vectorized ``sort`` (rows with NaN take its slow path), so the order of each
row comes from one ``np.sort`` of packed 64-bit keys: the value's
order-preserving unsigned-integer image with its lowest b bits replaced by
the column index (b = the bits that number the T columns). Two values of a
row that differ only in those bits (relative difference below 2^(b − 52),
e.g. a few units in the last place) may then come out in column order;
every row's sorted values are checked, and the rare rows that are not
ascending are argsorted exactly. Equal values need no particular order:
average ranks and tie runs depend only on the sorted values.

Ranks are average ranks 1…T_i over a row's available (non-NaN) entries, as
``scipy.stats.rankdata(row, nan_policy="omit")`` (ties share the mean of
their ranks); tie runs are found only where neighbours in sorted order are
equal, so untied rows cost nothing extra.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rowsearch import count_sorted_below

__all__ = [
    "RowSort",
    "average_positions",
    "count_sorted_below",
    "fill_tails",
    "first_order_ranks",
    "row_ranks",
    "sort_rows",
    "stable_available_first",
    "tie_runs",
]

#: Columns beyond which keys keep too few value bits to be worth packing.
_MAX_BITS = 24

#: NaN's stand-in among float keys (the largest finite float), and the magnitude
#: above which values could reach it (then the integer keys are used).
_PROXY = np.finfo(np.float64).max
_HUGE = np.float64(1e300)

#: Column bits up to which the float keys stay below ``_PROXY`` for values ≤ ``_HUGE``.
_FLOAT_BITS = 16

#: Sorted float keys from here up are NaN's stand-ins (a finite value's key is at most about ``_HUGE``).
_STAND_IN = np.float64(1e305)

#: Sign bit of an int64.
_SIGN = np.int64(-(2**63))


@dataclass(frozen=True, eq=False)
class RowSort:
    """Each row of an n × t array in ascending order, NaN last.

    Attributes
    ----------
    flat : ndarray (n, t) of intp
        Indices into ``a.ravel()`` that sort each row: row i's sorted values
        are ``a.ravel()[flat[i]]``.
    values : ndarray (n, t)
        The sorted values (NaN last).
    count : ndarray (n,) of intp
        Available (non-NaN) values per row.
    pairs : ndarray of intp, optional
        Where neighbours in sorted order are equal, as flat indices into
        ``values[:, 1:] == values[:, :-1]`` (found by :func:`sort_rows` with
        its check of the order); ``None``: found from ``values`` when needed.
    """

    flat: np.ndarray
    values: np.ndarray
    count: np.ndarray
    pairs: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(n, t)."""
        return (self.values.shape[0], self.values.shape[1])

    @property
    def order(self) -> np.ndarray:
        """Column order that sorts each row (``a[i, order[i]]`` ascending)."""
        n, t = self.shape
        return self.flat - (np.arange(n, dtype=np.intp) * t)[:, None]

    def tie_runs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Runs of equal neighbours in sorted order (:func:`tie_runs` of ``values``)."""
        if self.pairs is None:
            return tie_runs(self.values)
        return _runs_of_pairs(self.pairs, self.values.shape[1])

    def positions(
        self, *, centre: bool = False, missing: float = np.nan, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Average rank (1-based) of each sorted position, ``missing`` past the row's available values.

        With ``centre``, minus the row's mean rank (T_i + 1)/2, T_i its
        available values. ``out`` may be ``values`` itself when they are no
        longer needed (it saves a fresh n × t array).
        """
        return average_positions(
            self.values, self.count, centre=centre, missing=missing, out=out, runs=self.tie_runs()
        )

    def first_ordinals(self, dtype: type[np.integer] = np.int32, out: np.ndarray | None = None) -> np.ndarray:
        """Per element of the original array: 1 + the sorted column of the first value equal to it.

        0 where missing. An element is greater than a number x exactly when
        its first ordinal exceeds the count of the row's values ≤ x. ``out``
        (n × t, ``dtype``) receives them.
        """
        return self._first_ordinals(dtype, self.tie_runs(), out)

    def _first_ordinals(
        self,
        dtype: type[np.integer],
        runs: tuple[np.ndarray, np.ndarray, np.ndarray],
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """:meth:`first_ordinals` given the :meth:`tie_runs`."""
        n, t = self.shape
        first = np.empty((n, t), dtype=dtype)
        first[:] = np.arange(1, t + 1, dtype=dtype)
        q, start, _ = runs
        if q.size:
            val = (start + 1).astype(dtype)
            flat = first.reshape(-1)
            flat[q] = val
            flat[q + 1] = val
        fill_tails(first, self.count, 0)
        return self.scatter(first, out)

    def scatter(self, by_position: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Put a value given per sorted position back at its element's place in the original array.

        ``out`` may be the sorted array itself once its values are read.
        """
        if out is None:
            out = np.empty(by_position.shape, dtype=by_position.dtype)
        out.reshape(-1)[self.flat.reshape(-1)] = by_position.reshape(-1)
        return out

    def ranks(self, *, centre: bool = False, missing: float = np.nan) -> np.ndarray:
        """Average ranks 1…T_i of each row's elements in their original places (see :meth:`positions`)."""
        return self.scatter(self.positions(centre=centre, missing=missing))


def first_order_ranks(srt: RowSort, dtype: type[np.integer]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``srt``'s first ordinals, column order (both ``dtype``) and ``ranks(missing=0.0)``.

    As :meth:`RowSort.first_ordinals`, :attr:`RowSort.order` and
    ``ranks(missing=0.0)`` from one pass: an untied element's average rank is
    its first ordinal, only the elements of tie runs are set apart (to the
    mean rank of their run); the float64 ranks are written over the memory
    of ``srt.flat`` (a fresh n × t array is costly): ``srt`` is spent, its
    ``flat`` no longer holds indices.
    """
    n, t = srt.shape
    runs = srt.tie_runs()
    first = srt._first_ordinals(dtype, runs)
    offset = (np.arange(n, dtype=np.intp) * t)[:, None]
    order = np.subtract(srt.flat, offset, dtype=dtype, casting="unsafe")
    q, start, end = runs
    at = srt.flat.reshape(-1)
    tied = (at[q], at[q + 1]) if q.size else None  # the tied elements' places, before they go
    own = srt.flat.dtype.itemsize == 8 and srt.flat.flags.c_contiguous
    ranks = srt.flat.view(np.float64) if own else np.empty((n, t))
    ranks[...] = first
    if tied is not None:
        avg = 0.5 * (start + end) + 1.0
        flat = ranks.reshape(-1)
        flat[tied[0]] = avg
        flat[tied[1]] = avg
    return first, order, ranks


def tie_runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal neighbours in each row of row-sorted ``values``, as flat indices into them.

    Returns ``(members, start, end)``: ``members`` the flat index of every
    element of a run of two or more equal values except its last,
    ``start``/``end`` the column of the first and last element of each
    member's run. A member ``q`` and ``q + 1`` belong to the same run, so
    ``members`` and ``members + 1`` together cover all tied elements.
    """
    return _runs_of_pairs(np.flatnonzero(values[:, 1:] == values[:, :-1]), values.shape[1])  # NaN ≠ NaN


def _runs_of_pairs(p: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`tie_runs` from ``p``, the flat indices of the equal neighbours in n × (t − 1) form."""
    if p.size == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty, empty
    q = p + p // (t - 1)  # from n × (t − 1) to n × t: the left element of each equal pair
    new = np.ones(q.size, dtype=bool)
    new[1:] = q[1:] != q[:-1] + 1  # runs never cross rows: a row's last left element is t − 2
    run = np.cumsum(new) - 1
    last = np.ones(q.size, dtype=bool)
    last[:-1] = new[1:]
    return q, (q[new] % t)[run], (q[last] % t + 1)[run]


def average_positions(
    values: np.ndarray,
    count: np.ndarray,
    *,
    centre: bool = False,
    missing: float = np.nan,
    out: np.ndarray | None = None,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Average rank (1-based) of each position of row-sorted ``values``, ``missing`` past ``count``.

    ``count`` holds each row's available (leading, non-NaN) values. With
    ``centre``, minus the row's mean rank (count + 1)/2. ``out`` may be
    ``values`` itself when they are no longer needed; ``runs``, their
    :func:`tie_runs` when known.
    """
    n, t = values.shape
    q, start, end = tie_runs(values) if runs is None else runs
    pos = np.empty((n, t)) if out is None else out
    half = (count + 1.0) / 2.0
    if centre:  # the same operations as subtracting the mean rank afterwards, in one pass
        np.subtract(np.arange(1.0, t + 1.0), half[:, None], out=pos)
    else:
        pos[:] = np.arange(1.0, t + 1.0)
    if q.size:
        avg = 0.5 * (start + end) + 1.0
        if centre:
            avg -= half[q // t]
        flat = pos.reshape(-1)
        flat[q] = avg
        flat[q + 1] = avg
    fill_tails(pos, count, missing)
    return pos


def fill_tails(a: np.ndarray, count: np.ndarray, value: float) -> None:
    """Set ``a[i, count[i]:]`` to ``value`` in each row (by the tails' flat places, not a mask)."""
    t = a.shape[1]
    short = np.flatnonzero(count < t)
    if not short.size:
        return
    if not a.flags.c_contiguous:
        a[np.arange(t) >= count[:, None]] = value
        return
    lens = t - count[short]
    ends = np.cumsum(lens)
    a.reshape(-1)[np.arange(ends[-1]) + np.repeat(short * t + count[short] - (ends - lens), lens)] = value


def _float_keys(a: np.ndarray, bits: int) -> np.ndarray | None:
    """``a`` with the column in the lowest ``bits`` bits of each value, to sort as floats.

    NaN becomes the largest finite float (numpy's vectorized sort rewrites
    NaNs, so they could not carry their column). ``None`` when ``a`` has
    +∞ (it would become the stand-in) or a value near that largest float.
    −∞ and values below −``_HUGE`` are found once the keys are sorted
    (:func:`_sorted_float_keys`). Signed zeros and subnormals need nothing
    special: where the packed keys misorder them, the sorted values are not
    ascending and the row is sorted exactly (:func:`sort_rows`).
    """
    if a.size and np.fmax.reduce(a, axis=None) > _HUGE:
        return None  # (the maximum ignores NaN; it is NaN only when every value is)
    x = np.fmin(a, _PROXY)  # NaN → the stand-in
    k = x.view(np.int64)
    np.bitwise_and(k, np.int64(~((1 << bits) - 1)), out=k)
    np.bitwise_or(k, np.arange(a.shape[1], dtype=np.int64), out=k)
    return x


def _sorted_float_keys(a: np.ndarray, bits: int) -> np.ndarray | None:
    """:func:`_float_keys` sorted along each row; ``None`` where ``a`` has −∞ or a value below −``_HUGE``.

    Such a value's key is the row's first (at most −``_HUGE``, or −∞ from −∞
    in column 0) or a NaN (−∞ with a column), which the sort puts last.
    """
    keys = _float_keys(a, bits)
    if keys is None:
        return None
    keys.sort(axis=1)  # NaN's stand-in is the largest key
    if a.size and (bool((keys[:, 0] < -_HUGE).any()) or bool(np.isnan(keys[:, -1]).any())):
        return None
    return keys


def _int_keys(a: np.ndarray, missing: np.ndarray, bits: int) -> np.ndarray:
    """Order-preserving uint64 images of ``a`` with the column in the lowest ``bits`` bits; NaN last."""
    k = np.add(a, 0.0).view(np.int64)  # a fresh array; −0.0 becomes +0.0
    # negative values: flip every bit; the others: set the sign bit
    np.bitwise_xor(k, np.bitwise_or(np.right_shift(k, 63), _SIGN), out=k)
    np.putmask(k, missing, np.int64(-1))  # above every other value, whatever the NaN's sign
    np.bitwise_and(k, np.int64(~((1 << bits) - 1)), out=k)
    np.bitwise_or(k, np.arange(a.shape[1], dtype=np.int64), out=k)
    return k.view(np.uint64)


def sort_rows(a: np.ndarray) -> RowSort:
    """:class:`RowSort` of a 2-D float array: each row's order, sorted values and available count."""
    a = np.ascontiguousarray(a, dtype="float64")
    n, t = a.shape
    offset = (np.arange(n, dtype=np.intp) * t)[:, None]
    bits = max(int(t - 1).bit_length(), 1)
    if a.size == 0 or bits > _MAX_BITS:
        order = np.argsort(a, axis=1).astype(np.intp, copy=False)
        return RowSort(order + offset, np.take_along_axis(a, order, axis=1), _available(a))
    fkeys = _sorted_float_keys(a, bits) if bits <= _FLOAT_BITS else None
    if fkeys is not None:
        # the stand-ins end each row: a search of the sorted keys counts the values before them
        count = count_sorted_below(fkeys, np.arange(n), np.full(n, _STAND_IN))
        flat = fkeys.view(np.int64)
    else:
        count = _available(a)
        keys = _int_keys(a, np.isnan(a), bits)
        keys.sort(axis=1)
        flat = keys.view(np.int64)
    # the keys' memory becomes the indices (fresh memory is costly)
    np.bitwise_and(flat, np.int64((1 << bits) - 1), out=flat)
    np.add(flat, offset, out=flat)
    values = a.reshape(-1)[flat]
    # one compare finds the rows that are not ascending and the ties of the others
    return _checked(RowSort(flat, values, count), a)


def _checked(srt: RowSort, a: np.ndarray) -> RowSort:
    """``srt`` (of ``a``, from packed keys) with its ties found, or its rows that are not ascending
    sorted exactly (as :func:`sort_rows`)."""
    values, flat = srt.values, srt.flat
    t = values.shape[1]
    with np.errstate(invalid="ignore"):
        pairs = np.flatnonzero(values[:, 1:] <= values[:, :-1])  # NaN compares false
    if t > 1 and pairs.size:
        left = pairs + pairs // (t - 1)
        down = values.reshape(-1)[left + 1] < values.reshape(-1)[left]
        if down.any():  # values closer than the packed keys resolve: sort those rows exactly
            bad = np.unique(left[down] // t)
            exact = np.argsort(a[bad], axis=1)
            flat[bad] = exact + (bad * t)[:, None]
            values[bad] = np.take_along_axis(a[bad], exact, axis=1)
            return RowSort(flat, values, srt.count)
    return RowSort(flat, values, srt.count, pairs)


def _available(a: np.ndarray) -> np.ndarray:
    """Non-NaN values per row of ``a`` (intp)."""
    return a.shape[1] - np.count_nonzero(np.isnan(a), axis=1).astype(np.intp)


def row_ranks(a: np.ndarray) -> np.ndarray:
    """Average ranks 1…T_i along each row of ``a``, NaN where ``a`` is NaN.

    Same values as ``scipy.stats.rankdata(a, axis=1, nan_policy="omit")``:
    ties share the mean of their ranks; missing entries are not ranked.
    """
    a = np.asarray(a, dtype="float64")
    if a.size == 0:
        return a.copy()
    return sort_rows(a).ranks()


def stable_available_first(ok: np.ndarray) -> np.ndarray:
    """Per row, the columns where ``ok`` holds, in order, then the others, in order.

    The stable row-wise ``argsort(~ok)``, from one sort of 16-bit keys
    (missing flag above the column) when the columns fit.
    """
    t = ok.shape[1]
    if t >= 2**15:
        return np.argsort(~ok, axis=1, kind="stable")
    keys = np.left_shift(np.logical_not(ok).astype(np.uint16), np.uint16(15))
    np.bitwise_or(keys, np.arange(t, dtype=np.uint16), out=keys)
    keys.sort(axis=1)
    return np.bitwise_and(keys, np.uint16(2**15 - 1)).astype(np.intp)
