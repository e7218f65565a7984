"""Event-dummy regressions of several markets at once, stacked into tidy tables."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .dummies import (
    CAR_COLUMNS,
    DAY_COLUMNS,
    MARKET_COLUMNS,
    CovType,
    as_dates,
    check_options,
    fit_dummies,
    sample,
)
from .dummydesign import DummyDesign, shared_design
from .dummyfit import DummyFit

__all__ = ["EventDummyPanel", "event_dummy_regressions"]


@dataclass(frozen=True, eq=False)
class EventDummyPanel:
    """Event-dummy regressions of several markets, stacked (immutable).

    Attributes
    ----------
    days : DataFrame
        ``symbol`` + :data:`DAY_COLUMNS`.
    cars : DataFrame
        ``symbol`` + :data:`CAR_COLUMNS`.
    markets : DataFrame
        :data:`MARKET_COLUMNS`: one row per market.
    """

    days: pd.DataFrame = field(repr=False)
    cars: pd.DataFrame = field(repr=False)
    markets: pd.DataFrame = field(repr=False)


def event_dummy_regressions(
    returns: Mapping[str, pd.Series],
    windows: pd.DataFrame,
    benchmark: pd.Series | Mapping[str, pd.Series] | None = None,
    maxlags: int | None = None,
    cov_type: CovType = "hac",
) -> EventDummyPanel:
    """:func:`event_dummy_regression` for every market of a window table.

    Parameters
    ----------
    returns : mapping symbol → Series
        Each market's returns indexed by date.
    windows : DataFrame
        ``event_id, symbol, date``: the dates of each pair's CAR window, e.g.
        the rows of ``StudyResult.abnormal_returns`` whose ``rel_day`` lies in
        the window.
    benchmark : Series or mapping symbol → Series, optional
        The benchmark returns, one series for every market or one per market
        (e.g. measured over each market's own return intervals).
    maxlags, cov_type
        As in :func:`event_dummy_regression`.

    Returns
    -------
    EventDummyPanel
    """
    missing = [c for c in ("event_id", "symbol", "date") if c not in windows.columns]
    if missing:
        raise InputError(f"windows: missing column(s) {', '.join(missing)}")
    unknown = sorted(set(windows["symbol"]) - set(returns))
    if unknown:
        raise InputError(f"returns: no series for symbol(s) {', '.join(map(str, unknown))}")
    check_options(cov_type, maxlags)
    fits: list[tuple[object, DummyFit]] = []
    designs: dict[tuple[Any, ...], DummyDesign] = {}  # markets on the same dates and benchmark share one
    for sym, ids, flat, bounds in _market_events(windows):
        bench = benchmark.get(str(sym)) if isinstance(benchmark, Mapping) else benchmark
        dates, y, b = sample(returns[str(sym)], bench)
        fit = fit_dummies(y, shared_design(designs, dates, b, ids, flat, bounds, maxlags, cov_type))
        fits.append((sym, fit))
    return EventDummyPanel(
        days=_stacked([(s, f.day_columns()) for s, f in fits], DAY_COLUMNS, object_ids=False),
        cars=_stacked([(s, f.car_columns()) for s, f in fits], CAR_COLUMNS, object_ids=True),
        markets=pd.DataFrame([f.market_row(s) for s, f in fits], columns=MARKET_COLUMNS),
    )


def _market_events(windows: pd.DataFrame) -> Iterator[tuple[Any, list[str], pd.DatetimeIndex, np.ndarray]]:
    """``(symbol, ids, dates, bounds)`` of each market of ``windows``, as ``groupby("symbol")`` meets them.

    ``ids``: the market's event ids in order of first appearance among its
    rows (a missing id is no event); ``dates``: their window dates
    (:func:`~eventstudy.analysis.dummies.as_dates`), event after event, each
    event's in row order; ``bounds``: where each event's dates start, and
    their end. A date column of numpy dates is read once for all markets
    (one factorize of the symbols and of the ids, one stable sort of the
    rows); any other goes market by market.
    """
    if not (isinstance(windows["date"].dtype, np.dtype) and windows["date"].dtype.kind == "M"):
        for sym, g in windows.groupby("symbol", sort=False):
            codes, names = pd.factorize(g["event_id"], sort=False)
            dates_of = g["date"].to_numpy()[codes >= 0]  # a missing event id is no event (as groupby)
            codes = codes[codes >= 0]
            by_event = dates_of[np.argsort(codes, kind="stable")]
            bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(names)))])
            yield sym, [str(eid) for eid in names], as_dates(by_event), bounds
        return
    sym, syms = pd.factorize(windows["symbol"], sort=False)  # groupby's order; a missing symbol is none
    ev, evs = pd.factorize(windows["event_id"], sort=False)
    rows = np.flatnonzero((sym >= 0) & (ev >= 0))
    rows = rows[np.argsort(sym[rows], kind="stable")]  # market after market, each in row order
    pair = sym[rows].astype(np.int64) * max(len(evs), 1) + ev[rows]
    uniq, first = np.unique(pair, return_index=True)
    at = first[np.searchsorted(uniq, pair)]  # where each row's (market, event) first appears
    order = np.argsort(at, kind="stable")  # market, then event by first appearance, then row order
    rows, at = rows[order], at[order]
    starts = np.flatnonzero(np.r_[True, at[1:] != at[:-1]]) if len(rows) else np.empty(0, np.int64)
    ends = np.r_[starts[1:], len(rows)]
    pair_sym = sym[rows[starts]]
    ids = [str(eid) for eid in evs[ev[rows[starts]]]]
    dates = as_dates(windows["date"].to_numpy()[rows])
    lo = np.searchsorted(pair_sym, np.arange(len(syms)))
    hi = np.searchsorted(pair_sym, np.arange(len(syms)), side="right")
    for k, name in enumerate(syms):
        d0 = int(starts[lo[k]]) if hi[k] > lo[k] else 0
        bounds = np.r_[0, ends[lo[k] : hi[k]] - d0].astype(np.int64)
        yield name, ids[lo[k] : hi[k]], dates[d0 : d0 + int(bounds[-1])], bounds


def _stacked(
    parts: list[tuple[object, dict[str, Any]]], columns: list[str], object_ids: bool
) -> pd.DataFrame:
    """One table of every market's columns laid end to end, ``symbol`` first.

    The same table as a frame per market with its symbol inserted, then
    concatenated (its text columns inferred once): ``event_id`` of dtype
    object with ``object_ids`` (the CAR table's), else inferred.
    """
    if not parts:
        return pd.DataFrame(columns=["symbol", *columns])
    sizes = [len(cols["event_id"]) for _, cols in parts]
    out: dict[str, Any] = {"symbol": [s for (s, _), n in zip(parts, sizes, strict=True) for _ in range(n)]}
    for c in columns:
        vals = [cols[c] for _, cols in parts]
        if c == "event_id":
            ids = [v for part in vals for v in part]
            out[c] = pd.Series(ids, dtype=object) if object_ids else np.array(ids, dtype=object)
        elif c in ("shared_with", "note"):
            out[c] = [v for part in vals for v in part]
        elif c == "date":
            out[c] = pd.DatetimeIndex(np.concatenate([np.asarray(v) for v in vals])) if vals else vals
        else:
            out[c] = np.concatenate(vals)
    return pd.DataFrame(out)
