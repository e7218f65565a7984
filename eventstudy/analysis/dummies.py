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
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from scipy import special

from ..errors import InputError
from .dummydesign import DummyDesign, dummy_design, newey_west_maxlags
from .dummyfit import CAR_COLUMNS, DAY_COLUMNS, MARKET_COLUMNS, DummyFit, EventDummyResult
from .linfit import hac_cov, ols

__all__ = [
    "CAR_COLUMNS",
    "DAY_COLUMNS",
    "MARKET_COLUMNS",
    "EventDummyResult",
    "event_dummy_regression",
    "newey_west_maxlags",
]

CovType = Literal["hac", "nonrobust"]


def _days(idx: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """``idx.normalize()`` of a tz-naive index (midnight of each date) without inferring a frequency."""
    v = idx.to_numpy()
    return pd.DatetimeIndex(v.astype("datetime64[D]").astype(v.dtype))


def _plain(x: pd.Series) -> bool:
    """Whether ``x`` is float64 on a sorted, unique, tz-naive DatetimeIndex of midnights already
    (what :func:`_as_series` makes of any input)."""
    idx = x.index
    if not (isinstance(idx, pd.DatetimeIndex) and idx.tz is None and x.dtype == np.float64):
        return False
    v = idx.to_numpy()
    return bool(idx.is_monotonic_increasing and idx.is_unique and (v.astype("datetime64[D]") == v).all())


def _as_series(x: Any, name: str) -> pd.Series:
    """``x`` as float returns on a sorted, unique, tz-naive index of dates at midnight."""
    if not isinstance(x, pd.Series):
        raise InputError(f"{name}: pass a pandas Series of returns indexed by date")
    if _plain(x):  # (a study's own return series: only a fresh Series of its values on its dates)
        return pd.Series(x.to_numpy(), index=pd.DatetimeIndex(x.index.to_numpy()))
    try:
        idx = pd.DatetimeIndex(x.index)
    except (TypeError, ValueError):
        raise InputError(f"{name}: the index must hold dates") from None
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    s = pd.Series(pd.to_numeric(x, errors="coerce").to_numpy(dtype=float), index=_days(idx))
    if s.index.has_duplicates:
        raise InputError(f"{name}: duplicate dates in the index")
    return s if s.index.is_monotonic_increasing else s.sort_index()


def as_dates(values: Sequence[Any] | np.ndarray) -> pd.DatetimeIndex:
    """Dates of an event's window (any values pandas reads as dates) at midnight, tz-naive."""
    is_dates = isinstance(values, np.ndarray) and values.dtype.kind == "M"
    idx = pd.DatetimeIndex(values if is_dates else pd.to_datetime(list(values)))
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return _days(idx)


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
    check_options(cov_type, maxlags)
    ids = [str(e[0]) for e in events]
    flat = [d for _, ds in events for d in ds]
    bounds = np.cumsum([0] + [len(ds) for _, ds in events])
    dates, y, b = sample(returns, benchmark)
    return fit_dummies(y, dummy_design(dates, b, ids, as_dates(flat), bounds, maxlags, cov_type)).result()


def check_options(cov_type: str, maxlags: int | None) -> None:
    """Check ``cov_type`` and ``maxlags`` of :func:`event_dummy_regression` (InputError naming them)."""
    if cov_type not in ("hac", "nonrobust"):
        raise InputError(f"cov_type: '{cov_type}' is not 'hac' or 'nonrobust'")
    if maxlags is not None and maxlags < 0:
        raise InputError("maxlags: must be a non-negative integer")


def sample(returns: Any, benchmark: Any = None) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray | None]:
    """The regression sample of :func:`event_dummy_regression`: dates, returns, benchmark.

    The dates (sorted) where the returns, and the benchmark when given, are
    both present: the inner join of the two series, rows with a NaN dropped.
    """
    y_idx, y = _dated_values(returns, "returns")
    if benchmark is None:
        ok = ~np.isnan(y)
        return _kept(y_idx, ok), y[ok], None
    b_idx, b = _dated_values(benchmark, "benchmark")
    if not y_idx.equals(b_idx):  # (the same dates: the join is every row)
        common = y_idx.intersection(b_idx)
        y, b, y_idx = y[y_idx.get_indexer(common)], b[b_idx.get_indexer(common)], common
    ok = ~(np.isnan(y) | np.isnan(b))
    return _kept(y_idx, ok), y[ok], b[ok]


def _dated_values(x: Any, name: str) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """The dates and values of :func:`_as_series` (a plain series' own index and a copy of its values)."""
    if isinstance(x, pd.Series) and _plain(x):
        return cast(pd.DatetimeIndex, x.index), x.to_numpy(dtype=float, copy=True)
    s = _as_series(x, name)
    return cast(pd.DatetimeIndex, s.index), s.to_numpy(dtype=float)


def _kept(idx: pd.DatetimeIndex, ok: np.ndarray) -> pd.DatetimeIndex:
    """``idx[ok]`` as a fresh DatetimeIndex (without a frequency)."""
    return pd.DatetimeIndex(idx.to_numpy()[ok])


def fit_dummies(y: np.ndarray, d: DummyDesign) -> DummyFit:
    """The regression of :func:`event_dummy_regression` of the returns ``y`` (on the dates of
    the :func:`~eventstudy.analysis.dummydesign.dummy_design` ``d``, which holds the rest)."""
    T, L, dof, C = len(y), d.maxlags, d.dof, d.C

    # θ̂, residuals and V̂(θ̂): OLS on the sample with event rows zeroed (same as the dummy model)
    yz = y * d.keep
    res = ols(yz, d.Xz, d.pinv)  # statsmodels' OLS (pinv) and HAC covariance, in numpy (.linfit)
    theta = res.params
    e = yz - d.Xz @ theta  # zero on event days
    gamma = np.array([e[j:] @ e[: T - j] for j in range(L + 1)]) / dof
    V_theta = hac_cov(res, d.Xz, L) if d.cov_type == "hac" else gamma[0] * res.bread

    # dummy coefficients and their covariance
    delta = y[d.U] - d.XE @ theta
    omega = d.w * gamma[d.lag]
    V_delta = d.XE @ V_theta @ d.XE.T + omega
    se_d = np.sqrt(np.clip(np.diag(V_delta), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t_d = delta / se_d
    p_d = 2.0 * special.stdtr(dof, -np.abs(t_d))  # Student t survival function

    # CAR contrasts: c_e'δ̂ and c_e'V c_e
    car = C @ delta
    var_car = np.einsum("ij,jk,ik->i", C, V_delta, C)
    n_days = d.n_days
    with np.errstate(divide="ignore", invalid="ignore"):
        se_car = np.where(n_days > 0, np.sqrt(np.clip(var_car, 0.0, None)), np.nan)
        car = np.where(n_days > 0, car, np.nan)
        t_car = car / se_car
    p_car = 2.0 * special.stdtr(dof, -np.abs(t_car))

    return DummyFit(
        ids=d.ids,
        dates=d.day_dates.copy(deep=False),
        ev_idx=d.ev_idx,
        d_idx=d.d_idx,
        C=C,
        delta=delta,
        se_d=se_d,
        t_d=t_d,
        p_d=p_d,
        car=car,
        se_car=se_car,
        t_car=t_car,
        p_car=p_car,
        n_days=n_days,
        missing_days=d.missing_days,
        theta=theta,
        V_theta=V_theta,
        n_obs=T,
        n_estimation=d.n_estimation,
        maxlags=L,
        df=dof,
        sigma=float(np.sqrt(gamma[0])),
        cov_type=d.cov_type,
    )
