"""The price-source interface and the :class:`Prices` value type."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ..errors import PricesError

__all__ = ["PriceSource", "Prices"]


@dataclass(frozen=True, eq=False)
class Prices:
    """Daily closing levels of several symbols, each on its own dates.

    Parameters
    ----------
    closes : mapping of str to pandas.Series
        Per symbol, closes indexed by tz-naive session dates (ascending,
        unique, unit ``ns``), strictly positive floats without NaN.
    source : str
        Name of the source (``snapshot``, ``csv``, ``yahoo``).
    origin : str
        Human-readable origin (file path, "bundled snapshot", …).
    provenance : dict
        Source-specific facts for the study manifest (checksums, versions).
    """

    closes: Mapping[str, pd.Series]
    source: str
    origin: str = ""
    provenance: dict[str, object] = field(default_factory=dict)

    @property
    def symbols(self) -> list[str]:
        """Symbols present, in insertion order."""
        return list(self.closes)

    def __repr__(self) -> str:
        from ..reprs import prices_repr

        return prices_repr(self)

    def _repr_html_(self) -> str:
        from ..reprs import prices_html

        return prices_html(self)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self.closes

    def __getitem__(self, symbol: str) -> pd.Series:
        try:
            return self.closes[symbol]
        except KeyError:
            raise PricesError(
                f"symbol '{symbol}' is not in the prices ({self.origin or self.source}); "
                f"available: {', '.join(self.symbols)}"
            ) from None

    def select(self, symbols: Sequence[str]) -> Prices:
        """Prices restricted to ``symbols`` (each must be present)."""
        return Prices({s: self[s] for s in symbols}, self.source, self.origin, self.provenance)

    def wide(self) -> pd.DataFrame:
        """All closes as one frame (union of dates, NaN where a market had no row)."""
        return pd.DataFrame(dict(self.closes)).sort_index()

    def sha256(self, symbols: Sequence[str] | None = None) -> str:
        """Content hash of the closes (dates and values) of ``symbols``.

        Independent of the file layout: a wide and a long file with the same
        numbers hash alike.
        """
        h = hashlib.sha256()
        for s in sorted(symbols if symbols is not None else self.symbols):
            ser = self[s]
            idx = ser.index
            ns = idx.asi8 if getattr(idx, "unit", None) == "ns" else idx.as_unit("ns").asi8
            h.update(s.encode() + b"\0")
            h.update(np.asarray(ns, dtype="<i8").tobytes())
            h.update(np.asarray(ser.to_numpy(), dtype="<f8").tobytes())
        return h.hexdigest()


@runtime_checkable
class PriceSource(Protocol):
    """Anything that can deliver daily closes for symbols.

    Implementations: :class:`~eventstudy.sources.snapshot.SnapshotSource`
    (bundled, offline) and :class:`~eventstudy.sources.csvfile.CsvSource`
    (a user's file). Network sources keep their own cache behind this same
    interface, so the rest of the toolkit never touches the network.
    """

    name: str

    def load(
        self,
        symbols: Sequence[str] | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> Prices:
        """Return closes for ``symbols`` (all available when ``None``)."""
        ...


def clip(prices: Prices, start: pd.Timestamp | None, end: pd.Timestamp | None) -> Prices:
    """Restrict every series to ``[start, end]``."""
    if start is None and end is None:
        return prices
    out = {s: c.loc[start:end] for s, c in prices.closes.items()}
    return Prices(out, prices.source, prices.origin, prices.provenance)
