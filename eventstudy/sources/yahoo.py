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

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, NetworkError, PricesError
from .base import Prices
from .cache import CacheCorruptError, PriceCache
from .cacheinfo import CacheInfo, cache_clear, cache_info
from .fx import fx_correct_dates, is_fx
from .spans import Span, merge_spans, missing_spans
from .yfcalls import (
    ADJ_RTOL,
    ADVICE,
    ANCHOR_WINDOW,
    DAY,
    FX_NOTE,
    as_day,
    classify_error,
    combine_closes,
    empty_closes,
    has_session,
    import_yfinance,
    iso_day,
    normalize_history,
    session_cutoff,
    short_error,
    utc,
    yfinance_calls,
    yfinance_version,
)

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

    # -- one symbol ----------------------------------------------------------
    def _load_one(self, sym: str, start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp) -> _Outcome:
        fx = self.fx_shift and is_fx(sym)
        if fx:  # Yahoo date y holds the close of business day y - 1
            ys = pd.Timestamp(np.busday_offset(start.date(), 1, roll="forward")).as_unit("ns")
            ye = pd.Timestamp(np.busday_offset(end.date(), 1, roll="backward")).as_unit("ns")
        else:
            ys, ye = start, end
        cutoff = session_cutoff(sym, now)
        last_final = min(ye, cutoff - DAY)
        info: dict[str, object] = {}
        with self.cache.locked(sym):
            try:
                entry = self.cache.read(sym)
            except CacheCorruptError as exc:
                info["cache_repaired"] = str(exc)
                self.cache.discard(sym)
                entry = None
            closes = entry.closes if entry is not None else empty_closes(sym)
            covered: tuple[Span, ...] = entry.covered if entry is not None else ()
            gaps = missing_spans((ys, last_final), covered) if ys <= last_final else []
            needed = [g for g in gaps if has_session(sym, *g)]
            if needed and self.offline:
                a, b = needed[0]
                raise PricesError(
                    f"{sym}: the cache lacks {iso_day(a)}…{iso_day(b)} and the source is offline"
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
                    dropped_late += [iso_day(d) for d in new.index[late]]
                    dropped_bad += bad
                    new = new[~late]
                    common = new.index.intersection(closes.index)
                    if len(common) and not np.allclose(
                        new[common].to_numpy(), closes[common].to_numpy(), rtol=ADJ_RTOL, atol=0.0
                    ):
                        readjusted = True
                        break
                    closes = combine_closes(closes, new)
                    fetched.append((a, b))
                    if ((new.index >= a) & (new.index <= b)).any():
                        covered = merge_spans([*covered, (a, b)])
                    else:  # sessions expected but no rows: do not cache "no data"; ask again next time
                        empty.append((a, b))
                if readjusted:
                    # Yahoo re-adjusted past closes (a dividend went ex): refetch everything.
                    lo = min(ys, covered[0][0]) if covered else ys
                    hi = min(max(last_final, covered[-1][1]) if covered else last_final, cutoff - DAY)
                    new, bad = self._history(sym, lo, hi)
                    late = new.index >= cutoff
                    dropped_late += [iso_day(d) for d in new.index[late]]
                    dropped_bad += bad
                    closes, covered, fetched = new[~late], ((lo, hi),), [(lo, hi)]
            except NetworkError as exc:
                failure = exc
            if fetched or "cache_repaired" in info:
                meta = {"source": "yahoo", "auto_adjust": True, "yfinance": yfinance_version()}
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
                f"Yahoo Finance has no prices for {sym} between {iso_day(start)} and {iso_day(end)}{why}"
            )
        info.update(
            {
                "rows": len(out),
                "first": iso_day(out.index[0]),
                "last": iso_day(out.index[-1]),
                "from_cache": not fetched,
                "fetched": [[iso_day(a), iso_day(b)] for a, b in fetched],
                "cache_file": str(self.cache.data_path(sym)),
                "cache_sha256": entry.sha256 if entry is not None else None,
                "covered": [[iso_day(a), iso_day(b)] for a, b in covered],
                "complete_through": iso_day(cutoff - DAY),
            }
        )
        if empty:
            info["empty"] = [[iso_day(a), iso_day(b)] for a, b in empty]
        if dropped_late:
            info["dropped_unclosed"] = dropped_late
        if dropped_bad:
            info["dropped_nonpositive"] = dropped_bad
        if readjusted:
            info["readjusted"] = "Yahoo changed adjusted past closes; the cached range was refetched"
        if fx:
            info["date_shift"] = FX_NOTE
        return _Outcome(out, info, bool(fetched))

    @staticmethod
    def _anchor(closes: pd.Series, a: pd.Timestamp, b: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Extend a gap by one adjacent cached row, to check Yahoo's adjustment."""
        if len(closes) == 0:
            return a, b
        idx = closes.index
        before = idx[(idx < a) & (idx >= a - ANCHOR_WINDOW)]
        if len(before):
            return pd.Timestamp(before[-1]), b
        after = idx[(idx > b) & (idx <= b + ANCHOR_WINDOW)]
        if len(after):
            return a, pd.Timestamp(after[0])
        return a, b

    def _cache_hint(self, sym: str, covered: Sequence[Span]) -> str:
        if not covered:
            return f" (nothing cached for {sym})"
        spans = ", ".join(f"{iso_day(a)}…{iso_day(b)}" for a, b in covered)
        return f" (the cache has {sym} for {spans})"

    def _history(self, sym: str, first: pd.Timestamp, last: pd.Timestamp) -> tuple[pd.Series, list[str]]:
        """Closes of ``sym`` for ``first`` … ``last`` (inclusive) with retries."""
        yf, yfe = import_yfinance()
        attempts = self.max_retries + 1
        kind: str | None = None
        err: BaseException | None = None
        for attempt in range(attempts):
            try:
                with yfinance_calls(yf):
                    tkr = yf.Ticker(sym, session=self.session)
                    df = tkr.history(
                        start=iso_day(first),
                        end=iso_day(last + DAY),  # yfinance's end is exclusive
                        interval="1d",
                        auto_adjust=True,
                        actions=False,
                        timeout=self.timeout,
                    )
                return normalize_history(df, sym)
            except yfe.YFPricesMissingError:
                return empty_closes(sym), []  # a valid symbol without rows in the range
            except yfe.YFTickerMissingError:
                raise PricesError(self._unknown(sym)) from None
            except yfe.YFRateLimitError as exc:
                kind, err = "rate_limit", exc
            except yfe.YFException as exc:
                raise PricesError(
                    f"Yahoo Finance returned unusable data for {sym} ({short_error(exc)})"
                ) from exc
            except Exception as exc:
                kind, err = classify_error(exc)
                if kind == "not_found":
                    raise PricesError(self._unknown(sym)) from None
                if kind == "connection":
                    raise NetworkError(f"cannot reach Yahoo Finance ({short_error(err)}); {ADVICE}") from exc
                if kind == "http":
                    raise NetworkError(
                        f"Yahoo Finance refused the request for {sym} ({short_error(err)}); {ADVICE}"
                    ) from exc
                if kind is None:
                    raise
            if attempt + 1 < attempts:
                self.sleep(self.backoff * 2.0**attempt)
        assert err is not None
        if kind == "rate_limit":
            raise NetworkError(
                f"Yahoo Finance is rate-limiting requests (HTTP 429, {attempts} attempts for {sym}); "
                f"wait a few minutes and retry, {ADVICE}"
            )
        raise NetworkError(
            f"cannot reach Yahoo Finance ({short_error(err)}; {attempts} attempts for {sym}); {ADVICE}"
        )

    @staticmethod
    def _unknown(sym: str) -> str:
        return (
            f"symbol '{sym}' is unknown to Yahoo Finance (no such ticker, or delisted); check the spelling "
            "(indices start with ^, e.g. ^HSI; FX pairs end with =X, e.g. EURUSD=X)"
        )
