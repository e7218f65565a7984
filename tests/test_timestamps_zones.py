"""Local times to UTC and UTC instants to local dates, against pandas and a brute-force scan.

:func:`eventstudy.timestamps._localize` and ``_local_date`` look up a zone's
offsets with :mod:`zoneinfo`. Here every result is compared with pandas for
the same value (``tz_localize(zone, ambiguous=True)`` where the local time
exists, ``tz_convert(zone)``) and, for a local time in a daylight-saving
gap, with the first second whose local time is not earlier (found by
converting every second around it with pandas): the first instant after the
gap. The times are random, or packed around each zone's transitions.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.timestamps import _local_date, _localize, parse_timestamp

ZONES = [
    "UTC",
    "Etc/UTC",
    "America/New_York",
    "Europe/London",
    "Europe/Dublin",  # negative daylight saving in tzdata
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Australia/Lord_Howe",  # a 30-minute shift
    "America/Sao_Paulo",  # daylight saving until 2019, at midnight
    "Asia/Kolkata",
    "Pacific/Apia",  # skipped a whole day in 2011
    "America/St_Johns",
]


@functools.cache
def _edges(zone: str) -> list[pd.Timestamp]:
    """Local wall times (before the change) of the zone's offset changes in 1990–2030 (every 15
    minutes scanned with pandas; at most 60)."""
    grid = pd.date_range("1990-01-01", "2030-12-31", freq="15min", tz="UTC")
    wall = grid.tz_convert(ZoneInfo(zone)).tz_localize(None)
    offset = np.asarray(wall - grid.tz_localize(None))
    at = np.flatnonzero(offset[1:] != offset[:-1])[:60]
    return [pd.Timestamp(wall[k]) for k in at]


def _pandas_utc(local: pd.Timestamp, zone: str) -> pd.Timestamp:
    """pandas' reading of an existing local time (daylight time in an overlap), or the first instant
    after a gap: the first whole second, converted by pandas, whose local time is at least ``local``
    (a minute grid over ±15 hours, then the seconds of the minute before the one found)."""
    z = ZoneInfo(zone)
    try:
        return local.tz_localize(z, nonexistent="raise", ambiguous=True).tz_convert("UTC")
    except ValueError:  # pandas 3: a time in a gap does not exist
        pass
    minutes = pd.date_range(
        local.floor("min") - pd.Timedelta(hours=15), periods=30 * 60 + 1, freq="min", tz="UTC"
    )
    k = int(np.argmax(minutes.tz_convert(z).tz_localize(None) >= local))
    seconds = pd.date_range(minutes[k - 1], periods=61, freq="s")
    j = int(np.argmax(seconds.tz_convert(z).tz_localize(None) >= local))
    return seconds[j].as_unit(local.unit)


def _naive_times() -> st.SearchStrategy[tuple[str, pd.Timestamp]]:
    """(zone, local time): anywhere in 1900–2200, or within 3 hours of one of the zone's transitions."""

    def near(zone: str) -> st.SearchStrategy[pd.Timestamp]:
        edges = _edges(zone)
        anywhere = st.integers(0, 300 * 365 * 86_400 * 10**6).map(
            lambda us: pd.Timestamp("1900-01-01") + pd.Timedelta(microseconds=us)
        )
        if not edges:
            return anywhere
        close = st.tuples(st.sampled_from(edges), st.integers(-3 * 3600, 3 * 3600), st.integers(0, 999)).map(
            lambda e: e[0] + pd.Timedelta(seconds=e[1], nanoseconds=e[2])
        )
        return st.one_of(anywhere, close)

    return st.sampled_from(ZONES).flatmap(lambda z: near(z).map(lambda t: (z, t)))


@settings(max_examples=200, deadline=None)
@given(_naive_times())
def test_localize_equals_pandas_scalar_localize(case: tuple[str, pd.Timestamp]) -> None:
    zone, local = case
    got = _localize(local, ZoneInfo(zone))
    want = _pandas_utc(local, zone)
    assert got == want and str(got.tz) == "UTC", (zone, local, got, want)
    # in whole minutes (the file's usual times) and at midnight (a date's start) as well
    for t in (local.floor("min"), local.normalize()):
        assert _localize(t, ZoneInfo(zone)) == _pandas_utc(t, zone), (zone, t)


@settings(max_examples=200, deadline=None)
@given(_naive_times())
def test_local_date_equals_pandas_tz_convert(case: tuple[str, pd.Timestamp]) -> None:
    zone, t = case
    utc = t.tz_localize("UTC")  # the same numbers read as a UTC instant
    want = utc.tz_convert(ZoneInfo(zone)).tz_localize(None).normalize()
    assert _local_date(utc, ZoneInfo(zone)) == want, (zone, utc)


def test_every_transition_near_its_gap_or_overlap() -> None:
    """Each zone's first 20 changes, at times before, inside and after the gap or overlap."""
    steps = [
        pd.Timedelta(minutes=m, seconds=s) for m, s in [(0, 0), (15, 0), (15, 1), (44, 59), (45, 0), (75, 0)]
    ]
    steps += [pd.Timedelta(minutes=m) for m in (60 * 12, 60 * 23, 60 * 24 + 14)]  # a missing day (Apia)
    for zone in ZONES:
        for edge in _edges(zone)[:20]:
            for t in (edge + d for d in steps):
                assert _localize(t, ZoneInfo(zone)) == _pandas_utc(t, zone), (zone, t)


def test_the_fallback_runs_in_gaps_and_overlaps() -> None:
    """A New York spring-forward gap and fall-back overlap, and Apia's missing day, by hand (pandas'
    ``nonexistent="shift_forward"`` gives 2011-12-29 23:00 UTC for the latter: before the gap)."""
    ny = ZoneInfo("America/New_York")
    # 2025-03-09 02:30 does not exist: the first instant after the gap, 03:00 EDT = 07:00 UTC
    assert _localize(pd.Timestamp("2025-03-09 02:30"), ny) == pd.Timestamp("2025-03-09 07:00", tz="UTC")
    # 2025-11-02 01:30 happens twice: the daylight reading, EDT (−4): 05:30 UTC
    assert _localize(pd.Timestamp("2025-11-02 01:30"), ny) == pd.Timestamp("2025-11-02 05:30", tz="UTC")
    # one second later than the overlap: EST only
    assert _localize(pd.Timestamp("2025-11-02 02:00:01"), ny) == pd.Timestamp("2025-11-02 07:00:01", tz="UTC")
    # Apia went from 2011-12-29 23:59:59 (−10) to 2011-12-31 00:00 (+14): the 30th is shifted forward
    apia = ZoneInfo("Pacific/Apia")
    assert _localize(pd.Timestamp("2011-12-30 12:00"), apia) == pd.Timestamp("2011-12-30 10:00", tz="UTC")
    assert parse_timestamp("2011-12-30", "Pacific/Apia").start == pd.Timestamp("2011-12-30 10:00", tz="UTC")


def test_parse_keeps_nanoseconds_and_units() -> None:
    t = parse_timestamp("2025-06-10T22:55:01.123456789", "Asia/Shanghai")
    assert t.start == pd.Timestamp("2025-06-10T14:55:01.123456789", tz="UTC")
    assert t.local_date == pd.Timestamp("2025-06-10")
    d = parse_timestamp("2025-06-11", "America/New_York")
    assert (d.start, d.end) == (
        pd.Timestamp("2025-06-11 04:00", tz="UTC"),
        pd.Timestamp("2025-06-12 04:00", tz="UTC"),
    )
    assert d.end - d.start == timedelta(days=1)
