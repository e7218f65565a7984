"""Registry of known markets: symbol → name, exchange calendar, currency, region.

Symbols that are not in the registry are still usable. Their calendar is, in
this order (:func:`calendar_for`): the one given for that symbol
(``--calendar SYM=MIC``); for a usual alias of a registry index (``HSI``,
``SX5E``, ``DAX``, ``UKX``, ``CAC``, ``SPX``, …) the calendar of that index,
with a note; the calendar given for every unknown symbol (a bare
``--calendar MIC``); else the dates present in their own price data (see
:mod:`eventstudy.calendars`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import InputError, show

__all__ = [
    "ALIASES",
    "DEFAULT_SYMBOLS",
    "MARKETS",
    "CalendarChoice",
    "CalendarSpec",
    "Market",
    "calendar_for",
    "get_market",
    "market_name",
    "parse_calendars",
]


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
        _M("^STOXX50E", "EURO STOXX 50", "STOXX", "EUR", "Europe"),
        _M("^STOXX", "STOXX Europe 600", "STOXX", "EUR", "Europe"),
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


#: Usual names of registry indices in other data (Bloomberg, Refinitiv and
#: plain names), upper case, without a leading ``^`` or ``.`` and without a
#: trailing `` INDEX``.
ALIASES: dict[str, str] = {
    "HSI": "^HSI",
    "HANGSENG": "^HSI",
    "HSCE": "^HSCE",
    "HSCEI": "^HSCE",
    "SX5E": "^STOXX50E",
    "STOXX50E": "^STOXX50E",
    "ESTX50": "^STOXX50E",
    "SXXP": "^STOXX",
    "STOXX": "^STOXX",
    "STOXX600": "^STOXX",
    "DAX": "^GDAXI",
    "GDAXI": "^GDAXI",
    "DAX40": "^GDAXI",
    "UKX": "^FTSE",
    "FTSE": "^FTSE",
    "FTSE100": "^FTSE",
    "CAC": "^FCHI",
    "CAC40": "^FCHI",
    "FCHI": "^FCHI",
    "PX1": "^FCHI",
    "SPX": "^GSPC",
    "GSPC": "^GSPC",
    "SP500": "^GSPC",
    "INX": "^GSPC",
    "NKY": "^N225",
    "N225": "^N225",
    "NIKKEI": "^N225",
    "SHCOMP": "000001.SS",
    "SSEC": "000001.SS",
}

_MIC_RE = re.compile(r"^[A-Z0-9]{2,8}$")


@functools.lru_cache(maxsize=4096)
def _alias_key(symbol: str) -> str:
    key = symbol.strip().upper()
    key = re.sub(r"\s+INDEX$", "", key).lstrip("^.")
    return re.sub(r"[\s_-]+", "", key)


@dataclass(frozen=True)
class CalendarSpec:
    """Which exchange calendar unknown symbols use.

    Parameters
    ----------
    default : str or None
        Calendar (MIC) of every symbol the registry does not know and that
        ``per_symbol`` does not name (a bare ``--calendar MIC``).
    per_symbol : tuple of (str, str)
        ``(symbol, MIC)`` pairs (``--calendar SYM=MIC``, repeatable).
    """

    default: str | None = None
    per_symbol: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, object]:
        """``{"default": MIC or None, "per_symbol": {SYM: MIC}}``."""
        return {"default": self.default, "per_symbol": dict(self.per_symbol)}


@dataclass(frozen=True)
class CalendarChoice:
    """The calendar of one symbol and how it was chosen.

    ``source`` is ``given`` (per symbol), ``registry``, ``alias``, ``default``
    (the bare calendar) or ``data`` (own data dates, ``code`` is ``None``).
    """

    code: str | None
    source: str
    note: str = ""


def _check_mic(code: str, name: str) -> str:
    from .calendars import known_calendar

    c = code.strip().upper()
    if not _MIC_RE.match(c) or not known_calendar(c):
        raise InputError(
            f"{name}: unknown exchange calendar {show(code)}; use a MIC known to exchange_calendars "
            "(e.g. XHKG, XETR, XLON, XPAR, XNYS) or STOXX, as MIC or SYMBOL=MIC"
        )
    return c


def parse_calendars(
    value: str | Iterable[str] | Mapping[str, str] | CalendarSpec | None, name: str = "calendar"
) -> CalendarSpec:
    """Parse ``--calendar`` values: ``"XHKG"``, ``"HSI=XHKG"``, lists of both, or a mapping.

    Raises
    ------
    InputError
        For an unknown calendar, an empty symbol, two bare calendars, or two
        calendars for one symbol; the message names ``name`` and the value.
    """
    if value is None or isinstance(value, CalendarSpec):
        return value or CalendarSpec()
    items: list[tuple[str | None, str]] = []
    if isinstance(value, Mapping):
        items = [(str(k), str(v)) for k, v in value.items()]
    else:
        for part in [value] if isinstance(value, str) else list(value):
            for piece in (p.strip() for p in str(part).split(",") if p.strip()):
                sym, eq, code = piece.rpartition("=")
                if eq and not sym.strip():
                    raise InputError(
                        f"{name}: {show(piece)} names no symbol; write SYMBOL=MIC, e.g. HSI=XHKG"
                    )
                items.append((sym.strip() if eq else None, code))
    default: str | None = None
    per: dict[str, str] = {}
    for key, code in items:
        mic = _check_mic(code, name)
        if key is None:
            if default is not None and default != mic:
                raise InputError(
                    f"{name}: two calendars for every unknown symbol ({default}, {mic}); give one"
                )
            default = mic
        else:
            if per.get(key, mic) != mic:
                raise InputError(f"{name}: two calendars for {show(key)} ({per[key]}, {mic}); give one")
            per[key] = mic
    return CalendarSpec(default, tuple(sorted(per.items())))


def calendar_for(symbol: str, spec: CalendarSpec | None = None) -> CalendarChoice:
    """The calendar of ``symbol`` under ``spec`` (see the module docs for the order)."""
    spec = spec or CalendarSpec()
    given = dict(spec.per_symbol).get(symbol)
    if given is not None:
        return CalendarChoice(given, "given")
    mkt = MARKETS.get(symbol)
    if mkt is not None:
        return CalendarChoice(mkt.calendar, "registry") if mkt.calendar else CalendarChoice(None, "data")
    alias = ALIASES.get(_alias_key(symbol))
    if alias is not None:
        m = MARKETS[alias]
        note = (
            f"{symbol}: read as {m.name} ({alias}), calendar {m.calendar}; "
            f"pass --calendar {symbol}=MIC to choose another"
        )
        return CalendarChoice(m.calendar, "alias", note)
    if spec.default is not None:
        return CalendarChoice(spec.default, "default")
    return CalendarChoice(None, "data")
