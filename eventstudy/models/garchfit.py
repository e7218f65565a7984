"""One pair's GARCH(1,1) fit with the ``arch`` package (imported only when a fit runs).

:func:`fit_garch` is what :class:`~eventstudy.models.garch.Garch` calls for
every pair, on whichever process computes the pair's chunk. Returns are
fitted in percent (``100·r``; the optimizer of ``arch`` is tuned for that
scale, and ``rescale=False`` keeps the choice explicit) and every result is
converted back to decimal returns.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["MIN_GARCH_OBS", "SCALE", "GarchPairFit", "arch_model_for", "fit_garch"]

#: Returns are multiplied by this before fitting (percent).
SCALE = 100.0
#: Fewest estimation observations a GARCH(1,1) is fitted on.
MIN_GARCH_OBS = 60
#: Sample variances (decimal returns) at or below this count as constant returns.
_MIN_VARIANCE = 1e-14


@dataclass(frozen=True)
class GarchPairFit:
    """One pair's fit, in decimal-return units (``reason`` non-empty when it failed).

    Attributes
    ----------
    mean : ndarray (k,)
        Mean parameters: μ, or μ and β on the benchmark.
    vol : ndarray (3,)
        ω, α, β_garch of σ²_t = ω + α ε²_{t−1} + β_garch σ²_{t−1}.
    flag : int
        The optimizer's convergence flag (0: converged).
    resid, cond_var : ndarray (n,)
        Residuals ε_t and conditional variances σ²_t of the estimation sample.
    next_var : float
        One-step-ahead variance σ²_{T+1}, ``arch``'s forecast: ω + α ε²_T +
        β_garch σ²_T on the variance path that ``arch`` recomputes for the
        forecast (its backcast of σ²_0 from the fitted mean's residuals; the
        ``conditional_volatility`` of the fit starts from the backcast of the
        starting values, so the two paths can differ slightly).
    mean_cov : ndarray (k, k)
        Covariance of the mean parameters (``arch``'s robust
        Bollerslev–Wooldridge covariance, its default).
    reason : str
    """

    mean: np.ndarray
    vol: np.ndarray
    flag: int
    resid: np.ndarray
    cond_var: np.ndarray
    next_var: float
    mean_cov: np.ndarray
    reason: str = ""


def _failed(k: int, n: int, reason: str, flag: int = -1) -> GarchPairFit:
    nan = np.full(n, np.nan)
    return GarchPairFit(
        np.full(k, np.nan), np.full(3, np.nan), flag, nan, nan, np.nan, np.full((k, k), np.nan), reason
    )


def arch_model_for(y: np.ndarray, x: np.ndarray | None) -> object:
    """The ``arch`` model the toolkit fits: constant or LS mean, GARCH(1,1), normal errors, percent."""
    from arch import arch_model

    return arch_model(
        SCALE * y,
        x=None if x is None else SCALE * x[:, None],
        mean="Constant" if x is None else "LS",
        vol="GARCH",
        p=1,
        q=1,
        dist="normal",
        rescale=False,
    )


def fit_garch(y: np.ndarray, x: np.ndarray | None) -> GarchPairFit:
    """Fit R_t = μ (+ β R_mt) + ε_t, ε_t ~ GARCH(1,1), to one pair's estimation sample.

    ``y`` (and ``x``) hold the used estimation-window returns in time order.
    Never raises for bad data: a series that is too short (fewer than
    :data:`MIN_GARCH_OBS`), constant, whose optimizer stops with a flag ≠ 0,
    that is not covariance-stationary (α + β_garch ≥ 1) or that gives
    non-finite values returns a fit with the reason in ``reason``.
    """
    k = 1 if x is None else 2
    n = len(y)
    if n < MIN_GARCH_OBS:
        return _failed(k, n, f"only {n} estimation observations; GARCH(1,1) needs at least {MIN_GARCH_OBS}")
    if not np.isfinite(y).all() or float(np.var(y)) <= _MIN_VARIANCE:
        why = "constant returns in the estimation window (zero variance); GARCH(1,1) not fitted"
        return _failed(k, n, why)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and scale warnings become the reason below
        try:
            res = arch_model_for(y, x).fit(disp="off", show_warning=False)  # type: ignore[attr-defined]
        except Exception as exc:  # any failure of the optimizer excludes the pair
            msg = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return _failed(k, n, f"GARCH(1,1) fit failed: {msg}")
    flag = int(res.convergence_flag)
    if flag != 0:
        msg = str(getattr(res.optimization_result, "message", "")).strip()
        return _failed(k, n, f"GARCH(1,1) optimizer did not converge (flag {flag}: {msg})", flag)
    p = res.params.to_numpy(dtype="float64")
    omega, alpha, beta_g = p[k:]
    if not alpha + beta_g < 1.0:
        return _failed(
            k, n, f"GARCH(1,1) not stationary: alpha + beta_garch = {alpha + beta_g:.6f} >= 1", flag
        )
    resid = res.resid.to_numpy(dtype="float64") if hasattr(res.resid, "to_numpy") else np.asarray(res.resid)
    cvar = np.asarray(res.conditional_volatility, dtype="float64") ** 2
    cov = np.asarray(res.param_cov, dtype="float64")[:k, :k]
    try:  # arch's own one-step forecast (its backcast is recomputed from the fitted mean's residuals)
        exog = None if x is None else np.zeros((1, 1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = res.forecast(horizon=1, reindex=False, x=exog)
        next_var = float(np.asarray(fc.variance, dtype="float64")[0, 0])
    except Exception as exc:  # the pair is excluded with the reason, the run goes on
        msg = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return _failed(k, n, f"GARCH(1,1) variance forecast failed: {msg}", flag)
    finite = np.isfinite(p).all() and np.isfinite(cvar).all() and np.isfinite(cov).all()
    if not (finite and np.isfinite(next_var) and omega > 0):
        return _failed(k, n, "GARCH(1,1) fit gave non-finite parameters, variances or covariance", flag)
    unit = np.array([1.0 / SCALE, 1.0])[:k]  # μ in percent → decimal; β has no unit
    return GarchPairFit(
        mean=p[:k] * unit,
        vol=np.array([omega / SCALE**2, alpha, beta_g]),
        flag=flag,
        resid=resid / SCALE,
        cond_var=cvar / SCALE**2,
        next_var=next_var / SCALE**2,
        mean_cov=cov * np.outer(unit, unit),
    )
