"""One daily-history request to Yahoo Finance, with retries: the Yahoo source's only network call.

:func:`history` asks yfinance's ``Ticker.history`` for adjusted daily closes
(``auto_adjust=True, actions=False``) and turns yfinance's and the HTTP
library's exceptions into the toolkit's: an unknown symbol is a
:class:`~eventstudy.errors.PricesError` naming it; HTTP 429
(``YFRateLimitError``), timeouts and 5xx responses are retried with
exponential backoff (``backoff * 2**attempt`` seconds, at most
``max_retries`` retries); an unreachable network is a one-line
:class:`~eventstudy.errors.NetworkError`. The frame is normalised by
:func:`~eventstudy.sources.yfcalls.normalize_history`; the cache logic around
it is :func:`~eventstudy.sources.yfsymbol.load_symbol`.

References
----------
yfinance 1.7 behaviour as recorded in the project's field notes (section 1.2):
``Ticker.history`` raises ``YFRateLimitError`` even with hidden exceptions and
retries only transient network errors itself, so backoff on HTTP 429 is the
caller's job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ..errors import NetworkError, PricesError
from .yfcalls import (
    ADVICE,
    DAY,
    classify_error,
    empty_closes,
    import_yfinance,
    iso_day,
    normalize_history,
    short_error,
    yfinance_calls,
)

__all__ = ["history", "unknown_symbol"]


def history(
    sym: str,
    first: pd.Timestamp,
    last: pd.Timestamp,
    *,
    session: Any,
    timeout: float,
    max_retries: int,
    backoff: float,
    sleep: Callable[[float], None],
) -> tuple[pd.Series, list[str]]:
    """Closes of ``sym`` for ``first`` … ``last`` (inclusive) with retries.

    Parameters
    ----------
    sym : str
        Yahoo symbol.
    first, last : pandas.Timestamp
        First and last date wanted (tz-naive midnights).
    session : requests.Session or curl_cffi Session or None
        HTTP session handed to yfinance (``None``: yfinance's default).
    timeout : float
        Seconds yfinance waits for one HTTP response.
    max_retries : int
        Retries after a rate-limited (HTTP 429), timed-out or 5xx request.
    backoff : float
        Seconds before the first retry; doubled for each further one.
    sleep : callable
        ``sleep(seconds)`` between attempts.

    Returns
    -------
    closes : pandas.Series
        Positive finite closes on exchange-local dates (empty when a valid
        symbol has no rows in the range).
    dropped : list of str
        ISO dates of rows dropped for a non-positive close.

    Raises
    ------
    PricesError
        Unknown symbol, or data yfinance cannot use.
    NetworkError
        Yahoo cannot be reached, refuses the request, or keeps failing after
        the retries.
    """
    yf, yfe = import_yfinance()
    attempts = max_retries + 1
    kind: str | None = None
    err: BaseException | None = None
    for attempt in range(attempts):
        try:
            with yfinance_calls(yf):
                tkr = yf.Ticker(sym, session=session)
                df = tkr.history(
                    start=iso_day(first),
                    end=iso_day(last + DAY),  # yfinance's end is exclusive
                    interval="1d",
                    auto_adjust=True,
                    actions=False,
                    timeout=timeout,
                )
            return normalize_history(df, sym)
        except yfe.YFPricesMissingError:
            return empty_closes(sym), []  # a valid symbol without rows in the range
        except yfe.YFTickerMissingError:
            raise PricesError(unknown_symbol(sym)) from None
        except yfe.YFRateLimitError as exc:
            kind, err = "rate_limit", exc
        except yfe.YFException as exc:
            raise PricesError(f"Yahoo Finance returned unusable data for {sym} ({short_error(exc)})") from exc
        except Exception as exc:
            kind, err = classify_error(exc)
            if kind == "not_found":
                raise PricesError(unknown_symbol(sym)) from None
            if kind == "connection":
                raise NetworkError(f"cannot reach Yahoo Finance ({short_error(err)}); {ADVICE}") from exc
            if kind == "http":
                raise NetworkError(
                    f"Yahoo Finance refused the request for {sym} ({short_error(err)}); {ADVICE}"
                ) from exc
            if kind is None:
                raise
        if attempt + 1 < attempts:
            sleep(backoff * 2.0**attempt)
    assert err is not None
    if kind == "rate_limit":
        raise NetworkError(
            f"Yahoo Finance is rate-limiting requests (HTTP 429, {attempts} attempts for {sym}); "
            f"wait a few minutes and retry, {ADVICE}"
        )
    raise NetworkError(
        f"cannot reach Yahoo Finance ({short_error(err)}; {attempts} attempts for {sym}); {ADVICE}"
    )


def unknown_symbol(sym: str) -> str:
    """The error message for a symbol Yahoo does not know."""
    return (
        f"symbol '{sym}' is unknown to Yahoo Finance (no such ticker, or delisted); check the spelling "
        "(indices start with ^, e.g. ^HSI; FX pairs end with =X, e.g. EURUSD=X)"
    )
