"""Strict ISO 8601 parsing of the ``timestamp`` column of an events file.

Three forms are accepted, all in the ISO 8601 extended format:

* an **instant**: ``2025-06-10T22:55Z``, ``2025-05-12T09:00+02:00`` (seconds and
  fractions allowed; ``T`` or a space between date and time). An instant
  without an offset is read as local time in the event's ``tz`` (default
  UTC) — an assumption, stated here;
* an **interval** ``START/END``, ``START/DURATION`` or ``DURATION/END``: the
  news came out at some instant within it (both ends included). ``START`` and
  ``END`` are instants as above; a duration is written ``PT8H``, ``PT30M``,
  ``P1DT6H``, ``P2D`` or ``P1W`` (years and months are refused: their length is
  ambiguous). A reversed or empty interval is an error;
* a **date** ``2025-06-11``: the hour is unknown, so the news came out within
  that whole calendar day of ``tz`` (default UTC), ``[00:00, 24:00)``.

Anything else — ``2019``, ``2019 T``, ``20190805``, ``Aug 5 2019`` — is an
error: a timestamp that is only guessed would silently move day 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import pandas as pd

from .errors import InputError, show

__all__ = ["Timing", "TimingKind", "has_naive_time", "parse_timestamp"]

TimingKind = Literal["instant", "interval", "date"]

_DATE = r"(\d{4})-(\d{2})-(\d{2})"
_DATE_RE = re.compile(rf"^{_DATE}$")
_INSTANT_RE = re.compile(
    rf"^{_DATE}[T ](\d{{2}}):(\d{{2}})(?::(\d{{2}})(?:[.,](\d{{1,9}}))?)?(Z|[+-]\d{{2}}(?::?\d{{2}})?)?$"
)
_DURATION_RE = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?$"
)
_EXAMPLES = (
    "write an instant 2025-06-10T22:55Z, an interval 2025-06-10T20:00-04:00/2025-06-11T02:00Z "
    "or 2025-06-10T20:00Z/PT8H, or a date 2025-06-10"
)
_FIRST_YEAR, _LAST_YEAR = 1900, 2200


@dataclass(frozen=True)
class Timing:
    """When an event's news came out, as parsed from its ``timestamp``.

    Attributes
    ----------
    kind : {"instant", "interval", "date"}
    start : pandas.Timestamp
        Earliest possible instant (UTC).
    end : pandas.Timestamp
        Latest possible instant (UTC): ``start`` for an instant, ``END`` for
        an interval (included), the next local midnight for a date (excluded).
    local_date : pandas.Timestamp
        The event's calendar date (tz-naive midnight): the date itself, the
        UTC date of an instant, the date of ``START`` in ``tz`` for an interval.
    local_end : pandas.Timestamp
        The calendar date of the latest possible instant (``local_date``
        except for an interval: the date of ``END`` in ``tz``).
    """

    kind: TimingKind
    start: pd.Timestamp
    end: pd.Timestamp
    local_date: pd.Timestamp
    local_end: pd.Timestamp


_UTC = ZoneInfo("UTC")


def _localize(ts: pd.Timestamp, zone: ZoneInfo) -> pd.Timestamp:
    """The UTC instant of the tz-naive local time ``ts`` in ``zone``.

    Midnight and other local times can fall in a daylight-saving gap or
    overlap. A time in a gap is read as the first instant after it (the
    transition itself); a time in an overlap as its daylight-saving reading
    (pandas' ``tz_localize(zone, ambiguous=True)``). The offsets come from
    :mod:`zoneinfo` (PEP 495's two folds: equal for a time with one reading;
    the later one larger in a gap, smaller in an overlap), about a
    microsecond each, where pandas' scalar ``tz_localize`` takes about 45.
    pandas' ``nonexistent="shift_forward"`` is not used for gaps: for a gap
    of a whole day (Pacific/Apia, 30 December 2011) it returns an instant
    before the gap.
    """
    if zone is _UTC:
        return ts.tz_localize("UTC")
    local = ts.to_pydatetime(warn=False)  # whole microseconds: transitions fall on whole seconds
    before = local.replace(tzinfo=zone).utcoffset()
    after = local.replace(tzinfo=zone, fold=1).utcoffset()
    if before is None or after is None or before > after:  # an overlap: pandas' daylight-saving reading
        return ts.tz_localize(zone, ambiguous=True).tz_convert("UTC")
    if before == after:
        return (ts - pd.Timedelta(before).as_unit(ts.unit)).tz_localize("UTC")
    return _transition(local - after, local - before, zone, ts.unit)


def _transition(lo: datetime, hi: datetime, zone: ZoneInfo, unit: str) -> pd.Timestamp:
    """The UTC instant in (``lo``, ``hi``] (naive UTC times around a gap) where ``zone``'s offset
    changes: a binary search over whole seconds (tzdata's transitions fall on whole seconds)."""
    first = lo.replace(tzinfo=UTC).astimezone(zone).utcoffset()
    a, b = math.floor((lo - _EPOCH).total_seconds()), math.ceil((hi - _EPOCH).total_seconds())
    while b - a > 1:  # offset(a) == first, offset(b) != first
        mid = (a + b) // 2
        at = (_EPOCH + timedelta(seconds=mid)).replace(tzinfo=UTC)
        if at.astimezone(zone).utcoffset() == first:
            a = mid
        else:
            b = mid
    return pd.Timestamp(b, unit="s", tz="UTC").as_unit(unit)


_EPOCH = datetime(1970, 1, 1)


def _check_year(text: str, raw: str) -> None:
    year = int(text[:4])
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        raise InputError(f"{show(raw)}: year {year} is outside {_FIRST_YEAR}–{_LAST_YEAR}; {_EXAMPLES}")


def _instant(text: str, zone: ZoneInfo, raw: str) -> pd.Timestamp:
    """A UTC instant from an ISO 8601 date and time (offset optional)."""
    if not _INSTANT_RE.match(text):
        raise InputError(f"{show(raw)} is not an ISO 8601 timestamp; {_EXAMPLES}")
    _check_year(text, raw)
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{show(raw)}: {show(text)} is not a valid date and time; {_EXAMPLES}") from exc
    return _localize(ts, zone) if ts.tzinfo is None else ts.tz_convert("UTC")


def _duration(text: str, raw: str) -> pd.Timedelta:
    m = _DURATION_RE.match(text)
    if not m or text in ("P", "PT") or text.endswith("T"):
        if re.search(r"\d[YM]", text.split("T")[0]):  # years or months before any T
            raise InputError(
                f"{show(raw)}: durations in years or months have no fixed length; "
                "write days or hours, e.g. P2D or PT8H"
            )
        raise InputError(
            f"{show(raw)}: {show(text)} is not an ISO 8601 duration; write e.g. PT8H, PT30M or P1DT6H"
        )
    g = {k: float((v or "0").replace(",", ".")) for k, v in m.groupdict().items()}
    try:
        return pd.Timedelta(weeks=g["w"], days=g["d"], hours=g["h"], minutes=g["m"], seconds=g["s"])
    except (OverflowError, ValueError):  # (pandas' OutOfBoundsTimedelta is a ValueError)
        why = f"the duration {show(text)} is longer than any interval can be"
        raise InputError(f"{show(raw)}: {why}") from None


def _end(start: pd.Timestamp, delta: pd.Timedelta, raw: str) -> pd.Timestamp:
    """``start + delta`` (an interval's other end), within the years of :func:`_check_year`."""
    try:
        end = start + delta
    except (OverflowError, ValueError):  # (pandas' OutOfBoundsDatetime is a ValueError)
        end = None
    if end is None or not _FIRST_YEAR <= end.year <= _LAST_YEAR:
        raise InputError(
            f"{show(raw)}: the interval reaches outside the years {_FIRST_YEAR}–{_LAST_YEAR}; {_EXAMPLES}"
        )
    return end


def _local_date(ts_utc: pd.Timestamp, zone: ZoneInfo) -> pd.Timestamp:
    """The calendar day in ``zone`` of the UTC instant ``ts_utc`` (tz-naive midnight)."""
    naive = ts_utc.tz_localize(None)
    if zone is not _UTC:
        offset = ts_utc.to_pydatetime(warn=False).astimezone(zone).utcoffset()
        if offset is None:
            return ts_utc.tz_convert(zone).tz_localize(None).normalize()
        naive = naive + pd.Timedelta(offset).as_unit(naive.unit)
    return naive.normalize()


def _interval(raw: str, zone: ZoneInfo) -> Timing:
    parts = raw.split("/")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise InputError(f"{show(raw)} is not an ISO 8601 interval; write START/END or START/PT8H")
    a, b = parts[0].strip(), parts[1].strip()
    if a.startswith("P") and b.startswith("P"):
        raise InputError(f"{show(raw)}: an interval needs at least one instant; write START/PT8H")
    if b.startswith("P"):
        start = _instant(a, zone, raw)
        end = _end(start, _duration(b, raw), raw)
    elif a.startswith("P"):
        end = _instant(b, zone, raw)
        start = _end(end, -_duration(a, raw), raw)
    else:
        if _DATE_RE.match(a) or _DATE_RE.match(b):
            raise InputError(
                f"{show(raw)}: the ends of an interval must be instants with a time; "
                "write e.g. 2025-06-10T00:00+08:00/2025-06-10T12:00+08:00"
            )
        start, end = _instant(a, zone, raw), _instant(b, zone, raw)
    if end < start:
        raise InputError(
            f"{show(raw)}: the interval ends before it starts; write START/END with START before END"
        )
    if end == start:
        raise InputError(
            f"{show(raw)}: the interval is empty (it ends when it starts); write a single instant instead"
        )
    return Timing("interval", start, end, _local_date(start, zone), _local_date(end, zone))


def parse_timestamp(raw: str, tzname: str = "") -> Timing:
    """Parse one ``timestamp`` field.

    Parameters
    ----------
    raw : str
        The field: an instant, an interval or a date (see the module docs).
    tzname : str, optional
        The event's IANA time zone (``tz`` column); empty means UTC. It says
        whose calendar day a date is, and in which zone an instant without an
        offset is read.

    Returns
    -------
    Timing

    Raises
    ------
    InputError
        When the text is not one of the three ISO 8601 forms, a date or time
        does not exist, a year (or an interval's end) is outside 1900–2200, a
        duration is beyond any date, or an interval is
        reversed or empty. The message quotes the text and shows the forms.
    """
    text = raw.strip()
    zone = ZoneInfo(tzname or "UTC")
    if "/" in text:
        return _interval(text, zone)
    if _DATE_RE.match(text):
        _check_year(text, raw)
        try:
            day = pd.Timestamp(text)
        except ValueError as exc:
            raise InputError(f"{show(raw)} is not a valid date; write YYYY-MM-DD") from exc
        start = _localize(day, zone)
        end = _localize(day + pd.Timedelta(days=1), zone)
        return Timing("date", start, end, day, day)
    utc = _instant(text, zone, raw)
    day = utc.tz_localize(None).normalize()
    return Timing("instant", utc, utc, day, day)


def has_naive_time(raw: str) -> bool:
    """Whether ``raw`` holds a date and time without an offset (read in ``tz``, default UTC)."""
    for part in raw.strip().split("/"):
        m = _INSTANT_RE.match(part.strip())
        if m is not None and m.group(8) is None:
            return True
    return False
