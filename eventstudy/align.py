"""Day 0 of every event in every market, as a table (``eventstudy events align``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from .calendars import data_sessions, day0_bounds, exchange_sessions
from .events import Events
from .markets import CalendarSpec, calendar_for, parse_calendars

__all__ = ["NAMED_SYMBOLS", "align_table", "calendar_notes"]

#: Symbols without a calendar warned about one by one; more are named in one warning.
NAMED_SYMBOLS = 5


def calendar_notes(
    events: Events, symbols: Sequence[str], calendar: CalendarSpec | None
) -> tuple[list[str], list[str]]:
    """Notes and warnings on the calendars chosen for ``symbols``.

    Returns
    -------
    notes : list of str
        One per symbol whose calendar comes from an alias of a registry index.
    warnings : list of str
        One per symbol without a calendar that has events with a time (an
        instant or an interval): without closing times their hour is ignored.
        Beyond :data:`NAMED_SYMBOLS` such symbols, one warning for all of them
        (their number, the first few, and how to give them a calendar).
    """
    notes: list[str] = []
    missing: list[tuple[str, int]] = []  # symbols without a calendar, and their timed events
    timed = (events.table["timing"] != "date").to_numpy()
    for sym in symbols:
        choice = calendar_for(sym, calendar)
        if choice.note:
            notes.append(choice.note)
        if choice.code is None and timed.any():
            n = int((events.applies_to(sym) & timed).sum())
            if n:
                missing.append((sym, n))
    if len(missing) > NAMED_SYMBOLS:  # a universe of stocks: one warning, not one per stock
        names = ", ".join(s for s, _ in missing[:NAMED_SYMBOLS])
        total = sum(n for _, n in missing)
        return notes, [
            f"{len(missing)} symbols have no exchange calendar ({names} and {len(missing) - NAMED_SYMBOLS} "
            f"more), so the hour of their {total} event(s) with a time is ignored: day 0 is the first "
            "date of each one's own data on or after the event's date; pass --calendar MIC (e.g. XNYS) "
            "for all of them, or --calendar SYMBOL=MIC for each, to align them on closing times"
        ]
    warnings = [
        f"{sym} has no exchange calendar, so the hour of its {n} event(s) with a time is "
        "ignored: day 0 is the first date of its own data on or after the event's date; "
        f"pass --calendar {sym}=MIC (e.g. XHKG, XETR, XNYS) to align it on closing times"
        for sym, n in missing
    ]
    return notes, warnings


def align_table(
    events: Events,
    symbols: Sequence[str],
    calendar: str | Sequence[str] | Mapping[str, str] | CalendarSpec | None = None,
) -> pd.DataFrame:
    """Earliest and latest possible day 0 of each event in each market.

    Markets are aligned on their exchange calendar, chosen by
    :func:`~eventstudy.markets.calendar_for` under ``calendar`` (parsed as
    ``--calendar``); a symbol without one is aligned on the bundled
    snapshot's dates when available.

    Returns
    -------
    DataFrame with ``event_id, symbol, calendar, day0, day0_latest, day0_uncertain``.
    """
    t = events.table
    spec = parse_calendars(calendar)
    frames = []
    for sym in symbols:
        code = calendar_for(sym, spec).code
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
