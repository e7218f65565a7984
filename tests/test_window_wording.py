"""Extended windows are described as extended, never as "the first session"."""

from __future__ import annotations

import re

import pytest

from eventstudy import EventStudy, events_from_records, load_prices
from eventstudy.report import fmt

WINDOWS = [(0, 0), (0, 1), (-1, 1), (-5, 5), (-1, 0), (2, 4)]


@pytest.mark.parametrize("w", WINDOWS)
def test_window_phrase_states_the_extension(w: tuple[int, int]) -> None:
    text = fmt.window_phrase(w)
    assert "first session" not in text
    assert text.endswith(f"day {w[1] + 1:+d} where the hour is uncertain")


def test_window_phrase_examples() -> None:
    assert fmt.window_phrase((0, 0)) == "on day 0, and day +1 where the hour is uncertain"
    assert fmt.window_phrase((-1, 1)) == "on days -1 to +1, and day +2 where the hour is uncertain"
    # a window ending before day 0 is never extended
    assert fmt.window_phrase((-5, -1)) == "on days -5 to -1"
    assert fmt.extension_clause((0, 0), 2) == ", and days +1 to +2 where the hour is uncertain"


@pytest.mark.parametrize("w", WINDOWS)
def test_pair_phrase_of_an_extended_pair(w: tuple[int, int]) -> None:
    text = fmt.pair_phrase(w, 1)
    assert "first session" not in text
    assert f"day {w[1] + 1:+d} (the hour is uncertain)" in text
    assert fmt.pair_phrase((0, 0), 1) == "on day 0 and day +1 (the hour is uncertain) of"
    # a pair whose window is not extended keeps the plain wording
    assert fmt.pair_phrase((0, 0), 0) == "in the first session after"


@pytest.fixture(scope="module")
def extended_result():  # type: ignore[no-untyped-def]
    recs = [
        # a Washington date: spans the Hong Kong and European closes
        {"event_id": "day", "timestamp": "2024-05-14", "tz": "America/New_York", "title": "A date"},
        # after every close of these markets: no extension
        {"event_id": "late", "timestamp": "2024-06-04T20:00Z/2024-06-04T23:00Z", "title": "Evening"},
    ]
    ev = events_from_records(recs)
    prices = load_prices(["^HSI", "^GDAXI"], source="snapshot")
    return EventStudy(ev, prices, car_windows=[(0, 0), (-1, 1)]).run()


def test_summary_and_report_describe_extended_windows(extended_result) -> None:  # type: ignore[no-untyped-def]
    res = extended_result
    car = res.car()
    ext = car.groupby(["event_id", "symbol"])["extended_by"].max()
    assert ext.loc[("day", "^HSI")] == 1 and ext.loc[("late", "^HSI")] == 0
    summary = str(res.summary())
    assert "hour uncertain for 2 of 4 pairs" in summary
    assert "0:0 is day 0, and day +1 where the hour is uncertain" in summary
    html = res.to_html()
    text = re.sub(r"<[^>]+>", " ", html)
    assert "day 0, and day +1 where the hour is uncertain" in text
    assert "in the first session after the announcement" not in text
    assert "hour uncertain: day 0 may be as late as 2024-05-1" in text
