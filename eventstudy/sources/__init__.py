"""Price sources behind one interface, and :func:`load_prices`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, get_args

import pandas as pd

from ..errors import InputError, PricesError
from .base import Prices, PriceSource
from .csvfile import CsvSource, read_price_file
from .snapshot import SnapshotSource
from .vendor import combine_prices
from .yahoo import YahooSource, cache_clear, cache_info

__all__ = [
    "CsvSource",
    "PriceSource",
    "Prices",
    "SnapshotSource",
    "YahooSource",
    "cache_info",
    "cache_clear",
    "SourceName",
    "load_prices",
    "read_price_file",
]

SourceName = Literal["snapshot", "csv", "yahoo"]


def load_prices(
    symbols: Sequence[str] | None = None,
    source: SourceName = "snapshot",
    path: str | Path | Sequence[str | Path] | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    cache_dir: str | Path | None = None,
    lenient: bool = False,
) -> Prices:
    """Load daily closes.

    Parameters
    ----------
    symbols : sequence of str, optional
        Symbols to load; all available when omitted.
    source : {"snapshot", "csv", "yahoo"}
        ``snapshot``: the bundled offline data. ``csv``: a user's file given
        by ``path`` (wide ``date,SYM1,…`` or long ``date,symbol,close``;
        parquet too). ``yahoo``: Yahoo Finance through yfinance, behind the
        toolkit's own on-disk cache (``cache_dir``, ``$EVENTSTUDY_CACHE`` or
        the user cache folder); a range the cache covers needs no network.
    path : str, Path or sequence of them, optional
        The file, for ``source="csv"``; several files are combined (each
        symbol from one file). A single-series vendor file (Yahoo's
        ``Date,Open,High,Low,Close,Adj Close,Volume`` export, or
        ``Date,Close``) is named by its file name; see :mod:`.vendor`.
    start, end : date-like, optional
        Date range; required ``start`` for ``yahoo`` (``end`` defaults to today).
    cache_dir : str or Path, optional
        Cache folder of the ``yahoo`` source.
    lenient : bool
        For ``csv``: drop structurally bad rows (listed in the provenance)
        instead of raising.

    Returns
    -------
    Prices
    """
    if isinstance(symbols, str):
        symbols = [symbols]
    if source not in get_args(SourceName):
        raise InputError(
            f"source: '{source}' is not a price source; valid: {', '.join(get_args(SourceName))}"
        )
    lo = None if start is None else pd.Timestamp(start)
    hi = None if end is None else pd.Timestamp(end)
    if source == "csv":
        if path is None:
            raise InputError("path: source='csv' needs path= (the price file)")
        if isinstance(path, str | Path) or len(path) == 1:
            one = path if isinstance(path, str | Path) else path[0]
            return CsvSource(one, lenient=lenient).load(symbols, lo, hi)
        if not path:
            raise InputError("path: source='csv' needs at least one price file")
        both = combine_prices([CsvSource(x, lenient=lenient).load(None, lo, hi) for x in path])
        missing = [s for s in symbols or [] if s not in both]
        if missing:
            raise PricesError(
                f"symbol(s) {', '.join(missing)} not in the price files; found: {', '.join(both.symbols)}"
            )
        return both.select(list(symbols)) if symbols else both
    if source == "yahoo":
        if not symbols:
            raise InputError("symbols: source='yahoo' needs the symbols to fetch")
        if lo is None:
            raise InputError("start: source='yahoo' needs a start date")
        return YahooSource(cache_dir=cache_dir).load(symbols, lo, hi)
    return SnapshotSource().load(symbols, lo, hi)
