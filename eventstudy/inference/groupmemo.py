"""Group quantities that several tests of one window share, computed once per grouping.

The cross-sectional t and the wild bootstrap both start from the t of the
CARs of each group, BMP and KP–BMP from that of the SCARs, and most tests
count each group's pairs with a CAR. Within one window (one
:class:`~eventstudy.inference.base.TestInput`) these are the same numbers
for every test, so they are memoized in ``inp.memo`` (the runner clears it
after the window) by grouping. Each value is exactly what
:func:`~eventstudy.inference.grouped.mean_t_batch` and
:meth:`~eventstudy.inference.grouped.Groups.count` return.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .base import TestInput
from .grouped import Groups, Reason, mean_t_batch

__all__ = ["car_count", "mean_t_shared"]


def mean_t_shared(
    inp: TestInput, groups: Groups, name: Literal["car", "scar"]
) -> tuple[np.ndarray, np.ndarray, list[Reason]]:
    """:func:`~eventstudy.inference.grouped.mean_t_batch` of ``inp.car`` or ``inp.scar``, shared.

    Returns ``(t, n, reasons)`` as ``mean_t_batch`` does (the reasons a new
    list each call); memoized by grouping in ``inp.memo`` (arrays of one value
    per group only, so that windows computed together keep little).
    """
    key = ("mean_t", name, groups.uid)
    hit = inp.memo.get(key)
    if not isinstance(hit, tuple):
        values = inp.car if name == "car" else inp.scar
        hit = mean_t_batch(groups, values, np.isfinite(values))
        inp.memo[key] = hit
        if name == "car":
            inp.memo.setdefault(("car_count", groups.uid), hit[1])
    t, n, reasons = hit
    return t, n, list(reasons)


def car_count(inp: TestInput, groups: Groups) -> np.ndarray:
    """Per group, the pairs with a finite CAR (int64; memoized, not to be changed)."""
    key = ("car_count", groups.uid)
    hit = inp.memo.get(key)
    if isinstance(hit, np.ndarray):
        return hit
    out = groups.count(np.isfinite(inp.car))
    inp.memo[key] = out
    return out
