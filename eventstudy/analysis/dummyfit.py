"""The numbers of one market's event-dummy regression, and its tables (:mod:`.dummies`).

:class:`DummyFit` holds the arrays :func:`~eventstudy.analysis.dummies.fit_dummies`
computes; :meth:`DummyFit.result` turns them into the tables of an
:class:`EventDummyResult` (one market), and :meth:`DummyFit.day_columns`,
:meth:`DummyFit.car_columns` and :meth:`DummyFit.market_row` give the same
columns to stack many markets into one table each (:mod:`.dummypanel`)
without a frame per market.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CAR_COLUMNS", "DAY_COLUMNS", "MARKET_COLUMNS", "DummyFit", "EventDummyResult"]

DAY_COLUMNS = ["event_id", "date", "ar", "se", "t_stat", "p_value", "shared_with"]
CAR_COLUMNS = ["event_id", "car", "se", "t_stat", "p_value", "days", "missing_days", "note"]
MARKET_COLUMNS = [
    "symbol",
    "alpha",
    "beta",
    "n_obs",
    "n_estimation",
    "n_dummies",
    "maxlags",
    "df",
    "sigma",
    "cov_type",
    "note",
]


@dataclass(frozen=True, eq=False)
class EventDummyResult:
    """Result of :func:`event_dummy_regression` for one market (immutable).

    Attributes
    ----------
    day_table : DataFrame
        Per event × event-window date: ``event_id, date, ar, se, t_stat,
        p_value, shared_with`` (``ar`` is the dummy coefficient).
    car_table : DataFrame
        Per event: ``event_id, car, se, t_stat, p_value, days, missing_days,
        note`` (``car`` = sum of the event's dummy coefficients).
    alpha, beta : float
        Normal-return parameters (``beta`` NaN without a benchmark).
    alpha_se, beta_se : float
        Their standard errors (HAC or classical).
    n_obs : int
        Sample size T.
    n_estimation : int
        Non-event days M (the observations that identify α, β).
    n_dummies : int
        Distinct event-window dates (dummies).
    maxlags : int
        Bartlett truncation lag (0 for ``nonrobust``).
    df : int
        Residual degrees of freedom M − k (t distribution of the p-values).
    sigma : float
        Residual standard deviation √γ̂(0).
    cov_type : {"hac", "nonrobust"}
    note : str
        Market-level remarks (shared dates), empty when none.
    """

    day_table: pd.DataFrame = field(repr=False)
    car_table: pd.DataFrame = field(repr=False)
    alpha: float
    beta: float
    alpha_se: float
    beta_se: float
    n_obs: int
    n_estimation: int
    n_dummies: int
    maxlags: int
    df: int
    sigma: float
    cov_type: str
    note: str

    @property
    def days(self) -> pd.DataFrame:
        """Dummy coefficients per event and date (a copy; columns ``DAY_COLUMNS``)."""
        return self.day_table.loc[:, DAY_COLUMNS].copy()

    @property
    def cars(self) -> pd.DataFrame:
        """CAR per event (a copy; columns ``CAR_COLUMNS``)."""
        return self.car_table.loc[:, CAR_COLUMNS].copy()


@dataclass(frozen=True, eq=False)
class DummyFit:
    """One market's dummy regression as arrays (see :func:`~eventstudy.analysis.dummies.fit_dummies`).

    ``C`` is the event × dummy-date membership, ``dates`` the date of each
    nonzero of ``C`` (row-major, as ``ev_idx`` and ``d_idx``); per dummy
    date ``delta, se_d, t_d, p_d``; per event ``car, se_car, t_car, p_car,
    n_days, missing_days``; the normal-return fit ``theta, V_theta``.
    """

    ids: list[str]
    dates: pd.DatetimeIndex
    ev_idx: np.ndarray
    d_idx: np.ndarray
    C: np.ndarray
    delta: np.ndarray
    se_d: np.ndarray
    t_d: np.ndarray
    p_d: np.ndarray
    car: np.ndarray
    se_car: np.ndarray
    t_car: np.ndarray
    p_car: np.ndarray
    n_days: np.ndarray
    missing_days: np.ndarray
    theta: np.ndarray
    V_theta: np.ndarray
    n_obs: int
    n_estimation: int
    maxlags: int
    df: int
    sigma: float
    cov_type: str

    @functools.cached_property
    def _owners(self) -> list[np.ndarray]:
        """The events of each dummy date."""
        d, ev = np.nonzero(self.C.T)  # by date, then event: each date's events ascending
        return np.split(ev, np.searchsorted(d, np.arange(1, self.C.shape[1])))

    @functools.cached_property
    def _shared(self) -> np.ndarray:
        """Whether each dummy date lies in the windows of several events."""
        return np.asarray(self.C.sum(axis=0) > 1)

    def day_columns(self) -> dict[str, Any]:
        """The columns of the day table (:data:`DAY_COLUMNS`)."""
        ids, ev_idx, d_idx = self.ids, self.ev_idx, self.d_idx
        owners = self._owners
        shared_with = [
            " ".join(ids[o] for o in owners[d] if o != ev) for ev, d in zip(ev_idx, d_idx, strict=True)
        ]
        return {
            "event_id": np.asarray(ids, dtype=object)[ev_idx] if len(ev_idx) else np.empty(0, dtype=object),
            "date": self.dates,
            "ar": self.delta[d_idx],
            "se": self.se_d[d_idx],
            "t_stat": self.t_d[d_idx],
            "p_value": self.p_d[d_idx],
            "shared_with": shared_with,
        }

    def car_columns(self) -> dict[str, Any]:
        """The columns of the CAR table (:data:`CAR_COLUMNS`), the event ids as a list."""
        ids, C, n_days, missing_days = self.ids, self.C, self.n_days, self.missing_days
        owners = self._owners
        shared_counts = C @ self._shared.astype(float)
        notes = []
        for j in range(len(ids)):
            parts = []
            if n_days[j] == 0:
                parts.append("no event-window date in the return sample")
            if missing_days[j]:
                parts.append(f"{missing_days[j]} date(s) not in the return sample")
            if shared_counts[j]:
                others = sorted({ids[o] for d in np.flatnonzero(C[j]) for o in owners[d] if o != j})
                parts.append(f"shares {int(shared_counts[j])} day(s) with {' '.join(others)}")
            notes.append("; ".join(parts))
        return {
            "event_id": list(ids),
            "car": self.car,
            "se": self.se_car,
            "t_stat": self.t_car,
            "p_value": self.p_car,
            "days": n_days,
            "missing_days": missing_days,
            "note": notes,
        }

    def note(self) -> str:
        """Market-level remarks: dates shared by several events' windows."""
        n_shared = int(self._shared.sum())
        if not n_shared:
            return ""
        return (
            f"{n_shared} date(s) fall in the windows of several events: one dummy per date, "
            "counted in each of those events' CARs"
        )

    def market_row(self, symbol: Any) -> list[Any]:
        """The row of the market table (:data:`MARKET_COLUMNS`)."""
        k = len(self.theta)
        return [
            symbol,
            float(self.theta[0]),
            float(self.theta[1]) if k > 1 else np.nan,
            self.n_obs,
            self.n_estimation,
            self.C.shape[1],
            self.maxlags,
            self.df,
            self.sigma,
            self.cov_type,
            self.note(),
        ]

    def result(self) -> EventDummyResult:
        """The :class:`EventDummyResult` of this market."""
        k = len(self.theta)
        bse = np.sqrt(np.clip(np.diag(self.V_theta), 0.0, None))
        cars = self.car_columns()
        cars["event_id"] = pd.Series(cars["event_id"], dtype=object)
        return EventDummyResult(
            day_table=pd.DataFrame(self.day_columns()),
            car_table=pd.DataFrame(cars),
            alpha=float(self.theta[0]),
            beta=float(self.theta[1]) if k > 1 else np.nan,
            alpha_se=float(bse[0]),
            beta_se=float(bse[1]) if k > 1 else np.nan,
            n_obs=self.n_obs,
            n_estimation=self.n_estimation,
            n_dummies=self.C.shape[1],
            maxlags=self.maxlags,
            df=self.df,
            sigma=self.sigma,
            cov_type=self.cov_type,
            note=self.note(),
        )
