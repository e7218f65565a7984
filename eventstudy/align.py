"""Day 0 of every event in every market, as a table (``eventstudy events align``)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .calendars import data_sessions, day0_bounds, exchange_sessions
from .events import Events
from .markets import get_market

__all__ = ["align_table"]


def align_table(events: Events, symbols: Sequence[str], calendar: str | None = None) -> pd.DataFrame:
    """Earliest and latest possible day 0 of each event in each market.

    Markets are aligned on their exchange calendar; a symbol without one
    (and without ``calendar``) is aligned on the bundled snapshot's dates when
    available.

    Returns
    -------
    DataFrame with ``event_id, symbol, calendar, day0, day0_latest, day0_uncertain``.
    """
    t = events.table
    frames = []
    for sym in symbols:
        mkt = get_market(sym)
        code = calendar or (mkt.calendar if mkt else None)
        if code is not None:
            sess = exchange_sessions(code, t["local_date"].min(), t["local_end"].max())
        else:
            from .sources import load_prices

            sess = data_sessions(load_prices([sym])[sym].index)
        applies = events.applies_to(sym)
        sub = t.loc[applies]
        e, l_ = day0_bounds(
            sess,
            pd.DatetimeIndex(sub["start_utc"]),
            pd.DatetimeIndex(sub["end_utc"]),
            pd.DatetimeIndex(sub["local_date"]),
            sub["date_only"].to_numpy(),
            (sub["timing"] == "interval").to_numpy(),
            pd.DatetimeIndex(sub["local_end"]),
        )
        n = len(sess.dates)

        dates = sess.dates

        def fmt(p: int, n: int = n, dates: pd.DatetimeIndex = dates) -> str:
            return str(dates[p].date()) if p < n else "—"

        frames.append(
            pd.DataFrame(
                {
                    "event_id": sub["event_id"].to_numpy(),
                    "symbol": sym,
                    "calendar": code or "own data dates",
                    "day0": [fmt(int(p)) for p in e],
                    "day0_latest": [fmt(int(p)) for p in l_],
                    "day0_uncertain": e != l_,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
