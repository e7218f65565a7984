"""Daily closes from Yahoo Finance (through yfinance) behind our own on-disk cache.

yfinance keeps no price cache of its own, so this source owns one
(:mod:`eventstudy.sources.cache`): a parquet file per symbol recording which
date ranges it covers. A request fetches only the parts of its range that the
cache does not cover; a request the cache covers makes no network call at all,
so a study that was fetched once runs offline afterwards.

:class:`YahooSource` is the price-source interface (arguments, the clock,
several symbols and their provenance). One symbol's range is served from the
cache, its gaps fetched, by :func:`~eventstudy.sources.yfsymbol.load_symbol`;
the request to Yahoo with its retries is
:func:`~eventstudy.sources.yfhistory.history`; yfinance's dates, errors and
frames are handled in :mod:`eventstudy.sources.yfcalls`.

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

import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from .base import Prices
from .cache import PriceCache
from .cacheinfo import CacheInfo, cache_clear, cache_info
from .fx import fx_correct_dates, is_fx
from .yfcalls import FX_NOTE, as_day, iso_day, session_cutoff, utc, yfinance_version
from .yfhistory import history
from .yfsymbol import load_symbol

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
        return utc(value)

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
        lo = as_day(start, "start")
        hi = as_day(end, "end") if end is not None else now.tz_localize(None).normalize().as_unit("ns")
        if lo > hi:
            raise InputError(f"start {iso_day(lo)} is after end {iso_day(hi)}")
        closes: dict[str, pd.Series] = {}
        series: dict[str, object] = {}
        fetched: list[str] = []
        for sym in dict.fromkeys(syms):
            if progress is not None:
                progress(sym, "start")
            out = load_symbol(
                self.cache,
                sym,
                lo,
                hi,
                now,
                history=self._history,
                fx_shift=self.fx_shift,
                offline=self.offline,
            )
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
            "yfinance": yfinance_version(),
            "auto_adjust": True,
            "cache_dir": str(self.cache.directory),
            "as_of": now.isoformat(),
            "request": [iso_day(lo), iso_day(hi)],
            "from_cache": not fetched,
            "message": message,
            "fx_date_shift": {"symbols": fx, "note": FX_NOTE} if fx else None,
            "series": series,
        }
        origin = f"Yahoo Finance via yfinance (cache {self.cache.directory})"
        return Prices(closes, "yahoo", origin, prov)

    def _history(self, sym: str, first: pd.Timestamp, last: pd.Timestamp) -> tuple[pd.Series, list[str]]:
        """Closes of ``sym`` for ``first`` … ``last`` (inclusive), retried (:func:`.yfhistory.history`)."""
        return history(
            sym,
            first,
            last,
            session=self.session,
            timeout=self.timeout,
            max_retries=self.max_retries,
            backoff=self.backoff,
            sleep=self.sleep,
        )
