"""Several windows' pairs side by side, for the tests that read only per-pair arrays.

A test whose batch form reads only the per-pair arrays of its input (``car``,
``se``, ``days``, ``dof``, ``n_est``, ``cluster``, ``dup``) and its seed
(:attr:`~eventstudy.inference.base.TestSpec.stacks`: the cross-sectional,
Patell, BMP, sign, signed-rank, skewness-adjusted and cluster t tests) sees
each group only through its pairs' values and the group codes. With the
windows' pairs one after the other and each window's groups numbered apart
(window j's group g is group j·G + g), one call gives every window's result:
group sums are ``np.bincount`` over the codes, which adds each group's pairs
in pair order as the window's own call does, and per-group sorts and counts
see the same values in the same order. So the numbers are the same bitwise,
with one call per grouping for the windows instead of one per window: on
small studies (the default has 24 windows) most of a test's time is the
Python of a call, not its arithmetic.

The per-group quantities that the tests of a window share through its memo
(the group moments of the CARs and SCARs, the pairs with a CAR, the cluster
cells; :mod:`~eventstudy.inference.groupmemo`,
:func:`~eventstudy.inference.clustercells.cells`) are the same numbers
either way, so they are handed over: what the windows already hold (the wild
bootstrap's CAR moments) to the joined input before its calls
(:func:`share_up`), and what the joined calls computed to each window after
them (:func:`share_down`), for the tests that still run window by window.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np

from .base import TestInput
from .clustercells import Cells, cells_key
from .grouped import BatchResult, Groups
from .groupmemo import count_key, stats_key

__all__ = ["repeated", "share_down", "share_up", "side_by_side", "window_part"]

#: Memo entries of per-group arrays that the tests of a window share: the key of a grouping
#: (by its uid) and whether the entry is a tuple of arrays (else one array).
_SHARED: tuple[tuple[Callable[[int], object], bool], ...] = (
    (functools.partial(stats_key, "car"), True),
    (functools.partial(stats_key, "scar"), True),
    (count_key, False),
)


def side_by_side(inputs: Sequence[TestInput]) -> TestInput:
    """One input holding the pairs of ``inputs`` (the windows of one study) one window after the other.

    Only the per-pair arrays are joined; the window and estimation arrays are
    empty (no test that stacks reads them) and the input has a memo and cache
    of its own.
    """
    first = inputs[0]

    def joined(name: str) -> np.ndarray:
        return np.concatenate([getattr(inp, name) for inp in inputs])

    def optional(name: str) -> np.ndarray | None:
        parts = [getattr(inp, name) for inp in inputs]
        return None if any(p is None for p in parts) else np.concatenate(parts)

    n = sum(len(inp.car) for inp in inputs)
    none = np.empty((n, 0))
    dup = None
    if all(inp.dup is not None for inp in inputs):
        dup = _apart([np.asarray(inp.dup, dtype=np.int64) for inp in inputs])
    return TestInput(
        car=joined("car"),
        se=joined("se"),
        days=joined("days"),
        dof=joined("dof"),
        n_est=joined("n_est"),
        ar=none,
        sar=none,
        est_resid=none,
        est_sar=none,
        est_day=np.empty((n, 0), dtype=np.int64),
        seed=first.seed,
        draws=first.draws,
        window_len=optional("window_len"),
        cluster=optional("cluster"),
        dup=dup,
        cache={},
    )


def _apart(keys: Sequence[np.ndarray]) -> np.ndarray:
    """The windows' duplicate keys joined, each window's moved past the others' (equal keys stay
    equal within a window and never match another window's: no key repeats across windows, as
    none could within a group)."""
    out, base = [], 0
    for k in keys:
        lo = int(k.min()) if len(k) else 0
        out.append(k - lo + base)
        base += (int(k.max()) - lo + 1) if len(k) else 0
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def repeated(groups: Groups, times: int) -> Groups:
    """``groups`` for ``times`` windows side by side: window j's group g is group j·G + g."""
    size = groups.size
    codes = np.concatenate([groups.codes + j * size for j in range(times)])
    return Groups(codes, groups.names * times)


def window_part(res: BatchResult, j: int, size: int) -> BatchResult:
    """Window ``j``'s rows (``size`` groups) of a result on :func:`repeated` groups."""
    at = slice(j * size, (j + 1) * size)
    return BatchResult(res.statistic[at], res.p_value[at], res.n[at], res.note[at])


def share_up(inputs: Sequence[TestInput], joined: TestInput, groups: Groups, wide: Groups) -> None:
    """Give ``joined`` (the windows side by side, :func:`repeated` groups ``wide``) the shared
    per-group entries that every window of ``inputs`` holds for ``groups``, joined window after window."""
    for key_of, several in _SHARED:
        found = [inp.memo.get(key_of(groups.uid)) for inp in inputs]
        if all(isinstance(f, tuple if several else np.ndarray) for f in found):
            key = key_of(wide.uid)
            if several:
                joined.memo.setdefault(key, tuple(np.concatenate(p) for p in zip(*found, strict=True)))
            else:
                joined.memo.setdefault(key, np.concatenate(found))  # type: ignore[arg-type]


def share_down(inputs: Sequence[TestInput], joined: TestInput, groups: Groups, wide: Groups) -> None:
    """Give each window of ``inputs`` its part of the shared per-group entries (and cluster cells)
    that the calls on ``joined`` computed for ``wide``."""
    size = groups.size
    for key_of, several in _SHARED:
        hit = joined.memo.get(key_of(wide.uid))
        if not isinstance(hit, tuple if several else np.ndarray):
            continue
        for j, inp in enumerate(inputs):
            at = slice(j * size, (j + 1) * size)
            part = tuple(a[at] for a in cast(tuple, hit)) if several else cast(np.ndarray, hit)[at]
            inp.memo.setdefault(key_of(groups.uid), part)
    cells = joined.memo.get(cells_key(wide.uid))
    if isinstance(cells, Cells):
        bounds = np.searchsorted(cells.group, np.arange(len(inputs) + 1) * size)  # cells by group
        for j, inp in enumerate(inputs):
            a, b = int(bounds[j]), int(bounds[j + 1])
            at = slice(j * size, (j + 1) * size)
            inp.memo.setdefault(
                cells_key(groups.uid),
                Cells(
                    group=cells.group[a:b] - j * size,
                    cluster=cells.cluster[a:b],
                    n=cells.n[a:b],
                    s=cells.s[a:b],
                    g=cells.g[at],
                    pairs=cells.pairs[at],
                    dups=cells.dups[at],
                ),
            )
