"""An events file read a column at a time equals the row-by-row scan: table, warnings and errors.

``eventrows.scan_events`` first tries ``_columns_at_once`` (each column's checks over
all rows, the times by ``timecolumns.timing_columns``) and falls back to the row-by-row
scan at the first sign of a problem. Here files are generated with every timestamp
form (dates, instants with and without offsets, decimals, spaces, commas, short
offsets, intervals of every kind, local times in daylight-saving gaps and overlaps)
and every kind of error (bad ids, zones, dates, years, categories, directions,
intervals, field counts, quoted line breaks), and the result is compared with the
row-by-row scan alone, value for value; and ``timing_columns`` with
``parse_timestamp`` row by row.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy import eventrows
from eventstudy.errors import InputError
from eventstudy.timecolumns import timing_columns
from eventstudy.timestamps import parse_timestamp

GOOD = [
    "2025-06-10",
    "2019-12-31",
    "2025-06-10T22:55Z",
    "2025-06-10 22:55Z",
    "2025-06-10T22:55:01Z",
    "2025-06-10T22:55:01.123456789Z",
    "2025-06-10T22:55:01,5Z",
    "2025-06-10T09:00+08:00",
    "2025-06-10T09:00+0800",
    "2025-06-10T09:00+08",
    "2025-06-10T09:00-04:30",
    "2025-06-10T09:00",
    "2025-06-10 09:00:30.25",
    "2025-03-09T02:30",  # New York's spring-forward gap
    "2025-11-02T01:30",  # New York's fall-back overlap
    "2025-03-30T01:30",  # London's gap
    "2025-10-26T01:30",  # London's overlap
    "2025-03-09",
    "2011-12-30",  # Apia skipped it
    "2025-06-10T20:00Z/PT8H",
    "2025-06-10T20:00/PT8H",
    "2025-06-10T20:00Z/P1DT6H30M",
    "2025-06-10T20:00Z/P1W",
    "2150-01-01T00:00Z/P2500W",  # 48 years: converted a column at a time
    "2100-01-01T00:00Z/P3000W",  # 57 years: left to parse_timestamp
    "2025-06-10T20:00Z/PT1.5S",
    "PT8H/2025-06-11T04:00Z",
    "P2D/2025-06-11T04:00",
    "2025-06-10T20:00-04:00/2025-06-11T02:00Z",
    "2025-06-10T20:00/2025-06-11T02:00",
    " 2025-06-10T22:55Z ",
    "1900-01-01",
    "2200-12-31T23:59Z",
]
BAD = [
    "",
    "2025-02-30",
    "2025-02-30T10:00Z",
    "1899-12-31",
    "2201-01-01T00:00Z",
    "2025",
    "20250610",
    "Jun 10 2025",
    "2025-06-10T25:00Z",
    "2025-06-10T10:00Z/2025-06-10T09:00Z",
    "2025-06-10T10:00Z/2025-06-10T10:00Z",
    "2025-06-10T10:00Z/P1M",
    "2025-06-10T10:00Z/P1Y",
    "PT8H/PT2H",
    "2025-06-10/2025-06-11",
    "2025-06-10T10:00Z/",
    "2025-06-10T10:00Z/P",
    "2025-06-10T10:00Z/PT",
    "a/b/c",
    "2025-06-10T00:00Z/P999999W",  # beyond pandas' and numpy's nanosecond range
    "2200-01-01T00:00Z/P5000W",
    "2200-12-31T00:00Z/P2D",  # one end past 2200
    "PT999999H/1900-01-01T00:00Z",
]
ZONES = ["", "", "UTC", "Etc/UTC", "America/New_York", "Europe/London", "Asia/Shanghai", "Pacific/Apia"]
BAD_ZONES = ["Mars/Base", "America"]


def _scan_rows_only(text: str) -> tuple[object, list[str], list[str]]:
    orig = eventrows._columns_at_once
    eventrows._columns_at_once = lambda *a, **k: None  # type: ignore[assignment]
    try:
        return eventrows.scan_events(text, "f.csv", "sha", limit=5)
    finally:
        eventrows._columns_at_once = orig  # type: ignore[assignment]


@st.composite
def _files(draw: st.DrawFn) -> str:
    n = draw(st.integers(1, 12))
    bad = draw(st.booleans())
    extra = draw(st.booleans())
    header = ["event_id", "timestamp", "title", "category", "direction", "tz", "symbols"] + (
        ["pp"] if extra else []
    )
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for i in range(n):
        eid = f"e{i}"
        ts = draw(st.sampled_from(GOOD))
        tz = draw(st.sampled_from(ZONES))
        cat = draw(st.sampled_from(["", "talks", "truce"]))
        direction = draw(st.sampled_from(["", "1", "+1", "-1", "0"]))
        title = f"Event {i}" if i % 3 else f"Event, with\na line break {i}"
        if bad and draw(st.integers(0, 4)) == 0:
            which = draw(st.sampled_from(["ts", "tz", "id", "dup", "title", "cat", "dir", "fields"]))
            if which == "ts":
                ts = draw(st.sampled_from(BAD))
            elif which == "tz":
                tz = draw(st.sampled_from(BAD_ZONES))
            elif which == "id":
                eid = draw(st.sampled_from(["", "bad id", "-x"]))
            elif which == "dup":
                eid = "e0"
            elif which == "title":
                title = ""
            elif which == "cat":
                cat = "tariffs"
            elif which == "dir":
                direction = "2"
            else:
                buf.write(f"{eid},{ts}\n")
                continue
        row = [eid, ts, title, cat, direction, tz, draw(st.sampled_from(["", "^HSI", "^HSI, ^GDAXI"]))]
        w.writerow(row + ([str(i * 0.25)] if extra else []))
        if draw(st.integers(0, 5)) == 0:
            buf.write(",,,,,,\n" if not extra else ",,,,,,,\n")  # a blank row
    return buf.getvalue()


@settings(max_examples=100, deadline=None)
@given(_files())
def test_a_file_read_a_column_at_a_time_equals_the_row_by_row_scan(text: str) -> None:
    got = eventrows.scan_events(text, "f.csv", "sha", limit=5)
    want = _scan_rows_only(text)
    assert [str(e) for e in got[1]] == [str(e) for e in want[1]]
    assert got[2] == want[2]
    if want[0] is None:
        assert got[0] is None
        return
    assert got[0] is not None
    pd.testing.assert_frame_equal(got[0].table, want[0].table)  # type: ignore[attr-defined]
    assert got[0].warnings == want[0].warnings  # type: ignore[attr-defined]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(GOOD + BAD), st.sampled_from(ZONES)), min_size=1, max_size=25))
def test_timing_columns_equal_parse_timestamp_row_by_row(rows: list[tuple[str, str]]) -> None:
    raws, zones = [r for r, _ in rows], [z for _, z in rows]
    want = []
    first_error = None
    for raw, zone in rows:
        try:
            want.append(parse_timestamp(raw, zone))
        except InputError as exc:
            first_error = first_error or str(exc)
    if first_error is not None:
        with pytest.raises(InputError):
            timing_columns(raws, zones)
        return
    got = timing_columns(raws, zones)
    assert got.kind == [t.kind for t in want]
    for name in ("start", "end", "local_date", "local_end"):
        ref = pd.DatetimeIndex([getattr(t, name) for t in want]).as_unit("ns")
        assert getattr(got, name).equals(ref), name
    assert str(got.start.tz) == "UTC" and got.local_date.tz is None


def test_a_large_file_takes_the_columns_and_matches_the_rows() -> None:
    """A thousand events of every good form: read at once, the same as row by row (no fallback)."""
    rng = np.random.default_rng(3)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["event_id", "timestamp", "title", "tz"])
    for i in range(1000):
        w.writerow([f"e{i}", GOOD[rng.integers(len(GOOD))], f"t{i}", ZONES[rng.integers(len(ZONES))]])
    text = buf.getvalue()
    header = ["event_id", "timestamp", "title", "tz"]
    fast = eventrows._columns_at_once(text, header, ",", "f.csv", "sha")
    assert fast is not None
    slow = _scan_rows_only(text)[0]
    pd.testing.assert_frame_equal(fast.table, slow.table)  # type: ignore[attr-defined]
    assert fast.warnings == slow.warnings  # type: ignore[attr-defined]
