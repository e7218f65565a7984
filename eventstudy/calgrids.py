"""Session grids and day-0 timing of many ragged price series on exchange calendars, at once.

Stocks of one exchange with a few missing closes each have nearly as many
sets of dates as series, but one calendar: their sessions are shared. Day 0
of every event is then found once on the calendar
(:func:`~eventstudy.calendars.day0_bounds`) and only shifted by each series'
first session; where each series' rows fall on the sessions is one search
for all of them. :func:`calendar_layouts` gives the same
:class:`~eventstudy.daytiming.Grid` and :class:`~eventstudy.daytiming.Timing`
as :func:`~eventstudy.daytiming.grid_of` and
:func:`~eventstudy.daytiming.timing_of` series by series, bit for bit (the
companion of :mod:`~eventstudy.owndates` for series with a calendar).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from .calendars import Sessions, exchange_sessions
from .daytiming import FAR, EventArrays, Grid, Timing, day0_on
from .events import Events
from .owndates import LaidDates, LayoutSpec, assemble_layouts, bench_returns, date_set_chunks
from .returns import Alignment

__all__ = ["calendar_layouts"]


def calendar_layouts(
    closes: dict[str, pd.Series], dates: dict[str, tuple[str, Any]], events: Events, spec: LayoutSpec
) -> dict[str, tuple[Grid, Timing]]:
    """Grid and timing of the series ``dates`` names (symbol → (calendar code, date key)), or none.

    The date key is :func:`~eventstudy.daytiming.date_key`'s.

    Empty unless they hold :data:`~eventstudy.owndates.OWN_DATES_MIN` distinct
    date sets, all midnight dates in nanoseconds, ascending and unique, on
    calendars with closing times (the other cases go series by series), laid
    out a run of sets at a time (:func:`~eventstudy.owndates.date_set_chunks`).
    """
    out: dict[str, tuple[Grid, Timing]] = {}
    for groups in date_set_chunks(closes, dates):
        codes = [dates[syms[0]][0] for syms in groups]
        out.update(_layouts(closes, groups, codes, events, spec))
    return out


def _layouts(
    closes: dict[str, pd.Series], groups: list[list[str]], codes: list[str], events: Events, spec: LayoutSpec
) -> dict[str, tuple[Grid, Timing]]:
    """:func:`calendar_layouts` of one run of date sets (``groups``: each set's symbols, on ``codes``)."""
    first = [closes[syms[0]].index for syms in groups]
    laid = LaidDates.of(first)
    if laid is None:
        return {}
    sessions = _sessions(codes, laid, events)
    if any(s.closes_ns is None for s in sessions):
        return {}
    grids = _grids(laid, sessions, spec)
    lo = np.array([g.lo for g in grids], dtype=np.int64)
    return assemble_layouts(
        groups,
        grids,
        [id(s) for s in sessions],
        lambda _, idx: functools.partial(_day0, sessions[int(idx[0])], lo[idx]),  # one calendar per part
        spec,
    )


def _sessions(codes: list[str], laid: LaidDates, events: Events) -> list[Sessions]:
    """Each set's sessions, as :func:`~eventstudy.daytiming.market_sessions` takes them.

    The calendar from the earlier of the set's first date and the first event
    to the later of its last date and the last event's end (built on whole
    years and cached, so sets of the same years share one object).
    """
    ev_lo = pd.Timestamp(events.table["local_date"].min())
    ev_hi = pd.Timestamp(events.table["local_end"].max())
    first = laid.ns[laid.starts]
    last = laid.ns[laid.starts + laid.lengths - 1]
    out = []
    memo: dict[tuple[str, int, int], Sessions] = {}
    for code, a, b in zip(codes, first.tolist(), last.tolist(), strict=True):
        lo, hi = min(pd.Timestamp(a), ev_lo), max(pd.Timestamp(b), ev_hi)
        key = (code, lo.year, hi.year)
        if key not in memo:
            memo[key] = exchange_sessions(code, lo, hi)
        out.append(memo[key])
    return out


def _grids(laid: LaidDates, sessions: list[Sessions], spec: LayoutSpec) -> list[Grid]:
    """Each set's grid on its calendar (:func:`~eventstudy.returns.align_dates`), all sets at once.

    A row is on a session when its date is one; a return spans the sessions
    from the previous row on a session; the benchmark's returns are over the
    same intervals, on the grid.
    """
    ns, seg, starts, lengths = laid.ns, laid.seg, laid.starts, laid.lengths
    n_sets = len(lengths)
    # each date's position on its set's calendar, and each set's bounds (first to last date)
    pos_all = np.empty(len(ns), dtype=np.int64)
    lo, hi = np.empty(n_sets, dtype=np.int64), np.empty(n_sets, dtype=np.int64)
    on = np.zeros(len(ns), dtype=bool)
    by_calendar: dict[int, list[int]] = {}
    for k, s in enumerate(sessions):
        by_calendar.setdefault(id(s), []).append(k)
    for ks in by_calendar.values():
        dn = sessions[ks[0]].dates_ns
        rows = np.isin(seg, ks)
        g = np.searchsorted(dn, ns[rows])
        pos_all[rows] = g
        on[rows] = (g < len(dn)) & (dn[np.minimum(g, len(dn) - 1)] == ns[rows])
        sel = np.asarray(ks, dtype=np.int64)
        lo[sel] = np.searchsorted(dn, ns[starts[sel]], "left")
        hi[sel] = np.searchsorted(dn, ns[starts[sel] + lengths[sel] - 1], "right")
    n = hi - lo
    grid_start = np.concatenate([[0], np.cumsum(n)[:-1]]).astype(np.int64)
    pos_all -= lo[seg]
    # spans: on each grid, the sessions from the previous row on a session
    kept = np.flatnonzero(on)
    k_seg, k_pos = seg[kept], pos_all[kept]
    span_all = np.zeros(int(n.sum()), dtype=np.int64)
    later = np.flatnonzero(k_seg[1:] == k_seg[:-1]) + 1
    span_all[grid_start[k_seg[later]] + k_pos[later]] = k_pos[later] - k_pos[later - 1]
    first_on = np.ones(len(kept), dtype=bool)
    first_on[later] = False
    shifted = {}
    for sh, ret in bench_returns(ns[kept], first_on, spec).items():
        shifted[sh] = np.full(int(n.sum()), np.nan)  # on each grid, at the rows' sessions
        shifted[sh][grid_start[k_seg] + k_pos] = ret
    grids = []
    # the rows off the calendar (set aside), as ISO dates, every set's at once
    off_rows = np.flatnonzero(~on)
    off_days = [str(d) for d in np.datetime_as_string(ns[off_rows].view("M8[ns]").astype("M8[D]"), unit="D")]
    off_at = np.searchsorted(off_rows, np.append(starts, len(ns)))
    for k, s in enumerate(sessions):
        a, m, g0, gl, gn = int(starts[k]), int(lengths[k]), int(grid_start[k]), int(lo[k]), int(n[k])
        on_k = on[a : a + m]
        pos_k = pos_all[a : a + m][on_k]
        off = off_days[off_at[k] : off_at[k + 1]]
        grid = Sessions(s.code, s.dates[gl : gl + gn], None if s.closes is None else s.closes[gl : gl + gn])
        mine = {sh: r[g0 : g0 + gn] for sh, r in shifted.items()}
        al = Alignment(grid, on_k, pos_k, bool(on_k.all()), span_all[g0 : g0 + gn], off, mine.get(0), mine)
        grids.append(Grid(s, al, gl, gn, s.dates_ns[gl : gl + gn].view("M8[ns]")))
    return grids


def _day0(
    sess: Sessions, lo: np.ndarray, ev: EventArrays, sel: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~eventstudy.daytiming.positions` on a calendar for sets starting at sessions ``lo``.

    Day 0 on the calendar is the same for every set; its grid position is
    shifted by the set's first session (−FAR before it, FAR with no session
    on or after the event).
    """
    e_full, l_full, d0, d1 = day0_on(sess, ev, sel)
    total = len(sess.dates)

    def grid_pos(full: np.ndarray) -> np.ndarray:
        p = full[None, :] - lo[:, None]
        return np.where(full[None, :] >= total, FAR, np.where(p < 0, -FAR, p))

    rows = len(lo)
    return grid_pos(e_full), grid_pos(l_full), np.tile(d0, (rows, 1)), np.tile(d1, (rows, 1))
