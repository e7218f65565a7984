"""The ``timestamp`` column of a whole events file at once (see :mod:`eventstudy.timestamps`).

:func:`timing_columns` gives, for every row, what
:func:`~eventstudy.timestamps.parse_timestamp` gives for it alone: the
timing kind, the UTC start and end, the local date and the local end date.
The common forms are converted a column at a time:

* a date ``2025-06-11``: its local midnight and the next one, per zone, by
  pandas' ``tz_localize`` over all the zone's rows;
* an instant ``2025-06-10T22:55Z`` (seconds and decimals optional; ``Z`` or
  ``±hh:mm``) by one ``to_datetime(format="ISO8601", utc=True)``; without an
  offset, read in its row's zone like a date;
* an interval ``START/END``, ``START/DURATION`` or ``DURATION/END`` of such
  instants and a duration in whole weeks, days, hours, minutes or seconds of
  at most 50 years, its ends within 1900–2200.

A local time in a daylight-saving gap or overlap, any other spelling and
anything that does not parse go through ``parse_timestamp`` row by row, which
also raises the row's error. The result is the same either way,
value for value (``tests/test_timestamps_columns.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from .timestamps import _FIRST_YEAR, _LAST_YEAR, parse_timestamp

__all__ = ["TimingColumns", "timing_columns"]

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$")


class TimingColumns(NamedTuple):
    """Per row: ``kind`` (``instant``, ``interval``, ``date``), ``start`` and ``end`` (UTC),
    ``local_date`` and ``local_end`` (tz-naive midnights), all in nanoseconds."""

    kind: list[str]
    start: pd.DatetimeIndex
    end: pd.DatetimeIndex
    local_date: pd.DatetimeIndex
    local_end: pd.DatetimeIndex


def timing_columns(raws: Sequence[str], tznames: Sequence[str]) -> TimingColumns:
    """:func:`~eventstudy.timestamps.parse_timestamp` of every ``(raws[i], tznames[i])``.

    Raises the first row's :class:`~eventstudy.errors.InputError` (in row
    order of the rows left to ``parse_timestamp``) when a timestamp is invalid.
    """
    n = len(raws)
    texts = [r.strip() for r in raws]
    zones = np.array([z or "UTC" for z in tznames], dtype=object)
    nat = np.datetime64("NaT", "ns")
    start, end = np.full(n, nat), np.full(n, nat)
    local_date, local_end = np.full(n, nat), np.full(n, nat)
    kind = np.full(n, "instant", dtype=object)

    # instants (NaT for any other text): the UTC date is the local date
    start[:] = end[:] = _instants(texts, zones)
    local_date[:] = local_end[:] = start.astype("datetime64[D]").astype("datetime64[ns]")

    # dates: the zone's day, from its midnight to the next
    rows = np.flatnonzero(np.array([bool(_DATE_RE.match(t)) for t in texts], dtype=bool))
    if len(rows):
        day = pd.DatetimeIndex(pd.to_datetime([texts[i] for i in rows], format="%Y-%m-%d", errors="coerce"))
        day = day.as_unit("ns")
        ok = np.array([_FIRST_YEAR <= y <= _LAST_YEAR for y in day.year.fillna(0)], dtype=bool)
        first = _local_to_utc(day.to_numpy(), zones[rows])
        last = _local_to_utc((day + pd.Timedelta(days=1)).to_numpy(), zones[rows])
        ok &= ~(np.isnat(first) | np.isnat(last))
        rows = rows[ok]
        start[rows], end[rows] = first[ok], last[ok]
        local_date[rows] = local_end[rows] = day.to_numpy()[ok]
        kind[rows] = "date"

    # intervals START/END, START/DURATION and DURATION/END of those instants
    rows = np.flatnonzero(np.array([t.count("/") == 1 for t in texts], dtype=bool))
    if len(rows):
        ends = [texts[i].split("/") for i in rows]
        a_txt, b_txt = [a.strip() for a, _ in ends], [b.strip() for _, b in ends]
        a_dur, b_dur = _durations(a_txt), _durations(b_txt)
        a_at, b_at = _instants(a_txt, zones[rows]), _instants(b_txt, zones[rows])
        lo = np.where(np.isnat(a_dur), a_at, b_at - a_dur)
        hi = np.where(np.isnat(b_dur), b_at, a_at + b_dur)
        ok = ~(np.isnat(lo) | np.isnat(hi) | (~np.isnat(a_dur) & ~np.isnat(b_dur))) & (hi > lo)
        ok &= _in_years(lo) & _in_years(hi)  # (an end outside them: parse_timestamp says so)
        rows, lo, hi = rows[ok], lo[ok], hi[ok]
        start[rows], end[rows] = lo, hi
        local_date[rows] = _utc_to_local_day(lo, zones[rows])
        local_end[rows] = _utc_to_local_day(hi, zones[rows])
        kind[rows] = "interval"

    # the rest, row by row (other spellings, gaps and overlaps, errors)
    for i in np.flatnonzero(np.isnat(start)).tolist():
        t = parse_timestamp(raws[i], tznames[i])
        start[i], end[i] = _naive(t.start), _naive(t.end)
        local_date[i], local_end[i] = _naive(t.local_date), _naive(t.local_end)
        kind[i] = t.kind
    return TimingColumns(
        kind.tolist(),
        pd.DatetimeIndex(start).tz_localize("UTC"),
        pd.DatetimeIndex(end).tz_localize("UTC"),
        pd.DatetimeIndex(local_date),
        pd.DatetimeIndex(local_end),
    )


def _instants(texts: list[str], zones: np.ndarray) -> np.ndarray:
    """UTC instants (tz-naive nanoseconds) of ISO 8601 date-times; NaT where a text is not one of
    the common spellings, its year is out of range, it does not parse, or (without an offset) its
    local time has not exactly one reading in its zone."""
    out = np.full(len(texts), np.datetime64("NaT", "ns"))
    matched = [_INSTANT_RE.match(t) for t in texts]
    years = np.array([int(t[:4]) if m else 0 for t, m in zip(texts, matched, strict=True)])
    good = (years >= _FIRST_YEAR) & (years <= _LAST_YEAR)
    offset = np.array([m is not None and m.group(1) is not None for m in matched], dtype=bool)
    rows = np.flatnonzero(good & offset)
    if len(rows):
        utc = pd.DatetimeIndex(
            pd.to_datetime([texts[i] for i in rows], format="ISO8601", utc=True, errors="coerce")
        )
        out[rows] = utc.tz_localize(None).as_unit("ns").to_numpy()
    rows = np.flatnonzero(good & ~offset)
    if len(rows):
        local = pd.DatetimeIndex(pd.to_datetime([texts[i] for i in rows], format="ISO8601", errors="coerce"))
        out[rows] = _local_to_utc(local.as_unit("ns").to_numpy(), zones[rows])
    return out


_DURATION_RE = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_UNITS_S = (7 * 86_400, 86_400, 3_600, 60, 1)

#: Longest duration converted here (50 years): an end in 1900–2200 shifted by it stays within
#: numpy's nanosecond dates (1677–2262), so the sums below cannot overflow.
_LONGEST_S = 50 * 366 * 86_400


def _durations(texts: list[str]) -> np.ndarray:
    """Whole-unit ISO 8601 durations (``P1W``, ``P2D``, ``PT8H``, ``P1DT6H30M``, ``PT45S``) as
    timedelta64[ns]; NaT for any other text (left to ``parse_timestamp``)."""
    out = np.full(len(texts), np.timedelta64("NaT", "ns"))
    for i, t in enumerate(texts):
        whole = t.startswith("P") and t not in ("P", "PT") and not t.endswith("T")
        m = _DURATION_RE.match(t) if whole else None
        if m is not None:
            seconds = sum(int(v or 0) * u for v, u in zip(m.groups(), _UNITS_S, strict=True))
            if seconds <= _LONGEST_S:  # (longer ones: parse_timestamp, which checks the years)
                out[i] = np.timedelta64(seconds * 10**9, "ns")
    return out


def _in_years(at: np.ndarray) -> np.ndarray:
    """Whether each date lies in the years of ``parse_timestamp`` (NaT: false)."""
    year = at.astype("datetime64[Y]").astype(np.int64) + 1970  # (NaT: a huge negative number)
    return (year >= _FIRST_YEAR) & (year <= _LAST_YEAR) & ~np.isnat(at)


def _local_to_utc(local: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """UTC instants (tz-naive ns) of tz-naive local times, zone by zone; NaT where a time is
    missing or has not exactly one reading (a gap or an overlap: left to ``parse_timestamp``)."""
    out = np.full(len(local), np.datetime64("NaT", "ns"))
    for zone in pd.unique(zones):
        rows = np.flatnonzero(zones == zone)
        idx = pd.DatetimeIndex(local[rows])
        if zone != "UTC":
            idx = idx.tz_localize(ZoneInfo(zone), ambiguous="NaT", nonexistent="NaT").tz_convert("UTC")
            idx = idx.tz_localize(None)
        out[rows] = idx.as_unit("ns").to_numpy()
    return out


def _utc_to_local_day(utc: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """The calendar day in each row's zone of UTC instants (tz-naive ns midnights)."""
    out = np.full(len(utc), np.datetime64("NaT", "ns"))
    for zone in pd.unique(zones):
        rows = np.flatnonzero(zones == zone)
        idx = pd.DatetimeIndex(utc[rows]).tz_localize("UTC").tz_convert(ZoneInfo(zone)).tz_localize(None)
        out[rows] = idx.normalize().as_unit("ns").to_numpy()
    return out


def _naive(ts: pd.Timestamp) -> np.datetime64:
    """``ts`` (UTC or tz-naive) as a tz-naive nanosecond value."""
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.as_unit("ns").to_datetime64()
