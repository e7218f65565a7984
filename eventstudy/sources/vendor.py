"""Single-series price files in common vendor layouts, and several price files combined.

A file whose header is a date and OHLCV columns only — Yahoo Finance's export
``Date,Open,High,Low,Close,Adj Close,Volume``, or a bare ``Date,Close`` — holds
one series. Its symbol is the file name without the extension (``^HSI.csv`` →
``^HSI``), and its closes are ``Adj Close`` when the file has one (adjusted
for splits and dividends: total return for an ETF, the same as ``Close`` for
an index), else ``Close``; the choice is written into the provenance's
``notes`` (so into ``study.json`` and the CLI's notes). Yahoo writes ``null``
on days without a quote: such a cell counts as no session, like an empty one.
The other columns (``Open``, ``High``, ``Low``, ``Volume``) are ignored.

Several files (``--prices`` repeated) are combined symbol by symbol; a symbol
in two files is an error naming both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..errors import PricesError
from .base import Prices

__all__ = ["OHLCV", "combine_prices", "single_series_column", "symbol_from_path"]

#: Columns of a single-series vendor file besides the date (lower case).
OHLCV = frozenset({"open", "high", "low", "close", "adj close", "adj_close", "adjclose", "volume"})


def single_series_column(columns: Mapping[str, str]) -> str | None:
    """The column holding the closes of a single-series vendor file, or None for other layouts.

    ``columns`` maps lower-cased, stripped names to the names in the file.
    """
    others = set(columns) - {"date"}
    if "date" not in columns or "close" not in others or not others <= OHLCV:
        return None
    for adj in ("adj close", "adj_close", "adjclose"):
        if adj in columns:
            return columns[adj]
    return columns["close"]


def symbol_from_path(path: Path) -> str:
    """The symbol of a single-series file: its name without the extension (``^HSI.csv`` → ``^HSI``)."""
    return path.name[: -len(path.suffix)] if path.suffix else path.name


def combine_prices(parts: Sequence[Prices]) -> Prices:
    """One :class:`Prices` of several files (each symbol from exactly one of them)."""
    if len(parts) == 1:
        return parts[0]
    closes: dict[str, pd.Series] = {}
    where: dict[str, str] = {}
    notes: list[str] = []
    for p in parts:
        for s in p.symbols:
            if s in closes:
                raise PricesError(
                    f"symbol '{s}' is in two price files ({where[s]} and {p.origin}); keep it in one"
                )
            closes[s], where[s] = p[s], p.origin
        notes.extend(str(n) for n in p.provenance.get("notes") or [])  # type: ignore[attr-defined]
    files = [dict(p.provenance) for p in parts]
    h = hashlib.sha256("\n".join(str(f.get("sha256", "")) for f in files).encode()).hexdigest()
    prov: dict[str, object] = {"files": files, "sha256": h, "layout": "several files"}
    if notes:
        prov["notes"] = notes
    return Prices(closes, parts[0].source, " + ".join(p.origin for p in parts), prov)
