"""The day-0 rule through the public path: ``events_from_records`` → ``align_table``, and ``car()``.

Rule (DESIGN.md, "Session alignment"): day 0 in a market is the first session of
that market's exchange calendar whose close is *strictly after* the announcement
instant. For a date-only timestamp the instant is anywhere in ``[00:00, 24:00)``
of the local day: day 0 is the earliest possible session and the latest possible
one is recorded, with ``day0_uncertain`` when they differ.

Every expected value below was derived by hand from the exchanges' published
hours, not by running the code under test. Hours used (UTC):

* XHKG (``^HSI``): 01:30–04:00 and 05:00–08:00 (HKT = UTC+8, no DST); half days
  (24 Dec) close at 12:00 HKT = 04:00Z. 2025 holidays used: 4 Apr (Ching Ming),
  18/21 Apr (Easter), 1 May, 5 May (Buddha's Birthday), 25/26 Dec. 2023-09-01
  (Typhoon Saola) and 2023-09-08 (black rainstorm) were full-day closures.
* XETR (``^GDAXI``, ``^STOXX50E``), XPAR (``^FCHI``): 09:00–17:30 Frankfurt/Paris
  time = 07:00–15:30Z in summer (CEST), 08:00–16:30Z in winter (CET). Xetra is
  closed 1 May, 24–26 Dec; Euronext Paris 1 May, 25/26 Dec.
* XLON (``^FTSE``): 08:00–16:30 London = 07:00–15:30Z (BST), 08:00–16:30Z (GMT);
  closed 5 May 2025 (Early May bank holiday), open 1 May.
* XNYS (``^GSPC``): 09:30–16:00 New York = 13:30–20:00Z (EDT); closed 19 Jun 2025
  (Juneteenth).
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstudy import EventStudy, events_from_records, load_prices
from eventstudy.align import align_table

# (case id, timestamp, tz, symbol, expected earliest day 0, expected latest day 0)
# For instants, latest == earliest and the pair is never uncertain.
INSTANT_CASES: list[tuple[str, str, str, str, str]] = [
    # --- required examples
    ("london-framework-hsi", "2025-06-10T22:55Z", "", "^HSI", "2025-06-11"),  # 06:55 HKT Jun 11, pre-open
    ("london-framework-dax", "2025-06-10T22:55Z", "", "^GDAXI", "2025-06-11"),  # 00:55 CEST Jun 11
    ("liberation-day-hsi", "2025-04-02T20:35Z", "", "^HSI", "2025-04-03"),  # 04:35 HKT Apr 3
    ("liberation-day-sx5e", "2025-04-02T20:35Z", "", "^STOXX50E", "2025-04-03"),  # after 15:30Z close
    ("liberation-day-dax", "2025-04-02T20:35Z", "", "^GDAXI", "2025-04-03"),
    ("liberation-day-ftse", "2025-04-02T20:35Z", "", "^FTSE", "2025-04-03"),
    ("liberation-day-cac", "2025-04-02T20:35Z", "", "^FCHI", "2025-04-03"),
    # --- during a session
    ("hk-morning-session", "2025-05-12T02:00Z", "", "^HSI", "2025-05-12"),
    ("dax-pre-open-same-day", "2025-05-12T02:00Z", "", "^GDAXI", "2025-05-12"),
    ("hk-afternoon-session", "2025-05-12T07:00Z", "", "^HSI", "2025-05-12"),
    ("dax-exactly-at-open", "2025-05-12T07:00Z", "", "^GDAXI", "2025-05-12"),
    ("dax-mid-session", "2025-05-12T12:00Z", "", "^GDAXI", "2025-05-12"),
    ("ftse-mid-session", "2025-05-12T12:00Z", "", "^FTSE", "2025-05-12"),
    ("spx-mid-session", "2025-06-10T17:00Z", "", "^GSPC", "2025-06-10"),
    # --- Hong Kong lunch break belongs to the same session
    ("hk-lunch-start", "2025-05-12T04:00Z", "", "^HSI", "2025-05-12"),
    ("hk-lunch-middle", "2025-05-12T04:30Z", "", "^HSI", "2025-05-12"),
    ("hk-lunch-end", "2025-05-12T05:00Z", "", "^HSI", "2025-05-12"),
    # --- exactly at the close (not strictly before it) and after the close
    ("hk-one-minute-before-close", "2025-05-12T07:59Z", "", "^HSI", "2025-05-12"),
    ("hk-exactly-at-close", "2025-05-12T08:00Z", "", "^HSI", "2025-05-13"),
    ("hk-after-close", "2025-05-12T08:01Z", "", "^HSI", "2025-05-13"),
    ("dax-one-minute-before-close", "2025-05-12T15:29Z", "", "^GDAXI", "2025-05-12"),
    ("dax-exactly-at-close", "2025-05-12T15:30Z", "", "^GDAXI", "2025-05-13"),
    ("ftse-exactly-at-close", "2025-05-12T15:30Z", "", "^FTSE", "2025-05-13"),
    ("cac-exactly-at-close", "2025-05-12T15:30Z", "", "^FCHI", "2025-05-13"),
    ("cac-after-close", "2025-05-12T15:31Z", "", "^FCHI", "2025-05-13"),
    ("dax-winter-before-close", "2025-01-15T16:29Z", "", "^GDAXI", "2025-01-15"),
    ("dax-winter-exactly-at-close", "2025-01-15T16:30Z", "", "^GDAXI", "2025-01-16"),
    ("ftse-winter-exactly-at-close", "2025-01-15T16:30Z", "", "^FTSE", "2025-01-16"),
    ("spx-exactly-at-close", "2025-06-10T20:00Z", "", "^GSPC", "2025-06-11"),
    ("spx-one-minute-before-close", "2025-06-10T19:59Z", "", "^GSPC", "2025-06-10"),
    # --- weekends
    ("friday-after-close-hk", "2025-06-13T20:00Z", "", "^HSI", "2025-06-16"),
    ("friday-after-close-dax", "2025-06-13T20:00Z", "", "^GDAXI", "2025-06-16"),
    ("saturday-hk", "2025-06-14T12:00Z", "", "^HSI", "2025-06-16"),
    ("saturday-ftse", "2025-06-14T12:00Z", "", "^FTSE", "2025-06-16"),
    ("sunday-night-utc-is-monday-in-hk", "2025-06-15T23:00Z", "", "^HSI", "2025-06-16"),
    ("sunday-night-dax", "2025-06-15T23:00Z", "", "^GDAXI", "2025-06-16"),
    # --- holiday of one market and not of another
    ("ching-ming-hk-closed", "2025-04-04T03:00Z", "", "^HSI", "2025-04-07"),
    ("ching-ming-dax-open", "2025-04-04T03:00Z", "", "^GDAXI", "2025-04-04"),
    ("ching-ming-ftse-open", "2025-04-04T03:00Z", "", "^FTSE", "2025-04-04"),
    ("labour-day-ftse-open", "2025-05-01T10:00Z", "", "^FTSE", "2025-05-01"),
    ("labour-day-dax-closed", "2025-05-01T10:00Z", "", "^GDAXI", "2025-05-02"),
    ("labour-day-cac-closed", "2025-05-01T10:00Z", "", "^FCHI", "2025-05-02"),
    ("labour-day-hk-closed", "2025-05-01T10:00Z", "", "^HSI", "2025-05-02"),
    ("early-may-holiday-ftse-closed", "2025-05-05T10:00Z", "", "^FTSE", "2025-05-06"),
    ("early-may-holiday-dax-open", "2025-05-05T10:00Z", "", "^GDAXI", "2025-05-05"),
    ("buddha-birthday-hk-closed", "2025-05-05T02:00Z", "", "^HSI", "2025-05-06"),
    ("juneteenth-nyse-closed", "2025-06-19T12:00Z", "", "^GSPC", "2025-06-20"),
    ("juneteenth-dax-open", "2025-06-19T12:00Z", "", "^GDAXI", "2025-06-19"),
    ("good-friday-all-closed-hk", "2025-04-18T03:00Z", "", "^HSI", "2025-04-22"),
    ("good-friday-all-closed-dax", "2025-04-18T10:00Z", "", "^GDAXI", "2025-04-22"),
    # --- Christmas: XHKG half day 2025-12-24 closes 04:00Z, Xetra shut 24-26 Dec
    ("hk-half-day-session", "2025-12-24T03:00Z", "", "^HSI", "2025-12-24"),
    ("hk-half-day-at-close", "2025-12-24T04:00Z", "", "^HSI", "2025-12-29"),
    ("hk-half-day-after-close", "2025-12-24T05:00Z", "", "^HSI", "2025-12-29"),
    ("xetra-christmas-eve-closed", "2025-12-24T05:00Z", "", "^GDAXI", "2025-12-29"),
    ("ftse-christmas-eve-morning", "2025-12-24T10:00Z", "", "^FTSE", "2025-12-24"),
    # --- Hong Kong 2023 closures missing from exchange_calendars 4.13.2
    ("hk-typhoon-saola", "2023-09-01T02:00Z", "", "^HSI", "2023-09-04"),
    ("hk-before-saola-after-close", "2023-08-31T09:00Z", "", "^HSI", "2023-09-04"),
    ("dax-open-during-saola", "2023-09-01T02:00Z", "", "^GDAXI", "2023-09-01"),
    ("hk-black-rainstorm", "2023-09-08T02:00Z", "", "^HSI", "2023-09-11"),
    ("hk-before-rainstorm-after-close", "2023-09-07T09:00Z", "", "^HSI", "2023-09-11"),
    # --- explicit offsets
    ("offset-plus2-hk", "2025-05-12T09:00+02:00", "", "^HSI", "2025-05-12"),  # 07:00Z
    ("offset-plus2-dax-open", "2025-05-12T09:00+02:00", "", "^GDAXI", "2025-05-12"),
    ("offset-plus2-dax-at-close", "2025-05-12T17:30+02:00", "", "^GDAXI", "2025-05-13"),  # 15:30Z
    ("offset-plus2-dax-before-close", "2025-05-12T17:29+02:00", "", "^GDAXI", "2025-05-12"),
    ("offset-minus4-pause-dax", "2025-04-09T13:18-04:00", "", "^GDAXI", "2025-04-10"),  # 17:18Z
    ("offset-minus4-pause-hk", "2025-04-09T13:18-04:00", "", "^HSI", "2025-04-10"),
    ("offset-minus4-pause-spx", "2025-04-09T13:18-04:00", "", "^GSPC", "2025-04-09"),
    ("offset-plus8-pre-open-hk", "2025-06-11T07:55+08:00", "", "^HSI", "2025-06-11"),  # Jun 10 23:55Z
    ("offset-plus8-pre-open-dax", "2025-06-11T07:55+08:00", "", "^GDAXI", "2025-06-11"),
    ("offset-plus8-hk-close", "2025-06-10T16:00+08:00", "", "^HSI", "2025-06-11"),  # 08:00Z
    ("offset-plus8-dax-session", "2025-06-10T16:00+08:00", "", "^GDAXI", "2025-06-10"),
    ("offset-plus8-sunday-utc", "2025-05-12T00:30+08:00", "", "^GDAXI", "2025-05-12"),  # Sun 16:30Z
    # --- a date and time without offset is local time in `tz` (documented assumption)
    ("naive-local-hk-before-close", "2025-05-12T15:59", "Asia/Hong_Kong", "^HSI", "2025-05-12"),
    ("naive-local-hk-at-close", "2025-05-12T16:00", "Asia/Hong_Kong", "^HSI", "2025-05-13"),
]

# (case id, date, tz, symbol, earliest, latest); uncertain iff earliest != latest
DATE_ONLY_CASES: list[tuple[str, str, str, str, str, str]] = [
    # required: Beijing's 34% retaliation, date only, Friday 4 April 2025 in Beijing
    # = [Apr 3 16:00Z, Apr 4 16:00Z). HK shut on Apr 4 (Ching Ming): Mon Apr 7 either way.
    ("beijing-apr4-hsi", "2025-04-04", "Asia/Shanghai", "^HSI", "2025-04-07", "2025-04-07"),
    # Xetra: Apr 4 close 15:30Z is inside the day, an instant after it → Apr 7.
    ("beijing-apr4-dax", "2025-04-04", "Asia/Shanghai", "^GDAXI", "2025-04-04", "2025-04-07"),
    ("beijing-apr4-ftse", "2025-04-04", "Asia/Shanghai", "^FTSE", "2025-04-04", "2025-04-07"),
    ("beijing-apr4-cac", "2025-04-04", "Asia/Shanghai", "^FCHI", "2025-04-04", "2025-04-07"),
    # New York day = [May 12 04:00Z, May 13 04:00Z): every close of May 12 lies inside it.
    ("ny-day-hsi", "2025-05-12", "America/New_York", "^HSI", "2025-05-12", "2025-05-13"),
    ("ny-day-dax", "2025-05-12", "America/New_York", "^GDAXI", "2025-05-12", "2025-05-13"),
    ("ny-day-spx", "2025-05-12", "America/New_York", "^GSPC", "2025-05-12", "2025-05-13"),
    # Tokyo day = [Jun 15 15:00Z, Jun 16 15:00Z): ends before Xetra's 15:30Z close → certain.
    ("tokyo-day-dax-certain", "2025-06-16", "Asia/Tokyo", "^GDAXI", "2025-06-16", "2025-06-16"),
    ("tokyo-day-hsi-uncertain", "2025-06-16", "Asia/Tokyo", "^HSI", "2025-06-16", "2025-06-17"),
    # Saturday (UTC default zone): nothing trades → Monday, certain.
    ("saturday-utc-hsi", "2025-06-14", "", "^HSI", "2025-06-16", "2025-06-16"),
    ("saturday-utc-dax", "2025-06-14", "", "^GDAXI", "2025-06-16", "2025-06-16"),
    ("saturday-beijing-dax", "2025-04-05", "Asia/Shanghai", "^GDAXI", "2025-04-07", "2025-04-07"),
    # Christmas Day in Hong Kong: HK, Xetra and London all shut on 25/26 Dec.
    ("christmas-hk", "2025-12-25", "Asia/Hong_Kong", "^HSI", "2025-12-29", "2025-12-29"),
    ("christmas-dax", "2025-12-25", "Asia/Hong_Kong", "^GDAXI", "2025-12-29", "2025-12-29"),
    ("christmas-ftse", "2025-12-25", "Asia/Hong_Kong", "^FTSE", "2025-12-29", "2025-12-29"),
    # HK black rainstorm 2023-09-08 as a Hong Kong date: the whole day maps to Mon Sep 11.
    ("rainstorm-date-hsi", "2023-09-08", "Asia/Hong_Kong", "^HSI", "2023-09-11", "2023-09-11"),
]


def _align_one(ts: str, tz: str, symbol: str) -> pd.Series:
    ev = events_from_records([{"event_id": "e1", "timestamp": ts, "tz": tz, "title": "t"}])
    tab = align_table(ev, [symbol])
    assert len(tab) == 1
    return tab.iloc[0]


def _date_str(v: object) -> str:
    return str(pd.Timestamp(v).date())


@pytest.mark.parametrize(
    ("ts", "tz", "symbol", "expected"),
    [pytest.param(*c[1:], id=c[0]) for c in INSTANT_CASES],
)
def test_day0_instant(ts: str, tz: str, symbol: str, expected: str) -> None:
    row = _align_one(ts, tz, symbol)
    assert _date_str(row["day0"]) == expected
    assert _date_str(row["day0_latest"]) == expected
    assert not bool(row["day0_uncertain"])


@pytest.mark.parametrize(
    ("day", "tz", "symbol", "earliest", "latest"),
    [pytest.param(*c[1:], id=c[0]) for c in DATE_ONLY_CASES],
)
def test_day0_date_only(day: str, tz: str, symbol: str, earliest: str, latest: str) -> None:
    row = _align_one(day, tz, symbol)
    assert _date_str(row["day0"]) == earliest
    assert _date_str(row["day0_latest"]) == latest
    assert bool(row["day0_uncertain"]) == (earliest != latest)


def test_align_table_many_events_and_markets_at_once() -> None:
    """One call, several events × markets: rows keyed on event_id × symbol."""
    ev = events_from_records(
        [
            {"event_id": "london", "timestamp": "2025-06-10T22:55Z", "title": "London framework"},
            {"event_id": "libday", "timestamp": "2025-04-02T20:35Z", "title": "Liberation Day"},
            {"event_id": "bj34", "timestamp": "2025-04-04", "tz": "Asia/Shanghai", "title": "34%"},
        ]
    )
    tab = align_table(ev, ["^HSI", "^GDAXI"]).set_index(["event_id", "symbol"])
    assert len(tab) == 6
    expected = {
        ("london", "^HSI"): ("2025-06-11", "2025-06-11", False),
        ("london", "^GDAXI"): ("2025-06-11", "2025-06-11", False),
        ("libday", "^HSI"): ("2025-04-03", "2025-04-03", False),
        ("libday", "^GDAXI"): ("2025-04-03", "2025-04-03", False),
        ("bj34", "^HSI"): ("2025-04-07", "2025-04-07", False),
        ("bj34", "^GDAXI"): ("2025-04-04", "2025-04-07", True),
    }
    for key, (d0, d1, unc) in expected.items():
        r = tab.loc[key]
        assert (_date_str(r["day0"]), _date_str(r["day0_latest"]), bool(r["day0_uncertain"])) == (
            d0,
            d1,
            unc,
        ), key
    assert set(tab["calendar"]) == {"XHKG", "XETR"}


def test_events_restricted_by_symbols_column_are_not_aligned_elsewhere() -> None:
    ev = events_from_records(
        [
            {"event_id": "hk-only", "timestamp": "2025-05-12T02:00Z", "title": "t", "symbols": "^HSI"},
            {"event_id": "all", "timestamp": "2025-05-12T02:00Z", "title": "t"},
        ]
    )
    tab = align_table(ev, ["^HSI", "^GDAXI"])
    pairs = set(zip(tab["event_id"], tab["symbol"], strict=True))
    assert pairs == {("hk-only", "^HSI"), ("all", "^HSI"), ("all", "^GDAXI")}


@pytest.mark.parametrize("closed", ["2023-09-01", "2023-09-08"])
def test_hk_2023_closures_are_not_sessions(closed: str) -> None:
    """Typhoon Saola and the black rainstorm: missing from exchange_calendars 4.13.2."""
    from eventstudy.calendars import exchange_sessions

    sess = exchange_sessions("XHKG", pd.Timestamp("2023-01-01"), pd.Timestamp("2023-12-31"))
    dates = {str(d.date()) for d in sess.dates}
    assert closed not in dates
    # the neighbouring ordinary sessions are still there
    assert {"2023-08-31", "2023-09-04", "2023-09-07", "2023-09-11"} <= dates
    # and the closure does not shift other markets
    xetr = exchange_sessions("XETR", pd.Timestamp("2023-01-01"), pd.Timestamp("2023-12-31"))
    assert closed in {str(d.date()) for d in xetr.dates}


# ---------------------------------------------------------------- property test
# The rule restated independently on raw exchange_calendars closes (plus the two
# documented 2023 HK closures): day 0 = first close strictly after the instant.


def _raw_closes(code: str) -> list[datetime]:
    import warnings

    import exchange_calendars as xcals

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = xcals.get_calendar(code, start="2023-01-01", end="2026-12-31")
        closes = cal.closes
    extra = {"2023-09-01", "2023-09-08"} if code == "XHKG" else set()
    out = []
    for session, close in closes.items():
        if str(pd.Timestamp(session).date()) in extra:
            continue
        out.append(pd.Timestamp(close).tz_convert("UTC").to_pydatetime())
    return out


_CLOSES: dict[str, list[datetime]] = {}


def _brute_day0(code: str, instant: datetime) -> str:
    if code not in _CLOSES:  # (``setdefault`` would rebuild the list on every call)
        _CLOSES[code] = _raw_closes(code)
    closes = _CLOSES[code]
    i = bisect.bisect_right(closes, instant)  # first close strictly after the instant
    return str(closes[i].date())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    minutes=st.lists(
        st.integers(min_value=0, max_value=2 * 365 * 24 * 60), min_size=1, max_size=8, unique=True
    )
)
def test_day0_matches_rule_on_raw_calendar(minutes: list[int]) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    instants = [base + timedelta(minutes=m) for m in minutes]
    ev = events_from_records(
        [
            {"event_id": f"e{i}", "timestamp": t.strftime("%Y-%m-%dT%H:%MZ"), "title": "t"}
            for i, t in enumerate(instants)
        ]
    )
    tab = align_table(ev, ["^HSI", "^GDAXI", "^GSPC"])
    codes = {"^HSI": "XHKG", "^GDAXI": "XETR", "^GSPC": "XNYS"}
    for r in tab.itertuples():
        t = instants[int(r.event_id[1:])]
        # a session's close is on its own UTC date for all three markets
        assert _date_str(r.day0) == _brute_day0(codes[r.symbol], t), (r.event_id, r.symbol, t)
        assert not r.day0_uncertain


@settings(max_examples=25, deadline=None)
@given(
    days=st.integers(min_value=0, max_value=700),
    tz=st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York", "Europe/Berlin"]),
)
def test_date_only_bounds_are_start_and_end_of_local_day(days: int, tz: str) -> None:
    """Earliest = rule at local 00:00; latest = rule at the last minute of the local day."""
    from zoneinfo import ZoneInfo

    day = datetime(2024, 1, 1) + timedelta(days=days)
    start = day.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)
    end = (day + timedelta(days=1)).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC) - timedelta(minutes=1)
    ev = events_from_records(
        [{"event_id": "d", "timestamp": day.strftime("%Y-%m-%d"), "tz": tz, "title": "t"}]
    )
    tab = align_table(ev, ["^HSI", "^GDAXI"])
    codes = {"^HSI": "XHKG", "^GDAXI": "XETR"}
    for r in tab.itertuples():
        lo = _brute_day0(codes[r.symbol], start)
        hi = _brute_day0(codes[r.symbol], end)
        assert (_date_str(r.day0), _date_str(r.day0_latest), bool(r.day0_uncertain)) == (lo, hi, lo != hi)


# ------------------------------------------------------------- through a study
# (the CAR table of a real study on the bundled snapshot carries the same day 0)

STUDY_EVENTS = [
    {"event_id": "london", "timestamp": "2025-06-10T22:55Z", "title": "London framework"},
    {"event_id": "libday", "timestamp": "2025-04-02T20:35Z", "title": "Liberation Day"},
    {"event_id": "bj34", "timestamp": "2025-04-04", "tz": "Asia/Shanghai", "title": "Beijing 34%"},
    {"event_id": "saola", "timestamp": "2023-09-01T02:00Z", "title": "Typhoon day news"},
    {"event_id": "xmas", "timestamp": "2025-12-24T05:00Z", "title": "After the HK half day"},
]
STUDY_EXPECTED = {
    ("london", "^HSI"): ("2025-06-11", "2025-06-11", False),
    ("london", "^GDAXI"): ("2025-06-11", "2025-06-11", False),
    ("libday", "^HSI"): ("2025-04-03", "2025-04-03", False),
    ("libday", "^GDAXI"): ("2025-04-03", "2025-04-03", False),
    ("bj34", "^HSI"): ("2025-04-07", "2025-04-07", False),
    ("bj34", "^GDAXI"): ("2025-04-04", "2025-04-07", True),
    ("saola", "^HSI"): ("2023-09-04", "2023-09-04", False),
    ("saola", "^GDAXI"): ("2023-09-01", "2023-09-01", False),
}


@pytest.fixture(scope="module")
def small_study_car() -> tuple[pd.DataFrame, pd.DataFrame]:
    ev = events_from_records(STUDY_EVENTS)
    prices = load_prices(["^HSI", "^GDAXI"])
    res = EventStudy(
        ev,
        prices,
        window=(-3, 3),
        car_windows=[(0, 0), (-1, 1), (-3, -1)],
        tests=["csect_t"],
    ).run()
    return res.car(), res.fits


def test_study_car_day0(small_study_car: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    car, _ = small_study_car
    for (eid, sym), (d0, d1, unc) in STUDY_EXPECTED.items():
        rows = car[(car["event_id"] == eid) & (car["symbol"] == sym)]
        assert len(rows) == 3, (eid, sym)  # one per CAR window
        for r in rows.itertuples():
            assert (_date_str(r.day0), _date_str(r.day0_latest), bool(r.day0_uncertain)) == (d0, d1, unc)


def test_study_extends_windows_of_uncertain_day0(small_study_car: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Windows ending at or after day 0 are extended by the sessions between earliest and latest day 0.

    ^GDAXI / bj34: Fri 2025-04-04 → Mon 2025-04-07 is one Xetra session later, so
    [0,0] covers 2 sessions and [-1,+1] covers 4; [-3,-1] ends before day 0 and is not extended.
    """
    car, _ = small_study_car
    g = car[(car["event_id"] == "bj34") & (car["symbol"] == "^GDAXI")].set_index("window")
    assert int(g.loc["0:0", "extended_by"]) == 1
    assert int(g.loc["0:0", "days"]) == 2
    assert int(g.loc["-1:+1", "extended_by"]) == 1
    assert int(g.loc["-1:+1", "days"]) == 4
    assert int(g.loc["-3:-1", "extended_by"]) == 0
    assert int(g.loc["-3:-1", "days"]) == 3
    h = car[(car["event_id"] == "bj34") & (car["symbol"] == "^HSI")].set_index("window")
    assert (h["extended_by"] == 0).all()
    assert int(h.loc["-1:+1", "days"]) == 3


def test_study_hk_half_day(small_study_car: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """2025-12-24T05:00Z is after the XHKG half-day close: day 0 is Mon 2025-12-29.

    The snapshot ends 2025-12-31, so the [-3,+3] event window may not fit and the
    pair may be excluded; wherever the pair appears (car or fits), day 0 must be right.
    """
    car, fits = small_study_car
    f = fits[(fits["event_id"] == "xmas") & (fits["symbol"] == "^HSI")]
    assert len(f) == 1
    assert _date_str(f.iloc[0]["day0"]) == "2025-12-29"
    c = car[(car["event_id"] == "xmas") & (car["symbol"] == "^HSI")]
    for r in c.itertuples():
        assert _date_str(r.day0) == "2025-12-29"


def test_overlaps_column_lists_other_events_with_day0_inside_the_window(snapshot_study) -> None:  # type: ignore[no-untyped-def]
    """`overlaps` against a plain loop over calendar dates of the abnormal-returns table."""
    car = snapshot_study.car_table
    ar = snapshot_study.abnormal_returns_table
    fits = snapshot_study.fits_table.dropna(subset=["day0"])
    windows = {"0:0": (0, 0), "0:+1": (0, 1), "-1:+1": (-1, 1), "-5:+5": (-5, 5)}
    # plain arrays per pair and per market, so the loop below stays a loop over rows
    dates = {
        k: (g["rel_day"].to_numpy(), g["date"].to_numpy()) for k, g in ar.groupby(["event_id", "symbol"])
    }
    by_symbol = {
        s: (g["event_id"].to_numpy(), g["day0"].to_numpy(), g["day0_latest"].to_numpy())
        for s, g in fits.groupby("symbol")
    }
    checked = 0
    for row in car.itertuples():
        t1, t2 = windows[row.window]
        rel, day = dates[(row.event_id, row.symbol)]
        inside = day[(rel >= t1) & (rel <= t2 + row.extended_by)]
        lo, hi = inside.min(), inside.max()
        ids, day0, latest = by_symbol[row.symbol]
        hit = ids[(ids != row.event_id) & (latest >= lo) & (day0 <= hi)]
        assert sorted(row.overlaps.split()) == sorted(hit), (row.event_id, row.symbol, row.window)
        checked += bool(len(hit))
    assert checked > 20
