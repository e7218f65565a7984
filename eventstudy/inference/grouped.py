"""Groups of pairs and the group-vectorized form of the tests.

A test applied to every group of a grouping (every market, every event…) is
one pass over the pairs, not one call per group: group sums are
``np.bincount`` over the pairs' group codes, and group sums of per-pair rows
(estimation days, placebo positions…) are one sparse one-hot product. Every
registered test has such a *batch* form beside its per-group form; the two
give the same numbers (tested), and the runner uses the batch form.
"""

from __future__ import annotations

import hashlib
import itertools
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, special

__all__ = [
    "GROUPINGS_KEY",
    "groupings_together",
    "windows_together",
    "BatchResult",
    "GroupMoments",
    "Groups",
    "Reason",
    "digest",
    "group_products",
    "mean_t_batch",
    "moments",
    "normal_p_array",
    "onehot_columns",
    "t_p_array",
]

#: Why a test cannot apply to some groups: (groups hit, one text or one per group).
Reason = tuple[np.ndarray, "str | Sequence[str]"]

_UID = itertools.count()

#: Memo key (``TestInput.memo``) under which the runner announces, as a tuple
#: of :class:`Groups`, every grouping it is about to ask a test for: a test
#: whose groupings share work may compute them all on the first call.
GROUPINGS_KEY = "announced_groupings"


def onehot_columns(
    rows: np.ndarray,
    shape: tuple[int, int],
    data: np.ndarray | None = None,
    columns: np.ndarray | None = None,
    dtype: type = np.float64,
) -> sparse.csc_matrix:
    """The ``shape`` matrix (compressed columns): column ``columns[k]`` holds ``data[k]`` in row ``rows[k]``.

    One entry per listed column (``columns`` ascending and distinct; default
    ``0 … len(rows) − 1``), the other columns empty: a one-hot matrix of
    group codes. Built from its compressed arrays directly, so it is the
    matrix ``csc_matrix((data, (rows, columns)), shape)`` gives, without the
    coordinate form's conversion and sort (a tenth of the cost on small
    studies, where these matrices are made per window and grouping).
    ``data`` defaults to ones of ``dtype``.
    """
    n = len(rows)
    if columns is None:
        indptr = np.arange(n + 1)
    else:
        indptr = np.zeros(shape[1] + 1, dtype=np.int64)
        indptr[np.asarray(columns, dtype=np.int64) + 1] = 1
        np.cumsum(indptr, out=indptr)
    vals = np.ones(n, dtype=dtype) if data is None else np.asarray(data)
    return sparse.csc_matrix((vals, np.asarray(rows), indptr), shape=shape)


def groupings_together(memo: dict[object, object], groups: Groups) -> list[Groups]:
    """``groups`` first, then the other groupings announced in ``memo`` under :data:`GROUPINGS_KEY`.

    A test that does every grouping of its windows in one pass does these
    together (only ``groups`` when it is not among the announced ones).
    """
    announced = memo.get(GROUPINGS_KEY)
    together = [groups]
    if isinstance(announced, tuple) and any(g is groups for g in announced):
        together += [g for g in announced if g is not groups]
    return together


def windows_together(
    name: str,
    inputs: Sequence[Any],
    groups: Groups,
    compute: Callable[[list[Groups]], list[list[BatchResult]]],
) -> list[BatchResult]:
    """A test's results for ``groups`` in every window of ``inputs``, the announced groupings at once.

    ``compute(together)`` gives every window's results for each grouping of
    :func:`groupings_together` (``groups`` first); the others are kept in the
    first input's memo under ``name`` until the runner asks for them.
    """
    first = inputs[0]
    ids = tuple(id(inp) for inp in inputs)
    hit = first.memo.pop((name, ids, groups.uid), None)
    if isinstance(hit, list):
        return hit
    together = groupings_together(first.memo, groups)
    results = compute(together)
    for g, res in zip(together[1:], results[1:], strict=True):
        first.memo[(name, ids, g.uid)] = res
    return results[0]


def digest(a: np.ndarray) -> bytes:
    """A short fingerprint of an array's bytes (cache keys of masks and index sets).

    SHA-1 (hardware-accelerated on most processors; only accidental equality
    matters here), read in place. A boolean array is hashed as its packed
    bits and its length (an eighth of the bytes); equal arrays give equal
    fingerprints either way.
    """
    if isinstance(a, np.ndarray) and a.dtype == np.bool_:
        data: Any = b"bool%d:" % a.size + np.packbits(a, axis=None).tobytes()
    else:
        data = np.ascontiguousarray(a)
        if data.dtype.hasobject:
            data = data.tobytes()
    return hashlib.sha1(data, usedforsecurity=False).digest()


#: Groups of read-only label arrays, by array identity (see ``Groups.from_labels``).
_FROM_LABELS: dict[int, tuple[weakref.ref[np.ndarray], Groups]] = {}


@dataclass(frozen=True, eq=False)
class Groups:
    """A partition of the P pairs into G labelled groups.

    Attributes
    ----------
    codes : ndarray (P,) of int64
        Group of each pair, 0 … G − 1 (groups sorted by label).
    names : tuple of str
        Label of each group.
    uid : int
        Identity used in cache keys (unique per instance).
    """

    codes: np.ndarray
    names: tuple[str, ...]
    uid: int = field(default_factory=lambda: next(_UID))
    _by_code: list[tuple[np.ndarray, bool]] = field(default_factory=list, init=False, repr=False)
    _sizes: list[np.ndarray] = field(default_factory=list, init=False, repr=False)

    @classmethod
    def from_labels(cls, labels: np.ndarray) -> Groups:
        """Groups of ``labels`` (one per pair), sorted by label.

        A read-only ``labels`` array (``flags.writeable`` false, as the study's
        groupings are) is factorized once: later calls with the same array
        object return the same ``Groups``.
        """
        frozen = isinstance(labels, np.ndarray) and not labels.flags.writeable
        if frozen:
            hit = _FROM_LABELS.get(id(labels))
            if hit is not None and hit[0]() is labels:
                return hit[1]
        codes, uniq = pd.factorize(pd.Series(np.asarray(labels, dtype=object)), sort=True)
        out = cls(np.asarray(codes, dtype=np.int64), tuple(str(u) for u in uniq))
        if frozen:
            key = id(labels)

            def forget(_: object, k: int = key) -> None:
                _FROM_LABELS.pop(k, None)

            _FROM_LABELS[key] = (weakref.ref(labels, forget), out)
        return out

    @property
    def size(self) -> int:
        """G, the number of groups."""
        return len(self.names)

    def every(self, mask: np.ndarray) -> bool:
        """Whether ``mask`` is a boolean mask selecting every pair.

        The group sums over such a mask are those over all the pairs in the
        same order, so they need no copy of the selected codes and values.
        """
        return (
            isinstance(mask, np.ndarray)
            and mask.dtype == np.bool_
            and mask.shape == self.codes.shape
            and bool(mask.all())
        )

    def sizes(self) -> np.ndarray:
        """Number of pairs in each group (int64, G; computed once, not to be changed)."""
        if not self._sizes:
            self._sizes.append(np.bincount(self.codes, minlength=self.size))
        return self._sizes[0]

    def count(self, mask: np.ndarray) -> np.ndarray:
        """Number of pairs with ``mask`` in each group (int64, G)."""
        if self.every(mask):
            return self.sizes().copy()
        if isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == self.codes.shape:
            if self.size == 1:
                return np.array([np.count_nonzero(mask)], dtype=np.int64)
            # the mask as 0/1 weights: exact counts, with no copy of the selected codes
            return np.bincount(self.codes, weights=mask, minlength=self.size).astype(np.int64)
        return np.bincount(self.codes[mask], minlength=self.size)

    def total(self, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Σ ``values`` over the pairs with ``mask`` in each group (float, G).

        Each group's sum runs over its pairs in pair order (``np.bincount``),
        with or without a copy of the selected pairs.
        """
        if self.every(mask):
            return np.bincount(self.codes, weights=values, minlength=self.size)
        return np.bincount(self.codes[mask], weights=values[mask], minlength=self.size)

    def spread(self, values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Group minimum and maximum of ``values`` over ``mask`` (NaN for empty groups).

        One reduction over the pairs in group order (the stable order of the
        codes is computed once per instance).
        """
        if not self._by_code:
            by_code = np.argsort(self.codes, kind="stable")
            # pairs already in group order (one group, or sorted codes): no reordering
            self._by_code.append((by_code, bool((by_code == np.arange(len(by_code))).all())))
        order, in_order = self._by_code[0]
        every = self.every(mask)
        if every:
            n = self.sizes()
        else:
            order = order[mask[order]]
            n = np.bincount(self.codes[order], minlength=self.size)
        lo = np.full(self.size, np.nan)
        hi = np.full(self.size, np.nan)
        full = n > 0
        if full.any():
            starts = (np.cumsum(n) - n)[full]
            v = np.asarray(values, dtype="float64")
            if not (every and in_order):
                v = v[order]
            lo[full] = np.minimum.reduceat(v, starts)
            hi[full] = np.maximum.reduceat(v, starts)
        bad = ~np.isfinite(lo)  # as an empty group (NaN also for a minimum of −∞)
        lo[bad] = np.nan
        hi[bad] = np.nan
        return lo, hi

    def matrix(self, mask: np.ndarray, weights: np.ndarray | None = None) -> sparse.csc_matrix:
        """The G × P one-hot matrix of the pairs with ``mask`` (entries ``weights`` or 1).

        Column-compressed: a product with a P × T array then reads the array's
        rows in order (2–3× faster than row-compressed when groups interleave).
        """
        rows = np.flatnonzero(mask)
        vals = None if weights is None else np.asarray(weights, dtype="float64")[rows]
        return onehot_columns(self.codes[rows], (self.size, len(mask)), vals, rows)

    def sorted_within(self, values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs with ``mask`` ordered by group, then by ``values``, and each group's start.

        Returns ``(order, starts)``: ``order`` lists pair indices; group g
        occupies ``order[starts[g]:starts[g + 1]]`` (``starts`` has G + 1 entries).
        Groupings that share one sort of the values use
        :func:`~eventstudy.inference.groupmemo.sorted_by_group` (the same order).
        """
        rows = np.flatnonzero(mask)
        order = rows[np.lexsort((values[rows], self.codes[rows]))]
        starts = np.searchsorted(self.codes[order], np.arange(self.size + 1))
        return order, starts

    def members(self, mask: np.ndarray) -> list[np.ndarray]:
        """The pair indices of each group with ``mask`` (in pair order)."""
        rows = np.flatnonzero(mask)
        order = rows[np.argsort(self.codes[rows], kind="stable")]
        bounds = np.searchsorted(self.codes[order], np.arange(self.size + 1))
        return [order[bounds[g] : bounds[g + 1]] for g in range(self.size)]


@dataclass(frozen=True)
class BatchResult:
    """One test on every group of a grouping: arrays of length G.

    ``statistic`` and ``p_value`` are NaN exactly where the test cannot
    apply, and ``note`` then says why (as :class:`~eventstudy.inference.base.TestResult`).
    """

    __test__ = False

    statistic: np.ndarray
    p_value: np.ndarray
    n: np.ndarray
    note: list[str]

    @classmethod
    def build(
        cls,
        statistic: np.ndarray,
        p_value: np.ndarray,
        n: np.ndarray,
        notes: Sequence[str] | None = None,
        reasons: Sequence[Reason] | None = None,
    ) -> BatchResult:
        """Assemble a result; ``reasons`` are (mask, why) applied in order, the first wins.

        Groups hit by a reason get NaN statistic and p-value and that note
        (``why`` is one text for all groups or a list with one per group).
        """
        g = len(n)
        stat = np.asarray(statistic, dtype="float64").copy()
        p = np.asarray(p_value, dtype="float64").copy()
        note = list(notes) if notes is not None else [""] * g
        taken = np.zeros(g, dtype=bool)
        for bad, why in reasons or []:
            hit = np.asarray(bad, dtype=bool) & ~taken
            if not hit.any():
                continue
            for i in np.flatnonzero(hit).tolist():
                note[i] = why if isinstance(why, str) else why[i]
            taken |= hit
        if taken.any():
            stat[taken] = np.nan
            p[taken] = np.nan
        return cls(stat, p, np.asarray(n, dtype=np.int64), note)


def normal_p_array(z: np.ndarray) -> np.ndarray:
    """Two-sided N(0, 1) p-values of ``z`` (element-wise)."""
    return np.asarray(2.0 * special.ndtr(-np.abs(z)))


def t_p_array(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Two-sided Student-t p-values of ``t`` with ``df`` degrees of freedom (element-wise)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(2.0 * special.stdtr(np.asarray(df, dtype="float64"), -np.abs(t)))


@dataclass(frozen=True)
class GroupMoments:
    """Per-group count, mean, N − 1 standard deviation and constancy of a variable."""

    n: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    constant: np.ndarray
    dev: np.ndarray  # value − group mean, for the masked pairs (in mask order)


def moments(groups: Groups, values: np.ndarray, mask: np.ndarray) -> GroupMoments:
    """Two-pass group moments of ``values`` over the pairs with ``mask``."""
    n = groups.count(mask)
    every = groups.every(mask)
    codes = groups.codes if every else groups.codes[mask]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = groups.total(values, mask) / n
        dev = (values if every else values[mask]) - mean[codes]
        ss = np.bincount(codes, weights=dev * dev, minlength=groups.size)
        sd = np.sqrt(ss / (n - 1))
    lo, hi = groups.spread(values, mask)
    return GroupMoments(n, mean, sd, ~(hi > lo), dev)


def mean_t_batch(
    groups: Groups, values: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[Reason]]:
    """Group-wise :func:`~eventstudy.inference.parametric.mean_t`: ``(t, n, reasons)``."""
    m = moments(groups, values, mask)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = m.mean / (m.sd / np.sqrt(m.n))
    reasons: list[Reason] = [
        (m.n < 2, "needs at least 2 pairs"),
        (m.constant | ~np.isfinite(m.sd) | (m.sd == 0.0), "no cross-sectional variation"),
    ]
    return t, m.n, reasons


def group_products(
    inp: Any,
    groups: Groups,
    mask: np.ndarray,
    name: str,
    arrays: tuple[np.ndarray, ...],
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, ...]:
    """``groups.matrix(mask, weights) @ a`` for each of ``arrays``, memoized in ``inp.cache``.

    Group sums of per-pair rows (G × columns). Only for arrays that depend on
    the estimation arrays alone (the windows of a study share them); ``name``
    says which arrays they are.
    """
    key = (name, groups.uid, digest(mask))
    hit = inp.cache.get(key)
    if isinstance(hit, tuple):
        return hit
    onehot = groups.matrix(mask, weights)
    out = tuple(np.asarray(onehot @ a) for a in arrays)
    inp.cache[key] = out
    return out
