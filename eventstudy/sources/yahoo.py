"""Daily closes from Yahoo Finance (through yfinance) behind our own on-disk cache.

yfinance keeps no price cache of its own, so this source owns one
(:mod:`eventstudy.sources.cache`): a parquet file per symbol recording which
date ranges it covers. A request fetches only the parts of its range that the
cache does not cover; a request the cache covers makes no network call at all,
so a study that was fetched once runs offline afterwards.

Conventions and safeguards
--------------------------
* **Adjustment.** ``Ticker.history(auto_adjust=True, actions=False)``: closes
  are adjusted for splits and dividends (there is no ``Adj Close``). Indices
  are unaffected; for ETFs the adjustment changes whenever a dividend goes ex,
  so each incremental fetch re-downloads one already-cached session next to
  the gap (an *anchor*) and, if Yahoo's value for it changed, refetches the
  symbol's whole cached range so that old and new closes share one adjustment.
* **Dates.** The index is the exchange-local trading date (tz-naive midnight,
  unit ``ns``); non-finite and non-positive closes are dropped (and listed in
  the provenance).
* **Unfinished sessions.** A bar is stored only once its session has closed:
  for a symbol with an exchange calendar (:mod:`eventstudy.markets`) the cut-off
  is the first session of that calendar whose close is after ``now``; for other
  symbols it is today's UTC date. Rows on or after the cut-off are never
  requested for the cache, and are dropped if Yahoo returns them anyway (Yahoo
  appends the live bar to daily histories while a market is open).
* **FX dates.** Yahoo's daily FX bars (symbols ending ``=X``) are stamped with
  the date of a snapshot taken near 00:00 London time, so the bar dated *d*
  holds the end-of-day rate of the previous business day (see the FX timing
  notes of the bundled snapshot's ``PROVENANCE.md``: the yuan broke 7.0 on
  Monday 2019-08-05 but ``CNY=X`` shows it on 08-06). This source corrects the
  convention: weekend-dated FX bars are dropped and every FX date is moved back
  one business day (Monday's bar becomes Friday's close). The cache keeps
  Yahoo's own dates; the shift is applied on the way out and recorded in
  ``Prices.provenance``. Pass ``fx_shift=False`` to keep Yahoo's dates.
* **Errors.** An unknown symbol is a :class:`~eventstudy.errors.PricesError`
  naming it. HTTP 429 (``YFRateLimitError``), timeouts and 5xx responses are
  retried with exponential backoff (``backoff * 2**attempt`` seconds, at most
  ``max_retries`` retries); an unreachable network is a one-line
  :class:`~eventstudy.errors.NetworkError` ("cannot reach Yahoo Finance (…);
  use --source snapshot, or the cache"). yfinance's exceptions are made visible
  with ``yf.config.debug.hide_exceptions = False`` for the duration of a call.

References
----------
yfinance 1.7 behaviour as recorded in the project's field notes (section 1):
``Ticker.history`` raises ``YFRateLimitError`` even with hidden exceptions,
``download`` only logs failures, and the last daily bar can be live.
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from ..calendars import exchange_sessions
from ..errors import InputError, NetworkError, PricesError
from ..markets import get_market
from .base import Prices
from .cache import CacheCorruptError, EntryInfo, PriceCache, Span, merge_spans, missing_spans
from .fx import fx_correct_dates, is_fx

__all__ = [
    "CacheInfo",
    "ProgressCallback",
    "YahooSource",
    "cache_clear",
    "cache_info",
    "fx_correct_dates",
    "is_fx",
    "session_cutoff",
]

#: ``progress(symbol, stage)``; stage is ``"start"``, then ``"cached"`` or ``"fetched"``.
ProgressCallback = Callable[[str, str], None]

_DAY = pd.Timedelta(days=1)
#: How far before a gap an already-cached row may lie to serve as the anchor.
_ANCHOR_WINDOW = pd.Timedelta(days=14)
#: Relative tolerance when comparing an anchor close with its cached value.
_ADJ_RTOL = 1e-6
#: yfinance's configuration and its session are process-wide; serialise calls.
_YF_LOCK = threading.Lock()

_ADVICE = "use --source snapshot, or the cache"
_FX_NOTE = (
    "Yahoo stamps a daily FX bar with the date of its ~00:00 London snapshot, i.e. the previous "
    "business day's end-of-day rate; dates moved back one business day (weekend bars dropped)"
)
_TIMEOUT_NAMES = {"Timeout", "ReadTimeout", "ConnectTimeout", "TimeoutError", "timeout"}
_CONNECTION_NAMES = {
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
def _utc(ts: object) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _as_day(x: object, name: str) -> pd.Timestamp:
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


def _iso(ts: pd.Timestamp) -> str:
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
    t = _utc(now).as_unit("ns")
    today = t.tz_localize(None).normalize()
    market = get_market(symbol)
    if market is not None and market.calendar:
        ses = exchange_sessions(market.calendar, today - pd.Timedelta(days=10), today + pd.Timedelta(days=10))
        if ses.closes is not None:
            i = int(ses.closes.searchsorted(t, side="right"))
            if i < len(ses.dates):
                return pd.Timestamp(ses.dates[i]).as_unit("ns")
    return today.as_unit("ns")


def _has_session(symbol: str, a: pd.Timestamp, b: pd.Timestamp) -> bool:
    """Whether ``[a, b]`` can hold a bar of ``symbol`` (False only when sure it cannot)."""
    market = get_market(symbol)
    if market is not None and market.calendar:
        ses = exchange_sessions(market.calendar, a, b)
        if len(ses.dates) == 0 or a < ses.dates[0] or b > ses.dates[-1]:
            return True
        return len(ses.between(a, b).dates) > 0
    if is_fx(symbol) or market is not None:
        return bool(np.busday_count(a.date(), (b + _DAY).date()) > 0)
    return True


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 160:
        text = text[:157] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _classify(exc: BaseException) -> tuple[str | None, BaseException]:
    """Kind of a failed request: not_found, rate_limit, retry, connection, http or None."""
    if isinstance(exc, AttributeError) and "DNSError" in str(exc) and exc.__context__ is not None:
        # yfinance 1.7 (data.py, _get_cookie_basic) names requests.exceptions.DNSError,
        # which only curl_cffi defines: with the requests backend a network failure
        # surfaces as this AttributeError, the real error as its context.
        return _classify(exc.__context__)
    names = {c.__name__ for c in type(exc).__mro__}
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if "HTTPError" in names:
        if status == 404:
            return "not_found", exc
        if status == 429:
            return "rate_limit", exc
        return ("retry" if isinstance(status, int) and status >= 500 else "http"), exc
    if names & _TIMEOUT_NAMES:
        return "retry", exc
    if names & _CONNECTION_NAMES or isinstance(exc, OSError):
        return "connection", exc
    return None, exc


@contextlib.contextmanager
def _yfinance_calls(yf: ModuleType) -> Iterator[None]:
    """Hold the yfinance lock, make yfinance raise, and silence its pandas warnings."""
    with _YF_LOCK, warnings.catch_warnings():
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


def _normalize(df: pd.DataFrame | None, symbol: str) -> tuple[pd.Series, list[str]]:
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
    dropped = [_iso(d) for d in s.index[bad]]
    s = s[~bad]
    s = s[~s.index.duplicated(keep="last")].sort_index()
    s.index.name = "date"
    return s, dropped


def _combine(old: pd.Series, new: pd.Series) -> pd.Series:
    if len(old) == 0:
        return new.copy()
    if len(new) == 0:
        return old.copy()
    out = pd.concat([old[~old.index.isin(new.index)], new]).sort_index()
    out.name = new.name
    return out


def _empty(symbol: str) -> pd.Series:
    s = pd.Series([], index=pd.DatetimeIndex([], dtype="datetime64[ns]"), dtype="float64", name=symbol)
    s.index.name = "date"
    return s


def _yfinance() -> tuple[ModuleType, ModuleType]:
    import yfinance as yf
    import yfinance.exceptions as yfe

    return yf, yfe


def _yf_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("yfinance")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


# --------------------------------------------------------------------------- source
@dataclass
class _Outcome:
    closes: pd.Series
    info: dict[str, object]
    fetched: bool


class YahooSource:
    """Yahoo Finance daily closes, cached on disk (see the module docstring).

    Parameters
    ----------
    cache_dir : str or Path, optional
        Cache root; default ``$EVENTSTUDY_CACHE`` or the user cache directory
        (``~/.cache/eventstudy`` on Linux). Files go to ``<root>/yahoo``.
    session : requests.Session or curl_cffi Session, optional
        HTTP session handed to yfinance (``None``: yfinance's default).
        Note that yfinance keeps one session per process: the last one passed
        wins.
    max_retries : int
        Retries after a rate-limited (HTTP 429), timed-out or 5xx request.
    backoff : float
        Seconds before the first retry; doubled for each further one.
    sleep : callable
        ``sleep(seconds)``; injectable for tests.
    now : timestamp-like or callable, optional
        The current instant (naive means UTC), or a function returning it;
        default the system clock. Decides which sessions have closed.
    timeout : float
        Seconds yfinance waits for one HTTP response.
    fx_shift : bool
        Move FX dates back one business day (default; see module docstring).
    offline : bool
        Never contact Yahoo: serve the cache or raise.
    """

    name = "yahoo"

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        session: Any = None,
        max_retries: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        now: object = None,
        *,
        timeout: float = 10.0,
        fx_shift: bool = True,
        offline: bool = False,
    ) -> None:
        if max_retries < 0:
            raise InputError(f"max_retries: {max_retries} must be >= 0")
        if backoff < 0:
            raise InputError(f"backoff: {backoff} must be >= 0")
        self.cache = PriceCache(cache_dir, namespace="yahoo")
        self.session = session
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.sleep = sleep
        self._now = now
        self.timeout = float(timeout)
        self.fx_shift = bool(fx_shift)
        self.offline = bool(offline)

    # -- public --------------------------------------------------------------
    def now(self) -> pd.Timestamp:
        """The current instant (UTC) as this source sees it."""
        if self._now is None:
            return pd.Timestamp.now("UTC")
        value = self._now() if callable(self._now) else self._now
        return _utc(value)

    def load(
        self,
        symbols: Sequence[str] | None = None,
        start: pd.Timestamp | str | date | None = None,
        end: pd.Timestamp | str | date | None = None,
    ) -> Prices:
        """Daily closes of ``symbols`` for ``start`` … ``end`` (inclusive).

        Parameters
        ----------
        symbols : sequence of str
            Yahoo symbols (required: Yahoo has no "all symbols").
        start : date-like
            First date wanted (required).
        end : date-like, optional
            Last date wanted (default: today). Sessions that have not closed
            yet are left out.

        Returns
        -------
        Prices
            ``source="yahoo"``; ``provenance`` says per series whether it came
            from the cache or was fetched (and which ranges), and carries a
            one-line ``message``.

        Raises
        ------
        PricesError
            Unknown symbol, or no prices in the range.
        NetworkError
            Yahoo cannot be reached (or keeps rate-limiting) and the cache
            does not cover the request.
        """
        return self.fetch(symbols, start, end)

    def fetch(
        self,
        symbols: Sequence[str] | None,
        start: pd.Timestamp | str | date | None,
        end: pd.Timestamp | str | date | None = None,
        progress: ProgressCallback | None = None,
    ) -> Prices:
        """:meth:`load`, reporting each symbol to ``progress(symbol, stage)``.

        ``stage`` is ``"start"`` before a symbol, then ``"cached"`` (served
        from the cache) or ``"fetched"`` (at least one request made).
        """
        if symbols is None:
            raise InputError("symbols: the yahoo source needs symbols (e.g. --symbols ^HSI,^GDAXI)")
        syms = [symbols] if isinstance(symbols, str) else list(symbols)
        if not syms:
            raise InputError("symbols: the yahoo source needs at least one symbol")
        if start is None:
            raise InputError("start: the yahoo source needs a start date (YYYY-MM-DD)")
        now = self.now()
        lo = _as_day(start, "start")
        hi = _as_day(end, "end") if end is not None else now.tz_localize(None).normalize().as_unit("ns")
        if lo > hi:
            raise InputError(f"start {_iso(lo)} is after end {_iso(hi)}")
        closes: dict[str, pd.Series] = {}
        series: dict[str, object] = {}
        fetched: list[str] = []
        for sym in dict.fromkeys(syms):
            if progress is not None:
                progress(sym, "start")
            out = self._load_one(sym, lo, hi, now)
            closes[sym] = out.closes
            series[sym] = out.info
            if out.fetched:
                fetched.append(sym)
            if progress is not None:
                progress(sym, "fetched" if out.fetched else "cached")
        cached = [s for s in closes if s not in fetched]
        if not fetched:
            message = f"served from the cache ({self.cache.directory}); Yahoo Finance was not contacted"
        else:
            message = f"fetched from Yahoo Finance: {', '.join(fetched)}"
            if cached:
                message += f"; from the cache: {', '.join(cached)}"
        fx = [s for s in closes if self.fx_shift and is_fx(s)]
        prov: dict[str, object] = {
            "provider": "Yahoo Finance",
            "yfinance": _yf_version(),
            "auto_adjust": True,
            "cache_dir": str(self.cache.directory),
            "as_of": now.isoformat(),
            "request": [_iso(lo), _iso(hi)],
            "from_cache": not fetched,
            "message": message,
            "fx_date_shift": {"symbols": fx, "note": _FX_NOTE} if fx else None,
            "series": series,
        }
        origin = f"Yahoo Finance via yfinance (cache {self.cache.directory})"
        return Prices(closes, "yahoo", origin, prov)

    # -- one symbol ----------------------------------------------------------
    def _load_one(self, sym: str, start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp) -> _Outcome:
        fx = self.fx_shift and is_fx(sym)
        if fx:  # Yahoo date y holds the close of business day y - 1
            ys = pd.Timestamp(np.busday_offset(start.date(), 1, roll="forward")).as_unit("ns")
            ye = pd.Timestamp(np.busday_offset(end.date(), 1, roll="backward")).as_unit("ns")
        else:
            ys, ye = start, end
        cutoff = session_cutoff(sym, now)
        last_final = min(ye, cutoff - _DAY)
        info: dict[str, object] = {}
        with self.cache.locked(sym):
            try:
                entry = self.cache.read(sym)
            except CacheCorruptError as exc:
                info["cache_repaired"] = str(exc)
                self.cache.discard(sym)
                entry = None
            closes = entry.closes if entry is not None else _empty(sym)
            covered: tuple[Span, ...] = entry.covered if entry is not None else ()
            gaps = missing_spans((ys, last_final), covered) if ys <= last_final else []
            needed = [g for g in gaps if _has_session(sym, *g)]
            if needed and self.offline:
                a, b = needed[0]
                raise PricesError(
                    f"{sym}: the cache lacks {_iso(a)}…{_iso(b)} and the source is offline"
                    + self._cache_hint(sym, covered)
                )
            fetched: list[Span] = []
            dropped_late: list[str] = []
            dropped_bad: list[str] = []
            empty: list[Span] = []
            failure: NetworkError | None = None
            readjusted = False
            try:
                for a, b in needed:
                    fa, fb = self._anchor(closes, a, b)
                    new, bad = self._history(sym, fa, fb)
                    late = new.index >= cutoff
                    dropped_late += [_iso(d) for d in new.index[late]]
                    dropped_bad += bad
                    new = new[~late]
                    common = new.index.intersection(closes.index)
                    if len(common) and not np.allclose(
                        new[common].to_numpy(), closes[common].to_numpy(), rtol=_ADJ_RTOL, atol=0.0
                    ):
                        readjusted = True
                        break
                    closes = _combine(closes, new)
                    fetched.append((a, b))
                    if ((new.index >= a) & (new.index <= b)).any():
                        covered = merge_spans([*covered, (a, b)])
                    else:  # sessions expected but no rows: do not cache "no data"; ask again next time
                        empty.append((a, b))
                if readjusted:
                    # Yahoo re-adjusted past closes (a dividend went ex): refetch everything.
                    lo = min(ys, covered[0][0]) if covered else ys
                    hi = min(max(last_final, covered[-1][1]) if covered else last_final, cutoff - _DAY)
                    new, bad = self._history(sym, lo, hi)
                    late = new.index >= cutoff
                    dropped_late += [_iso(d) for d in new.index[late]]
                    dropped_bad += bad
                    closes, covered, fetched = new[~late], ((lo, hi),), [(lo, hi)]
            except NetworkError as exc:
                failure = exc
            if fetched or "cache_repaired" in info:
                meta = {"source": "yahoo", "auto_adjust": True, "yfinance": _yf_version()}
                entry = self.cache.write(sym, closes, covered, meta)
            if failure is not None:
                raise NetworkError(str(failure) + self._cache_hint(sym, covered)) from failure
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
                f"Yahoo Finance has no prices for {sym} between {_iso(start)} and {_iso(end)}{why}"
            )
        info.update(
            {
                "rows": len(out),
                "first": _iso(out.index[0]),
                "last": _iso(out.index[-1]),
                "from_cache": not fetched,
                "fetched": [[_iso(a), _iso(b)] for a, b in fetched],
                "cache_file": str(self.cache.data_path(sym)),
                "cache_sha256": entry.sha256 if entry is not None else None,
                "covered": [[_iso(a), _iso(b)] for a, b in covered],
                "complete_through": _iso(cutoff - _DAY),
            }
        )
        if empty:
            info["empty"] = [[_iso(a), _iso(b)] for a, b in empty]
        if dropped_late:
            info["dropped_unclosed"] = dropped_late
        if dropped_bad:
            info["dropped_nonpositive"] = dropped_bad
        if readjusted:
            info["readjusted"] = "Yahoo changed adjusted past closes; the cached range was refetched"
        if fx:
            info["date_shift"] = _FX_NOTE
        return _Outcome(out, info, bool(fetched))

    @staticmethod
    def _anchor(closes: pd.Series, a: pd.Timestamp, b: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Extend a gap by one adjacent cached row, to check Yahoo's adjustment."""
        if len(closes) == 0:
            return a, b
        idx = closes.index
        before = idx[(idx < a) & (idx >= a - _ANCHOR_WINDOW)]
        if len(before):
            return pd.Timestamp(before[-1]), b
        after = idx[(idx > b) & (idx <= b + _ANCHOR_WINDOW)]
        if len(after):
            return a, pd.Timestamp(after[0])
        return a, b

    def _cache_hint(self, sym: str, covered: Sequence[Span]) -> str:
        if not covered:
            return f" (nothing cached for {sym})"
        spans = ", ".join(f"{_iso(a)}…{_iso(b)}" for a, b in covered)
        return f" (the cache has {sym} for {spans})"

    def _history(self, sym: str, first: pd.Timestamp, last: pd.Timestamp) -> tuple[pd.Series, list[str]]:
        """Closes of ``sym`` for ``first`` … ``last`` (inclusive) with retries."""
        yf, yfe = _yfinance()
        attempts = self.max_retries + 1
        kind: str | None = None
        err: BaseException | None = None
        for attempt in range(attempts):
            try:
                with _yfinance_calls(yf):
                    tkr = yf.Ticker(sym, session=self.session)
                    df = tkr.history(
                        start=_iso(first),
                        end=_iso(last + _DAY),  # yfinance's end is exclusive
                        interval="1d",
                        auto_adjust=True,
                        actions=False,
                        timeout=self.timeout,
                    )
                return _normalize(df, sym)
            except yfe.YFPricesMissingError:
                return _empty(sym), []  # a valid symbol without rows in the range
            except yfe.YFTickerMissingError:
                raise PricesError(self._unknown(sym)) from None
            except yfe.YFRateLimitError as exc:
                kind, err = "rate_limit", exc
            except yfe.YFException as exc:
                raise PricesError(f"Yahoo Finance returned unusable data for {sym} ({_short(exc)})") from exc
            except Exception as exc:
                kind, err = _classify(exc)
                if kind == "not_found":
                    raise PricesError(self._unknown(sym)) from None
                if kind == "connection":
                    raise NetworkError(f"cannot reach Yahoo Finance ({_short(err)}); {_ADVICE}") from exc
                if kind == "http":
                    raise NetworkError(
                        f"Yahoo Finance refused the request for {sym} ({_short(err)}); {_ADVICE}"
                    ) from exc
                if kind is None:
                    raise
            if attempt + 1 < attempts:
                self.sleep(self.backoff * 2.0**attempt)
        assert err is not None
        if kind == "rate_limit":
            raise NetworkError(
                f"Yahoo Finance is rate-limiting requests (HTTP 429, {attempts} attempts for {sym}); "
                f"wait a few minutes and retry, {_ADVICE}"
            )
        raise NetworkError(
            f"cannot reach Yahoo Finance ({_short(err)}; {attempts} attempts for {sym}); {_ADVICE}"
        )

    @staticmethod
    def _unknown(sym: str) -> str:
        return (
            f"symbol '{sym}' is unknown to Yahoo Finance (no such ticker, or delisted); check the spelling "
            "(indices start with ^, e.g. ^HSI; FX pairs end with =X, e.g. EURUSD=X)"
        )


# --------------------------------------------------------------------------- cache commands
@dataclass(frozen=True)
class CacheInfo:
    """What ``eventstudy cache info`` shows.

    Attributes
    ----------
    directory : Path
        Where the Yahoo price files live.
    entries : list of EntryInfo
        One per cached symbol (checksum verified).
    total_bytes : int
    """

    directory: Path
    entries: list[EntryInfo]
    total_bytes: int


def cache_info(cache_dir: str | Path | None = None) -> CacheInfo:
    """Describe the Yahoo price cache (``$EVENTSTUDY_CACHE`` or the user cache dir)."""
    cache = PriceCache(cache_dir, namespace="yahoo")
    entries = cache.info()
    return CacheInfo(cache.directory, entries, sum(e.size_bytes for e in entries))


def cache_clear(cache_dir: str | Path | None = None, symbols: Sequence[str] | None = None) -> int:
    """Delete cached Yahoo prices (of ``symbols``, or all); return how many symbols."""
    return PriceCache(cache_dir, namespace="yahoo").clear(symbols)
