"""Shared fixtures: a seeded synthetic panel builder, the default study and its report, one browser.

Expensive things are built once per session (per xdist worker under ``-n``): the
default study on the bundled snapshot, its saved report folder and one headless
Chromium; treat them as read-only. Under xdist, workers share the toolkit's disk
cache of calendars (``$EVENTSTUDY_CACHE`` or the user's cache folder): each entry
is written under a per-process temporary name and renamed into place, so
concurrent writers are safe; tests of the cache itself use their own folders.

The synthetic builder makes markets whose symbols are not in the registry, so
their sessions are the dates of their own data (business days here): returns
follow a market model R = α + β·R_m + σ·ε against a benchmark column, with
known parameters. Everything is seeded and small, so it is fast.
"""

from __future__ import annotations

import os

# yfinance must use the requests backend so the recorded-response transport applies
os.environ.setdefault("YF_DISABLE_CURL_CFFI", "1")

import gc
import importlib.util
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings as _hypothesis_settings

# CI (`.ci/run` exports CI=true) runs the property tests on a fixed set of examples, so a
# landing does not depend on the luck of the draw; local runs keep searching new examples.
_hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("eventstudy") is None:  # bare `pytest` from a source checkout
    sys.path.insert(0, str(REPO))

from eventstudy import (  # noqa: E402
    Events,
    EventStudy,
    Prices,
    StudyResult,
    events_from_records,
    load_prices,
    read_events,
)
from eventstudy.markets import DEFAULT_SYMBOLS  # noqa: E402

EVENTS_CSV = REPO / "events.csv"


@dataclass(frozen=True)
class Synthetic:
    """A synthetic panel.

    Attributes
    ----------
    prices : Prices
        Closes of ``symbols`` and of ``benchmark`` (naive business-day dates).
    events : Events
        Built with :func:`eventstudy.events_from_records` from ``records``.
    records : list of dict
        The event records (file columns), as passed to ``events_from_records``.
    params : dict
        Per symbol the true ``(alpha, beta, sigma)`` of its returns.
    benchmark : str
    symbols : tuple of str
    dates : DatetimeIndex
        The full business-day range (a symbol may miss some of these dates).
    """

    prices: Prices
    events: Events
    records: list[dict[str, object]]
    params: dict[str, tuple[float, float, float]]
    benchmark: str
    symbols: tuple[str, ...]
    dates: pd.DatetimeIndex
    returns: dict[str, np.ndarray] = field(repr=False, default_factory=dict)


def random_event_records(
    rng: np.random.Generator, dates: pd.DatetimeIndex, n_events: int, lo: int = 120, margin: int = 15
) -> list[dict[str, object]]:
    """``n_events`` events on random dates of ``dates[lo:-margin]``.

    Alternately date-only (in UTC, Asia/Shanghai or America/New_York) and
    instants (a random UTC minute of the day); unique ids ``ev00``, ``ev01``….
    """
    pos = np.sort(rng.choice(np.arange(lo, len(dates) - margin), size=n_events, replace=False))
    zones = ["", "Asia/Shanghai", "America/New_York"]
    out: list[dict[str, object]] = []
    for i, p in enumerate(pos):
        d = dates[int(p)]
        if i % 2 == 0:
            ts, tz = d.strftime("%Y-%m-%d"), zones[(i // 2) % 3]
        else:
            minute = int(rng.integers(0, 24 * 60))
            ts, tz = (d + pd.Timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%MZ"), ""
        out.append(
            {
                "event_id": f"ev{i:02d}",
                "timestamp": ts,
                "tz": tz,
                "title": f"synthetic event {i}",
                "category": "other",
                "direction": int(rng.choice([-1, 0, 1])),
            }
        )
    return out


def build_synthetic(
    seed: int = 0,
    symbols: Sequence[str] = ("AAA", "BBB", "CCC"),
    n_days: int = 600,
    start: str = "2019-01-01",
    n_events: int = 10,
    benchmark: str = "MKT",
    records: list[dict[str, object]] | None = None,
    drop: dict[str, int | Sequence[int]] | None = None,
    returns: dict[str, np.ndarray] | None = None,
) -> Synthetic:
    """Build a seeded synthetic panel (see module docstring).

    Parameters
    ----------
    seed : int
        Seed of every random draw.
    symbols : sequence of str
        Market symbols (keep them out of the registry to use data dates as sessions).
    n_days : int
        Business days from ``start``.
    n_events : int
        Random events when ``records`` is not given.
    records : list of dict, optional
        Explicit event records (file columns).
    drop : dict, optional
        Per symbol (benchmark included), dates to remove from its price
        series: a count of random dates (never the first or last), or a list
        of positions in the business-day range.
    returns : dict, optional
        Per symbol, returns (length ``n_days``; the first is ignored) that
        replace the simulated ones.
    """
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, periods=n_days).as_unit("ns")
    rm = rng.normal(3e-4, 0.01, n_days)
    params: dict[str, tuple[float, float, float]] = {}
    rets: dict[str, np.ndarray] = {benchmark: rm}
    for s in symbols:
        a = float(rng.normal(0.0, 5e-4))
        b = float(rng.uniform(0.5, 1.5))
        sig = float(rng.uniform(0.005, 0.02))
        params[s] = (a, b, sig)
        rets[s] = a + b * rm + sig * rng.standard_normal(n_days)
    if returns:
        rets.update({k: np.asarray(v, dtype="float64") for k, v in returns.items()})
    closes: dict[str, pd.Series] = {}
    for s in (*symbols, benchmark):
        r = rets[s].copy()
        r[0] = 0.0
        level = 100.0 * np.cumprod(1.0 + r)
        ser = pd.Series(level, index=dates, name=s)
        k = (drop or {}).get(s, 0)
        if isinstance(k, int):
            gone = rng.choice(np.arange(1, n_days - 1), size=k, replace=False)
        else:
            gone = np.asarray(k, dtype=np.int64)
        if len(gone):
            ser = ser.drop(dates[gone])
        closes[s] = ser
    recs = records if records is not None else random_event_records(rng, dates, n_events)
    events = events_from_records(recs)
    prices = Prices(closes, source="synthetic", origin=f"synthetic seed {seed}")
    return Synthetic(prices, events, list(recs), params, benchmark, tuple(symbols), dates, rets)


#: Test modules that take longest, longest first (the summed durations of each module's tests in
#: one ``CI=true`` run of the default selection from a fresh clone, 7 Dec 2026): under ``-n`` with
#: ``--dist loadfile`` each worker takes whole modules in this order, so a long module does not
#: start last and leave the other worker idle (the longest-first rule of scheduling). Other
#: modules follow in their usual order.
HEAVY_FIRST = (
    "test_garch_study.py",
    "test_report_structure.py",
    "test_streaming.py",
    "test_engine_reference.py",
    "test_cli.py",
    "test_inference_batch.py",
    "test_hostile.py",
    "test_linkedcorr.py",
    "test_volatility.py",
    "test_report_browser.py",
    "test_covariates.py",
    "test_streamtests.py",
    "test_library.py",
    "test_hostile_inputs.py",
    "test_cli_reader.py",
    "test_factor_cli.py",
    "test_properties_invariance.py",
    "test_factor.py",
    "test_properties.py",
    "test_calendar_map.py",
    "test_intervals.py",
    "test_executors.py",
    "test_crossgroups_kernels.py",
    # the longest of the slow selection (pytest -m slow): a notebook, and a browser's pages
    "test_docs.py",
    "test_report_reader_browser.py",
)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    """Run the modules of :data:`HEAVY_FIRST` first (a stable sort: order within a module kept)."""
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


_frozen_module: list[object] = [None]


def pytest_configure(config: pytest.Config) -> None:
    """Collect the youngest generation every 10,000 allocations instead of 700.

    Tests allocate many short-lived objects (pandas frames, report templates): with the
    default threshold most collections walk objects about to die anyway. Together with
    :func:`pytest_runtest_setup`'s freeze this halves the time a worker spends in the
    collector (~12 s → ~6 s of CPU per worker over the default run, 6 Dec 2026).
    """
    gc.set_threshold(10_000, 10, 10)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """At the first test of each module: collect, then freeze what is alive (``gc.freeze``).

    A worker's heap holds every module imported so far (pandas, scipy, plotly, Dask…):
    hundreds of thousands of objects that the collector's oldest generation walks on
    each full collection, ~0.1–0.2 s a time, several times a module. Frozen objects are
    left out of every collection, so a full collection only walks what the current
    module made. Only what is alive when a module starts is frozen (its garbage is
    collected first): the earlier module's fixtures are torn down by then, and what stays
    alive (imported modules, session fixtures) lives to the end of the session anyway.
    Numbers and assertions are untouched; only the collector's bookkeeping changes.
    """
    module = getattr(item, "module", None)
    if module is not _frozen_module[0]:
        _frozen_module[0] = module
        gc.collect()
        gc.freeze()


@pytest.fixture(scope="session")
def synthetic_panel() -> Callable[..., Synthetic]:
    """Factory: ``synthetic_panel(seed=..., ...)`` → :class:`Synthetic` (see :func:`build_synthetic`)."""
    return build_synthetic


@pytest.fixture(scope="session")
def snapshot_events() -> Events:
    """The curated repository ``events.csv``."""
    return read_events(EVENTS_CSV)


@pytest.fixture(scope="session")
def snapshot_prices() -> Prices:
    """The whole bundled price snapshot."""
    return load_prices(source="snapshot")


@pytest.fixture(scope="session")
def snapshot_study(snapshot_events: Events, snapshot_prices: Prices) -> StudyResult:
    """The default study (``eventstudy run`` defaults) on the bundled snapshot, computed once.

    Repository events, the default markets, constant-mean model, default
    windows and masks. Treat it as read-only.
    """
    prices = snapshot_prices.select(list(DEFAULT_SYMBOLS))
    return EventStudy(snapshot_events, prices).run()


@pytest.fixture(scope="session")
def default_report(snapshot_study: StudyResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default study saved once (``eventstudy run``'s folder); returns its ``index.html``."""
    folder = tmp_path_factory.mktemp("default-study") / "constant-mean"
    snapshot_study.save(folder)
    return folder / "index.html"


CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium (Debian's ``/usr/bin/chromium`` driven by playwright) per session.

    Each test opens its own browser context (own viewport, routes, storage) and
    closes it. Skips when Chromium or playwright is missing.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()
