"""Event×market panel: returns on session grids, day 0 per pair, masks, windows.

All markets' returns are laid end to end in one long array (each market padded
with NaN on both sides), so that every pair's estimation and event windows are
plain integer index matrices ``base + offsets`` — the whole study is gathered
with one fancy-indexing operation per array, without a loop over pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendars import Sessions, data_sessions, day0_bounds, exchange_sessions
from .config import StudyConfig
from .events import Events
from .markets import get_market
from .returns import MarketReturns, market_returns
from .sources.base import Prices

__all__ = ["Panel", "build_panel", "market_sessions"]


def market_sessions(symbol: str, close: pd.Series, events: Events, calendar: str | None) -> Sessions:
    """The sessions of ``symbol``: its exchange calendar, else its own data dates."""
    mkt = get_market(symbol)
    code = calendar or (mkt.calendar if mkt else None)
    if code is None:
        return data_sessions(close.index)
    lo = min(close.index[0], events.table["local_date"].min())
    hi = max(close.index[-1], events.table["local_date"].max())
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
    pad : int
        Padding on each side of each market's block.
    day0_pos : dict
        Per market: (event index array, earliest grid position, latest grid
        position) of all events used for masking and overlap flags.
    offsets : ndarray of int
        Start of each market's block in the long arrays (after padding).
    max_ext : int
        Largest possible extension of a window for an uncertain day 0.
    """

    markets: list[MarketReturns]
    pairs: pd.DataFrame
    R: np.ndarray
    B: np.ndarray
    masked: np.ndarray
    dates: np.ndarray
    pad: int
    day0_pos: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    offsets: np.ndarray
    max_ext: int


def _positions(
    sess: Sessions, grid: Sessions, ev: Events
) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex, pd.DatetimeIndex]:
    t = ev.table
    e_full, l_full = day0_bounds(
        sess,
        pd.DatetimeIndex(t["start_utc"]),
        pd.DatetimeIndex(t["end_utc"]),
        pd.DatetimeIndex(t["local_date"]),
        t["date_only"].to_numpy(),
    )
    n = len(sess.dates)
    nat = np.datetime64("NaT", "ns")
    d_all = sess.dates.to_numpy()
    d0 = np.where(e_full < n, d_all[np.clip(e_full, 0, n - 1)], nat)
    d1 = np.where(l_full < n, d_all[np.clip(l_full, 0, n - 1)], nat)
    # map to the data grid (sessions between the first and last price)
    g = grid.dates
    p0 = np.asarray(g.searchsorted(d0), dtype=np.int64)
    p1 = np.asarray(g.searchsorted(d1), dtype=np.int64)
    big = len(g) + 10**6
    p0 = np.where(pd.isna(d0), big, p0)
    p1 = np.where(pd.isna(d1), big, p1)
    before = ~pd.isna(d0) & (d0 < g[0].to_datetime64())
    p0 = np.where(before, -(10**6), p0)
    p1 = np.where(~pd.isna(d1) & (d1 < g[0].to_datetime64()), -(10**6), p1)
    return p0, p1, pd.DatetimeIndex(d0), pd.DatetimeIndex(d1)


def build_panel(
    events: Events,
    prices: Prices,
    symbols: list[str],
    cfg: StudyConfig,
    mask_events: Events,
    needs_benchmark: bool,
) -> Panel:
    """Assemble returns, day-0 alignment, confounding masks and pairs."""
    bench = prices[cfg.benchmark] if (needs_benchmark and cfg.benchmark) else None
    e_lo, e_hi = cfg.estimation
    w_lo, w_hi = cfg.window
    # a local calendar day contains one close of a market, two at most around
    # a daylight-saving change, so the earliest and latest possible day 0 are
    # at most two sessions apart
    max_ext = 2
    pad = max(abs(e_lo), abs(w_lo), abs(w_hi) + max_ext, abs(e_hi)) + 1
    markets: list[MarketReturns] = []
    pair_rows: list[pd.DataFrame] = []
    blocks_r: list[np.ndarray] = []
    blocks_b: list[np.ndarray] = []
    blocks_m: list[np.ndarray] = []
    blocks_d: list[np.ndarray] = []
    offsets: list[int] = []
    day0_pos: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    cursor = 0
    ids = events.table["event_id"].to_numpy()
    mid_index = {e: i for i, e in enumerate(mask_events.table["event_id"])}
    for mk, sym in enumerate(symbols):
        close = prices[sym]
        sess = market_sessions(sym, close, events, cfg.calendar)
        mr = market_returns(sym, close, sess, cfg.returns, bench, drop_gaps=cfg.gaps == "drop")
        markets.append(mr)
        n = len(mr.sessions.dates)
        # confounding mask from every event of this market in the mask set
        applies_m = mask_events.applies_to(sym)
        mev = Events(mask_events.table.loc[applies_m].reset_index(drop=True))
        mp0, mp1, _, _ = _positions(sess, mr.sessions, mev)
        diff = np.zeros(n + 1, dtype=np.int64)
        a, b = cfg.mask
        lo = np.clip(mp0 + a, 0, n)
        hi = np.clip(mp1 + b + 1, 0, n)
        ok = lo < hi
        np.add.at(diff, lo[ok], 1)
        np.add.at(diff, hi[ok], -1)
        masked = np.cumsum(diff[:n]) > 0
        midx = np.array([mid_index[e] for e in mev.table["event_id"]], dtype=np.int64)
        day0_pos[sym] = (midx, mp0, mp1)
        # pairs: events of the study that apply to this market
        applies = events.applies_to(sym)
        sub = Events(events.table.loc[applies].reset_index(drop=True))
        p0, p1, d0, d1 = _positions(sess, mr.sessions, sub)
        inside = (p0 >= 0) & (p0 < n)
        reason = np.where(
            inside,
            "",
            np.where(
                p0 < 0,
                f"day 0 is before the first price of {sym} ({mr.sessions.dates[0].date()})",
                f"day 0 is after the last price of {sym} ({mr.sessions.dates[-1].date()})",
            ),
        )
        ext = np.where(inside, np.clip(np.minimum(p1, n - 1) - p0, 0, max_ext), 0)
        base = np.where(inside, cursor + pad + p0, -1)
        pair_rows.append(
            pd.DataFrame(
                {
                    "event_id": ids[applies],
                    "symbol": sym,
                    "ev": np.flatnonzero(applies),
                    "mk": mk,
                    "day0": d0,
                    "day0_latest": d1,
                    "day0_uncertain": (d0 != d1) & ~pd.isna(d1),
                    "base": base,
                    "ext": ext.astype(np.int64),
                    "reason": reason,
                }
            )
        )
        nanpad = np.full(pad, np.nan)
        blocks_r += [nanpad, mr.ret, nanpad]
        blocks_b += [nanpad, mr.bench if mr.bench is not None else np.full(n, np.nan), nanpad]
        blocks_m += [np.zeros(pad, bool), masked, np.zeros(pad, bool)]
        natpad = np.full(pad, np.datetime64("NaT", "ns"))
        blocks_d += [natpad, mr.sessions.dates.to_numpy(), natpad]
        offsets.append(cursor + pad)
        cursor += n + 2 * pad
    pairs = pd.concat(pair_rows, ignore_index=True) if pair_rows else pd.DataFrame()
    return Panel(
        markets=markets,
        pairs=pairs,
        R=np.concatenate(blocks_r) if blocks_r else np.empty(0),
        B=np.concatenate(blocks_b) if blocks_b else np.empty(0),
        masked=np.concatenate(blocks_m) if blocks_m else np.empty(0, bool),
        dates=np.concatenate(blocks_d) if blocks_d else np.empty(0, "datetime64[ns]"),
        pad=pad,
        day0_pos=day0_pos,
        offsets=np.asarray(offsets, dtype=np.int64),
        max_ext=max_ext,
    )
