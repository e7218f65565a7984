"""Event×market panel: returns on session grids, day 0 per pair, masks, windows.

All markets' returns are laid end to end in one long array (each market padded
with NaN on both sides), so that every pair's estimation and event windows are
plain integer index matrices ``base + offsets`` — the whole study is gathered
with one fancy-indexing operation per array, without a loop over pairs.
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
    symbols: np.ndarray

    @classmethod
    def of(cls, ev: Events) -> _EventArrays:
        t = ev.table
        from .calendars import _ns

        return cls(
            ids=t["event_id"].to_numpy(dtype=object),
            start=_ns(t["start_utc"]),
            end=_ns(t["end_utc"]),
            local=_ns(t["local_date"]),
            date_only=t["date_only"].to_numpy(dtype=bool),
            symbols=t["symbols"].to_numpy(dtype=object),
        )

    def applies_to(self, symbol: str) -> np.ndarray:
        """Which events apply to ``symbol`` (an empty ``symbols`` field means all)."""
        restricted = self.symbols != ""
        out = ~restricted
        if restricted.any():
            out = out.copy()
            out[restricted] = [symbol in str(s).split() for s in self.symbols[restricted]]
        return out


_FAR = 10**9  # a position outside any grid


def _positions(
    sess: Sessions, lo: int, n: int, ev: _EventArrays, sel: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid positions and dates of the earliest and latest day 0 of the events ``sel``.

    The grid is ``sess.dates[lo:lo + n]`` (sessions from the first to the last
    price). Positions before the grid are −_FAR, after it +_FAR (no session).
    """
    e_full, l_full = day0_bounds(sess, ev.start[sel], ev.end[sel], ev.local[sel], ev.date_only[sel])
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
    study_ev = _EventArrays.of(events)
    mask_ev = _EventArrays.of(mask_events)
    markets: list[MarketReturns] = []
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("ev", "mk", "d0", "d1", "base", "ext", "reason")}
    blocks_r: list[np.ndarray] = []
    blocks_b: list[np.ndarray] = []
    blocks_m: list[np.ndarray] = []
    blocks_d: list[np.ndarray] = []
    offsets: list[int] = []
    day0_pos: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    cursor = 0
    nanpad = np.full(pad, np.nan)
    falsepad = np.zeros(pad, bool)
    natpad = np.full(pad, np.datetime64("NaT", "ns"))
    a, b = cfg.mask
    for mk, sym in enumerate(symbols):
        close = prices[sym]
        sess = market_sessions(sym, close, events, cfg.calendar)
        mr = market_returns(sym, close, sess, cfg.returns, bench, drop_gaps=cfg.gaps == "drop")
        markets.append(mr)
        n = len(mr.sessions.dates)
        lo = sess.bounds(close.index[0], close.index[-1])[0]
        # confounding mask from every event of this market in the mask set
        msel = mask_ev.applies_to(sym)
        mp0, mp1, _, _ = _positions(sess, lo, n, mask_ev, msel)
        diff = np.zeros(n + 1, dtype=np.int64)
        mlo = np.clip(mp0 + a, 0, n)
        mhi = np.clip(mp1 + b + 1, 0, n)
        ok = mlo < mhi
        np.add.at(diff, mlo[ok], 1)
        np.add.at(diff, mhi[ok], -1)
        masked = np.cumsum(diff[:n]) > 0
        day0_pos[sym] = (np.flatnonzero(msel), mp0, mp1)
        # pairs: events of the study that apply to this market
        sel = study_ev.applies_to(sym)
        p0, p1, d0, d1 = _positions(sess, lo, n, study_ev, sel)
        inside = (p0 >= 0) & (p0 < n)
        first, last = mr.sessions.dates[0].date(), mr.sessions.dates[-1].date()
        reason = np.where(
            inside,
            "",
            np.where(
                p0 < 0,
                f"day 0 is before the first price of {sym} ({first})",
                f"day 0 is after the last price of {sym} ({last})",
            ),
        ).astype(object)
        cols["ev"].append(np.flatnonzero(sel))
        cols["mk"].append(np.full(int(sel.sum()), mk))
        cols["d0"].append(d0)
        cols["d1"].append(d1)
        cols["base"].append(np.where(inside, cursor + pad + p0, -1))
        cols["ext"].append(np.where(inside, np.clip(np.minimum(p1, n - 1) - p0, 0, max_ext), 0))
        cols["reason"].append(reason)
        blocks_r += [nanpad, mr.ret, nanpad]
        blocks_b += [nanpad, mr.bench if mr.bench is not None else np.full(n, np.nan), nanpad]
        blocks_m += [falsepad, masked, falsepad]
        blocks_d += [natpad, mr.sessions.dates.to_numpy(), natpad]
        offsets.append(cursor + pad)
        cursor += n + 2 * pad
    cat = {k: (np.concatenate(v) if v else np.empty(0)) for k, v in cols.items()}
    ev_idx = cat["ev"].astype(np.int64)
    d0 = pd.DatetimeIndex(cat["d0"].astype("datetime64[ns]"))
    d1 = pd.DatetimeIndex(cat["d1"].astype("datetime64[ns]"))
    pairs = pd.DataFrame(
        {
            "event_id": study_ev.ids[ev_idx],
            "symbol": np.asarray(symbols, dtype=object)[cat["mk"].astype(np.int64)]
            if len(ev_idx)
            else np.empty(0, dtype=object),
            "ev": ev_idx,
            "mk": cat["mk"].astype(np.int64),
            "day0": d0,
            "day0_latest": d1,
            "day0_uncertain": np.asarray((d0 != d1) & ~d1.isna()),
            "base": cat["base"].astype(np.int64),
            "ext": cat["ext"].astype(np.int64),
            "reason": cat["reason"].astype(object),
        }
    )
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
