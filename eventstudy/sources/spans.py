"""Inclusive date ranges (spans) of cached closes: union and gaps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

__all__ = ["DAY", "Span", "as_midnight", "merge_spans", "missing_spans"]

#: An inclusive range of dates ``(first, last)``, tz-naive midnights.
Span = tuple[pd.Timestamp, pd.Timestamp]

#: One calendar day.
DAY = pd.Timedelta(days=1)


def as_midnight(x: object) -> pd.Timestamp:
    """``x`` as a tz-naive midnight (nanosecond unit), the local date of an aware time."""
    ts = pd.Timestamp(x)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize().as_unit("ns")


def merge_spans(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Union of inclusive date ranges, merged where they overlap or touch.

    Parameters
    ----------
    spans : iterable of (Timestamp, Timestamp)
        Inclusive ``(first, last)`` date ranges; empty ones (``first > last``)
        are ignored.

    Returns
    -------
    tuple of (Timestamp, Timestamp)
        Disjoint, sorted ranges; two ranges are merged when the second starts
        at most one day after the first ends.
    """
    items = sorted((as_midnight(a), as_midnight(b)) for a, b in spans if as_midnight(a) <= as_midnight(b))
    out: list[Span] = []
    for a, b in items:
        if out and a <= out[-1][1] + DAY:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return tuple(out)


def missing_spans(request: Span, covered: Sequence[Span]) -> list[Span]:
    """Parts of ``request`` not inside any of the ``covered`` ranges.

    Parameters
    ----------
    request : (Timestamp, Timestamp)
        Inclusive range wanted.
    covered : sequence of (Timestamp, Timestamp)
        Inclusive ranges already held.

    Returns
    -------
    list of (Timestamp, Timestamp)
        Sorted, disjoint inclusive gaps (empty when ``request`` is covered).
    """
    lo, hi = as_midnight(request[0]), as_midnight(request[1])
    gaps: list[Span] = []
    cur = lo
    for a, b in merge_spans(covered):
        if b < cur:
            continue
        if a > hi:
            break
        if a > cur:
            gaps.append((cur, min(hi, a - DAY)))
        cur = max(cur, b + DAY)
        if cur > hi:
            break
    if cur <= hi:
        gaps.append((cur, hi))
    return gaps
