"""Per-date-set timing of a study: session grids, day-0 positions and confounding masks.

What a price series' dates determine (its session grid and where its rows fall on
it, :class:`Grid`) and what a grid and a selection of events determine (day 0 of
every event, the confounding mask, the padding the windows need,
:class:`Timing`) are computed here once per distinct set of dates and events;
:func:`eventstudy.panel.build_panel` lays them end to end.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .calendars import Sessions, data_sessions, day0_bounds, exchange_sessions
from .config import StudyConfig
from .events import Events
from .markets import CalendarSpec, calendar_for
from .returns import Alignment, align_dates

__all__ = [
    "EventArrays",
    "FAR",
    "Grid",
    "Timing",
    "date_key",
    "day0_on",
    "grid_of",
    "market_sessions",
    "max_extension",
    "positions",
    "timing_of",
    "write_reasons",
]


def market_sessions(symbol: str, close: pd.Series, events: Events, calendar: CalendarSpec | None) -> Sessions:
    """The sessions of ``symbol``: its exchange calendar (:func:`calendar_for`), else its own data dates."""
    code = calendar_for(symbol, calendar).code
    if code is None:
        return data_sessions(close.index)
    lo = min(close.index[0], events.table["local_date"].min())
    hi = max(close.index[-1], events.table["local_end"].max())
    return exchange_sessions(code, lo, hi)


@dataclass(frozen=True, eq=False)
class EventArrays:
    """Event timing as int64 nanoseconds, computed once per study."""

    ids: np.ndarray
    start: np.ndarray
    end: np.ndarray
    local: np.ndarray
    date_only: np.ndarray
    interval: np.ndarray
    local_end: np.ndarray
    symbols: np.ndarray

    @classmethod
    def of(cls, ev: Events) -> EventArrays:
        """The arrays of ``ev`` (built once per ``Events``, which is immutable, and kept on it)."""
        hit = ev.__dict__.get("_event_arrays")
        if isinstance(hit, cls):
            return hit
        t = ev.table
        from .calendars import _ns

        out = ev.__dict__["_event_arrays"] = cls(
            ids=t["event_id"].to_numpy(dtype=object),
            start=_ns(t["start_utc"]),
            end=_ns(t["end_utc"]),
            local=_ns(t["local_date"]),
            date_only=t["date_only"].to_numpy(dtype=bool),
            interval=(t["timing"] == "interval").to_numpy(dtype=bool),
            local_end=_ns(t["local_end"]),
            symbols=t["symbols"].to_numpy(dtype=object),
        )
        return out

    @functools.cached_property
    def _restricted(self) -> np.ndarray:
        return np.flatnonzero(self.symbols != "")

    @functools.cached_property
    def _open(self) -> np.ndarray:
        out = np.ones(len(self.symbols), dtype=bool)
        out[self._restricted] = False
        return out

    def applies_to(self, symbol: str) -> np.ndarray:
        """Which events apply to ``symbol`` (an empty ``symbols`` field means all).

        The returned array may be shared between calls: do not modify it.
        """
        r = self._restricted
        if len(r) == 0:
            return self._open
        out = self._open.copy()
        out[r] = [symbol in str(s).split() for s in self.symbols[r]]
        return out


FAR = 10**9  # a position outside any grid


def day0_on(
    sess: Sessions, ev: EventArrays, sel: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions in ``sess.dates`` and dates of the earliest and latest day 0 of the events ``sel``.

    A position of ``len(sess.dates)`` (date NaT) means no session on or after the event.
    """
    e_full, l_full = day0_bounds(
        sess,
        ev.start[sel],
        ev.end[sel],
        ev.local[sel],
        ev.date_only[sel],
        ev.interval[sel],
        ev.local_end[sel],
    )
    total = len(sess.dates)
    d_all = sess.dates_ns.view("M8[ns]")
    nat = np.datetime64("NaT", "ns")
    d0 = np.where(e_full < total, d_all[np.minimum(e_full, total - 1)], nat)
    d1 = np.where(l_full < total, d_all[np.minimum(l_full, total - 1)], nat)
    return e_full, l_full, d0, d1


def positions(
    sess: Sessions, lo: int, n: int, ev: EventArrays, sel: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid positions and dates of the earliest and latest day 0 of the events ``sel``.

    The grid is ``sess.dates[lo:lo + n]`` (sessions from the first to the last
    price). Positions before the grid are −FAR, after it +FAR (no session).
    """
    e_full, l_full, d0, d1 = day0_on(sess, ev, sel)
    total = len(sess.dates)

    # without closing times the sessions are the data's own dates, so an event
    # dated before the first price must not be moved onto it
    early = (
        (ev.local[sel] < sess.dates_ns[lo]) if sess.closes is None and total else np.zeros(len(e_full), bool)
    )

    def grid_pos(full: np.ndarray) -> np.ndarray:
        p = full - lo
        return np.where(full >= total, FAR, np.where((p < 0) | early, -FAR, p))

    return grid_pos(e_full), grid_pos(l_full), d0, d1


@dataclass(frozen=True, eq=False)
class Grid:
    """What a price series' dates determine (shared by series with equal dates)."""

    sessions: Sessions
    al: Alignment
    lo: int
    n: int
    dates: np.ndarray


@dataclass(frozen=True, eq=False)
class Timing:
    """Day 0s and the confounding mask of one grid for one selection of events.

    ``p0`` is the earliest day 0's grid position, ``inside`` whether it is in
    the data; ``left``/``right`` the padding the pairs' windows need.
    """

    mask_ev: np.ndarray
    mp0: np.ndarray
    mp1: np.ndarray
    masked: np.ndarray
    ev: np.ndarray
    p0: np.ndarray
    d0: np.ndarray
    d1: np.ndarray
    inside: np.ndarray
    ext: np.ndarray
    left: int
    right: int


def date_key(index: pd.DatetimeIndex) -> tuple[Any, bytes]:
    return index.dtype, np.asarray(index.asi8).tobytes()


def grid_of(
    sym: str,
    close: pd.Series,
    events: Events,
    cfg: StudyConfig,
    bench: pd.Series | None,
    shifts: tuple[int, ...] = (),
) -> Grid:
    sess = market_sessions(sym, close, events, cfg.calendar)
    al = align_dates(close.index, sess, cfg.returns, bench, shifts)
    grid = al.grid.dates_ns
    # the grid starts at the first session on or after the first price (the sessions' bounds)
    lo = (
        int(np.searchsorted(sess.dates_ns, grid[0]))
        if len(grid)
        else sess.bounds(close.index[0], close.index[-1])[0]
    )
    return Grid(sess, al, lo, len(al.span), grid.view("M8[ns]"))


def timing_of(
    g: Grid,
    study_ev: EventArrays,
    mask_ev: EventArrays,
    msel: np.ndarray,
    sel: np.ndarray,
    cfg: StudyConfig,
    max_ext: int,
) -> Timing:
    n = g.n
    a, b = cfg.mask
    # confounding mask from every event of this market in the mask set
    mp0, mp1, _, _ = positions(g.sessions, g.lo, n, mask_ev, msel)
    diff = np.zeros(n + 1, dtype=np.int64)
    mlo = np.clip(mp0 + a, 0, n)
    mhi = np.clip(mp1 + b + 1, 0, n)
    ok = mlo < mhi
    np.add.at(diff, mlo[ok], 1)
    np.add.at(diff, mhi[ok], -1)
    masked = np.cumsum(diff[:n]) > 0
    # pairs: events of the study that apply to this market
    p0, p1, d0, d1 = positions(g.sessions, g.lo, n, study_ev, sel)
    inside = (p0 >= 0) & (p0 < n)
    ext = np.where(inside, np.clip(np.minimum(p1, n - 1) - p0, 0, max_ext), 0)
    # padding: how far the windows of the pairs reach before and after the data
    (e_lo, e_hi), (w_lo, w_hi) = cfg.estimation, cfg.window
    left = right = 0
    if inside.any():
        q = p0[inside]
        left = max(0, -(int(q.min()) + min(e_lo, w_lo)))
        right = max(0, int(q.max()) + max(e_hi, w_hi + max_ext) - (n - 1))
    return Timing(
        np.flatnonzero(msel), mp0, mp1, masked, np.flatnonzero(sel), p0, d0, d1, inside, ext, left, right
    )


def write_reasons(sym: str, g: Grid, t: Timing, out: np.ndarray, at: int) -> None:
    """Write the exclusion reasons of the pairs of ``sym`` whose day 0 is outside its data."""
    first = pd.Timestamp(g.dates[0]).date()
    last = pd.Timestamp(g.dates[-1]).date()
    for j in np.flatnonzero(~t.inside):
        out[at + j] = (
            f"day 0 is before the first price of {sym} ({first})"
            if t.p0[j] < 0
            else f"day 0 is after the last price of {sym} ({last})"
        )


def max_extension(ev: EventArrays) -> int:
    """Most sessions by which the latest possible day 0 can follow the earliest.

    A local calendar day contains one close of a market, two at most around a
    daylight-saving change, so a date-only event's day 0s are at most two
    sessions apart; an interval of ``d`` days holds at most ``ceil(d) + 1``
    closes (and ``ceil(d) + 1`` data dates).
    """
    if not ev.interval.any():
        return 2
    day = 86_400 * 10**9
    span = int((ev.end[ev.interval] - ev.start[ev.interval]).max())
    return max(2, -(-span // day) + 1)
