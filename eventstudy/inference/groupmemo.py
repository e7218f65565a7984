"""Group quantities that several tests of one window share, computed once per grouping.

The cross-sectional t, the skewness-adjusted t and the wild bootstrap all
start from the group moments of the CARs, BMP and KP–BMP from those of the
SCARs, and most tests count each group's pairs with a CAR. Within one window (one
:class:`~eventstudy.inference.base.TestInput`) these are the same numbers
for every test, so they are memoized in ``inp.memo`` (the runner clears it
after the window) by grouping. Each value is exactly what
:func:`~eventstudy.inference.grouped.moments`,
:func:`~eventstudy.inference.grouped.mean_t_batch` and
:meth:`~eventstudy.inference.grouped.Groups.count` return.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .base import TestInput
from .grouped import Groups, Reason, moments

__all__ = [
    "car_count",
    "count_key",
    "group_stats",
    "mean_t_shared",
    "sorted_by_group",
    "stable_argsort",
    "stats_key",
    "value_order",
]


def stats_key(name: str, uid: int) -> tuple[str, str, int]:
    """Memo key of :func:`group_stats` of ``name`` (``"car"`` or ``"scar"``) for the grouping ``uid``."""
    return ("group_stats", name, uid)


def count_key(uid: int) -> tuple[str, int]:
    """Memo key of :func:`car_count` for the grouping ``uid``."""
    return ("car_count", uid)


def group_stats(
    inp: TestInput, groups: Groups, name: Literal["car", "scar"]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(n, mean, sd, constant)`` of :func:`~eventstudy.inference.grouped.moments` over the finite
    ``inp.car`` or ``inp.scar``, memoized by grouping in ``inp.memo``.

    Arrays of one value per group only (not the pairs' deviations), so that
    windows computed together keep little; not to be changed.
    """
    key = stats_key(name, groups.uid)
    hit = inp.memo.get(key)
    if isinstance(hit, tuple):
        return hit
    values = inp.car if name == "car" else inp.scar
    m = moments(groups, values, np.isfinite(values))
    out = (m.n, m.mean, m.sd, m.constant)
    inp.memo[key] = out
    if name == "car":
        inp.memo.setdefault(count_key(groups.uid), m.n)
    return out


def mean_t_shared(
    inp: TestInput, groups: Groups, name: Literal["car", "scar"]
) -> tuple[np.ndarray, np.ndarray, list[Reason]]:
    """:func:`~eventstudy.inference.grouped.mean_t_batch` of ``inp.car`` or ``inp.scar``, shared.

    Returns ``(t, n, reasons)`` as ``mean_t_batch`` does, from :func:`group_stats`.
    """
    n, mean, sd, constant = group_stats(inp, groups, name)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = mean / (sd / np.sqrt(n))
    reasons: list[Reason] = [
        (n < 2, "needs at least 2 pairs"),
        (constant | ~np.isfinite(sd) | (sd == 0.0), "no cross-sectional variation"),
    ]
    return t, n, reasons


def car_count(inp: TestInput, groups: Groups) -> np.ndarray:
    """Per group, the pairs with a finite CAR (int64; memoized, not to be changed)."""
    key = count_key(groups.uid)
    hit = inp.memo.get(key)
    if isinstance(hit, np.ndarray):
        return hit
    out = groups.count(np.isfinite(inp.car))
    inp.memo[key] = out
    return out


def sorted_by_group(
    inp: TestInput, groups: Groups, name: str, values: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`~eventstudy.inference.grouped.Groups.sorted_within` of ``values`` over ``mask``, from
    the window's one stable sort of the values (:func:`value_order`
    under ``name``).

    The same ``(order, starts)``: a stable sort of the group codes keeps the
    value order within each group, and a stable order is unique. Codes of
    fewer than 2¹⁵ groups are sorted as int16 (a radix sort, several times
    faster than int64's), one group needs no sort.
    """
    by_value = value_order(inp.memo, name, values, mask)
    if groups.size <= 1:
        order = by_value
    else:
        codes = groups.codes[by_value]
        small = codes.astype(np.int16) if groups.size <= np.iinfo(np.int16).max else codes
        order = by_value[np.argsort(small, kind="stable")]
    starts = np.searchsorted(groups.codes[order], np.arange(groups.size + 1))
    return order, starts


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")`` of a 1-D array without NaN.

    A quicksort first (several times faster than the merge sort): when the
    sorted values are strictly increasing no two are equal, so the order is
    the only one and the stable sort's; else (ties, ±0) the stable sort.
    """
    order = np.argsort(values)
    s = values[order]
    if len(s) > 1 and not (s[1:] > s[:-1]).all():
        return np.argsort(values, kind="stable")
    return order


def value_order(memo: dict[object, object], name: str, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The pairs with ``mask`` in stable order of ``values``, memoized in ``memo`` under ``name``.

    The order is :func:`stable_argsort`'s (numpy's stable sort), so ties keep
    the pairs' order.
    """
    key = ("value_order", name)
    hit = memo.get(key)
    if isinstance(hit, np.ndarray):
        return hit
    rows = np.flatnonzero(mask)
    out = rows[stable_argsort(values[rows])]
    memo[key] = out
    return out
