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

from . import owndates
from .calendars import Sessions, day0_bounds, exchange_sessions
from .config import StudyConfig
from .daytiming import FAR, EventArrays, Grid, Timing
from .events import Events
from .owndates import LaidDates, set_timings
from .returns import Alignment, interval_returns

__all__ = ["calendar_layouts"]


def calendar_layouts(
    closes: dict[str, pd.Series],
    dates: dict[str, tuple[str, Any]],
    events: Events,
    study_ev: EventArrays,
    mask_ev: EventArrays,
    cfg: StudyConfig,
    bench: pd.Series | None,
    shifts: tuple[int, ...],
    max_ext: int,
) -> dict[str, tuple[Grid, Timing]]:
    """Grid and timing of the series ``dates`` names (symbol → (calendar code, date key)), or none.

    The date key is :func:`~eventstudy.daytiming.date_key`'s.

    Empty unless they hold :data:`~eventstudy.owndates.OWN_DATES_MIN` distinct
    date sets, all midnight dates in nanoseconds, ascending and unique, on
    calendars with closing times (the other cases go series by series).
    """
    if len(set(dates.values())) < owndates.OWN_DATES_MIN:
        return {}
    keys: dict[tuple[str, Any], list[str]] = {}
    for sym, dkey in dates.items():
        keys.setdefault(dkey, []).append(sym)
    first = [closes[syms[0]].index for syms in keys.values()]
    laid = LaidDates.of(first)
    if laid is None:
        return {}
    codes = [code for code, _ in keys]
    sessions = _sessions(codes, laid, events)
    if any(s.closes_ns is None for s in sessions):
        return {}
    grids = _grids(laid, sessions, cfg.returns, bench, shifts)
    chosen: dict[str, tuple[bytes, bytes]] = {}
    arrays: dict[tuple[bytes, bytes], tuple[np.ndarray, np.ndarray]] = {}
    sets: dict[tuple[int, tuple[bytes, bytes]], list[int]] = {}  # per calendar and selection of events
    for k, syms in enumerate(keys.values()):
        for sym in syms:
            msel, sel = mask_ev.applies_to(sym), study_ev.applies_to(sym)
            key = chosen[sym] = (msel.tobytes(), sel.tobytes())
            arrays.setdefault(key, (msel, sel))
            ks = sets.setdefault((id(sessions[k]), key), [])
            if not ks or ks[-1] != k:
                ks.append(k)
    timing: dict[tuple[bytes, bytes], dict[int, Timing]] = {}
    for (_, key), ks in sets.items():
        msel, sel = arrays[key]
        idx = np.asarray(ks, dtype=np.int64)
        lo = np.array([grids[k].lo for k in ks], dtype=np.int64)
        n = np.array([grids[k].n for k in ks], dtype=np.int64)

        day0 = functools.partial(_day0, sessions[ks[0]], lo)  # day 0 on the calendar, per set
        made = set_timings(n, day0, study_ev, mask_ev, msel, sel, cfg, max_ext)
        timing.setdefault(key, {}).update(zip(idx.tolist(), made, strict=True))
    return {sym: (grids[k], timing[chosen[sym]][k]) for k, syms in enumerate(keys.values()) for sym in syms}


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


def _grids(
    laid: LaidDates, sessions: list[Sessions], kind: Any, bench: pd.Series | None, shifts: tuple[int, ...]
) -> list[Grid]:
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
    shifted = _bench_on_grids(
        ns[kept], first_on, grid_start[k_seg] + k_pos, int(n.sum()), kind, bench, shifts
    )
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


def _bench_on_grids(
    cns: np.ndarray,
    first: np.ndarray,
    at: np.ndarray,
    size: int,
    kind: Any,
    bench: pd.Series | None,
    shifts: tuple[int, ...],
) -> dict[int, np.ndarray]:
    """The benchmark's returns between consecutive on-session rows, placed at their grid positions ``at``."""
    if bench is None:
        return {}
    b = bench.to_numpy(dtype="float64")
    bns = np.asarray(bench.index.as_unit("ns").asi8)
    last = np.searchsorted(bns, cns, side="right") - 1
    stale = cns > bns[-1]
    out = {}
    for s in dict.fromkeys((0, *shifts)):
        bi = last - s
        lv = np.where((bi >= 0) & (bi < len(b)), b[np.clip(bi, 0, len(b) - 1)], np.nan)
        lv[stale] = np.nan
        ret = interval_returns(lv, kind)
        ret[first] = np.nan  # (each set's first row on a session)
        placed = np.full(size, np.nan)
        placed[at] = ret
        out[s] = placed
    return out


def _day0(
    sess: Sessions, lo: np.ndarray, ev: EventArrays, sel: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~eventstudy.daytiming.positions` on a calendar for sets starting at sessions ``lo``.

    Day 0 on the calendar is the same for every set; its grid position is
    shifted by the set's first session (−FAR before it, FAR with no session
    on or after the event).
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

    def grid_pos(full: np.ndarray) -> np.ndarray:
        p = full[None, :] - lo[:, None]
        return np.where(full[None, :] >= total, FAR, np.where(p < 0, -FAR, p))

    rows = len(lo)
    return grid_pos(e_full), grid_pos(l_full), np.tile(d0, (rows, 1)), np.tile(d1, (rows, 1))
