"""One event at a glance: how each market reacted to one announcement.

:func:`event_reaction` gathers, from a finished result's tables only, one
row per market of an event: day 0 (earliest and latest possible), the actual
return of day 0, its normal return, the abnormal return with its t (the
standardized AR) and, when the ``0:0`` window is that single day, its p, the
CAR of every window with t, p and the pair's own stars, and the other events
whose day 0 falls inside the main window. The report's event card, the
event × market table and ``eventstudy event ID`` all read it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..config import format_window
from ..errors import InputError
from ..markets import market_name

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = ["event_reaction", "event_reactions", "find_event"]


def find_event(res: StudyResult, query: str) -> str:
    """The ``event_id`` of ``res`` that ``query`` names (an id, a unique id prefix or title words).

    Raises
    ------
    InputError
        When nothing or more than one event matches (the message lists up to five candidates).
    """
    t = res.events.table
    ids = t["event_id"].astype(str).tolist()
    if query in ids:
        return query
    q = query.lower().split()
    hay = (t["event_id"].astype(str) + " " + t["title"].astype(str)).str.lower().tolist()
    hits = [i for i, h in zip(ids, hay, strict=True) if all(w in h for w in q)] if q else []
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise InputError(f"event: no event matches '{query}'; see `eventstudy events list`")
    more = ", …" if len(hits) > 5 else ""
    raise InputError(
        f"event: '{query}' matches {len(hits)} events ({', '.join(hits[:5])}{more}); give the event_id"
    )


def event_reactions(res: StudyResult) -> pd.DataFrame:
    """Every included pair's reaction, one row per event × market (see :func:`event_reaction`)."""
    cfg = res.config
    windows = [format_window(w) for w in cfg.car_windows]
    car = res.car_table
    keys = ["event_id", "symbol"]
    if car.empty:
        return pd.DataFrame(columns=[*keys, "market"])
    base = car[car["window"] == windows[0]][
        [*keys, "day0", "day0_latest", "day0_uncertain", "overlaps", "n_est"]
    ].copy()
    ar = res.abnormal_returns_table
    if len(ar) and "rel_day" in ar.columns:
        d0 = ar[ar["rel_day"] == 0][[*keys, "return", "normal_return", "ar", "sar"]]
        base = base.merge(d0.rename(columns={"sar": "ar_t"}), on=keys, how="left")
    else:
        for c in ("return", "normal_return", "ar", "ar_t"):
            base[c] = np.nan
    base["ar_p"] = np.nan
    for w in windows:
        sub = car[car["window"] == w][[*keys, "car", "t_stat", "p_value", "days", "extended_by"]]
        sub = sub.rename(
            columns={
                "car": f"car {w}",
                "t_stat": f"t {w}",
                "p_value": f"p {w}",
                "days": f"days {w}",
                "extended_by": f"extended_by {w}",
            }
        )
        base = base.merge(sub, on=keys, how="left")
    if "0:0" in windows:
        single = base["extended_by 0:0"].fillna(0) == 0
        base.loc[single, "ar_p"] = base.loc[single, "p 0:0"]
    base.insert(2, "market", [market_name(str(s)) for s in base["symbol"]])
    order = {s: i for i, s in enumerate(res.symbols)}
    base["_o"] = [order.get(str(s), len(order)) for s in base["symbol"]]
    ev_order = {e: i for i, e in enumerate(res.events.table["event_id"].astype(str))}
    base["_e"] = [ev_order.get(str(e), len(ev_order)) for e in base["event_id"]]
    base = base.sort_values(["_e", "_o"], kind="stable").drop(columns=["_o", "_e"])
    base["overlaps"] = base["overlaps"].fillna("").astype(str)
    return base.reset_index(drop=True)


def event_reaction(res: StudyResult, event_id: str) -> pd.DataFrame:
    """How each market reacted to one event: one row per studied market, in the study's order.

    Parameters
    ----------
    res : StudyResult
    event_id : str
        An ``event_id`` of the study (or words that name one event, see :func:`find_event`).

    Returns
    -------
    pandas.DataFrame
        ``event_id, symbol, market, day0, day0_latest, day0_uncertain, overlaps, n_est,
        return, normal_return, ar, ar_t, ar_p`` and per CAR window ``w``: ``car w``,
        ``t w``, ``p w``, ``days w``, ``extended_by w``. ``return`` is the actual
        return of day 0; ``ar_t`` is the standardized AR (its t statistic);
        ``ar_p`` is the p of window ``0:0`` where that window is day 0 alone
        (missing where the hour is uncertain and the window was extended).
        A market without a price on day 0 has no ``return`` or ``ar``.
        Returns and CARs are fractions. Excluded pairs are absent.

    Raises
    ------
    InputError
        When ``event_id`` names no event of the study.
    """
    eid = find_event(res, event_id)
    t = event_reactions(res)
    return t[t["event_id"] == eid].reset_index(drop=True)


def event_facts(res: StudyResult, event_id: str) -> dict[str, Any]:
    """The event's own fields (title, timestamp, tz, category, direction, source, notes, timing)."""
    t = res.events.table
    row = t[t["event_id"].astype(str) == event_id]
    if row.empty:
        raise InputError(f"event: no event '{event_id}' in this study")
    r = row.iloc[0].to_dict()
    keep = ("event_id", "title", "timestamp", "tz", "category", "direction", "source", "notes", "timing")
    return {k: ("" if pd.isna(r.get(k)) else r.get(k)) for k in keep if k in r}


def day0_returns(res: StudyResult) -> dict[tuple[str, str], tuple[float, float]]:
    """``(event_id, symbol) → (actual return, AR)`` of day 0 (empty without an abnormal-returns table)."""
    ar = res.abnormal_returns_table
    if not len(ar) or "rel_day" not in ar.columns:
        return {}
    d0 = ar[ar["rel_day"] == 0]
    return {
        (str(e), str(s)): (float(r), float(a))
        for e, s, r, a in zip(d0["event_id"], d0["symbol"], d0["return"], d0["ar"], strict=True)
    }
