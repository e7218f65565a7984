"""Prices → returns on each market's session grid.

Returns are close-to-close, ``simple`` (P_t / P_{t-1} − 1) or ``log``
(ln P_t − ln P_{t-1}), computed between consecutive price rows and placed on
the market's session grid. A session without a price row gets no return, and
the next return then spans two sessions (it is kept and reported, never
silently treated as one day). Price rows dated on a non-session of the
market's calendar are set aside (not used) and reported too.

The benchmark return of the market model is measured over exactly the same
interval as the market's own return: benchmark levels are taken as of each
market price date (last benchmark close on or before it), so the two returns
cover identical calendar spans even when the benchmark's exchange has other
holidays.

A benchmark on another clock (New York against Hong Kong or Europe) closes
after the market on the same date, so part of its same-date return is earned
after the market's close. ``align_dates(..., shifts=...)`` also gives the
benchmark returns shifted by whole benchmark sessions: shift ``s`` takes the
benchmark level ``s`` benchmark sessions before the last one on or before each
market date (``s = 1`` is the return over the benchmark sessions that closed
before the market's session, when the benchmark closes later the same day;
``s = −1`` a lead). Every shifted return still spans as many benchmark sessions
as the market's return spans market sessions (Dimson 1979; formula sheet §6.1).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .calendars import Sessions

__all__ = [
    "Alignment",
    "MarketReturns",
    "ReturnFrames",
    "ReturnKind",
    "align_dates",
    "aligned_returns",
    "aligned_returns_into",
    "interval_returns",
    "market_returns",
]

ReturnKind = Literal["simple", "log"]


def interval_returns(levels: np.ndarray, kind: ReturnKind) -> np.ndarray:
    """Returns between consecutive entries of ``levels`` (first is NaN).

    ``levels`` may be a matrix: the returns along each row (the same
    element-wise operations, so the same numbers as row by row).
    """
    out = np.full(levels.shape, np.nan)
    if levels.shape[-1] > 1:
        if kind == "log":
            out[..., 1:] = np.diff(np.log(levels), axis=-1)
        else:
            out[..., 1:] = levels[..., 1:] / levels[..., :-1] - 1.0
    return out


@dataclass(frozen=True, eq=False)
class MarketReturns:
    """One market's returns on its session grid.

    Attributes
    ----------
    symbol : str
    sessions : Sessions
        The grid (calendar sessions from the first to the last price row).
    ret : ndarray
        Return per session (NaN when no price that session, and on the first).
    bench : ndarray or None
        Benchmark return over the same interval, per session.
    span : ndarray of int
        Number of sessions each return spans (1 normally, 2+ after a gap).
    off_session : list of str
        Dates of price rows that are not sessions of the calendar (set aside).
    """

    symbol: str
    sessions: Sessions
    ret: np.ndarray
    bench: np.ndarray | None
    span: np.ndarray
    off_session: list[str]


class ReturnFrames(Mapping[str, pd.DataFrame]):
    """Per market, its returns as a DataFrame (``ret``, ``bench``; index: its sessions).

    A read-only mapping that builds each market's frame on first access, so a
    study of a thousand securities does not build a thousand frames that
    nobody reads (``StudyResult.market_returns``).
    """

    def __init__(self, markets: Sequence[MarketReturns]) -> None:
        self._markets = {m.symbol: m for m in markets}
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, symbol: str) -> pd.DataFrame:
        hit = self._frames.get(symbol)
        if hit is None:
            m = self._markets[symbol]
            hit = pd.DataFrame(
                {"ret": m.ret, "bench": m.bench if m.bench is not None else np.nan},
                index=m.sessions.dates,
            )
            self._frames[symbol] = hit
        return hit

    def series(self, name: Literal["ret", "bench"]) -> dict[str, pd.Series]:
        """Every market's column ``name`` as a Series, without building the frames not yet built."""
        out: dict[str, pd.Series] = {}
        for symbol, m in self._markets.items():
            hit = self._frames.get(symbol)
            if hit is not None:
                out[symbol] = hit[name]
                continue
            values = m.ret if name == "ret" else m.bench
            if values is None:
                values = np.full(len(m.ret), np.nan)
            out[symbol] = pd.Series(values, index=m.sessions.dates, name=name)
        return out

    def __iter__(self) -> Iterator[str]:
        return iter(self._markets)

    def __len__(self) -> int:
        return len(self._markets)

    def __repr__(self) -> str:
        return f"ReturnFrames({list(self._markets)})"


@dataclass(frozen=True, eq=False)
class Alignment:
    """Where a price series' rows fall on its market's session grid.

    Depends only on the series' dates, the sessions and the benchmark, so
    series with equal dates share one alignment (see
    :func:`eventstudy.panel.build_panel`). Arrays are shared and must not be
    modified.

    Attributes
    ----------
    grid : Sessions
        Sessions from the first to the last price row.
    on : ndarray of bool
        Price rows dated on a session.
    pos : ndarray of int
        Grid position of each such row.
    all_on : bool
        Every price row is on a session (``on`` selects everything).
    span : ndarray of int
        Sessions spanned by the return ending at each grid position.
    off_session : list of str
        Dates of the rows that are not sessions.
    bench : ndarray or None
        Benchmark return over the same intervals, per session.
    shifted : dict of int to ndarray
        Benchmark returns shifted by whole benchmark sessions (see the module
        docstring), per requested shift; shift 0 is ``bench``.
    """

    grid: Sessions
    on: np.ndarray
    pos: np.ndarray
    all_on: bool
    span: np.ndarray
    off_session: list[str]
    bench: np.ndarray | None
    shifted: dict[int, np.ndarray] = field(default_factory=dict)


def align_dates(
    index: pd.DatetimeIndex,
    sessions: Sessions,
    kind: ReturnKind,
    bench_close: pd.Series | None = None,
    shifts: tuple[int, ...] = (),
) -> Alignment:
    """Place the price dates ``index`` on ``sessions`` (see :class:`Alignment`).

    ``shifts`` asks for benchmark returns shifted by that many benchmark
    sessions (positive: lags; see the module docstring).
    """
    cidx = index.as_unit("ns")
    cns = np.asarray(cidx.asi8)
    if sessions.closes is None and np.array_equal(sessions.dates_ns, cns):
        # the sessions are the series' own dates (no calendar): every row is its own session
        grid, n = sessions, len(cns)
        on, pos, off = np.ones(n, dtype=bool), np.arange(n), []
    else:
        lo, hi = sessions.bounds(cidx[0], cidx[-1])
        grid = Sessions(
            sessions.code,
            sessions.dates[lo:hi],
            None if sessions.closes is None else sessions.closes[lo:hi],
        )
        gns = sessions.dates_ns[lo:hi]
        n = len(gns)
        where = np.searchsorted(gns, cns)
        on = (where < n) & (gns[np.minimum(where, n - 1)] == cns)
        off = [str(d.date()) for d in cidx[~on]]
        pos = where[on]
    span = np.zeros(n, dtype=np.int64)
    if len(pos) > 1:
        span[pos[1:]] = np.diff(pos)
    bench = None
    shifted: dict[int, np.ndarray] = {}
    if bench_close is not None:
        b = bench_close.to_numpy(dtype="float64")
        bns = np.asarray(bench_close.index.as_unit("ns").asi8)
        last = np.searchsorted(bns, cns[on], side="right") - 1
        stale = cns[on] > bns[-1]  # no stale levels past its data
        for s in dict.fromkeys((0, *shifts)):
            bi = last - s
            lv = np.where((bi >= 0) & (bi < len(b)), b[np.clip(bi, 0, len(b) - 1)], np.nan)
            lv[stale] = np.nan
            out = np.full(n, np.nan)
            out[pos] = interval_returns(lv, kind)
            shifted[s] = out
        bench = shifted[0]
    return Alignment(grid, on, pos, bool(on.all()), span, off, bench, shifted)


def aligned_returns(
    symbol: str,
    close: pd.Series,
    al: Alignment,
    kind: ReturnKind,
    drop_gaps: bool = False,
    out: np.ndarray | None = None,
) -> MarketReturns:
    """``symbol``'s returns on the grid of ``al`` (the alignment of ``close``'s dates).

    ``out``, when given, is a float64 array as long as the grid (e.g. a slice
    of a larger array) that receives the returns and becomes ``ret``.
    """
    n = len(al.span)
    if out is None:
        ret = np.full(n, np.nan)
    else:
        if out.shape != (n,):
            raise ValueError(f"out: expected shape ({n},), got {out.shape}")
        ret = out
        ret.fill(np.nan)
    return aligned_returns_into([symbol], [close], al, kind, drop_gaps, ret, np.zeros(1, dtype=np.int64))[0]


#: Series whose levels are stacked into one matrix at a time (:func:`aligned_returns_into`).
_SERIES_BLOCK = 256


def aligned_returns_into(
    symbols: Sequence[str],
    closes: Sequence[pd.Series],
    al: Alignment,
    kind: ReturnKind,
    drop_gaps: bool,
    out: np.ndarray,
    offsets: np.ndarray,
) -> list[MarketReturns]:
    """:func:`aligned_returns` of several series sharing the alignment ``al``, written into ``out``.

    Series ``j``'s returns go to ``out[offsets[j] : offsets[j] + n]`` (``n`` the
    grid's length; that slice becomes its ``ret``), which must hold NaN
    beforehand (the cells without a price row are not written). The levels
    of :data:`_SERIES_BLOCK` series at a time are stacked and their returns
    computed row-wise (the same element-wise operations as series by series,
    so the same numbers).
    """
    n = len(al.span)
    pos = np.asarray(al.pos, dtype=np.int64)
    gaps = np.flatnonzero(al.span > 1) if drop_gaps else np.empty(0, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.int64)
    for lo in range(0, len(closes), _SERIES_BLOCK):
        part = closes[lo : lo + _SERIES_BLOCK]
        levels = np.empty((len(part), len(part[0]) if len(part) else 0))
        for j, close in enumerate(part):
            levels[j] = close.to_numpy(dtype="float64")
        if not al.all_on:
            levels = levels[:, al.on]
        at = offsets[lo : lo + len(part), None]
        out[at + pos[None, :]] = interval_returns(levels, kind)
        if len(gaps):
            out[at + gaps[None, :]] = np.nan
    return [
        MarketReturns(sym, al.grid, out[o : o + n], al.bench, al.span, list(al.off_session))
        for sym, o in zip(symbols, offsets.tolist(), strict=True)
    ]


def market_returns(
    symbol: str,
    close: pd.Series,
    sessions: Sessions,
    kind: ReturnKind,
    bench_close: pd.Series | None = None,
    drop_gaps: bool = False,
) -> MarketReturns:
    """Compute ``symbol``'s returns on ``sessions`` (see module docstring).

    With ``drop_gaps`` a return spanning several sessions is set to NaN (the
    span is still recorded in ``span`` for the data-quality report).
    """
    al = align_dates(close.index, sessions, kind, bench_close)
    return aligned_returns(symbol, close, al, kind, drop_gaps)
