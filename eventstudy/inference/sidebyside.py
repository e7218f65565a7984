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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .base import TestInput
from .grouped import BatchResult, Groups

__all__ = ["repeated", "side_by_side", "window_part"]


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
        dup=optional("dup"),
        cache={},
    )


def repeated(groups: Groups, times: int) -> Groups:
    """``groups`` for ``times`` windows side by side: window j's group g is group j·G + g."""
    size = groups.size
    codes = np.concatenate([groups.codes + j * size for j in range(times)])
    return Groups(codes, groups.names * times)


def window_part(res: BatchResult, j: int, size: int) -> BatchResult:
    """Window ``j``'s rows (``size`` groups) of a result on :func:`repeated` groups."""
    at = slice(j * size, (j + 1) * size)
    return BatchResult(res.statistic[at], res.p_value[at], res.n[at], res.note[at])
