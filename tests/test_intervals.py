"""Announcement intervals (``START/END``, ``START/PT8H``) in events files.

Day 0 of an interval is the first session closing strictly after ``START``;
the latest possible day 0 the first session closing strictly after ``END``.
Expected sessions come from exchange_calendars called directly
(``minute_to_session(ts, direction="next")`` is exactly "the first session
whose close is strictly after ts"), never from the code under test.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstudy import EventStudy, events_from_records, load_prices, read_events
from eventstudy.align import align_table
from eventstudy.errors import EventsFileError
from eventstudy.timestamps import parse_timestamp

CALS = {"^HSI": "XHKG", "^GDAXI": "XETR", "^FTSE": "XLON", "^FCHI": "XPAR"}


@pytest.fixture(scope="module")
def cals() -> dict[str, xcals.ExchangeCalendar]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            code: xcals.get_calendar(code, start="2017-01-01", end="2026-12-31")
            for code in set(CALS.values())
        }


def _session(cal: xcals.ExchangeCalendar, ts: pd.Timestamp) -> str:
    """First session whose close is strictly after ``ts`` (exchange_calendars directly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(cal.minute_to_session(ts.tz_convert("UTC").floor("min"), direction="next").date())


#: Hong Kong sessions closed by typhoons that exchange_calendars 4.13 still lists.
_HK_TYPHOON_CLOSURES = ("2023-09-01", "2023-09-08")


def _skip_closures(cal: xcals.ExchangeCalendar, day: str) -> str:
    """``day``, or the next session of ``cal`` while ``day`` is a typhoon closure."""
    while day in _HK_TYPHOON_CLOSURES:
        day = str(cal.next_session(pd.Timestamp(day)).date())
    return day


def _align(timestamp: str, symbols: list[str], tz: str = "") -> pd.DataFrame:
    ev = events_from_records([{"event_id": "e", "timestamp": timestamp, "title": "t", "tz": tz}])
    return align_table(ev, symbols).set_index("symbol")


# (case, interval) — each is checked in all four markets against the calendars
CASES = [
    # a weekend: Friday evening to Monday morning before any open
    ("weekend-quiet", "2025-06-13T20:00Z/2025-06-16T00:30Z"),
    # from inside Friday's sessions to Saturday: Friday or Monday
    ("weekend-spanning", "2025-06-13T07:10Z/2025-06-14T12:00Z"),
    # Hong Kong closed for Ching Ming (Fri 4 Apr 2025); Europe open
    ("hk-holiday", "2025-04-03T07:00Z/2025-04-04T12:00Z"),
    # Easter: Europe closed 18 and 21 Apr 2025
    ("easter", "2025-04-17T15:00Z/2025-04-18T10:00Z"),
    # inside the Hong Kong lunch break: the afternoon is still ahead
    ("hk-lunch", "2025-05-12T04:05Z/2025-05-12T04:55Z"),
    # from the lunch break past the Hong Kong close
    ("hk-lunch-to-close", "2025-05-12T04:30Z/2025-05-12T08:00Z"),
    # starting exactly at a close: that session is already over
    ("start-at-close", "2025-05-12T08:00Z/2025-05-12T09:00Z"),
    # offsets and a duration
    ("evening-et", "2019-08-05T16:00-04:00/2019-08-05T18:44-04:00"),
    ("duration", "2025-01-15T16:00Z/PT45M"),
    ("duration-before", "PT10H/2025-01-16T00:00+08:00"),
]


@pytest.mark.parametrize(("case", "interval"), CASES, ids=[c for c, _ in CASES])
def test_interval_day0_matches_exchange_calendars(
    case: str, interval: str, cals: dict[str, xcals.ExchangeCalendar]
) -> None:
    t = parse_timestamp(interval)
    tab = _align(interval, list(CALS))
    for sym, code in CALS.items():
        e, latest = _session(cals[code], t.start), _session(cals[code], t.end)
        assert tab.loc[sym, "day0"] == e, (case, sym)
        assert tab.loc[sym, "day0_latest"] == latest, (case, sym)
        assert bool(tab.loc[sym, "day0_uncertain"]) == (e != latest), (case, sym)


def test_interval_hand_checked_days() -> None:
    """A few of the cases above by hand, so the reference itself is pinned."""
    hk = _align("2025-04-03T07:00Z/2025-04-04T12:00Z", ["^HSI", "^GDAXI"])
    assert (hk.loc["^HSI", "day0"], hk.loc["^HSI", "day0_latest"]) == ("2025-04-03", "2025-04-07")
    assert (hk.loc["^GDAXI", "day0"], hk.loc["^GDAXI", "day0_latest"]) == ("2025-04-03", "2025-04-04")
    lunch = _align("2025-05-12T04:05Z/2025-05-12T04:55Z", ["^HSI"])
    assert (lunch.loc["^HSI", "day0"], lunch.loc["^HSI", "day0_latest"]) == ("2025-05-12", "2025-05-12")
    assert not lunch.loc["^HSI", "day0_uncertain"]
    easter = _align("2025-04-17T15:00Z/2025-04-18T10:00Z", ["^GDAXI", "^HSI"])
    assert (easter.loc["^GDAXI", "day0"], easter.loc["^GDAXI", "day0_latest"]) == ("2025-04-17", "2025-04-22")
    assert (easter.loc["^HSI", "day0"], easter.loc["^HSI", "day0_latest"]) == ("2025-04-22", "2025-04-22")


def test_interval_end_is_included_but_date_end_is_not() -> None:
    """News at END itself counts; a date's next midnight does not belong to the date."""
    at_close = _align("2025-05-12T07:00Z/2025-05-12T08:00Z", ["^HSI"])  # HK closes 08:00Z
    assert at_close.loc["^HSI", "day0_latest"] == "2025-05-13"
    day = _align("2025-05-12", ["^HSI"], tz="Asia/Hong_Kong")  # ends at 16:00Z, HK closed by then
    assert (day.loc["^HSI", "day0"], day.loc["^HSI", "day0_latest"]) == ("2025-05-12", "2025-05-13")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.datetimes(min_value=datetime(2018, 1, 2), max_value=datetime(2025, 11, 1)),
    minutes=st.integers(min_value=1, max_value=4 * 24 * 60),
)
def test_interval_property_against_calendars(
    start: datetime, minutes: int, cals: dict[str, xcals.ExchangeCalendar]
) -> None:
    """Random intervals: both bounds as exchange_calendars says; earliest <= latest."""
    a = start.replace(second=0, microsecond=0, tzinfo=UTC)
    b = a + timedelta(minutes=minutes)
    stamp = f"{a:%Y-%m-%dT%H:%MZ}/{b:%Y-%m-%dT%H:%MZ}"
    tab = _align(stamp, ["^HSI", "^GDAXI"])
    for sym in ("^HSI", "^GDAXI"):
        cal = cals[CALS[sym]]
        e, latest = _session(cal, pd.Timestamp(a)), _session(cal, pd.Timestamp(b))
        if sym == "^HSI":  # the two 2023 typhoon closures exchange_calendars 4.13 lacks
            e, latest = _skip_closures(cal, e), _skip_closures(cal, latest)
        assert (tab.loc[sym, "day0"], tab.loc[sym, "day0_latest"]) == (e, latest), (stamp, sym)
        assert tab.loc[sym, "day0"] <= tab.loc[sym, "day0_latest"]


def test_duration_equals_explicit_end() -> None:
    a = parse_timestamp("2025-06-10T20:00-04:00/PT8H")
    b = parse_timestamp("2025-06-10T20:00-04:00/2025-06-11T04:00-04:00")
    c = parse_timestamp("PT8H/2025-06-11T08:00Z")
    assert (a.start, a.end) == (b.start, b.end) == (c.start, c.end)
    assert a.start == pd.Timestamp("2025-06-11T00:00Z") and a.kind == "interval"
    assert parse_timestamp("2025-06-10T00:00Z/P1DT6H30M").end == pd.Timestamp("2025-06-11T06:30Z")


def test_naive_interval_ends_are_read_in_tz() -> None:
    t = parse_timestamp("2025-06-10T20:00/2025-06-10T23:00", "America/New_York")
    assert (t.start, t.end) == (pd.Timestamp("2025-06-11T00:00Z"), pd.Timestamp("2025-06-11T03:00Z"))
    assert t.local_date == pd.Timestamp("2025-06-10") and t.local_end == pd.Timestamp("2025-06-10")


def _write(tmp_path: Path, stamp: str) -> Path:
    p = tmp_path / "ev.csv"
    p.write_text(f"event_id,timestamp,title\nok,2025-06-10T22:55Z,fine\nbad,{stamp},broken\n")
    return p


@pytest.mark.parametrize(
    ("stamp", "words"),
    [
        ("2019 T", "not an ISO 8601 timestamp"),
        ("2019", "not an ISO 8601 timestamp"),
        ("20190805", "not an ISO 8601 timestamp"),
        ("Aug 5 2019", "not an ISO 8601 timestamp"),
        ("2019-08-05T20:00", ""),  # naive instant: allowed, read in tz
        ("2025-06-10T20:00Z/2025-06-10T19:00Z", "ends before it starts"),
        ("2025-06-10T20:00Z/2025-06-10T20:00Z", "empty"),
        ("2025-06-10T20:00Z/PT0H", "empty"),
        ("2025-06-10T20:00Z/", "not an ISO 8601 interval"),
        ("2025-06-10T20:00Z/P1M", "years or months"),
        ("2025-06-10T20:00Z/PT", "not an ISO 8601 duration"),
        ("2025-06-10/2025-06-11", "must be instants"),
        ("2025-02-30T10:00Z", "not a valid date"),
        ("2025-06-10T00:00Z/P999999W", "longer than any interval"),
        ("P99999999999999999999W/2025-06-10T00:00Z", "longer than any interval"),
        ("2200-01-01T00:00Z/P5000W", "outside the years 1900–2200"),
        ("2200-12-31T00:00Z/P2D", "outside the years 1900–2200"),
        ("PT999999H/1900-01-01T00:00Z", "outside the years 1900–2200"),
    ],
)
def test_bad_timestamps_name_file_line_and_column(tmp_path: Path, stamp: str, words: str) -> None:
    p = _write(tmp_path, stamp)
    if not words:
        assert len(read_events(p)) == 2
        return
    with pytest.raises(EventsFileError) as exc:
        read_events(p)
    msg = str(exc.value)
    assert msg.startswith(f"{p}, line 3, column 'timestamp': ")
    assert words in msg
    assert (exc.value.line, exc.value.column) == (3, "timestamp")


def test_interval_extends_car_windows_in_a_study() -> None:
    """An interval across the Hong Kong close: [0,0] covers days 0 and +1, as for a date."""
    recs = [
        {"event_id": "iv", "timestamp": "2024-05-14T04:00Z/2024-05-14T13:30Z", "title": "interval"},
        {"event_id": "at", "timestamp": "2024-05-14T04:00Z", "title": "instant"},
    ]
    ev = events_from_records(recs)
    prices = load_prices(["^HSI", "^GDAXI"], source="snapshot")
    res = EventStudy(ev, prices, car_windows=[(0, 0), (-1, 1)], mask_events=ev.filter(ids=["at"])).run()
    car = res.car().set_index(["event_id", "symbol", "window"])
    hk = car.loc[("iv", "^HSI", "0:0")]
    # 2024-05-15 is a Hong Kong holiday (Buddha's Birthday): latest day 0 is 16 May
    assert (str(pd.Timestamp(hk["day0"]).date()), str(pd.Timestamp(hk["day0_latest"]).date())) == (
        "2024-05-14",
        "2024-05-16",
    )
    assert bool(hk["day0_uncertain"]) and int(hk["extended_by"]) == 1
    ar = res.abnormal_returns.set_index(["event_id", "symbol", "rel_day"])["ar"]
    assert np.isclose(hk["car"], ar.loc[("iv", "^HSI", 0)] + ar.loc[("iv", "^HSI", 1)])
    dax = car.loc[("iv", "^GDAXI", "0:0")]
    assert not bool(dax["day0_uncertain"]) and int(dax["extended_by"]) == 0
    assert str(pd.Timestamp(dax["day0"]).date()) == "2024-05-14"
    # the instant at the interval's start has the same day 0 and no extension
    inst = car.loc[("at", "^HSI", "0:0")]
    assert str(pd.Timestamp(inst["day0"]).date()) == "2024-05-14" and int(inst["extended_by"]) == 0


def test_interval_on_a_series_without_calendar(tmp_path: Path) -> None:
    """Own data dates: earliest = first date on or after START's date, latest = END's date."""
    hsi = load_prices(["^HSI"], source="snapshot")["^HSI"]
    hsi = hsi[hsi.index >= "2024-06-01"]
    p = tmp_path / "p.csv"
    pd.DataFrame({"date": hsi.index.strftime("%Y-%m-%d"), "MINE": hsi.to_numpy()}).to_csv(p, index=False)
    ev = events_from_records(
        [{"event_id": "iv", "timestamp": "2025-06-13T20:00Z/2025-06-16T02:00Z", "title": "over a weekend"}]
    )
    res = EventStudy(ev, load_prices(source="csv", path=p), car_windows=[(0, 0)]).run()
    row = res.car().iloc[0]
    assert str(pd.Timestamp(row["day0"]).date()) == "2025-06-13"  # Friday is in the data
    assert str(pd.Timestamp(row["day0_latest"]).date()) == "2025-06-16"
    assert bool(row["day0_uncertain"]) and int(row["extended_by"]) == 1
    assert res.warnings and res.warnings[0].startswith("MINE has no exchange calendar")


@settings(max_examples=80, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    minutes=st.integers(min_value=1, max_value=30 * 24 * 60),
    off_a=st.integers(min_value=-12 * 4, max_value=14 * 4),
    off_b=st.integers(min_value=-12 * 4, max_value=14 * 4),
)
def test_interval_text_round_trip(start: datetime, minutes: int, off_a: int, off_b: int) -> None:
    """Any two instants written with any offsets parse back to the same UTC instants."""
    from datetime import timezone

    a = start.replace(second=0, microsecond=0, tzinfo=UTC)
    b = a + timedelta(minutes=minutes)
    za, zb = timezone(timedelta(minutes=15 * off_a)), timezone(timedelta(minutes=15 * off_b))
    text = "/".join(x.isoformat(timespec="minutes") for x in (a.astimezone(za), b.astimezone(zb)))
    t = parse_timestamp(text)
    assert (t.kind, t.start, t.end) == ("interval", pd.Timestamp(a), pd.Timestamp(b))
    assert t.local_date <= t.local_end
    d = parse_timestamp(f"{a:%Y-%m-%dT%H:%MZ}/PT{minutes}M")
    assert (d.start, d.end) == (t.start, t.end)
