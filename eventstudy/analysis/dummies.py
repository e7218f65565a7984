"""Event-dummy regression (Karafiath 1988), one market at a time.

For one market with daily returns R_t (t = 1…T, the sample as passed) and an
optional benchmark R_mt, one regression estimates the normal-return model
and every abnormal return at once::

    R_t = α + β R_mt + Σ_d δ_d D_dt + ε_t,      D_dt = 1{t = d}

with one dummy per distinct event-window date d of the market's events
(Karafiath 1988, J. Financial and Quantitative Analysis 23(3), 351–357;
Thompson 1985). A dummy absorbs its day completely, so (α̂, β̂) are the OLS
estimates from the non-event days alone and δ̂_d = R_d − α̂ − β̂ R_md is the
abnormal return of day d under that fit (the identity the tests check).
An event's CAR is the contrast Σ_{d ∈ event} δ̂_d. Without a benchmark the
model is the constant mean (α only). Pass excess returns to get an excess-
return model.

Why a cross-check: every event day of the market is removed from the normal-
return fit at once, which handles clustered and overlapping events without
per-pair estimation windows or masks.

Conventions
-----------
* **Overlapping events.** Two events whose windows share a date would have
  identical dummy columns (perfectly collinear). We keep *one dummy per
  distinct date*; its coefficient is the abnormal return of that day and is
  counted in the CAR of every event whose window contains it (the CARs of
  those events are then correlated, which their covariance carries). The
  ``shared_with`` column of the day table and the ``note`` of each CAR name
  the other events.
* **Dates** of an event window that are not in the sample (holiday, missing
  return, missing benchmark) are skipped and counted in ``missing_days``.
* **HAC covariance (default).** The parameter block (α, β) gets statsmodels'
  Newey–West covariance (``cov_type="HAC"``, Bartlett kernel,
  ``use_correction=False``), with ``maxlags`` by the Newey and West (1994)
  rule of thumb ⌊4 (T/100)^{2/9}⌋ (T = sample size; statsmodels' own default)
  unless given. Beware the plain sandwich for the dummies: each dummy fits
  its day exactly (residual 0), so the HAC (or any White-type) sandwich of
  δ̂_d contains only the estimation error of x_d'(α̂, β̂) and omits Var(ε_d),
  understating the SE by an order of magnitude (shown in the tests). We
  therefore use the full prediction-error covariance of δ̂ = R_E − X_E θ̂::

      Var(δ̂) = X_E V̂_HAC(θ̂) X_E' + Ω̂_E,
      Ω̂_E[d, d'] = w(|d − d'|) γ̂(|d − d'|),   w(j) = 1 − j/(maxlags + 1) for j ≤ maxlags, else 0,

  where γ̂(j) = Σ_t e_t e_{t−j} / (M − k) are the residual autocovariances
  (e_t = 0 on event days, lags counted in sample positions, M non-event days,
  k = 1 or 2), so γ̂(0) = σ̂² with the usual M − k degrees of freedom. This is
  the HAC analogue of CLM (1997, §4.4) V = σ²I + X*(X'X)⁻¹X*'σ² (formula
  sheet §5.2); the
  covariance between ε_E and θ̂ (non-zero only through autocorrelation
  across the window's edges) is neglected.
* ``cov_type="nonrobust"``: Ω̂_E = σ̂² I and V̂(θ̂) = σ̂² (X_N'X_N)⁻¹, which
  reproduces exactly the classical OLS standard errors of the dummy model
  (Karafiath: they equal the prediction-error-corrected SEs of the standard
  approach, √(γ'Vγ) for a CAR).
* p-values are two-sided from t(M − k), M − k being the residual degrees of
  freedom of the dummy regression (T minus the number of its parameters).

Computation uses the exact partitioned form (OLS on the sample with the
event rows zeroed, by :mod:`.linfit`: statsmodels' OLS and HAC in numpy), which
has the same θ̂, residuals and HAC covariance as the full dummy regression, instead of a T × (k + #dummies)
design, so a market with a thousand event days costs milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from ..errors import InputError
from .linfit import hac_cov, ols

__all__ = [
    "CAR_COLUMNS",
    "DAY_COLUMNS",
    "MARKET_COLUMNS",
    "EventDummyResult",
    "event_dummy_regression",
    "newey_west_maxlags",
]

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

CovType = Literal["hac", "nonrobust"]


def newey_west_maxlags(n: int) -> int:
    """Newey and West (1994) rule of thumb for the Bartlett lag truncation: ⌊4 (n/100)^{2/9}⌋."""
    return int(np.floor(4.0 * (max(n, 0) / 100.0) ** (2.0 / 9.0)))


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


def _as_series(x: Any, name: str) -> pd.Series:
    if not isinstance(x, pd.Series):
        raise InputError(f"{name}: pass a pandas Series of returns indexed by date")
    try:
        idx = pd.DatetimeIndex(x.index)
    except (TypeError, ValueError):
        raise InputError(f"{name}: the index must hold dates") from None
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    s = pd.Series(pd.to_numeric(x, errors="coerce").to_numpy(dtype=float), index=idx.normalize())
    if s.index.has_duplicates:
        raise InputError(f"{name}: duplicate dates in the index")
    return s.sort_index()


def _to_dates(values: Sequence[Any]) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(pd.to_datetime(list(values)))
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return idx.normalize()


def event_dummy_regression(
    returns: pd.Series,
    events: Sequence[tuple[str, Sequence[Any]]],
    benchmark: pd.Series | None = None,
    maxlags: int | None = None,
    cov_type: CovType = "hac",
) -> EventDummyResult:
    """Karafiath (1988) event-dummy regression of one market's returns.

    Parameters
    ----------
    returns : Series
        The market's returns (or excess returns) indexed by date; the whole
        series is the sample (slice it to the period wanted). NaNs are dropped.
    events : sequence of (event_id, sequence of dates)
        Each event of this market with the dates of its (CAR) window.
    benchmark : Series, optional
        Benchmark returns by date (market model); omitted → constant only.
        The sample is the dates where both are present.
    maxlags : int, optional
        Bartlett lag truncation for ``cov_type="hac"``; default
        :func:`newey_west_maxlags` of the sample size.
    cov_type : {"hac", "nonrobust"}
        Covariance of the dummies (module docstring).

    Returns
    -------
    EventDummyResult

    Raises
    ------
    InputError
        Non-Series input, duplicate event ids, too few non-event days to
        estimate the normal-return model, a benchmark without variation on the
        non-event days, unknown ``cov_type`` or negative ``maxlags``.
    """
    if cov_type not in ("hac", "nonrobust"):
        raise InputError(f"cov_type: '{cov_type}' is not 'hac' or 'nonrobust'")
    if maxlags is not None and maxlags < 0:
        raise InputError("maxlags: must be a non-negative integer")
    y_s = _as_series(returns, "returns")
    if benchmark is not None:
        b_s = _as_series(benchmark, "benchmark")
        frame = pd.concat([y_s.rename("y"), b_s.rename("b")], axis=1, join="inner").dropna()
    else:
        frame = y_s.to_frame("y").dropna()
    dates = pd.DatetimeIndex(frame.index)
    T = len(frame)
    y = frame["y"].to_numpy(dtype=float)
    X = (
        np.ones((T, 1))
        if benchmark is None
        else np.column_stack([np.ones(T), frame["b"].to_numpy(dtype=float)])
    )
    k = X.shape[1]

    ids = [str(e[0]) for e in events]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise InputError(f"events: duplicate event id(s) {', '.join(dup[:5])}")
    positions: list[np.ndarray] = []
    missing_days = np.zeros(len(ids), dtype=np.int64)
    # every event's dates converted and looked up at once, then split by event
    bounds = np.cumsum([0] + [len(ds) for _, ds in events])
    flat = [d for _, ds in events for d in ds]
    loc_all = dates.get_indexer(_to_dates(flat)) if flat else np.empty(0, dtype=np.int64)
    for j in range(len(ids)):
        loc = loc_all[bounds[j] : bounds[j + 1]]
        missing_days[j] = int((loc < 0).sum())
        positions.append(np.unique(loc[loc >= 0]))
    U = np.unique(np.concatenate(positions)) if positions else np.empty(0, dtype=np.int64)
    U = U.astype(np.int64)
    nd = len(U)
    C = np.zeros((len(ids), nd))  # event × distinct date membership
    for j, pos in enumerate(positions):
        C[j, np.searchsorted(U, pos)] = 1.0

    is_event = np.zeros(T, dtype=bool)
    is_event[U] = True
    M = T - nd
    dof = M - k
    if dof < 1:
        raise InputError(
            f"returns: {M} non-event day(s) cannot estimate a model with {k} parameter(s); "
            "pass a longer return series"
        )
    if np.linalg.matrix_rank(X[~is_event]) < k:
        raise InputError("benchmark: no variation on the non-event days; the market model is not identified")
    L = (newey_west_maxlags(T) if maxlags is None else int(maxlags)) if cov_type == "hac" else 0

    # θ̂, residuals and V̂(θ̂): OLS on the sample with event rows zeroed (same as the dummy model)
    keep = (~is_event).astype(float)
    Xz = X * keep[:, None]
    yz = y * keep
    res = ols(yz, Xz)  # statsmodels' OLS (pinv) and HAC covariance, in numpy (.linfit)
    theta = res.params
    e = yz - Xz @ theta  # zero on event days
    gamma = np.array([e[j:] @ e[: T - j] for j in range(L + 1)]) / dof
    V_theta = hac_cov(res, Xz, L) if cov_type == "hac" else gamma[0] * res.bread

    # dummy coefficients and their covariance
    XE = X[U]
    delta = y[U] - XE @ theta
    lag = np.abs(U[:, None] - U[None, :])
    w = np.where(lag <= L, 1.0 - lag / (L + 1.0), 0.0)
    omega = w * gamma[np.minimum(lag, L)]
    V_delta = XE @ V_theta @ XE.T + omega
    se_d = np.sqrt(np.clip(np.diag(V_delta), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t_d = delta / se_d
    p_d = 2.0 * special.stdtr(dof, -np.abs(t_d))  # Student t survival function

    # CAR contrasts: c_e'δ̂ and c_e'V c_e
    car = C @ delta
    var_car = np.einsum("ij,jk,ik->i", C, V_delta, C)
    n_days = C.sum(axis=1).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        se_car = np.where(n_days > 0, np.sqrt(np.clip(var_car, 0.0, None)), np.nan)
        car = np.where(n_days > 0, car, np.nan)
        t_car = car / se_car
    p_car = 2.0 * special.stdtr(dof, -np.abs(t_car))

    # tables
    ev_idx, d_idx = np.nonzero(C)
    owners = [np.flatnonzero(C[:, d]) for d in range(nd)]
    shared_with = [
        " ".join(ids[o] for o in owners[d] if o != ev) for ev, d in zip(ev_idx, d_idx, strict=True)
    ]
    days = pd.DataFrame(
        {
            "event_id": np.asarray(ids, dtype=object)[ev_idx] if len(ev_idx) else np.empty(0, dtype=object),
            "date": dates[U[d_idx]],
            "ar": delta[d_idx],
            "se": se_d[d_idx],
            "t_stat": t_d[d_idx],
            "p_value": p_d[d_idx],
            "shared_with": shared_with,
        }
    )
    shared_counts = C @ (C.sum(axis=0) > 1).astype(float)
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
    cars = pd.DataFrame(
        {
            "event_id": pd.Series(ids, dtype=object),
            "car": car,
            "se": se_car,
            "t_stat": t_car,
            "p_value": p_car,
            "days": n_days,
            "missing_days": missing_days,
            "note": notes,
        }
    )
    n_shared = int((C.sum(axis=0) > 1).sum())
    note = (
        f"{n_shared} date(s) fall in the windows of several events: one dummy per date, "
        "counted in each of those events' CARs"
        if n_shared
        else ""
    )
    bse = np.sqrt(np.clip(np.diag(V_theta), 0.0, None))
    return EventDummyResult(
        day_table=days,
        car_table=cars,
        alpha=float(theta[0]),
        beta=float(theta[1]) if k > 1 else np.nan,
        alpha_se=float(bse[0]),
        beta_se=float(bse[1]) if k > 1 else np.nan,
        n_obs=T,
        n_estimation=M,
        n_dummies=nd,
        maxlags=L,
        df=dof,
        sigma=float(np.sqrt(gamma[0])),
        cov_type=cov_type,
        note=note,
    )
