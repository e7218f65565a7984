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

from .calgrids import calendar_layouts
from .config import StudyConfig
from .daytiming import (
    EventArrays,
    Grid,
    Timing,
    date_key,
    grid_of,
    market_sessions,
    max_extension,
    timing_of,
    write_reasons,
)
from .events import Events
from .markets import calendar_for
from .owndates import LayoutSpec, own_date_layouts
from .returns import MarketReturns, aligned_returns_into
from .sources.base import Prices
from .sync import Sync, close_gap_hours

__all__ = ["Panel", "build_panel", "market_sessions"]


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
    study_ev = EventArrays.of(events)
    max_ext = max_extension(study_ev)
    mask_ev = EventArrays.of(mask_events)
    grids: dict[tuple[str | None, tuple[Any, bytes]], Grid] = {}
    timings: dict[tuple[int, bytes, bytes], Timing] = {}
    layout: list[tuple[Grid, Timing]] = []
    syncs: list[Sync] = []
    gaps: dict[int, float | None] = {}
    closes = {sym: prices[sym] for sym in symbols}
    gkeys = {sym: (calendar_for(sym, cfg.calendar).code, date_key(c.index)) for sym, c in closes.items()}
    # many series on their own dates (ragged, no calendar): their grids and timings at once
    own_dates = {sym: gkeys[sym][1] for sym in symbols if gkeys[sym][0] is None}
    spec = LayoutSpec(study_ev, mask_ev, cfg, bench, want, max_ext)
    own = own_date_layouts(closes, own_dates, spec)
    # and many series on one exchange calendar with their own dates (stocks with gaps)
    on_calendars = {sym: (str(gkeys[sym][0]), gkeys[sym][1]) for sym in symbols if gkeys[sym][0] is not None}
    own.update(calendar_layouts(closes, on_calendars, events, spec))
    for sym in symbols:
        close = closes[sym]
        hit = own.get(sym)
        if hit is not None:
            g, t = hit
        else:
            gkey = gkeys[sym]
            if gkey not in grids:
                grids[gkey] = grid_of(sym, close, events, cfg, bench, want)
            g = grids[gkey]
            msel, sel = mask_ev.applies_to(sym), study_ev.applies_to(sym)
            tkey = (id(g), msel.tobytes(), sel.tobytes())
            if tkey not in timings:
                timings[tkey] = timing_of(g, study_ev, mask_ev, msel, sel, cfg, max_ext)
            t = timings[tkey]
        layout.append((g, t))
        if bench is not None and bench_sess is not None:
            if id(g.sessions) not in gaps:  # (the clocks of the market's sessions and the benchmark's)
                gaps[id(g.sessions)] = close_gap_hours(g.sessions, bench_sess)
            syncs.append(
                Sync(sym, str(cfg.benchmark), g.sessions.code, bench_sess.code, gaps[id(g.sessions)])
            )
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
    # the returns of the series sharing a grid at once, straight into R (NaN until written)
    shared: dict[int, list[int]] = {}
    for k, (g, _) in enumerate(layout):
        shared.setdefault(id(g), []).append(k)
    returns: list[MarketReturns | None] = [None] * len(layout)
    for ks in shared.values():
        g = layout[ks[0]][0]
        syms = [symbols[k] for k in ks]
        done = aligned_returns_into(syms, [closes[x] for x in syms], g.al, cfg.returns, drop, R, offsets[ks])
        for k, m in zip(ks, done, strict=True):
            returns[k] = m
    spans: dict[int, bool] = {}  # per grid: a return spans several sessions
    outside: dict[int, bool] = {}  # per timing: an event's day 0 lies outside the data
    at = 0
    for k, (sym, (g, t), o) in enumerate(zip(symbols, layout, offsets.tolist(), strict=True)):
        sl = slice(o, o + g.n)
        ret_k = returns[k]
        assert ret_k is not None
        markets.append(ret_k)
        if syncs:
            B[sl] = g.al.shifted[1] if (sync and syncs[k].later) else g.al.shifted[0]
            if sync and syncs[k].later:  # the benchmark return the study subtracts
                markets[-1] = replace(markets[-1], bench=g.al.shifted[1])
            if BX is not None:
                for j, sh in enumerate(shifts):
                    BX[j, sl] = g.al.shifted[sh]
        wide = spans.get(id(g))
        if wide is None:
            wide = spans[id(g)] = bool((g.al.span > 1).any())
        if wide and not drop:
            if span is None:
                span = np.ones(total)
            span[sl] = np.maximum(g.al.span, 1)
        masked[sl] = t.masked
        dates[sl] = g.dates
        day0_pos[sym] = (t.mask_ev, t.mp0, t.mp1)
        out_t = outside.get(id(t))
        if out_t is None:
            out_t = outside[id(t)] = not t.inside.all()
        if out_t:
            write_reasons(sym, g, t, reason, at)
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
