"""Price sources behind one interface, and :func:`load_prices`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, get_args

from ..errors import InputError
from .base import Prices, PriceSource
from .csvfile import CsvSource, read_price_file
from .snapshot import SnapshotSource

__all__ = [
    "CsvSource",
    "PriceSource",
    "Prices",
    "SnapshotSource",
    "SourceName",
    "load_prices",
    "read_price_file",
]

SourceName = Literal["snapshot", "csv"]


def load_prices(
    symbols: Sequence[str] | None = None,
    source: SourceName = "snapshot",
    path: str | Path | None = None,
) -> Prices:
    """Load daily closes.

    Parameters
    ----------
    symbols : sequence of str, optional
        Symbols to load; all available when omitted.
    source : {"snapshot", "csv"}
        ``snapshot``: the bundled offline data. ``csv``: a user's file given
        by ``path`` (wide ``date,SYM1,…`` or long ``date,symbol,close``;
        parquet too).
    path : str or Path, optional
        The file, for ``source="csv"``.

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
    if source == "csv":
        if path is None:
            raise InputError("path: source='csv' needs path= (the price file)")
        return CsvSource(path).load(symbols)
    return SnapshotSource().load(symbols)
