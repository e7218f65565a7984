"""Seeded synthetic event-study panels for the benchmarks.

``make_study(S, E)`` draws ``S`` securities whose daily simple returns follow a
market model (Sharpe 1963; Campbell, Lo and MacKinlay 1997, §4.3)

    R_it = α_i + β_i R_mt + ε_it,   ε_it ~ N(0, σ_i²) i.i.d.,

with a common market factor R_mt ~ N(μ_m, σ_m²), plus an event effect
``direction_e · effect`` added to every security's return on each event's day 0.
Closes are ``100 · Π(1 + R)`` on business days (``pandas.bdate_range``), one
Series per security, and the market index is the benchmark column ``"MKT"``.

The ``E`` events are instants at 12:00 UTC on business days, spread evenly so
that every pair's estimation window (default −250…−11) and event window
(default −10…+10) lie inside the data. Every event applies to every security
(empty ``symbols``), so the study has ``S × E`` event×security pairs.
Security names (``S000001``…) and ``MKT`` are not in the market registry, so
each series' own dates are its sessions and day 0 is the event's date.

Events closer than ``gap`` sessions overlap each other's estimation windows;
the study's confounding mask (−1…+1 around every event by default) then
removes ``3 · (events in the window)`` estimation days per pair, so keep
``(−est_start) / gap · 3`` well below ``(est_end − est_start + 1) − 100``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventstudy.events import CATEGORIES, Events, events_from_records
from eventstudy.sources.base import Prices

__all__ = ["SyntheticStudy", "make_study", "pair_count"]

BENCHMARK = "MKT"


@dataclass(frozen=True, eq=False)
class SyntheticStudy:
    """A generated panel and the truth behind it.

    Attributes
    ----------
    prices : Prices
        Closes of the ``S`` securities and of ``"MKT"``.
    events : Events
        The ``E`` events (apply to every security).
    symbols : list of str
        Security names, in ``prices`` order (``MKT`` excluded).
    dates : DatetimeIndex
        The ``D`` business days (tz-naive, unit ns).
    closes : ndarray (S, D)
        Security closes (the values inside ``prices``).
    market_close : ndarray (D,)
    day0 : ndarray of int (E,)
        Position of each event's day 0 in ``dates``.
    direction : ndarray of int (E,)
    alpha, beta, sigma : ndarray (S,)
        True market-model parameters.
    benchmark : str
        ``"MKT"``.
    """

    prices: Prices
    events: Events
    symbols: list[str]
    dates: pd.DatetimeIndex
    closes: np.ndarray
    market_close: np.ndarray
    day0: np.ndarray
    direction: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    benchmark: str = BENCHMARK

    @property
    def n_pairs(self) -> int:
        """Number of event×security pairs (S × E)."""
        return len(self.symbols) * len(self.day0)


def pair_count(n_securities: int, n_events: int) -> int:
    """S × E, the number of pairs of ``make_study(n_securities, n_events)``."""
    return n_securities * n_events


def make_study(
    n_securities: int,
    n_events: int,
    n_days: int | None = None,
    seed: int = 0,
    gap: int = 10,
    estimation: tuple[int, int] = (-250, -11),
    window: tuple[int, int] = (-10, 10),
    effect: float = 0.005,
    start: str = "2010-01-04",
) -> SyntheticStudy:
    """Draw a synthetic market-model panel (see the module docstring).

    Parameters
    ----------
    n_securities, n_events : int
        S and E; the study has S × E pairs.
    n_days : int, optional
        D, business days of data. Default: just enough for the windows with
        events ``gap`` sessions apart.
    seed : int
        Seed of ``numpy.random.default_rng``; equal seeds give equal panels.
    gap : int
        Sessions between consecutive events when ``n_days`` is not given.
    estimation, window : (int, int)
        The study's windows, used only to place the events inside the data.
    effect : float
        Abnormal return added on day 0, signed by the event's direction.
    start : str
        First business day.

    Returns
    -------
    SyntheticStudy

    Raises
    ------
    ValueError
        When the windows cannot fit in ``n_days``.
    """
    if n_securities < 1 or n_events < 1:
        raise ValueError("n_securities and n_events must be at least 1")
    # the first return is on the second date, so day 0 needs 1 - est_start earlier dates
    first = max(1 - estimation[0], 1 - window[0])
    tail = max(window[1], estimation[1], 0) + 1
    if n_days is None:
        n_days = first + gap * (n_events - 1) + tail + 1
    last = n_days - 1 - tail
    if last < first:
        raise ValueError(f"n_days={n_days} is too short for the windows (need at least {first + tail + 1})")
    rng = np.random.default_rng(seed)
    S, D, E = n_securities, n_days, n_events
    dates = pd.bdate_range(start, periods=D).as_unit("ns")

    day0 = np.unique(np.round(np.linspace(first, last, E)).astype(np.int64))
    if len(day0) < E:
        raise ValueError(f"{E} events do not fit on distinct days in {D} days")
    direction = rng.choice(np.array([-1, 1]), size=E)

    alpha = rng.normal(0.0, 0.0005, S)
    beta = rng.normal(1.0, 0.3, S)
    sigma = rng.uniform(0.01, 0.03, S)
    rm = rng.normal(0.0003, 0.01, D)
    shock = np.zeros(D)
    shock[day0] = direction * effect
    r = alpha[:, None] + beta[:, None] * rm[None, :] + sigma[:, None] * rng.standard_normal((S, D))
    r += shock[None, :]
    r[:, 0] = 0.0
    rm[0] = 0.0
    closes = 100.0 * np.cumprod(1.0 + r, axis=1)
    market_close = 100.0 * np.cumprod(1.0 + rm)

    width = max(6, len(str(S)))
    symbols = [f"S{i:0{width}d}" for i in range(S)]
    series: dict[str, pd.Series] = {
        s: pd.Series(closes[i], index=dates, name=s) for i, s in enumerate(symbols)
    }
    series[BENCHMARK] = pd.Series(market_close, index=dates, name=BENCHMARK)
    prices = Prices(series, "synthetic", f"bench.synthetic seed={seed} S={S} D={D} E={E}")

    stamps = dates[day0].strftime("%Y-%m-%dT12:00Z")
    cats = [c for c in CATEGORIES if c != "other"]
    records = [
        {
            "event_id": f"E{e:05d}",
            "timestamp": stamps[e],
            "title": f"synthetic event {e}",
            "category": cats[e % len(cats)],
            "direction": str(int(direction[e])),
            "source": "synthetic",
        }
        for e in range(E)
    ]
    events = events_from_records(records)
    return SyntheticStudy(
        prices=prices,
        events=events,
        symbols=symbols,
        dates=dates,
        closes=closes,
        market_close=market_close,
        day0=day0,
        direction=direction,
        alpha=alpha,
        beta=beta,
        sigma=sigma,
    )
