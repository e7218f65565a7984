"""Price sources behind one interface, and :func:`load_prices`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, get_args

import pandas as pd

from ..errors import InputError
from .base import Prices, PriceSource
from .csvfile import CsvSource, read_price_file
from .snapshot import SnapshotSource
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
    path: str | Path | None = None,
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
    path : str or Path, optional
        The file, for ``source="csv"``.
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
        return CsvSource(path, lenient=lenient).load(symbols, lo, hi)
    if source == "yahoo":
        if not symbols:
            raise InputError("symbols: source='yahoo' needs the symbols to fetch")
        if lo is None:
            raise InputError("start: source='yahoo' needs a start date")
        return YahooSource(cache_dir=cache_dir).load(symbols, lo, hi)
    return SnapshotSource().load(symbols, lo, hi)
