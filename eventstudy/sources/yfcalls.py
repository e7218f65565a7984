"""yfinance calls behind :class:`~eventstudy.sources.yahoo.YahooSource`: dates, session cut-off, errors.

Helpers of the Yahoo source, kept apart from its cache logic: exchange-local
days, the first unfinished session of a market (:func:`session_cutoff`), the
classification of yfinance's and requests' exceptions into retryable and
network errors, and the normalisation of a ``Ticker.history`` frame into a
series of positive finite closes. yfinance is imported lazily
(:func:`import_yfinance`) so that a study that never fetches never pays for it.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator
from types import ModuleType

import numpy as np
import pandas as pd

from ..calendars import exchange_sessions
from ..errors import InputError
from ..markets import get_market
from .fx import is_fx

DAY = pd.Timedelta(days=1)
#: How far before a gap an already-cached row may lie to serve as the anchor.
ANCHOR_WINDOW = pd.Timedelta(days=14)
#: Relative tolerance when comparing an anchor close with its cached value.
ADJ_RTOL = 1e-6
#: yfinance's configuration and its session are process-wide; serialise calls.
YF_LOCK = threading.Lock()

ADVICE = "use --source snapshot, or the cache"
FX_NOTE = (
    "Yahoo stamps a daily FX bar with the date of its ~00:00 London snapshot, i.e. the previous "
    "business day's end-of-day rate; dates moved back one business day (weekend bars dropped)"
)
TIMEOUT_NAMES = {"Timeout", "ReadTimeout", "ConnectTimeout", "TimeoutError", "timeout"}
CONNECTION_NAMES = {
    "ConnectionError",
    "DNSError",
    "ProxyError",
    "SSLError",
    "RemoteDisconnected",
    "ChunkedEncodingError",
    "gaierror",
    "CurlError",
}


# --------------------------------------------------------------------------- helpers
def utc(ts: object) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def as_day(x: object, name: str) -> pd.Timestamp:
    bad = InputError(f"{name}: '{x}' is not a date; write YYYY-MM-DD")
    try:
        ts = pd.to_datetime(x.strip(), format="ISO8601") if isinstance(x, str) else pd.Timestamp(x)
    except (ValueError, TypeError, OverflowError):
        raise bad from None
    if not isinstance(ts, pd.Timestamp) or ts is pd.NaT or not 1900 <= ts.year <= 2200:
        raise bad
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize().as_unit("ns")


def iso_day(ts: pd.Timestamp) -> str:
    return ts.date().isoformat()


def session_cutoff(symbol: str, now: object) -> pd.Timestamp:
    """First date whose daily bar of ``symbol`` may still be incomplete at ``now``.

    Parameters
    ----------
    symbol : str
        Yahoo symbol.
    now : timestamp-like
        The current instant (naive means UTC).

    Returns
    -------
    pandas.Timestamp
        For a symbol with an exchange calendar: the date of the first session
        whose close is strictly after ``now`` (today during or before today's
        session, the next session after the close). Otherwise today's UTC
        date. Bars dated before the cut-off are final.
    """
    t = utc(now).as_unit("ns")
    today = t.tz_localize(None).normalize()
    market = get_market(symbol)
    if market is not None and market.calendar:
        ses = exchange_sessions(market.calendar, today - pd.Timedelta(days=10), today + pd.Timedelta(days=10))
        if ses.closes is not None:
            i = int(ses.closes.searchsorted(t, side="right"))
            if i < len(ses.dates):
                return pd.Timestamp(ses.dates[i]).as_unit("ns")
    return today.as_unit("ns")


def has_session(symbol: str, a: pd.Timestamp, b: pd.Timestamp) -> bool:
    """Whether ``[a, b]`` can hold a bar of ``symbol`` (False only when sure it cannot)."""
    market = get_market(symbol)
    if market is not None and market.calendar:
        ses = exchange_sessions(market.calendar, a, b)
        if len(ses.dates) == 0 or a < ses.dates[0] or b > ses.dates[-1]:
            return True
        return len(ses.between(a, b).dates) > 0
    if is_fx(symbol) or market is not None:
        return bool(np.busday_count(a.date(), (b + DAY).date()) > 0)
    return True


def short_error(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 160:
        text = text[:157] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def classify_error(exc: BaseException) -> tuple[str | None, BaseException]:
    """Kind of a failed request: not_found, rate_limit, retry, connection, http or None."""
    if isinstance(exc, AttributeError) and "DNSError" in str(exc) and exc.__context__ is not None:
        # yfinance 1.7 (data.py, _get_cookie_basic) names requests.exceptions.DNSError,
        # which only curl_cffi defines: with the requests backend a network failure
        # surfaces as this AttributeError, the real error as its context.
        return classify_error(exc.__context__)
    names = {c.__name__ for c in type(exc).__mro__}
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if "HTTPError" in names:
        if status == 404:
            return "not_found", exc
        if status == 429:
            return "rate_limit", exc
        return ("retry" if isinstance(status, int) and status >= 500 else "http"), exc
    if names & TIMEOUT_NAMES:
        return "retry", exc
    if names & CONNECTION_NAMES or isinstance(exc, OSError):
        return "connection", exc
    return None, exc


@contextlib.contextmanager
def yfinance_calls(yf: ModuleType) -> Iterator[None]:
    """Hold the yfinance lock, make yfinance raise, and silence its pandas warnings."""
    with YF_LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")
        debug = getattr(getattr(yf, "config", None), "debug", None)
        old = debug.hide_exceptions if debug is not None else None
        if debug is not None:
            debug.hide_exceptions = False
        try:
            yield
        finally:
            if debug is not None:
                debug.hide_exceptions = old


def normalize_history(df: pd.DataFrame | None, symbol: str) -> tuple[pd.Series, list[str]]:
    """Closes of a ``Ticker.history`` frame on tz-naive local dates; dropped bad rows."""
    empty = pd.Series([], index=pd.DatetimeIndex([], dtype="datetime64[ns]"), dtype="float64", name=symbol)
    if df is None or len(df) == 0 or "Close" not in df.columns:
        return empty, []
    idx = pd.DatetimeIndex(df.index)
    if idx.tz is not None:
        idx = idx.tz_localize(None)  # exchange-local wall time
    idx = idx.normalize().as_unit("ns")
    vals = pd.to_numeric(df["Close"], errors="coerce").to_numpy(dtype="float64")
    s = pd.Series(vals, index=idx, name=symbol)
    s = s[np.isfinite(s.to_numpy())]
    bad = s.to_numpy() <= 0
    dropped = [iso_day(d) for d in s.index[bad]]
    s = s[~bad]
    s = s[~s.index.duplicated(keep="last")].sort_index()
    s.index.name = "date"
    return s, dropped


def combine_closes(old: pd.Series, new: pd.Series) -> pd.Series:
    if len(old) == 0:
        return new.copy()
    if len(new) == 0:
        return old.copy()
    out = pd.concat([old[~old.index.isin(new.index)], new]).sort_index()
    out.name = new.name
    return out


def empty_closes(symbol: str) -> pd.Series:
    s = pd.Series([], index=pd.DatetimeIndex([], dtype="datetime64[ns]"), dtype="float64", name=symbol)
    s.index.name = "date"
    return s


def import_yfinance() -> tuple[ModuleType, ModuleType]:
    import yfinance as yf
    import yfinance.exceptions as yfe

    return yf, yfe


def yfinance_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("yfinance")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"
