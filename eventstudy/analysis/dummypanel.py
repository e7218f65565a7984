"""Event-dummy regressions of several markets at once, stacked into tidy tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from .dummies import CAR_COLUMNS, DAY_COLUMNS, MARKET_COLUMNS, CovType, event_dummy_regression

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
    days, cars, markets = [], [], []
    for sym, g in windows.groupby("symbol", sort=False):
        # each event's dates, in order of first appearance (one factorize, not a groupby per event)
        codes, names = pd.factorize(g["event_id"], sort=False)
        dates_of = g["date"].to_numpy()[codes >= 0]  # a missing event id is no event (as groupby)
        codes = codes[codes >= 0]
        by_event = dates_of[np.argsort(codes, kind="stable")]
        parts = np.split(by_event, np.cumsum(np.bincount(codes, minlength=len(names)))[:-1])
        evs = [(str(eid), list(ds)) for eid, ds in zip(names, parts, strict=True)]
        bench = benchmark.get(str(sym)) if isinstance(benchmark, Mapping) else benchmark
        r = event_dummy_regression(returns[str(sym)], evs, bench, maxlags, cov_type)
        d = r.days
        d.insert(0, "symbol", sym)
        c = r.cars
        c.insert(0, "symbol", sym)
        days.append(d)
        cars.append(c)
        markets.append(
            [
                sym,
                r.alpha,
                r.beta,
                r.n_obs,
                r.n_estimation,
                r.n_dummies,
                r.maxlags,
                r.df,
                r.sigma,
                r.cov_type,
                r.note,
            ]
        )
    return EventDummyPanel(
        days=pd.concat(days, ignore_index=True) if days else pd.DataFrame(columns=["symbol", *DAY_COLUMNS]),
        cars=pd.concat(cars, ignore_index=True) if cars else pd.DataFrame(columns=["symbol", *CAR_COLUMNS]),
        markets=pd.DataFrame(markets, columns=MARKET_COLUMNS),
    )
