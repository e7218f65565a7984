"""Running group totals of the chunk-by-chunk tests, kept only for the groups still open.

:mod:`eventstudy.streamtests` adds each chunk's group sums (per group and day)
to running totals. A chunk's sums cover only the groups its pairs touch
(:func:`local_groups`), and are added to those groups' rows. A group is
*complete* once the chunk holding its last pair has been added; its tests are
then finished and its rows dropped (:meth:`Totals.drop`). Chunks are
consecutive pairs, and a market's pairs are consecutive, so at any time only
the markets of about one chunk are open: the totals of the by-market grouping
of a universe stay small instead of G × T per test (about 1 GiB for 50,000
markets). Groups spread over the whole study (events, categories, all) stay
open to the end, and there are few of them.

Every total is the same sum, in the same order, as a dense G-row total: rows
are only added to, and missing rows are zeros (exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from .inference.base import TestInput
from .inference.grouped import BatchResult, Groups

__all__ = ["GroupIndex", "Local", "Part", "Stitch", "Totals", "count_dtype", "local_groups", "subset_input"]

Key = tuple[object, ...]


class Totals:
    """Running totals of per-group arrays, keyed; added once per chunk and key.

    Each key holds the sorted group codes of its open rows (``rows``) and one
    array per total with one row per open group. The grouping's name is the
    key's second item (:meth:`drop` uses it).
    """

    def __init__(self) -> None:
        self.data: dict[Key, list[np.ndarray]] = {}
        self.rows: dict[Key, np.ndarray] = {}
        self.seen: set[Key] = set()

    def wants(self, key: Key) -> bool:
        """Whether ``key`` has not been added for this chunk yet (windows share sums)."""
        return key not in self.seen

    def new_chunk(self) -> None:
        self.seen = set()

    def _at(
        self,
        key: Key,
        rows: np.ndarray,
        like: Sequence[np.ndarray],
        dtypes: Sequence[Any],
        fill: float = 0,
    ) -> np.ndarray:
        """Positions of ``rows`` in the open rows of ``key``, opening the rows it lacks (``fill``)."""
        have = self.rows.get(key)
        if have is None:
            self.rows[key] = rows.copy()
            self.data[key] = [
                np.full((len(rows), *np.shape(a)[1:]), fill, dtype=dt)
                for a, dt in zip(like, dtypes, strict=True)
            ]
            return np.arange(len(rows))
        at = np.searchsorted(have, rows)
        if (at < len(have)).all() and np.array_equal(have[np.minimum(at, len(have) - 1)], rows):
            return at
        union = np.union1d(have, rows)
        old = np.searchsorted(union, have)
        grown = []
        for a in self.data[key]:
            g = np.full((len(union), *a.shape[1:]), fill, dtype=a.dtype)
            g[old] = a
            grown.append(g)
        self.rows[key], self.data[key] = union, grown
        return np.searchsorted(union, rows)

    def add(
        self,
        key: Key,
        rows: np.ndarray,
        cdtype: np.dtype[Any],
        *arrays: np.ndarray,
        counts: tuple[int, ...] = (),
    ) -> None:
        """Add ``arrays`` (one row per group of ``rows``, sorted codes) to those groups' totals of ``key``.

        The arrays at the positions ``counts`` hold whole numbers (counts of
        pairs, at most the largest group's size) and are kept exactly in the
        integer type ``cdtype`` (:func:`count_dtype`).
        """
        if key in self.seen:  # already added for this chunk (windows sharing the sums)
            return
        self.seen.add(key)
        dtypes = [cdtype if i in counts else np.dtype("float64") for i in range(len(arrays))]
        at = self._at(key, rows, arrays, dtypes)
        for tot, a in zip(self.data[key], arrays, strict=True):
            part = tot[at]
            np.add(part, a, out=part, casting="unsafe")
            tot[at] = part

    def fmax(self, key: Key, rows: np.ndarray, values: np.ndarray) -> None:
        """Running maximum of ``values`` per group of ``rows`` (NaN: none yet)."""
        at = self._at(key, rows, [values], [np.dtype("float64")], fill=np.nan)
        (tot,) = self.data[key]
        tot[at] = np.fmax(tot[at], values)

    def take(self, key: Key, done: np.ndarray) -> list[np.ndarray]:
        """The totals of ``key`` for the groups ``done`` (sorted codes, all open)."""
        at = np.searchsorted(self.rows[key], done)
        return [a[at] for a in self.data[key]]

    def has(self, key: Key) -> bool:
        return key in self.data

    def drop(self, grouping: str, done: np.ndarray) -> None:
        """Drop the rows of the groups ``done`` from every key of ``grouping``."""
        for key in [k for k in self.data if k[1] == grouping]:
            keep = ~np.isin(self.rows[key], done)
            self.rows[key] = self.rows[key][keep]
            self.data[key] = [a[keep] for a in self.data[key]]


@dataclass
class Local:
    """A chunk's pairs in the groups they touch: ``groups`` numbers them 0 … g − 1."""

    groups: Groups
    rows: np.ndarray  # the touched groups' codes in the study-wide grouping (sorted)
    cdtype: np.dtype[Any]  # the totals' type of counts of pairs


def local_groups(groups: Groups, pos: np.ndarray, cdtype: np.dtype[Any]) -> Local:
    """The groups of ``groups`` that the pairs ``pos`` touch, renumbered (see :class:`Local`)."""
    rows, codes = np.unique(groups.codes[pos], return_inverse=True)
    names = tuple(groups.names[i] for i in rows)
    return Local(Groups(np.asarray(codes, dtype=np.int64).ravel(), names), rows, cdtype)


def count_dtype(groups: Groups) -> np.dtype[Any]:
    """The smallest unsigned integer type holding the size of every group of ``groups``."""
    largest = int(np.bincount(groups.codes).max()) if len(groups.codes) else 0
    for dt in (np.uint8, np.uint16, np.uint32):
        if largest <= np.iinfo(dt).max:
            return np.dtype(dt)
    return np.dtype(np.int64)


@dataclass
class Part:
    """Some complete groups of a grouping: renumbered, with their pairs (in pair order)."""

    groups: Groups
    idx: np.ndarray  # the groups' pairs, ascending
    done: np.ndarray  # the groups' codes in the study-wide grouping (sorted)


class GroupIndex:
    """Each group's pairs and last pair; which groups are finished (one per grouping)."""

    def __init__(self, groups: Groups) -> None:
        self.groups = groups
        self.order = np.argsort(groups.codes, kind="stable")
        self.starts = np.searchsorted(groups.codes[self.order], np.arange(groups.size + 1))
        has = self.starts[1:] > self.starts[:-1]
        self.last = np.where(has, self.order[np.maximum(self.starts[1:] - 1, 0)], -1)
        self.closed = np.zeros(groups.size, dtype=bool)

    def complete(self, rows: np.ndarray, through: int) -> np.ndarray:
        """Of the groups ``rows``, those whose every pair is at position ≤ ``through``."""
        return rows[self.last[rows] <= through]

    def part(self, done: np.ndarray) -> Part:
        """The groups ``done`` (sorted codes) as a :class:`Part`; marks them closed."""
        lengths = self.starts[done + 1] - self.starts[done]
        offsets = np.repeat(self.starts[done] - (np.cumsum(lengths) - lengths), lengths)
        idx = np.sort(self.order[np.arange(int(lengths.sum())) + offsets])
        codes = np.searchsorted(done, self.groups.codes[idx])
        self.closed[done] = True
        return Part(Groups(codes, tuple(self.groups.names[g] for g in done)), idx, done)


def subset_input(inp: TestInput, idx: np.ndarray) -> TestInput:
    """``inp`` restricted to the pairs ``idx`` (every per-pair array), with a fresh memo."""
    n = len(inp.car)
    changes = {}
    for f in fields(inp):
        val = getattr(inp, f.name)
        if f.init and isinstance(val, np.ndarray) and val.ndim >= 1 and val.shape[0] == n:
            changes[f.name] = val[idx]
    return replace(inp, cache={}, **changes)


class Stitch:
    """A test's results over all G groups, filled part by part."""

    def __init__(self, size: int) -> None:
        self.statistic = np.full(size, np.nan)
        self.p_value = np.full(size, np.nan)
        self.n = np.zeros(size, dtype=np.int64)
        self.note = [""] * size

    def put(self, done: np.ndarray, res: BatchResult) -> None:
        self.statistic[done] = res.statistic
        self.p_value[done] = res.p_value
        self.n[done] = res.n
        for g, note in zip(done.tolist(), res.note, strict=True):
            self.note[g] = note

    def result(self) -> BatchResult:
        return BatchResult(self.statistic, self.p_value, self.n, self.note)
