"""The ``yahoo`` price source and its on-disk cache — real yfinance code, no network.

yfinance runs for real; only its HTTP transport is replaced. :class:`FakeYahoo`
is a ``requests`` transport adapter mounted on a plain ``requests.Session``
(``YF_DISABLE_CURL_CFFI=1`` is set before yfinance is imported, so yfinance uses
the ``requests`` backend). It answers ``/v8/finance/chart/{symbol}`` with the
JSON fixtures in ``tests/fixtures/yahoo`` (sliced to the request's
``period1``/``period2``, as Yahoo does), stubs the cookie/crumb/quoteSummary
endpoints, and can answer 429, time out or refuse to connect. Every request is
logged, so tests count them. Any URL it does not know gets a harmless stub, and
no socket is ever opened.

Fixtures (Yahoo v8 chart format, 2025-06-02…2025-06-20)
-------------------------------------------------------
``HSI.json``, ``GDAXI.json``, ``EURUSD_X.json``
    Chart responses built in Yahoo's format from the project's record of Yahoo
    daily data (``/work/shared/data/prices``: open, close, volume as published;
    where that record lacks high/low they are set from open and close). Daily
    timestamps are the session open in exchange time (09:30 HKT, 09:00 CEST;
    00:00 London for FX), as Yahoo stamps them.
``HSI_live.json``
    The same ^HSI response as it looks during the 2025-06-20 session at 11:05
    HKT: the last bar is live (close 23412.35; the final close is 23530.48).
``not_found.json``
    Yahoo's 404 body for an unknown symbol.

Expected values are read from the fixture files with ``json`` and ``zoneinfo``
in this module, independently of the code under test.
"""

from __future__ import annotations

import os

os.environ["YF_DISABLE_CURL_CFFI"] = "1"  # before anything imports yfinance

import functools
import itertools
import json
import multiprocessing as mp
import re
import warnings
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest
import requests
import yfinance as yf
from hypothesis import given, settings
from hypothesis import strategies as st
from requests.adapters import BaseAdapter

from eventstudy.errors import InputError, NetworkError, PricesError
from eventstudy.sources.base import Prices, PriceSource
from eventstudy.sources.cache import (
    CACHE_ENV,
    CacheCorruptError,
    PriceCache,
    default_cache_dir,
    merge_spans,
    missing_spans,
)
from eventstudy.sources.yahoo import YahooSource, cache_clear, cache_info, session_cutoff

pytestmark = pytest.mark.filterwarnings("ignore::Warning:yfinance")

FIX = Path(__file__).parent / "fixtures" / "yahoo"
FILES = {"^HSI": "HSI.json", "^GDAXI": "GDAXI.json", "EURUSD=X": "EURUSD_X.json"}
NOW = pd.Timestamp("2025-07-01 12:00", tz="UTC")  # every fixture session has closed
ADVICE = "use --source snapshot, or the cache"


# --------------------------------------------------------------------------- the fake transport
class FakeYahoo(BaseAdapter):
    """Serves recorded chart JSON; scripted failures per symbol; logs every request.

    Attributes
    ----------
    plan : dict
        symbol -> list of actions consumed by successive chart requests of that
        symbol: ``"429"``, ``"timeout"``, ``"conn"`` or ``"ok"``; when the list
        is empty the request succeeds. ``always`` gives a permanent action.
    offline : bool
        Every request raises ``ConnectionError`` (no network).
    fail_with : exception, optional
        Every request raises this (e.g. curl_cffi's own exception types).
    files : dict
        symbol -> fixture file name.
    scale : float
        Multiplies all prices (simulates Yahoo re-adjusting history).
    """

    def __init__(self, files: dict[str, str] | None = None) -> None:
        super().__init__()
        self.files = dict(FILES if files is None else files)
        self.log: list[tuple[str, dict[str, str]]] = []
        self.plan: dict[str, list[str]] = {}
        self.always: dict[str, str] = {}
        self.offline = False
        self.fail_with: BaseException | None = None
        self.scale = 1.0

    def history_calls(self, symbol: str | None = None) -> list[dict[str, str]]:
        """Params of chart requests with a date range (not the 1-day timezone probe)."""
        out = []
        for path, q in self.log:
            m = re.match(r"/v8/finance/chart/(.+)", path)
            if m and "period1" in q and (symbol is None or unquote(m.group(1)) == symbol):
                out.append(q)
        return out

    def send(self, request: Any, **kwargs: Any) -> requests.Response:
        u = urlsplit(request.url)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        self.log.append((u.path, q))
        if self.fail_with is not None:
            raise self.fail_with
        if self.offline:
            raise requests.exceptions.ConnectionError(
                f"HTTPSConnectionPool(host='{u.hostname}', port=443): Max retries exceeded "
                "(Caused by NameResolutionError: Failed to resolve host)"
            )
        r = requests.Response()
        r.url, r.request, r.status_code, r.encoding = request.url, request, 200, "utf-8"
        m = re.match(r"/v8/finance/chart/(.+)", u.path)
        if m:
            sym = unquote(m.group(1))
            steps = self.plan.get(sym)
            action = steps.pop(0) if steps else self.always.get(sym, "ok")
            if action == "timeout":
                raise requests.exceptions.ReadTimeout(
                    "HTTPSConnectionPool: Read timed out. (read timeout=10)"
                )
            if action == "conn":
                raise requests.exceptions.ConnectionError("Connection refused")
            if action == "429":
                r.status_code, r._content = 429, b"Too Many Requests\r\n"
            elif sym not in self.files:
                r.status_code, r._content = 404, (FIX / "not_found.json").read_bytes()
            else:
                r._content = json.dumps(self._chart(sym, q)).encode()
        elif "getcrumb" in u.path:
            r._content = b"fakecrumb"
        elif "quoteSummary" in u.path:
            r.status_code = 404
            r._content = b'{"quoteSummary":{"result":null,"error":{"code":"Not Found","description":"x"}}}'
        elif "/v7/finance/quote" in u.path:
            r._content = b'{"quoteResponse":{"result":[],"error":null}}'
        elif "timeseries" in u.path:
            r._content = b'{"timeseries":{"result":[],"error":null}}'
        else:
            r._content = b"ok"
        return r

    def _chart(self, sym: str, q: dict[str, str]) -> dict[str, Any]:
        doc = json.loads((FIX / self.files[sym]).read_text())
        res = doc["chart"]["result"][0]
        ts = res["timestamp"]
        if "period1" in q:
            lo, hi = int(q["period1"]), int(q["period2"])
            keep = [i for i, t in enumerate(ts) if lo <= t < hi]
            if self.files[sym] == "HSI_live.json" and len(ts) - 1 not in keep:
                keep.append(len(ts) - 1)  # Yahoo appends the live bar whatever period2 says
        else:  # range=1d: the latest bar
            keep = [len(ts) - 1]
        if not keep:
            res.pop("timestamp")
            res["indicators"] = {"quote": [{}], "adjclose": [{}]}
            return doc
        res["timestamp"] = [ts[i] for i in keep]
        quote = res["indicators"]["quote"][0]
        for k, v in quote.items():
            f = self.scale if k != "volume" else 1
            quote[k] = [v[i] * f if v[i] is not None else None for i in keep]
        adj = res["indicators"]["adjclose"][0]
        adj["adjclose"] = [adj["adjclose"][i] * self.scale for i in keep]
        return doc

    def close(self) -> None:
        pass


def make_session(adapter: FakeYahoo) -> requests.Session:
    s = requests.Session()
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    return s


def fixture_closes(name: str, scale: float = 1.0) -> pd.Series:
    """Closes of a fixture on exchange-local dates, parsed with json + zoneinfo only."""
    res = json.loads((FIX / name).read_text())["chart"]["result"][0]
    tz = ZoneInfo(res["meta"]["exchangeTimezoneName"])
    days = [datetime.fromtimestamp(t, tz).date() for t in res["timestamp"]]
    closes = [c * scale for c in res["indicators"]["adjclose"][0]["adjclose"]]
    return pd.Series(closes, index=pd.DatetimeIndex(days).as_unit("ns"), dtype="float64")


def local_midnight(day: str, tz: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(tz)).timestamp())


def between(s: pd.Series, a: str, b: str) -> pd.Series:
    return s[(s.index >= pd.Timestamp(a)) & (s.index <= pd.Timestamp(b))]


def assert_closes_equal(got: pd.Series, want: pd.Series) -> None:
    assert isinstance(got.index, pd.DatetimeIndex)
    assert got.index.tz is None and str(got.index.dtype) == "datetime64[ns]"
    assert [d.date() for d in got.index] == [d.date() for d in want.index]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module", autouse=True)
def _yf_tz_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    yf.set_tz_cache_location(str(tmp_path_factory.mktemp("yf-cache")))


@pytest.fixture(autouse=True)
def _fresh_yf_state() -> Iterator[None]:
    """Forget yfinance's in-memory response cache and cookie between tests."""
    yf.data.YfData.cache_get.cache_clear()
    ydata = yf.data.YfData()
    ydata._cookie, ydata._crumb, ydata._cookie_strategy = None, None, "basic"
    yield
    yf.data.YfData.cache_get.cache_clear()


@pytest.fixture
def fake() -> FakeYahoo:
    return FakeYahoo()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def source(tmp_path: Path, fake: FakeYahoo, sleeps: list[float]) -> Callable[..., YahooSource]:
    def make(**kw: Any) -> YahooSource:
        args: dict[str, Any] = dict(
            cache_dir=tmp_path / "cache", session=make_session(fake), sleep=sleeps.append, now=NOW
        )
        args.update(kw)
        return YahooSource(**args)

    return make


def test_requests_backend_is_active() -> None:
    """The fake transport needs yfinance's requests backend (YF_DISABLE_CURL_CFFI=1)."""
    assert yf._http.HAS_CURL_CFFI is False, "yfinance was imported before YF_DISABLE_CURL_CFFI was set"


# --------------------------------------------------------------------------- normal fetch
def test_normal_fetch_matches_the_recorded_response(
    source: Callable[..., YahooSource], fake: FakeYahoo
) -> None:
    src = source()
    assert isinstance(src, PriceSource)
    p = src.load(["^HSI", "^GDAXI"], "2025-06-02", "2025-06-13")
    assert isinstance(p, Prices) and p.source == "yahoo" and p.symbols == ["^HSI", "^GDAXI"]
    assert_closes_equal(p["^HSI"], between(fixture_closes("HSI.json"), "2025-06-02", "2025-06-13"))
    assert_closes_equal(p["^GDAXI"], between(fixture_closes("GDAXI.json"), "2025-06-02", "2025-06-13"))
    assert p["^HSI"].loc["2025-06-02"] == 23157.97  # Yahoo's published close
    assert p["^GDAXI"].loc["2025-06-13"] == 23516.23
    assert p.provenance["from_cache"] is False
    assert "fetched from Yahoo Finance" in str(p.provenance["message"])
    assert len(fake.history_calls("^HSI")) == 1 and len(fake.history_calls("^GDAXI")) == 1
    q = fake.history_calls("^HSI")[0]
    assert int(q["period1"]) == local_midnight("2025-06-02", "Asia/Hong_Kong")
    assert int(q["period2"]) == local_midnight("2025-06-14", "Asia/Hong_Kong")  # end is exclusive


def test_fx_dates_move_back_one_business_day(source: Callable[..., YahooSource]) -> None:
    yahoo = fixture_closes("EURUSD_X.json")
    # Yahoo's bar dated y is the previous business day's close: a plain loop.
    want: dict[date, float] = {}
    for d, v in yahoo.items():
        y = d.date()
        if y.weekday() >= 5:
            continue
        prev = y - timedelta(days=1)
        while prev.weekday() >= 5:
            prev -= timedelta(days=1)
        if date(2025, 6, 2) <= prev <= date(2025, 6, 13):
            want[prev] = v
    p = source().load(["EURUSD=X"], "2025-06-02", "2025-06-13")
    got = p["EURUSD=X"]
    assert [d.date() for d in got.index] == sorted(want)
    assert got.to_numpy().tolist() == [want[d] for d in sorted(want)]
    assert got.loc["2025-06-06"] == yahoo.loc["2025-06-09"]  # Monday's bar is Friday's close
    assert p.provenance["fx_date_shift"]["symbols"] == ["EURUSD=X"]
    assert "previous business day" in p.provenance["series"]["EURUSD=X"]["date_shift"]


def test_fx_shift_can_be_turned_off(source: Callable[..., YahooSource]) -> None:
    p = source(fx_shift=False).load(["EURUSD=X"], "2025-06-02", "2025-06-13")
    assert_closes_equal(p["EURUSD=X"], between(fixture_closes("EURUSD_X.json"), "2025-06-02", "2025-06-13"))
    assert p.provenance["fx_date_shift"] is None


def test_progress_callback_reports_each_symbol(source: Callable[..., YahooSource]) -> None:
    seen: list[tuple[str, str]] = []
    src = source()
    src.fetch(["^HSI", "^GDAXI"], "2025-06-02", "2025-06-06", progress=lambda s, e: seen.append((s, e)))
    assert seen == [("^HSI", "start"), ("^HSI", "fetched"), ("^GDAXI", "start"), ("^GDAXI", "fetched")]
    seen.clear()
    src.fetch(["^HSI"], "2025-06-02", "2025-06-06", progress=lambda s, e: seen.append((s, e)))
    assert seen == [("^HSI", "start"), ("^HSI", "cached")]


def test_arguments_are_checked(source: Callable[..., YahooSource]) -> None:
    src = source()
    with pytest.raises(InputError, match="needs symbols"):
        src.load(None, "2025-06-02", "2025-06-06")
    with pytest.raises(InputError, match="start date"):
        src.load(["^HSI"])
    with pytest.raises(InputError, match="after end"):
        src.load(["^HSI"], "2025-06-10", "2025-06-02")
    with pytest.raises(InputError, match="not a date"):
        src.load(["^HSI"], "June", "2025-06-02")


# --------------------------------------------------------------------------- errors and retries
def test_rate_limit_is_retried_with_backoff_then_succeeds(
    source: Callable[..., YahooSource], fake: FakeYahoo, sleeps: list[float]
) -> None:
    fake.plan["^GDAXI"] = ["429", "429"]
    p = source(backoff=0.5).load(["^GDAXI"], "2025-06-02", "2025-06-06")
    assert_closes_equal(p["^GDAXI"], between(fixture_closes("GDAXI.json"), "2025-06-02", "2025-06-06"))
    assert 1 <= len(sleeps) <= 2
    assert sleeps == [0.5 * 2**i for i in range(len(sleeps))]


def test_persistent_rate_limit_gives_a_clear_error(
    source: Callable[..., YahooSource], fake: FakeYahoo, sleeps: list[float]
) -> None:
    fake.always["^GDAXI"] = "429"
    with pytest.raises(NetworkError) as ei:
        source(max_retries=3, backoff=0.5).load(["^GDAXI"], "2025-06-02", "2025-06-06")
    msg = str(ei.value)
    assert "\n" not in msg and "429" in msg and "rate-limiting" in msg and ADVICE in msg
    assert sleeps == [0.5, 1.0, 2.0]  # backoff * 2**attempt between 4 attempts


def test_unknown_symbol_names_the_symbol(
    source: Callable[..., YahooSource], sleeps: list[float], tmp_path: Path
) -> None:
    with pytest.raises(PricesError) as ei:
        source().load(["^HSI", "^NOPE"], "2025-06-02", "2025-06-06")
    assert not isinstance(ei.value, NetworkError)
    msg = str(ei.value)
    assert "'^NOPE'" in msg and "unknown to Yahoo Finance" in msg and "\n" not in msg
    assert sleeps == []
    assert not PriceCache(tmp_path / "cache").data_path("^NOPE").exists()


def test_every_unknown_symbol_is_named(source: Callable[..., YahooSource]) -> None:
    # yfinance reports the first two through a 404 of its quoteSummary fallback,
    # later ones as YFTzMissingError: both must read the same.
    src = source()
    for sym in ("^NOPE1", "^NOPE2", "^NOPE3"):
        with pytest.raises(PricesError, match=re.escape(f"symbol '{sym}' is unknown to Yahoo Finance")):
            src.load([sym], "2025-06-02", "2025-06-06")


def test_timeouts_are_retried_then_succeed(
    source: Callable[..., YahooSource], fake: FakeYahoo, sleeps: list[float]
) -> None:
    fake.plan["^HSI"] = ["timeout"]
    p = source().load(["^HSI"], "2025-06-02", "2025-06-06")
    assert len(p["^HSI"]) == 5 and sleeps == [1.0]


def test_persistent_timeout_is_a_one_line_network_error(
    source: Callable[..., YahooSource], fake: FakeYahoo, sleeps: list[float]
) -> None:
    fake.always["^HSI"] = "timeout"
    with pytest.raises(NetworkError) as ei:
        source(max_retries=2).load(["^HSI"], "2025-06-02", "2025-06-06")
    msg = str(ei.value)
    assert msg.startswith("cannot reach Yahoo Finance (") and ADVICE in msg and "\n" not in msg
    assert "ReadTimeout" in msg and "3 attempts" in msg
    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize("cookie_cached", [False, True])
def test_unreachable_network_is_a_one_line_network_error(
    source: Callable[..., YahooSource], fake: FakeYahoo, sleeps: list[float], cookie_cached: bool
) -> None:
    if cookie_cached:  # the cookie step is skipped; the chart request itself fails
        ydata = yf.data.YfData()
        ydata._cookie, ydata._crumb = True, "fakecrumb"
    fake.offline = True
    with pytest.raises(NetworkError) as ei:
        source().load(["^HSI"], "2025-06-02", "2025-06-06")
    msg = str(ei.value)
    assert msg.startswith("cannot reach Yahoo Finance (ConnectionError")
    assert ADVICE in msg and "\n" not in msg and "nothing cached for ^HSI" in msg
    assert sleeps == []  # a refused connection is not retried


def test_curl_cffi_failures_are_classified_too(
    source: Callable[..., YahooSource], fake: FakeYahoo, sleeps: list[float]
) -> None:
    """yfinance's default backend raises curl_cffi's exception types, not requests'."""
    from curl_cffi.requests import exceptions as cx

    fake.fail_with = cx.DNSError("Could not resolve host: query2.finance.yahoo.com")
    with pytest.raises(NetworkError, match=r"^cannot reach Yahoo Finance \(DNSError: Could not resolve"):
        source().load(["^HSI"], "2025-06-02", "2025-06-06")
    assert sleeps == []
    fake.fail_with = cx.Timeout("Operation timed out after 10001 milliseconds")
    with pytest.raises(NetworkError, match="2 attempts"):
        source(max_retries=1).load(["^HSI"], "2025-06-02", "2025-06-06")
    assert sleeps == [1.0]


# --------------------------------------------------------------------------- the cache
def test_second_load_makes_no_request_and_works_offline(
    source: Callable[..., YahooSource], fake: FakeYahoo
) -> None:
    first = source().load(["^HSI", "EURUSD=X"], "2025-06-02", "2025-06-13")
    n = len(fake.log)
    assert n > 0
    again = source().load(["^HSI", "EURUSD=X"], "2025-06-02", "2025-06-13")
    assert len(fake.log) == n
    for s in ("^HSI", "EURUSD=X"):
        assert_closes_equal(again[s], first[s])
    assert again.provenance["from_cache"] is True
    assert "Yahoo Finance was not contacted" in str(again.provenance["message"])
    fake.offline = True  # offline, and the cache covers the request: served from the cache
    sub = source().load(["^HSI"], "2025-06-03", "2025-06-10")
    assert len(fake.log) == n
    assert_closes_equal(sub["^HSI"], between(first["^HSI"], "2025-06-03", "2025-06-10"))
    assert sub.provenance["series"]["^HSI"]["from_cache"] is True


def test_partial_range_fetches_only_the_missing_part(
    source: Callable[..., YahooSource], fake: FakeYahoo
) -> None:
    src = source()
    src.load(["^HSI"], "2025-06-02", "2025-06-04")
    src.load(["^HSI"], "2025-06-16", "2025-06-20")
    assert len(fake.history_calls("^HSI")) == 2
    p = src.load(["^HSI"], "2025-06-02", "2025-06-20")
    calls = fake.history_calls("^HSI")[2:]
    assert len(calls) == 1
    # The gap is 06-05…06-15; the request starts at the last cached session before
    # it (06-04, an anchor that checks Yahoo's adjustment) and ends before 06-16.
    assert int(calls[0]["period1"]) == local_midnight("2025-06-04", "Asia/Hong_Kong")
    assert int(calls[0]["period2"]) == local_midnight("2025-06-16", "Asia/Hong_Kong")
    assert_closes_equal(p["^HSI"], fixture_closes("HSI.json"))
    assert p.provenance["series"]["^HSI"]["fetched"] == [["2025-06-05", "2025-06-15"]]
    assert p.provenance["series"]["^HSI"]["covered"] == [["2025-06-02", "2025-06-20"]]


def test_gap_without_sessions_needs_no_request(source: Callable[..., YahooSource], fake: FakeYahoo) -> None:
    src = source()
    src.load(["^HSI"], "2025-06-02", "2025-06-06")  # Mon..Fri
    n = len(fake.log)
    p = src.load(["^HSI"], "2025-06-02", "2025-06-08")  # + Sat, Sun: no XHKG session
    assert len(fake.log) == n and len(p["^HSI"]) == 5


def test_an_empty_answer_is_not_cached_as_no_data(
    source: Callable[..., YahooSource], fake: FakeYahoo
) -> None:
    src = source()  # XHKG traded 2025-05-26…30, but the recorded response has no rows then
    for _ in range(2):
        with pytest.raises(PricesError, match="Yahoo returned no rows"):
            src.load(["^HSI"], "2025-05-26", "2025-05-30")
        yf.data.YfData.cache_get.cache_clear()  # as in a new process
    assert len(fake.history_calls("^HSI")) == 2  # asked again the second time


def test_a_range_without_sessions_is_an_error_without_a_request(
    source: Callable[..., YahooSource], fake: FakeYahoo
) -> None:
    with pytest.raises(PricesError, match="no trading session of \\^HSI"):
        source().load(["^HSI"], "2025-06-07", "2025-06-08")  # a weekend
    assert fake.log == []


def test_provenance_is_json_serialisable(source: Callable[..., YahooSource]) -> None:
    p = source().load(["^HSI", "EURUSD=X"], "2025-06-02", "2025-06-06")
    back = json.loads(json.dumps(p.provenance))
    assert back["series"]["^HSI"]["rows"] == 5 and back["auto_adjust"] is True


def test_changed_adjustment_refetches_the_cached_range(
    source: Callable[..., YahooSource], fake: FakeYahoo
) -> None:
    src = source()
    src.load(["^GDAXI"], "2025-06-02", "2025-06-06")
    fake.scale = 0.99  # Yahoo now adjusts every past close (e.g. a dividend went ex)
    p = src.load(["^GDAXI"], "2025-06-02", "2025-06-13")
    assert_closes_equal(p["^GDAXI"], between(fixture_closes("GDAXI.json", 0.99), "2025-06-02", "2025-06-13"))
    assert "readjusted" in p.provenance["series"]["^GDAXI"]
    calls = fake.history_calls("^GDAXI")
    assert int(calls[-1]["period1"]) == local_midnight("2025-06-02", "Europe/Berlin")


@pytest.mark.parametrize("damage", ["flip-byte", "truncate", "bad-sidecar", "no-parquet"])
def test_corrupt_cache_file_is_detected_and_refetched(
    source: Callable[..., YahooSource], fake: FakeYahoo, tmp_path: Path, damage: str
) -> None:
    src = source()
    src.load(["^HSI"], "2025-06-02", "2025-06-13")
    cache = PriceCache(tmp_path / "cache")
    data, meta = cache.data_path("^HSI"), cache.meta_path("^HSI")
    raw = bytearray(data.read_bytes())
    if damage == "flip-byte":
        raw[len(raw) // 2] ^= 0xFF
        data.write_bytes(bytes(raw))
    elif damage == "truncate":
        data.write_bytes(bytes(raw[: len(raw) // 3]))
    elif damage == "bad-sidecar":
        meta.write_text("{not json")
    else:
        data.unlink()
    with cache.locked("^HSI"), pytest.raises(CacheCorruptError):
        cache.read("^HSI")
    n = len(fake.history_calls("^HSI"))
    yf.data.YfData.cache_get.cache_clear()  # as in a new process: yfinance's memory cache is empty
    p = src.load(["^HSI"], "2025-06-02", "2025-06-13")
    assert len(fake.history_calls("^HSI")) == n + 1
    assert_closes_equal(p["^HSI"], between(fixture_closes("HSI.json"), "2025-06-02", "2025-06-13"))
    assert "cache_repaired" in p.provenance["series"]["^HSI"]
    with cache.locked("^HSI"):
        entry = cache.read("^HSI")
    assert entry is not None and len(entry.closes) == 10


def test_incomplete_bar_of_an_open_session_is_not_stored(
    tmp_path: Path, fake: FakeYahoo, sleeps: list[float]
) -> None:
    fake.files["^HSI"] = "HSI_live.json"
    live_now = pd.Timestamp("2025-06-20 11:05", tz="Asia/Hong_Kong")  # XHKG closes at 16:00
    src = YahooSource(tmp_path / "c", make_session(fake), sleep=sleeps.append, now=live_now)
    p = src.load(["^HSI"], "2025-06-02", "2025-06-20")
    assert p["^HSI"].index[-1] == pd.Timestamp("2025-06-19")
    assert p.provenance["series"]["^HSI"]["complete_through"] == "2025-06-19"
    cache = PriceCache(tmp_path / "c")
    stored = pd.read_parquet(cache.data_path("^HSI"))
    assert pd.Timestamp("2025-06-20") not in stored.index and len(stored) == 14
    assert json.loads(cache.meta_path("^HSI").read_text())["covered"] == [["2025-06-02", "2025-06-19"]]
    # Still open: nothing more to fetch.
    n = len(fake.history_calls())
    src.load(["^HSI"], "2025-06-02", "2025-06-20")
    assert len(fake.history_calls()) == n
    # After the close, only the new session is fetched, with its final close.
    fake.files["^HSI"] = "HSI.json"
    after = YahooSource(
        tmp_path / "c", make_session(fake), sleep=sleeps.append, now=pd.Timestamp("2025-06-20 16:30+08:00")
    )
    p2 = after.load(["^HSI"], "2025-06-02", "2025-06-20")
    calls = fake.history_calls()[n:]
    assert len(calls) == 1
    assert int(calls[0]["period1"]) == local_midnight("2025-06-19", "Asia/Hong_Kong")  # anchor
    assert p2["^HSI"].loc["2025-06-20"] == 23530.48 != 23412.35
    assert_closes_equal(p2["^HSI"], fixture_closes("HSI.json"))


def test_a_request_in_the_live_session_only_is_an_error(
    tmp_path: Path, fake: FakeYahoo, sleeps: list[float]
) -> None:
    src = YahooSource(
        tmp_path / "c", make_session(fake), sleep=sleeps.append, now=pd.Timestamp("2025-06-20 03:05Z")
    )
    with pytest.raises(PricesError, match="has closed yet"):
        src.load(["^HSI"], "2025-06-20", "2025-06-20")
    assert fake.log == []


@functools.cache
def _xhkg() -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    with warnings.catch_warnings():  # exchange_calendars 4.13 trips pandas 3.1 deprecations
        warnings.simplefilter("ignore")
        cal = xcals.get_calendar("XHKG", start="2024-01-01", end="2026-12-31")
        return list(zip(cal.sessions, cal.closes.array, strict=True))


def xhkg_cutoff_by_hand(now: pd.Timestamp) -> pd.Timestamp:
    """First XHKG session whose close is after ``now``, read off exchange_calendars directly."""
    for day, close in _xhkg():
        if close > now:
            return pd.Timestamp(day).tz_localize(None) if day.tzinfo else pd.Timestamp(day)
    raise AssertionError("no session after now")


@settings(max_examples=30, deadline=None)
@given(minutes=st.integers(0, 365 * 24 * 60 - 1))
def test_session_cutoff_is_the_first_session_still_open(minutes: int) -> None:
    now = pd.Timestamp("2025-01-01", tz="UTC") + pd.Timedelta(minutes=minutes)
    assert session_cutoff("^HSI", now) == xhkg_cutoff_by_hand(now)
    assert session_cutoff("EURUSD=X", now) == pd.Timestamp(now.date())  # no calendar: UTC date


def test_session_cutoff_examples() -> None:
    assert session_cutoff("^HSI", pd.Timestamp("2025-06-20 15:59+08:00")) == pd.Timestamp("2025-06-20")
    assert session_cutoff("^HSI", pd.Timestamp("2025-06-20 16:00+08:00")) == pd.Timestamp("2025-06-23")
    assert session_cutoff("^GDAXI", pd.Timestamp("2025-06-21 12:00Z")) == pd.Timestamp("2025-06-23")


# --------------------------------------------------------------------------- date-range algebra
def _days(spans: list[tuple[pd.Timestamp, pd.Timestamp]]) -> set[pd.Timestamp]:
    out: set[pd.Timestamp] = set()
    for a, b in spans:
        out |= set(pd.date_range(a, b, freq="D"))
    return out


def _span(start: int, length: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    a = pd.Timestamp("2025-01-01") + pd.Timedelta(days=start)
    return a, a + pd.Timedelta(days=length)


span_st = st.builds(_span, st.integers(0, 60), st.integers(0, 15))


@settings(max_examples=50, deadline=None)
@given(covered=st.lists(span_st, max_size=5), request=span_st)
def test_missing_spans_equal_the_brute_force_difference(covered: list[Any], request: Any) -> None:
    merged = merge_spans(covered)
    assert _days(list(merged)) == _days(covered)
    assert all(b + pd.Timedelta(days=1) < c for (_, b), (c, _) in itertools.pairwise(merged))
    gaps = missing_spans(request, covered)
    assert _days(gaps) == _days([request]) - _days(covered)
    assert all(b + pd.Timedelta(days=1) < c for (_, b), (c, _) in itertools.pairwise(gaps))


# --------------------------------------------------------------------------- cache commands and location
def test_cache_info_and_clear(source: Callable[..., YahooSource], tmp_path: Path) -> None:
    root = tmp_path / "cache"
    source().load(["^HSI", "^GDAXI"], "2025-06-02", "2025-06-06")
    info = cache_info(root)
    assert info.directory == root / "yahoo"
    assert [(e.symbol, e.rows, e.first, e.last, e.ok) for e in info.entries] == [
        ("^GDAXI", 5, "2025-06-02", "2025-06-06", True),
        ("^HSI", 5, "2025-06-02", "2025-06-06", True),
    ]
    assert info.total_bytes == sum(
        p.stat().st_size for p in (root / "yahoo").glob("*.*") if p.suffix != ".lock"
    )
    PriceCache(root).data_path("^HSI").write_bytes(b"garbage")
    bad = {e.symbol: e for e in cache_info(root).entries}["^HSI"]
    assert not bad.ok and "checksum" in bad.problem
    assert cache_clear(root, ["^HSI", "^NOT-CACHED"]) == 1
    assert [e.symbol for e in cache_info(root).entries] == ["^GDAXI"]
    assert cache_clear(root) == 1 and cache_info(root).entries == []


def test_cache_location_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "envcache"))
    assert default_cache_dir() == tmp_path / "envcache"
    assert YahooSource().cache.directory == tmp_path / "envcache" / "yahoo"
    monkeypatch.delenv(CACHE_ENV)
    import platformdirs

    assert default_cache_dir() == Path(platformdirs.user_cache_path("eventstudy"))


# --------------------------------------------------------------------------- two processes
#: "fork" where available: a spawned child would spend seconds re-importing the package.
MP_START = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
DAYS = pd.bdate_range("2024-01-01", periods=40).as_unit("ns")


def _writer(root: str, worker: int, rounds: int) -> None:
    """Read-merge-write ``rounds`` times, adding this worker's own dates each time."""
    cache = PriceCache(root)
    mine = DAYS[worker::2]
    for k in range(rounds):
        d = mine[k]
        with cache.locked("^HSI"):
            e = cache.read("^HSI")
            old = e.closes if e is not None else pd.Series([], dtype="float64", index=DAYS[:0])
            cov = list(e.covered) if e is not None else []
            new = pd.concat([old, pd.Series([1000.0 + DAYS.get_loc(d)], index=[d])]).sort_index()
            cache.write("^HSI", new, [*cov, (d, d)], {"writer": worker})


def _reader(root: str, stop: Any, out: Any) -> None:
    """Read under the shared lock until ``stop`` is set; report reads and corrupt reads."""
    cache = PriceCache(root)
    bad = reads = 0
    while not stop.is_set() or reads == 0:
        with cache.locked("^HSI", exclusive=False):
            try:
                cache.read("^HSI")
            except CacheCorruptError:
                bad += 1
        reads += 1
    out.put((reads, bad))


def _loader(root: str, tz_dir: str, out: Any) -> None:
    """Load ^HSI through the fake transport; report the closes and the history requests made."""
    yf.set_tz_cache_location(tz_dir)
    fake = FakeYahoo()
    p = YahooSource(root, make_session(fake), sleep=lambda s: None, now=NOW).load(
        ["^HSI"], "2025-06-02", "2025-06-20"
    )
    out.put((p["^HSI"].to_numpy().tolist(), len(fake.history_calls("^HSI"))))


def test_two_processes_writing_one_symbol_do_not_corrupt_it(tmp_path: Path) -> None:
    ctx = mp.get_context(MP_START)
    root = str(tmp_path / "cache")
    rounds = 20
    q, stop = ctx.Queue(), ctx.Event()
    writers = [ctx.Process(target=_writer, args=(root, w, rounds)) for w in (0, 1)]
    reader = ctx.Process(target=_reader, args=(root, stop, q))
    for pr in (*writers, reader):
        pr.start()
    for pr in writers:
        pr.join(60)
        assert pr.exitcode == 0
    stop.set()
    reader.join(60)
    assert reader.exitcode == 0
    reads, bad = q.get(timeout=5)
    assert reads > 0 and bad == 0  # a reader never saw a half-written entry
    cache = PriceCache(root)
    with cache.locked("^HSI"):
        e = cache.read("^HSI")
    assert e is not None
    want = DAYS[0::2][:rounds].union(DAYS[1::2][:rounds])
    assert list(e.closes.index) == list(want)  # no write was lost
    assert e.closes.to_numpy().tolist() == [1000.0 + DAYS.get_loc(d) for d in want]
    assert e.covered == merge_spans((d, d) for d in want)
    assert list(Path(root, "yahoo").glob("*.tmp")) == []


def test_two_processes_loading_one_symbol_fetch_it_once(tmp_path: Path) -> None:
    ctx = mp.get_context(MP_START)
    q = ctx.Queue()
    args = (str(tmp_path / "cache"), str(tmp_path / "yf"), q)
    procs = [ctx.Process(target=_loader, args=args) for _ in range(2)]
    for pr in procs:
        pr.start()
    for pr in procs:
        pr.join(60)
        assert pr.exitcode == 0
    results = [q.get(timeout=5) for _ in procs]
    want = fixture_closes("HSI.json").to_numpy().tolist()
    assert [r[0] for r in results] == [want, want]
    assert sorted(r[1] for r in results) == [0, 1]  # the second waited on the lock, then read the cache
    cache = PriceCache(tmp_path / "cache")
    with cache.locked("^HSI"):
        e = cache.read("^HSI")
    assert e is not None and e.closes.to_numpy().tolist() == want
