"""Registry of known markets: symbol → name, exchange calendar, currency, region.

Symbols that are not in the registry are still usable: they take the dates
present in their own price data as their sessions (see
:mod:`eventstudy.calendars`), unless a calendar code is given explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_SYMBOLS", "MARKETS", "Market", "get_market", "market_name"]


@dataclass(frozen=True)
class Market:
    """Static description of a traded instrument.

    Parameters
    ----------
    symbol : str
        Yahoo Finance symbol, e.g. ``"^HSI"``.
    name : str
        Human-readable name used in reports.
    calendar : str or None
        ISO 10383 MIC of the exchange calendar (``exchange_calendars`` code);
        ``None`` for series without an exchange (FX), which then use their own
        data dates as sessions.
    currency : str
        ISO 4217 currency of the series.
    region : str
        Coarse region, for grouping in reports.
    """

    symbol: str
    name: str
    calendar: str | None
    currency: str
    region: str


_M = Market
MARKETS: dict[str, Market] = {
    m.symbol: m
    for m in (
        _M("^HSI", "Hang Seng Index", "XHKG", "HKD", "Asia"),
        _M("^HSCE", "Hang Seng China Enterprises", "XHKG", "HKD", "Asia"),
        _M("^STOXX50E", "EURO STOXX 50", "XETR", "EUR", "Europe"),
        _M("^STOXX", "STOXX Europe 600", "XETR", "EUR", "Europe"),
        _M("^GDAXI", "DAX 40", "XETR", "EUR", "Europe"),
        _M("^FTSE", "FTSE 100", "XLON", "GBP", "Europe"),
        _M("^FCHI", "CAC 40", "XPAR", "EUR", "Europe"),
        _M("^GSPC", "S&P 500", "XNYS", "USD", "Americas"),
        _M("ACWI", "iShares MSCI ACWI ETF", "XNYS", "USD", "World"),
        _M("URTH", "iShares MSCI World ETF", "XNYS", "USD", "World"),
        _M("^N225", "Nikkei 225", "XTKS", "JPY", "Asia"),
        _M("000001.SS", "SSE Composite", "XSHG", "CNY", "Asia"),
        _M("CNY=X", "USD/CNY exchange rate", None, "CNY", "FX"),
        _M("EURUSD=X", "EUR/USD exchange rate", None, "USD", "FX"),
    )
}

#: Markets studied by ``eventstudy run`` when no ``--symbols`` are given.
DEFAULT_SYMBOLS: tuple[str, ...] = ("^HSI", "^STOXX50E", "^GDAXI", "^FTSE", "^FCHI")


def get_market(symbol: str) -> Market | None:
    """Return the registered :class:`Market` for ``symbol``, or ``None``."""
    return MARKETS.get(symbol)


def market_name(symbol: str) -> str:
    """Human-readable name of ``symbol`` (the symbol itself when unknown)."""
    m = MARKETS.get(symbol)
    return m.name if m else symbol
