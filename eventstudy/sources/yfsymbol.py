"""One symbol of the Yahoo source: its date range served from the cache, fetching only the gaps.

:func:`load_symbol` holds the symbol's cache lock, reads (or repairs) the
cached closes, fetches the sessions the cache lacks (each gap extended by one
cached *anchor* row, and the whole cached range refetched when Yahoo's
adjusted value of the anchor changed), drops bars of sessions that have not
closed, writes the cache back, applies the FX date shift and builds the
series' provenance entry. The conventions are those of
:mod:`eventstudy.sources.yahoo`; the network call itself is passed in
(:func:`~eventstudy.sources.yfhistory.history`), so this module never touches
the network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import NetworkError, PricesError
from .cache import CacheCorruptError, PriceCache
from .fx import fx_correct_dates, is_fx
from .spans import Span, merge_spans, missing_spans
from .yfcalls import (
    ADJ_RTOL,
    ANCHOR_WINDOW,
    DAY,
    FX_NOTE,
    combine_closes,
    empty_closes,
    has_session,
    iso_day,
    session_cutoff,
    yfinance_version,
)

__all__ = ["HistoryFn", "Outcome", "load_symbol"]

#: ``history(symbol, first, last) -> (closes, dropped dates)``: one fetch of a date range.
HistoryFn = Callable[[str, pd.Timestamp, pd.Timestamp], tuple[pd.Series, list[str]]]


@dataclass
class Outcome:
    """One symbol's closes for the request, its provenance entry and whether Yahoo was asked."""

    closes: pd.Series
    info: dict[str, object]
    fetched: bool


def load_symbol(
    cache: PriceCache,
    sym: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    now: pd.Timestamp,
    *,
    history: HistoryFn,
    fx_shift: bool,
    offline: bool,
) -> Outcome:
    """Closes of ``sym`` for ``start`` … ``end`` from ``cache``, fetching its gaps with ``history``.

    Parameters
    ----------
    cache : PriceCache
        The Yahoo source's cache; the symbol's lock is held throughout.
    sym : str
        Yahoo symbol.
    start, end : pandas.Timestamp
        Dates wanted (inclusive, tz-naive midnights).
    now : pandas.Timestamp
        The current instant (UTC); decides which sessions have closed.
    history : callable
        ``history(sym, first, last) -> (closes, dropped)``, the network call
        (:func:`~eventstudy.sources.yfhistory.history`).
    fx_shift : bool
        Move FX dates back one business day.
    offline : bool
        Raise instead of calling ``history`` when the cache has a gap.

    Returns
    -------
    Outcome
        The closes (``float64``, index ``date``), the series' provenance and
        whether anything was fetched.

    Raises
    ------
    PricesError
        No prices in the range, or a gap while ``offline``.
    NetworkError
        A fetch failed (what was fetched before is still cached); the
        message says what the cache holds.
    """
    fx = fx_shift and is_fx(sym)
    if fx:  # Yahoo date y holds the close of business day y - 1
        ys = pd.Timestamp(np.busday_offset(start.date(), 1, roll="forward")).as_unit("ns")
        ye = pd.Timestamp(np.busday_offset(end.date(), 1, roll="backward")).as_unit("ns")
    else:
        ys, ye = start, end
    cutoff = session_cutoff(sym, now)
    last_final = min(ye, cutoff - DAY)
    info: dict[str, object] = {}
    with cache.locked(sym):
        try:
            entry = cache.read(sym)
        except CacheCorruptError as exc:
            info["cache_repaired"] = str(exc)
            cache.discard(sym)
            entry = None
        closes = entry.closes if entry is not None else empty_closes(sym)
        covered: tuple[Span, ...] = entry.covered if entry is not None else ()
        gaps = missing_spans((ys, last_final), covered) if ys <= last_final else []
        needed = [g for g in gaps if has_session(sym, *g)]
        if needed and offline:
            a, b = needed[0]
            raise PricesError(
                f"{sym}: the cache lacks {iso_day(a)}…{iso_day(b)} and the source is offline"
                + _cache_hint(sym, covered)
            )
        fetched: list[Span] = []
        dropped_late: list[str] = []
        dropped_bad: list[str] = []
        empty: list[Span] = []
        failure: NetworkError | None = None
        readjusted = False
        try:
            for a, b in needed:
                fa, fb = _anchor(closes, a, b)
                new, bad = history(sym, fa, fb)
                late = new.index >= cutoff
                dropped_late += [iso_day(d) for d in new.index[late]]
                dropped_bad += bad
                new = new[~late]
                common = new.index.intersection(closes.index)
                if len(common) and not np.allclose(
                    new[common].to_numpy(), closes[common].to_numpy(), rtol=ADJ_RTOL, atol=0.0
                ):
                    readjusted = True
                    break
                closes = combine_closes(closes, new)
                fetched.append((a, b))
                if ((new.index >= a) & (new.index <= b)).any():
                    covered = merge_spans([*covered, (a, b)])
                else:  # sessions expected but no rows: do not cache "no data"; ask again next time
                    empty.append((a, b))
            if readjusted:
                # Yahoo re-adjusted past closes (a dividend went ex): refetch everything.
                lo = min(ys, covered[0][0]) if covered else ys
                hi = min(max(last_final, covered[-1][1]) if covered else last_final, cutoff - DAY)
                new, bad = history(sym, lo, hi)
                late = new.index >= cutoff
                dropped_late += [iso_day(d) for d in new.index[late]]
                dropped_bad += bad
                closes, covered, fetched = new[~late], ((lo, hi),), [(lo, hi)]
        except NetworkError as exc:
            failure = exc
        if fetched or "cache_repaired" in info:
            meta = {"source": "yahoo", "auto_adjust": True, "yfinance": yfinance_version()}
            entry = cache.write(sym, closes, covered, meta)
        if failure is not None:
            raise NetworkError(str(failure) + _cache_hint(sym, covered)) from failure
    out = closes[(closes.index >= ys) & (closes.index <= last_final)]
    if fx:
        out = fx_correct_dates(out)
        out = out[(out.index >= start) & (out.index <= end)]
    out = out.astype("float64").rename(sym)
    out.index = pd.DatetimeIndex(out.index).as_unit("ns")
    out.index.name = "date"
    if len(out) == 0:
        if ys >= cutoff:
            why = f" (no session of {sym} in that range has closed yet)"
        elif empty:
            why = " (Yahoo returned no rows for it; check the dates)"
        else:
            why = f" (no trading session of {sym} in that range)"
        raise PricesError(
            f"Yahoo Finance has no prices for {sym} between {iso_day(start)} and {iso_day(end)}{why}"
        )
    info.update(
        {
            "rows": len(out),
            "first": iso_day(out.index[0]),
            "last": iso_day(out.index[-1]),
            "from_cache": not fetched,
            "fetched": [[iso_day(a), iso_day(b)] for a, b in fetched],
            "cache_file": str(cache.data_path(sym)),
            "cache_sha256": entry.sha256 if entry is not None else None,
            "covered": [[iso_day(a), iso_day(b)] for a, b in covered],
            "complete_through": iso_day(cutoff - DAY),
        }
    )
    if empty:
        info["empty"] = [[iso_day(a), iso_day(b)] for a, b in empty]
    if dropped_late:
        info["dropped_unclosed"] = dropped_late
    if dropped_bad:
        info["dropped_nonpositive"] = dropped_bad
    if readjusted:
        info["readjusted"] = "Yahoo changed adjusted past closes; the cached range was refetched"
    if fx:
        info["date_shift"] = FX_NOTE
    return Outcome(out, info, bool(fetched))


def _anchor(closes: pd.Series, a: pd.Timestamp, b: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Extend a gap by one adjacent cached row, to check Yahoo's adjustment."""
    if len(closes) == 0:
        return a, b
    idx = closes.index
    before = idx[(idx < a) & (idx >= a - ANCHOR_WINDOW)]
    if len(before):
        return pd.Timestamp(before[-1]), b
    after = idx[(idx > b) & (idx <= b + ANCHOR_WINDOW)]
    if len(after):
        return a, pd.Timestamp(after[0])
    return a, b


def _cache_hint(sym: str, covered: Sequence[Span]) -> str:
    if not covered:
        return f" (nothing cached for {sym})"
    spans = ", ".join(f"{iso_day(a)}…{iso_day(b)}" for a, b in covered)
    return f" (the cache has {sym} for {spans})"
