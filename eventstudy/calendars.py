"""Trading sessions and the day-0 rule, on top of ``exchange_calendars``.

Day 0 of an event in a market is the first session of that market's calendar
whose close is strictly after the announcement instant: news during a session
(the Hong Kong lunch break included) belongs to that session; news at or after
the close, at a weekend or on a holiday belongs to the next session.

When only the date of an announcement is known (a date plus an IANA zone), the
instant lies somewhere in ``[00:00, 24:00)`` of that local day; when it is known
to lie in an interval ``START/END``, somewhere in ``[START, END]``. Day 0 is then
the earliest possible session (the rule applied to the start); the latest
possible session (the rule applied to the last possible instant) is recorded
beside it, and the pair is flagged ``day0_uncertain`` when they differ.

Series without an exchange calendar (FX, a user's own columns) use the dates in
their own data as sessions; without a closing time their day 0 is the first
data date on or after the event's date (the local date of a date-only event,
the UTC date of an instant); for an interval the earliest is the first data
date on or after the date of its start and the latest the first on or after
the date of its end (both in the event's ``tz``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import warnings
import zipfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = [
    "CUSTOM_CALENDARS",
    "EXTRA_CLOSURES",
    "Sessions",
    "calendar_version",
    "known_calendar",
    "data_sessions",
    "day0_bounds",
    "exchange_sessions",
]

#: Full-day closures missing from exchange_calendars 4.13 (fixed upstream after
#: the 4.13.2 release): Typhoon Saola and the black rainstorm of September 2023.
EXTRA_CLOSURES: dict[str, tuple[str, ...]] = {
    "XHKG": ("2023-09-01", "2023-09-08"),
}

#: Calendars defined by the toolkit on top of exchange_calendars: code →
#: (calendar whose sessions are used, local closing time, its time zone).
#: ``STOXX``: the days on which STOXX calculates its indices (EURO STOXX 50,
#: STOXX Europe 600) are the Eurex trading days (XEUR: closed 1 Jan, Good Friday,
#: Easter Monday, 1 May, 24-26 and 31 Dec), not Xetra's, which also closes on
#: German holidays (3 Oct, 31 Oct 2017) when the indices are calculated. Eurex
#: trades derivatives until 22:00, so the closing time is the index's close,
#: 17:30 Frankfurt/Paris time, when the euro-area cash markets close.
CUSTOM_CALENDARS: dict[str, tuple[str, str, str]] = {
    "STOXX": ("XEUR", "17:30", "Europe/Berlin"),
}

_FIRST = pd.Timestamp("1990-01-01")
_LAST = pd.Timestamp("2049-12-31")


@dataclass(frozen=True, eq=False)
class Sessions:
    """The trading sessions of one market.

    Parameters
    ----------
    code : str or None
        Exchange calendar code (MIC), or ``None`` when the sessions are the
        dates of the price data itself.
    dates : pandas.DatetimeIndex
        Session dates, tz-naive midnight, ascending, unique, unit ``ns``.
    closes : pandas.DatetimeIndex or None
        Closing instant (UTC) of each session, or ``None`` without a calendar.
    """

    code: str | None
    dates: pd.DatetimeIndex
    closes: pd.DatetimeIndex | None

    @functools.cached_property
    def dates_ns(self) -> np.ndarray:
        """Session dates as int64 nanoseconds (for fast searches)."""
        return np.asarray(self.dates.as_unit("ns").asi8)

    @functools.cached_property
    def closes_ns(self) -> np.ndarray | None:
        """Closing instants as int64 nanoseconds since the epoch (UTC)."""
        return None if self.closes is None else np.asarray(self.closes.as_unit("ns").asi8)

    def bounds(self, start: pd.Timestamp, end: pd.Timestamp) -> tuple[int, int]:
        """Positions ``[lo, hi)`` of the sessions with ``start <= date <= end``."""
        d = self.dates_ns
        lo = int(np.searchsorted(d, pd.Timestamp(start).as_unit("ns").value, side="left"))
        hi = int(np.searchsorted(d, pd.Timestamp(end).as_unit("ns").value, side="right"))
        return lo, hi

    def between(self, start: pd.Timestamp, end: pd.Timestamp) -> Sessions:
        """Sessions with ``start <= date <= end``."""
        lo, hi = self.bounds(start, end)
        closes = None if self.closes is None else self.closes[lo:hi]
        return Sessions(self.code, self.dates[lo:hi], closes)


def calendar_version() -> str:
    """Version of the installed ``exchange_calendars`` package."""
    return version("exchange_calendars")


def _cache_file(code: str, start: pd.Timestamp, end: pd.Timestamp) -> Path | None:
    """Where built sessions are kept between runs (``$EVENTSTUDY_CACHE``/calendars)."""
    root = os.environ.get("EVENTSTUDY_CACHE")
    if root is None:
        try:
            import platformdirs
        except ImportError:  # pragma: no cover - platformdirs comes with yfinance
            return None
        root = platformdirs.user_cache_dir("eventstudy")
    extra = ",".join(EXTRA_CLOSURES.get(code, ())) + "|" + "/".join(CUSTOM_CALENDARS.get(code, ()))
    key = f"{code}|{start.date()}|{end.date()}|{calendar_version()}|{extra}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(root) / "calendars" / f"{code}-{digest}.npz"


@functools.lru_cache(maxsize=64)
def _build(code: str, start: pd.Timestamp, end: pd.Timestamp) -> Sessions:
    """Sessions of ``code`` (built by exchange_calendars, kept in a small disk cache).

    Building a calendar takes about 0.15 s; the sessions and closes are saved
    as int64 arrays keyed by the code, the range, the exchange_calendars
    version and the extra closures, and reused by later runs. A cache that
    cannot be read or written is simply ignored.
    """
    path = _cache_file(code, start, end)
    if path is not None and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                dates = pd.DatetimeIndex(z["dates"].astype("datetime64[ns]"))
                closes = pd.DatetimeIndex(z["closes"].astype("datetime64[ns]")).tz_localize("UTC")
            if len(dates) and dates.is_monotonic_increasing and len(closes) in (0, len(dates)):
                return Sessions(code, dates, closes)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # a truncated or foreign file: rebuilt and replaced below
    sess = _build_fresh(code, start, end)
    if path is not None:
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(
                tmp,
                dates=sess.dates_ns,
                closes=np.asarray(sess.closes.tz_localize(None).as_unit("ns").asi8)
                if sess.closes is not None
                else np.empty(0, np.int64),
            )
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
    return sess


def _build_custom(code: str, start: pd.Timestamp, end: pd.Timestamp) -> Sessions:
    """A calendar of :data:`CUSTOM_CALENDARS`: another calendar's sessions, its own close."""
    base, close, zone = CUSTOM_CALENDARS[code]
    dates = _build_fresh(base, start, end).dates
    local = dates + pd.Timedelta(close + ":00")
    closes = pd.DatetimeIndex(local.tz_localize(zone).tz_convert("UTC")).as_unit("ns")
    return Sessions(code, dates, closes)


def _build_fresh(code: str, start: pd.Timestamp, end: pd.Timestamp) -> Sessions:
    import exchange_calendars as xcals

    if code in CUSTOM_CALENDARS:
        return _build_custom(code, start, end)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                cal = xcals.get_calendar(code, start=start, end=end)
            except ValueError as exc:
                # some calendars record holidays only up to a year (XSHG: 2026)
                m = re.search(r"to the year (\d{4})", str(exc))
                if not m or int(m.group(1)) < start.year:
                    raise InputError(f"calendar {code}: {str(exc).splitlines()[0]}") from exc
                end = pd.Timestamp(year=int(m.group(1)), month=12, day=31)
                cal = xcals.get_calendar(code, start=start, end=end)
            closes_s = cal.closes
    except xcals.errors.InvalidCalendarName as exc:
        raise InputError(
            f"unknown exchange calendar '{code}': use an ISO 10383 MIC known to "
            "exchange_calendars, e.g. XHKG, XETR, XLON, XPAR, XNYS"
        ) from exc
    dates = pd.DatetimeIndex(closes_s.index).tz_localize(None).as_unit("ns")
    closes = pd.DatetimeIndex(closes_s.to_numpy(), tz="UTC").as_unit("ns")
    extra = EXTRA_CLOSURES.get(code)
    if extra:
        keep = ~dates.isin(pd.DatetimeIndex(extra))
        dates, closes = dates[keep], closes[keep]
    return Sessions(code, dates, closes)


@functools.lru_cache(maxsize=256)
def known_calendar(code: str) -> bool:
    """Whether ``code`` names a calendar of exchange_calendars or :data:`CUSTOM_CALENDARS`."""
    if code in CUSTOM_CALENDARS:
        return True
    import exchange_calendars as xcals

    return code in xcals.get_calendar_names(include_aliases=True)


def exchange_sessions(code: str, start: pd.Timestamp, end: pd.Timestamp) -> Sessions:
    """Sessions of exchange calendar ``code`` covering ``start`` … ``end``.

    The calendar is built on a range padded to whole years (and cached), so
    that repeated calls are cheap and results do not depend on today's date.
    """
    lo = max(_FIRST, pd.Timestamp(year=pd.Timestamp(start).year - 1, month=1, day=1))
    hi = min(_LAST, pd.Timestamp(year=pd.Timestamp(end).year + 1, month=12, day=31))
    return _build(code, lo, hi)


def data_sessions(dates: pd.DatetimeIndex) -> Sessions:
    """Sessions taken from the dates of a price series (no closing times)."""
    d = pd.DatetimeIndex(dates).as_unit("ns")
    v = np.asarray(d.asi8)
    clean = bool((v % 86_400_000_000_000 == 0).all() and (np.diff(v) > 0).all())
    if not clean:  # price series are normally sorted midnight dates already
        d = d.normalize().unique().sort_values()
    return Sessions(None, d, None)


def day0_bounds(
    sessions: Sessions,
    start_utc: np.ndarray,
    end_utc: np.ndarray,
    local_dates: np.ndarray,
    is_date_only: np.ndarray,
    is_interval: np.ndarray | None = None,
    local_end: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the earliest and latest possible day 0 in ``sessions``.

    Parameters
    ----------
    sessions : Sessions
        The market's sessions.
    start_utc : array of datetime64 (UTC, naive) or int64 ns
        The announcement instant, the start of an interval, or for a
        date-only event the UTC instant of the start of its local day.
    end_utc : array like ``start_utc``
        The announcement instant, the end of an interval (included), or for
        a date-only event the UTC instant of the next local midnight
        (excluded).
    local_dates : array of datetime64 or int64 ns
        The event's calendar date (local date if date-only, UTC date of an
        instant, date of the interval's start); used when the market has no
        closing times.
    is_date_only : ndarray of bool
        Which events are date-only.
    is_interval : ndarray of bool, optional
        Which events are intervals (none when omitted).
    local_end : array like ``local_dates``, optional
        Calendar date of each interval's end (used without closing times).

    Returns
    -------
    earliest, latest : ndarray of int
        Positions into ``sessions.dates``; ``len(sessions.dates)`` means there
        is no session on or after the event. Earliest: the first session
        closing strictly after the start. Latest: for an interval the first
        session closing strictly after its end; for a date the first session
        closing at or after the next midnight (the last instant of the day
        is just before it).
    """
    interval = (
        np.zeros(len(np.asarray(is_date_only)), dtype=bool)
        if is_interval is None
        else np.asarray(is_interval, dtype=bool)
    )
    if sessions.closes_ns is None:
        dates = sessions.dates_ns
        pos = np.searchsorted(dates, _ns(local_dates), side="left").astype(np.int64)
        if local_end is None or not interval.any():
            return pos, pos.copy()
        late = np.searchsorted(dates, _ns(local_end), side="left").astype(np.int64)
        return pos, np.where(interval, late, pos)
    closes = sessions.closes_ns
    # day 0: the first session whose close is strictly after the instant
    earliest = np.searchsorted(closes, _ns(start_utc), side="right").astype(np.int64)
    end = _ns(end_utc)
    # a date's end is excluded (next midnight): the first close at or after it;
    # an interval's end is included: the first close strictly after it
    late_day = np.searchsorted(closes, end, side="left").astype(np.int64)
    late_iv = np.searchsorted(closes, end, side="right").astype(np.int64)
    latest = np.where(np.asarray(is_date_only, dtype=bool), late_day, np.where(interval, late_iv, earliest))
    return earliest, latest


def _ns(values: object) -> np.ndarray:
    """int64 nanoseconds of datetime-like values (tz-aware ones in UTC)."""
    if isinstance(values, np.ndarray) and values.dtype == np.int64:
        return values
    idx = pd.DatetimeIndex(values)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return np.asarray(idx.as_unit("ns").asi8)
