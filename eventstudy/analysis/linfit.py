"""Small numpy OLS for the second-stage regressions, with statsmodels' covariances.

The cross-section of CARs (:mod:`.crosssection`) and the event-dummy
regression (:mod:`.dummies`) run on every default study; fitting them with
``statsmodels`` cost more in importing it (and ``scipy.stats``, formulaic,
patsy) than in fitting. This module reproduces exactly what those two need,
following statsmodels' own definitions so the numbers agree to rounding
(the tests compare with statsmodels to 1e-10):

* **OLS** by the Moore–Penrose pseudo-inverse, as ``OLS.fit(method="pinv")``:
  β̂ = X⁺y, bread (X'X)⁻¹ = X⁺X⁺' (Greene 2018, *Econometric Analysis*, §3.2).
* **R²** centred when X has a constant column, uncentred otherwise
  (statsmodels' ``k_constant`` rule).
* **Cluster-robust (CRV1)** covariance (Liang and Zeger 1986; Cameron and
  Miller 2015, J. Human Resources 50(2), §II.C): V = c · B (Σ_g s_g s_g') B
  with s_g = Σ_{i∈g} x_i û_i, B the bread and c = G/(G − 1) · (N − 1)/(N − K)
  (statsmodels ``cov_type="cluster"``, ``use_correction=True``; Stata's
  ``vce(cluster)``). Inference then uses t(G − 1) (``df_correction=True``).
* **HAC (Newey–West)** covariance (Newey and West 1987, Econometrica 55(3)):
  V = B S B, S = Γ₀ + Σ_{j=1}^{L} (1 − j/(L + 1)) (Γ_j + Γ_j'),
  Γ_j = Σ_t (x_t û_t)(x_{t−j} û_{t−j})' — Bartlett kernel, no small-sample
  factor (statsmodels ``cov_type="HAC"``, ``use_correction=False``).

t quantiles and tail probabilities come from :mod:`scipy.special`
(``stdtrit``, ``stdtr``), what ``scipy.stats.t`` calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = ["OLSFit", "Inference", "cluster_cov", "hac_cov", "inference", "ols"]


@dataclass(frozen=True, eq=False)
class OLSFit:
    """Result of :func:`ols`.

    Attributes
    ----------
    params : ndarray, shape (K,)
        β̂ = X⁺y.
    resid : ndarray, shape (N,)
        û = y − Xβ̂.
    bread : ndarray, shape (K, K)
        X⁺X⁺' (= (X'X)⁻¹ at full rank; statsmodels' ``normalized_cov_params``).
    rsquared : float
        Centred R² when X has a non-zero constant column, uncentred otherwise.
    """

    params: np.ndarray
    resid: np.ndarray
    bread: np.ndarray
    rsquared: float


def ols(y: np.ndarray, X: np.ndarray, pinv: np.ndarray | None = None) -> OLSFit:
    """Fit y on X by least squares through the pseudo-inverse.

    Parameters
    ----------
    y : ndarray, shape (N,)
        Dependent variable (finite).
    X : ndarray, shape (N, K)
        Design matrix (finite).
    pinv : ndarray, shape (K, N), optional
        ``np.linalg.pinv(X, rcond=1e-15)`` when already at hand (fits of one design).

    Returns
    -------
    OLSFit
        Coefficients, residuals, bread and R².
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    if pinv is None:
        pinv = np.linalg.pinv(X, rcond=1e-15)
    params = pinv @ y
    resid = y - X @ params
    ssr = float(resid @ resid)
    ptp = np.ptp(X, axis=0) if len(X) else np.zeros(X.shape[1])
    has_const = bool(((ptp == 0) & (X[0] != 0)).any()) if len(X) else False
    centred = y - y.mean() if has_const else y
    tss = float(centred @ centred)
    r2 = 1.0 - ssr / tss if tss > 0 else np.nan
    return OLSFit(params, resid, pinv @ pinv.T, r2)


def cluster_cov(fit: OLSFit, X: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """CRV1 cluster-robust covariance with statsmodels' small-sample factor.

    Parameters
    ----------
    fit : OLSFit
        The fit of :func:`ols` on ``X``.
    X : ndarray, shape (N, K)
        The design of the fit.
    groups : ndarray of int, shape (N,)
        Cluster codes 0 … G − 1 (every code used; G ≥ 2).

    Returns
    -------
    ndarray, shape (K, K)
        c · B (Σ_g s_g s_g') B, c = G/(G − 1) · (N − 1)/(N − K).
    """
    n, k = X.shape
    g = np.asarray(groups)
    G = int(g.max()) + 1
    scores = X * fit.resid[:, None]
    sums = np.zeros((G, k))
    np.add.at(sums, g, scores)
    meat = sums.T @ sums
    cov = fit.bread @ meat @ fit.bread.T
    return cov * (G / (G - 1.0) * ((n - 1.0) / float(n - k)))


def hac_cov(fit: OLSFit, X: np.ndarray, maxlags: int) -> np.ndarray:
    """Newey–West covariance, Bartlett weights, no small-sample factor.

    Parameters
    ----------
    fit : OLSFit
        The fit of :func:`ols` on ``X``.
    X : ndarray, shape (N, K)
        The design of the fit (rows in time order).
    maxlags : int
        Lag truncation L ≥ 0.

    Returns
    -------
    ndarray, shape (K, K)
        B S B with S = Γ₀ + Σ_j (1 − j/(L + 1)) (Γ_j + Γ_j').
    """
    xu = X * fit.resid[:, None]
    meat = xu.T @ xu
    for lag in range(1, int(maxlags) + 1):
        s = xu[lag:].T @ xu[:-lag]
        meat = meat + (1.0 - lag / (maxlags + 1.0)) * (s + s.T)
    return fit.bread @ meat @ fit.bread.T


@dataclass(frozen=True, eq=False)
class Inference:
    """t-based inference on coefficients or contrasts (arrays of one shape)."""

    estimate: np.ndarray
    se: np.ndarray
    t: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def inference(
    estimate: np.ndarray, variance: np.ndarray, df: float | np.ndarray, alpha: float = 0.05
) -> Inference:
    """Two-sided t tests and (1 − alpha) intervals with ``df`` degrees of freedom.

    Parameters
    ----------
    estimate : ndarray
        Coefficients (or contrasts c'β̂).
    variance : ndarray
        Their variances (the covariance's diagonal, or c'Vc).
    df : float or ndarray
        Degrees of freedom of the t distribution (one per estimate, or shared).
    alpha : float, default 0.05
        1 − confidence level of the intervals.

    Returns
    -------
    Inference
        Estimate, se = √variance, t, p = 2·P(T > |t|), interval estimate ± q·se.
    """
    est = np.asarray(estimate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a variance rounded below zero (a degenerate design) gives NaN, as statsmodels' bse
        se = np.sqrt(np.asarray(variance, dtype=float))
        t = est / se
    p = 2.0 * special.stdtr(df, -np.abs(t))
    q = special.stdtrit(df, 1.0 - alpha / 2.0)
    return Inference(est, se, t, p, est - q * se, est + q * se)
