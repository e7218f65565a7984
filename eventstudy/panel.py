"""Event×market panel: returns on session grids, day 0 per pair, masks, windows.

All markets' returns are laid end to end in one long array (each market padded
with NaN on the sides its windows reach past its data), so that every pair's
estimation and event windows are plain integer index matrices
``base + offsets`` — the whole study is gathered with one fancy-indexing
operation per array, without a loop over pairs.

Everything that depends only on a price series' dates (its session grid, where
its rows fall on it, the benchmark returns, day 0 of every event, the
confounding mask) is computed once per distinct set of dates and shared by
the series that have them, so a universe of securities on one calendar costs
a few numpy operations per security.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .calendars import Sessions, data_sessions, day0_bounds, exchange_sessions
from .config import StudyConfig
from .events import Events
from .markets import CalendarSpec, calendar_for
from .returns import Alignment, MarketReturns, align_dates, aligned_returns
from .sources.base import Prices
from .sync import Sync, close_gap_hours

__all__ = ["Panel", "build_panel", "market_sessions"]


def market_sessions(symbol: str, close: pd.Series, events: Events, calendar: CalendarSpec | None) -> Sessions:
    """The sessions of ``symbol``: its exchange calendar (:func:`calendar_for`), else its own data dates."""
    code = calendar_for(symbol, calendar).code
    if code is None:
        return data_sessions(close.index)
    lo = min(close.index[0], events.table["local_date"].min())
    hi = max(close.index[-1], events.table["local_end"].max())
    return exchange_sessions(code, lo, hi)


@dataclass(frozen=True, eq=False)
class Panel:
    """Everything the engine needs, as flat arrays.

    Attributes
    ----------
    markets : list of MarketReturns
    pairs : DataFrame
        One row per event×market pair (events restricted by ``symbols`` are
        not paired): ``event_id, symbol, ev, mk, day0, day0_latest,
        day0_uncertain, base, ext, reason``; ``base`` indexes the long arrays at
        day 0 (−1 when day 0 is outside the data), ``ext`` the number of
        sessions between the earliest and latest day 0.
    R, B : ndarray
        Long arrays of returns and benchmark returns (B is NaN without one).
    masked : ndarray of bool
        Long array: session within the mask of some event of that market.
    dates : ndarray of datetime64[ns]
        Long array of session dates (NaT in padding).
    starts : ndarray of int
        Start of each market's block in the long arrays (its left padding
        first); a block ends where the next one starts. Padding is as wide
        as the market's windows reach past its data (often none).
    day0_pos : dict
        Per market: (event index array, earliest grid position, latest grid
        position) of all events used for masking and overlap flags.
    offsets : ndarray of int
        Start of each market's block in the long arrays (after padding).
    max_ext : int
        Largest possible extension of a window for an uncertain day 0.
    span : ndarray of float or None
        Long array: sessions spanned by each return (1 in padding); ``None``
        when every return spans one session.
    BX : ndarray (K, N) or None
        Benchmark returns shifted by ``shifts`` benchmark sessions (lags of
        the Dimson and Scholes–Williams betas), when asked for.
    shifts : tuple of int
        The shifts of the rows of ``BX`` (0 same date, 1 lag 1, −1 lead 1).
    later : ndarray of bool
        Per market block: the benchmark closes after the market.
    syncs : tuple of Sync
        Per market: the benchmark's clock against the market's.
    """

    markets: list[MarketReturns]
    pairs: pd.DataFrame
    R: np.ndarray
    B: np.ndarray
    masked: np.ndarray
    dates: np.ndarray
    starts: np.ndarray
    day0_pos: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    offsets: np.ndarray
    max_ext: int
    span: np.ndarray | None = None
    BX: np.ndarray | None = None
    shifts: tuple[int, ...] = ()
    later: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    syncs: tuple[Sync, ...] = ()

    def prefix_sums(self, with_benchmark: bool) -> Any:
        """Prefix sums of the used estimation data (computed once per panel)."""
        from .moments import prefix_sums

        key = f"_prefix_{with_benchmark}"
        hit = self.__dict__.get(key)
        if hit is None:
            hit = prefix_sums(self, with_benchmark)
            self.__dict__[key] = hit
        return hit

    def used_positions(self, with_benchmark: bool) -> np.ndarray:
        """Long-array positions usable for estimation, ascending."""
        key = f"_upos_{with_benchmark}"
        hit = self.__dict__.get(key)
        if hit is None:
            hit = np.flatnonzero(self.prefix_sums(with_benchmark).used)
            if len(self.R) < 2**31 - 1:
                hit = hit.astype(np.int32)
            self.__dict__[key] = hit
        return hit

    @functools.cached_property
    def base_all(self) -> np.ndarray:
        """``pairs["base"]`` as an int64 array (−1 for pairs outside the data)."""
        return self.pairs["base"].to_numpy(dtype=np.int64)


@dataclass(frozen=True, eq=False)
class _EventArrays:
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
    def of(cls, ev: Events) -> _EventArrays:
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


_FAR = 10**9  # a position outside any grid


def _positions(
    sess: Sessions, lo: int, n: int, ev: _EventArrays, sel: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid positions and dates of the earliest and latest day 0 of the events ``sel``.

    The grid is ``sess.dates[lo:lo + n]`` (sessions from the first to the last
    price). Positions before the grid are −_FAR, after it +_FAR (no session).
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
    d_all = sess.dates.to_numpy()
    nat = np.datetime64("NaT", "ns")
    d0 = np.where(e_full < total, d_all[np.minimum(e_full, total - 1)], nat)
    d1 = np.where(l_full < total, d_all[np.minimum(l_full, total - 1)], nat)

    # without closing times the sessions are the data's own dates, so an event
    # dated before the first price must not be moved onto it
    early = (
        (ev.local[sel] < sess.dates_ns[lo]) if sess.closes is None and total else np.zeros(len(e_full), bool)
    )

    def grid_pos(full: np.ndarray) -> np.ndarray:
        p = full - lo
        return np.where(full >= total, _FAR, np.where((p < 0) | early, -_FAR, p))

    return grid_pos(e_full), grid_pos(l_full), d0, d1


@dataclass(frozen=True, eq=False)
class _Grid:
    """What a price series' dates determine (shared by series with equal dates)."""

    sessions: Sessions
    al: Alignment
    lo: int
    n: int
    dates: np.ndarray


@dataclass(frozen=True, eq=False)
class _Timing:
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


def _date_key(index: pd.DatetimeIndex) -> tuple[Any, bytes]:
    return index.dtype, np.asarray(index.asi8).tobytes()


def _grid(
    sym: str,
    close: pd.Series,
    events: Events,
    cfg: StudyConfig,
    bench: pd.Series | None,
    shifts: tuple[int, ...] = (),
) -> _Grid:
    sess = market_sessions(sym, close, events, cfg.calendar)
    al = align_dates(close.index, sess, cfg.returns, bench, shifts)
    lo = sess.bounds(close.index[0], close.index[-1])[0]
    return _Grid(sess, al, lo, len(al.span), al.grid.dates.to_numpy())


def _timing(
    g: _Grid,
    study_ev: _EventArrays,
    mask_ev: _EventArrays,
    msel: np.ndarray,
    sel: np.ndarray,
    cfg: StudyConfig,
    max_ext: int,
) -> _Timing:
    n = g.n
    a, b = cfg.mask
    # confounding mask from every event of this market in the mask set
    mp0, mp1, _, _ = _positions(g.sessions, g.lo, n, mask_ev, msel)
    diff = np.zeros(n + 1, dtype=np.int64)
    mlo = np.clip(mp0 + a, 0, n)
    mhi = np.clip(mp1 + b + 1, 0, n)
    ok = mlo < mhi
    np.add.at(diff, mlo[ok], 1)
    np.add.at(diff, mhi[ok], -1)
    masked = np.cumsum(diff[:n]) > 0
    # pairs: events of the study that apply to this market
    p0, p1, d0, d1 = _positions(g.sessions, g.lo, n, study_ev, sel)
    inside = (p0 >= 0) & (p0 < n)
    ext = np.where(inside, np.clip(np.minimum(p1, n - 1) - p0, 0, max_ext), 0)
    # padding: how far the windows of the pairs reach before and after the data
    (e_lo, e_hi), (w_lo, w_hi) = cfg.estimation, cfg.window
    left = right = 0
    if inside.any():
        q = p0[inside]
        left = max(0, -(int(q.min()) + min(e_lo, w_lo)))
        right = max(0, int(q.max()) + max(e_hi, w_hi + max_ext) - (n - 1))
    return _Timing(
        np.flatnonzero(msel), mp0, mp1, masked, np.flatnonzero(sel), p0, d0, d1, inside, ext, left, right
    )


def _reasons(sym: str, g: _Grid, t: _Timing, out: np.ndarray, at: int) -> None:
    """Write the exclusion reasons of the pairs of ``sym`` whose day 0 is outside its data."""
    first = pd.Timestamp(g.dates[0]).date()
    last = pd.Timestamp(g.dates[-1]).date()
    for j in np.flatnonzero(~t.inside):
        out[at + j] = (
            f"day 0 is before the first price of {sym} ({first})"
            if t.p0[j] < 0
            else f"day 0 is after the last price of {sym} ({last})"
        )


def _max_extension(ev: _EventArrays) -> int:
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


def build_panel(
    events: Events,
    prices: Prices,
    symbols: list[str],
    cfg: StudyConfig,
    mask_events: Events,
    needs_benchmark: bool,
    shifts: tuple[int, ...] = (),
    sync: bool = False,
    shifts_if_later: bool = False,
) -> Panel:
    """Assemble returns, day-0 alignment, confounding masks and pairs.

    Series with equal dates (and calendar, and events that apply) share
    their session grid, day-0 positions and masks, computed once.

    With a benchmark, the closing times of each market and of the benchmark
    are compared (:mod:`eventstudy.sync`). ``shifts`` fills ``BX`` with the
    benchmark returns shifted by those benchmark sessions; with ``sync`` the
    benchmark return ``B`` of a market that the benchmark closes after is the
    one lagged a session (the return earned before the market's close, for
    ``market-adjusted``). With ``shifts_if_later`` the shifted returns are
    built only when the benchmark closes after some market.
    """
    bench = prices[cfg.benchmark] if (needs_benchmark and cfg.benchmark) else None
    bench_sess = (
        market_sessions(str(cfg.benchmark), bench, events, cfg.calendar) if bench is not None else None
    )
    want = tuple(dict.fromkeys((*shifts, 1) if sync else shifts))
    study_ev = _EventArrays.of(events)
    max_ext = _max_extension(study_ev)
    mask_ev = _EventArrays.of(mask_events)
    grids: dict[tuple[str | None, tuple[Any, bytes]], _Grid] = {}
    timings: dict[tuple[int, bytes, bytes], _Timing] = {}
    layout: list[tuple[_Grid, _Timing]] = []
    syncs: list[Sync] = []
    gaps: dict[int, float | None] = {}
    for sym in symbols:
        close = prices[sym]
        gkey = (calendar_for(sym, cfg.calendar).code, _date_key(close.index))
        g = grids.get(gkey)
        if g is None:
            g = grids[gkey] = _grid(sym, close, events, cfg, bench, want)
        msel, sel = mask_ev.applies_to(sym), study_ev.applies_to(sym)
        tkey = (id(g), msel.tobytes(), sel.tobytes())
        t = timings.get(tkey)
        if t is None:
            t = timings[tkey] = _timing(g, study_ev, mask_ev, msel, sel, cfg, max_ext)
        layout.append((g, t))
        if bench is not None and bench_sess is not None:
            if id(g) not in gaps:
                gaps[id(g)] = close_gap_hours(g.sessions, bench_sess)
            syncs.append(Sync(sym, str(cfg.benchmark), g.sessions.code, bench_sess.code, gaps[id(g)]))
    # block k = [left padding, data, right padding], laid end to end
    widths = np.asarray([t.left + g.n + t.right for g, t in layout], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64) if len(widths) else widths
    offsets = starts + np.asarray([t.left for _, t in layout], dtype=np.int64)
    total = int(widths.sum())
    R = np.full(total, np.nan)
    B = np.full(total, np.nan)
    masked = np.zeros(total, dtype=bool)
    dates = np.full(total, np.datetime64("NaT", "ns"))
    lagged = bool(shifts) and bench is not None and (not shifts_if_later or any(sy.later for sy in syncs))
    BX = np.full((len(shifts), total), np.nan) if lagged else None
    span: np.ndarray | None = None
    counts = np.asarray([len(t.ev) for _, t in layout], dtype=np.int64)
    reason = np.full(int(counts.sum()), "", dtype=object)
    markets: list[MarketReturns] = []
    day0_pos: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    drop = cfg.gaps == "drop"
    at = 0
    for k, (sym, (g, t), o) in enumerate(zip(symbols, layout, offsets.tolist(), strict=True)):
        sl = slice(o, o + g.n)
        markets.append(aligned_returns(sym, prices[sym], g.al, cfg.returns, drop, out=R[sl]))
        if syncs:
            B[sl] = g.al.shifted[1] if (sync and syncs[k].later) else g.al.shifted[0]
            if sync and syncs[k].later:  # the benchmark return the study subtracts
                markets[-1] = replace(markets[-1], bench=g.al.shifted[1])
            if BX is not None:
                for j, sh in enumerate(shifts):
                    BX[j, sl] = g.al.shifted[sh]
        if (g.al.span > 1).any() and not drop:
            if span is None:
                span = np.ones(total)
            span[sl] = np.maximum(g.al.span, 1)
        masked[sl] = t.masked
        dates[sl] = g.dates
        day0_pos[sym] = (t.mask_ev, t.mp0, t.mp1)
        if not t.inside.all():
            _reasons(sym, g, t, reason, at)
        at += len(t.ev)

    def cat(name: str, dtype: Any) -> np.ndarray:
        parts = [getattr(t, name) for _, t in layout]
        return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype)

    ev_idx = cat("ev", np.int64)
    mk = np.repeat(np.arange(len(layout), dtype=np.int64), counts)
    inside = cat("inside", bool)
    base = np.where(inside, np.repeat(offsets, counts) + cat("p0", np.int64), -1)
    d0 = pd.DatetimeIndex(cat("d0", "datetime64[ns]"))
    d1 = pd.DatetimeIndex(cat("d1", "datetime64[ns]"))
    pairs = pd.DataFrame(
        {
            "event_id": study_ev.ids[ev_idx],
            "symbol": np.asarray(symbols, dtype=object)[mk] if len(ev_idx) else np.empty(0, dtype=object),
            "ev": ev_idx,
            "mk": mk,
            "day0": d0,
            "day0_latest": d1,
            "day0_uncertain": np.asarray((d0 != d1) & ~d1.isna()),
            "base": base.astype(np.int64),
            "ext": cat("ext", np.int64),
            "reason": reason,
        }
    )
    return Panel(
        markets=markets,
        pairs=pairs,
        R=R,
        B=B,
        masked=masked,
        dates=dates,
        starts=starts,
        day0_pos=day0_pos,
        offsets=offsets,
        max_ext=max_ext,
        span=span,
        BX=BX,
        shifts=tuple(shifts) if BX is not None else (),
        later=np.asarray([sy.later for sy in syncs], dtype=bool),
        syncs=tuple(syncs),
    )
