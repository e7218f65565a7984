"""Series on their own dates laid out at once (``owndates.py``) against series by series.

A study of ragged series without a calendar (every series its own dates)
must build, field for field and bit for bit, the panel the series-by-series
path builds (``grid_of`` and ``timing_of``, themselves tested against the
day-0 rule's hand cases): returns, benchmark returns and their shifts, day 0
of every pair, masks, padding and reasons.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eventstudy.calgrids as cg
import eventstudy.owndates as od
from eventstudy import EventStudy, events_from_records
from eventstudy.panel import Panel, build_panel

EVENTS = [
    {"event_id": "before", "timestamp": "2018-06-01", "title": "before every price"},
    {"event_id": "date", "timestamp": "2019-03-13", "tz": "America/New_York", "title": "a date"},
    {"event_id": "instant", "timestamp": "2019-05-06T22:10Z", "title": "an instant"},
    {"event_id": "weekend", "timestamp": "2019-06-15T12:00Z", "title": "a Saturday"},
    {"event_id": "interval", "timestamp": "2019-08-01T00:00+08:00/2019-08-05T10:00Z", "tz": "Asia/Shanghai",
     "title": "an interval"},
    {"event_id": "some", "timestamp": "2019-10-10", "title": "some series", "symbols": "S003 S007 S011"},
    {"event_id": "close", "timestamp": "2019-10-14", "title": "close to the last"},
    {"event_id": "late", "timestamp": "2020-11-20", "title": "near the end of some"},
    {"event_id": "after", "timestamp": "2021-06-01", "title": "after every price"},
]  # fmt: skip


def _prices(seed: int, n: int, missing: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2018-09-03", "2020-12-31")
    lv = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (len(days), n + 1)), axis=0))
    lv[rng.random(lv.shape) < missing] = np.nan
    lv[:, 0] = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))  # the benchmark: every day
    for j in range(1, n + 1, 4):  # some series start late or end early
        lv[: rng.integers(0, 200), j] = np.nan
        lv[len(days) - rng.integers(1, 150) :, j] = np.nan
    cols = ["MKT", *[f"S{j:03d}" for j in range(n)]]
    return pd.DataFrame(lv, index=pd.DatetimeIndex(days, name="date"), columns=cols)


def _panels(mp: pytest.MonkeyPatch, prices: pd.DataFrame, **kw: object) -> tuple[Panel, Panel, int]:
    """The panel with the series laid out at once (when they qualify) and series by series, and
    how many times the layout at once ran."""
    window = kw.get("window", (-5, 5))
    study = EventStudy(
        events_from_records(EVENTS),
        prices,
        benchmark="MKT",
        tests=[],
        car_windows=[window],
        **kw,  # type: ignore[arg-type]
    )
    need = study.config.model != "constant-mean"

    def panel() -> Panel:
        return build_panel(study.events, study.prices, study.symbols, study.config, study.mask_events, need)

    calls: list[int] = []
    for mod in (od, cg):
        mp.setattr(mod, "_grids", lambda *a, real=mod._grids: calls.append(1) or real(*a))
    at_once = panel()
    mp.setattr(od, "OWN_DATES_MIN", 10**9)
    return at_once, panel(), len(calls)


def _assert_same(a: Panel, b: Panel) -> None:
    for name in ("R", "B", "masked", "dates", "starts", "offsets", "span", "BX", "later"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=name)
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    assert a.syncs == b.syncs  # the market's and the benchmark's clocks
    assert a.day0_pos.keys() == b.day0_pos.keys()
    for sym, parts in a.day0_pos.items():
        for x, y in zip(parts, b.day0_pos[sym], strict=True):
            np.testing.assert_array_equal(x, y)
    for ma, mb in zip(a.markets, b.markets, strict=True):
        assert ma.symbol == mb.symbol and list(ma.sessions.dates) == list(mb.sessions.dates)
        for x, y in ((ma.ret, mb.ret), (ma.bench, mb.bench), (ma.span, mb.span)):
            np.testing.assert_array_equal(x, y)


#: Calendars: none (every series on its own dates), one exchange's, two exchanges' and none mixed.
CALENDARS = [None, "XNYS", {f"S{j:03d}": ("XNYS" if j % 3 else "XLON") for j in range(0, 48, 2)}]


@pytest.mark.parametrize("calendar", CALENDARS, ids=["own-dates", "XNYS", "mixed"])
@pytest.mark.parametrize("model", ["market", "market-adjusted", "constant-mean"])
def test_ragged_series_at_once_build_the_series_by_series_panel(
    model: str, calendar: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = _prices(1, 48 if isinstance(calendar, dict) else 24, 0.02)
    at_once, one_by_one, used = _panels(monkeypatch, prices, model=model, window=(-3, 3), calendar=calendar)
    assert used == (2 if isinstance(calendar, dict) else 1)
    assert len(at_once.markets) == len(prices.columns) - 1
    assert (at_once.pairs["reason"] != "").any()  # days 0 outside the data
    _assert_same(at_once, one_by_one)


def test_the_layout_is_used_only_for_many_date_sets() -> None:
    """Below ``OWN_DATES_MIN`` distinct date sets (one calendar's stocks), series by series."""
    for missing, expected in ((0.0, 0), (0.02, 1)):
        with pytest.MonkeyPatch.context() as mp:
            at_once, one_by_one, used = _panels(mp, _prices(2, 24, missing))
        assert used == expected
        _assert_same(at_once, one_by_one)


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 1000),
    missing=st.sampled_from([0.005, 0.05, 0.3]),
    window=st.sampled_from([(-1, 1), (-5, 5), (0, 10)]),
    mask=st.sampled_from([(0, 0), (-2, 2), (-5, 10)]),
    calendar=st.sampled_from([None, "XNYS", "XHKG"]),
)
def test_property_at_once_equals_one_by_one(
    seed: int, missing: float, window: tuple[int, int], mask: tuple[int, int], calendar: str | None
) -> None:
    """Property: any ragged prices, window and confounding mask give the same panel both ways."""
    with pytest.MonkeyPatch.context() as mp:
        at_once, one_by_one, used = _panels(
            mp, _prices(seed, 20, missing), window=window, mask=mask, calendar=calendar
        )
    assert used == 1
    _assert_same(at_once, one_by_one)


@pytest.mark.parametrize("calendar", [None, "XNYS"], ids=["own-dates", "XNYS"])
def test_runs_of_date_sets_give_the_same_panel(calendar: str | None) -> None:
    """A universe is laid out a run of date sets at a time (bounded memory): runs of a few sets
    build the panel of one run, and of series by series."""
    prices = _prices(3, 30, 0.03)
    with pytest.MonkeyPatch.context() as mp:
        one_run, one_by_one, _ = _panels(mp, prices, calendar=calendar)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(od, "LAYOUT_DATES", 1500)  # two or three sets a run
        runs, _, used = _panels(mp, prices, calendar=calendar)
    assert used >= 10
    _assert_same(runs, one_run)
    _assert_same(runs, one_by_one)


@pytest.mark.parametrize("calendar", [None, "XNYS"], ids=["own-dates", "XNYS"])
def test_a_mask_from_other_events_gives_the_same_panel(calendar: str | None) -> None:
    """Confounding masks from a separate set of events (``mask_events``) are laid out as series by
    series lays them, the restricted one included."""
    others = events_from_records([EVENTS[1], EVENTS[5], {**EVENTS[6], "event_id": "other"}])
    with pytest.MonkeyPatch.context() as mp:
        at_once, one_by_one, used = _panels(
            mp, _prices(4, 24, 0.02), calendar=calendar, mask_events=others, mask=(-2, 3)
        )
    assert used == 1 and at_once.masked.any()
    _assert_same(at_once, one_by_one)
