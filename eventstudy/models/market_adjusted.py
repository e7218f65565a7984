"""Market-adjusted returns: AR_t = R_t − R_mt, nothing estimated."""

from __future__ import annotations

import numpy as np

from .base import Fit, Model

__all__ = ["MarketAdjusted"]


class MarketAdjusted(Model):
    """Market-adjusted model (Brown and Warner 1980; formula sheet §5.1).

    AR_t = R_t − R_mt. No parameter is estimated, so there is no estimation
    error: Var(AR_τ) = σ² and Var(CAR) = σ²L. σ² is the sample variance of the
    estimation-window abnormal returns about their mean, with M − 1 degrees of
    freedom (as estudy2's ``market_adjusted`` and EventStudyTools do).
    """

    name = "market-adjusted"
    needs_benchmark = True
    param_names = ()
    dof_loss = 1
    sync_benchmark = True
    columnwise_variance = True  # σ²Σγk: zero days add exact zeros
    description = "market-adjusted returns (asset minus benchmark)"

    def fit(self, y: np.ndarray, x: np.ndarray | None, w: np.ndarray, span: np.ndarray | None = None) -> Fit:
        """σ² about the per-session mean; a k-session AR counts with weight 1/k (variance kσ²)."""
        assert x is not None
        ar = np.where(w, y - np.where(w, x, 0.0), np.nan)
        n = w.sum(axis=1).astype("float64")
        k = np.ones_like(y) if span is None else span
        sk = np.where(w, k, 0.0).sum(axis=1)
        dof = n - self.dof_loss
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(ar, axis=1) / sk
            dev = (ar - mean[:, None] * k) ** 2 / k
            sigma2 = np.where(dof > 0, np.nansum(dev, axis=1) / dof, np.nan)
        return Fit(np.empty((y.shape[0], 0)), sigma2, n, dof, ar, None)

    def normal(
        self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int], span: np.ndarray | None = None
    ) -> np.ndarray:
        assert x_evt is not None
        return x_evt.copy()

    def leverage(
        self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int], span: np.ndarray | None = None
    ) -> np.ndarray:
        return np.zeros(shape)

    def car_leverage(
        self, fit: Fit, x_evt: np.ndarray | None, gamma: np.ndarray, span: np.ndarray | None = None
    ) -> np.ndarray:
        return np.zeros(gamma.shape[0])
