"""Yahoo's FX date convention and its correction (shared by the snapshot and Yahoo sources).

Yahoo's daily FX bars (symbols ending ``=X``) are stamped with the date of a
snapshot taken near 00:00 London time, so the bar dated *d* holds the
end-of-day rate of the previous business day (the yuan broke 7.0 during Asian
trading on Monday 2019-08-05, but ``CNY=X`` shows it on 08-06). Both price
sources move FX closes back one business day so that they line up with the
sessions of the same calendar date; the shift is recorded in the provenance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["is_fx", "fx_correct_dates"]


def is_fx(symbol: str) -> bool:
    """Whether ``symbol`` is a Yahoo FX pair (``EURUSD=X``, ``CNY=X``)."""
    return symbol.upper().endswith("=X")


def fx_correct_dates(closes: pd.Series) -> pd.Series:
    """Move Yahoo FX closes from snapshot dates to the business day they close.

    Parameters
    ----------
    closes : pandas.Series
        FX closes indexed by Yahoo's dates (tz-naive).

    Returns
    -------
    pandas.Series
        Weekend-dated rows dropped; each remaining date moved back one
        business day (Mon→Fri, Tue→Mon, …).
    """
    idx = pd.DatetimeIndex(closes.index)
    days = idx.to_numpy().astype("datetime64[D]")
    weekday = np.is_busday(days)
    prev = np.busday_offset(days[weekday], -1, roll="forward")
    out = pd.Series(
        closes.to_numpy()[weekday],
        index=pd.DatetimeIndex(prev.astype("datetime64[ns]")),
        name=closes.name,
    )
    out = out[~out.index.duplicated(keep="last")].sort_index()
    out.index.name = "date"
    return out
