"""OLS normal-return models, solved for all pairs at once.

For each pair the normal equations (X'WX)θ = X'Wy are formed with ``einsum``
and solved as one batched ``numpy.linalg.solve``; no Python loop over pairs.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import Fit, Model

__all__ = ["ConstantMean", "LinearModel", "MarketModel"]


class LinearModel(Model):
    """R_t = x_t'θ + ε_t estimated by OLS on the estimation window.

    σ² = SSR / (M − k) with k = number of regressors (Campbell, Lo and
    MacKinlay 1997, eq. 4.4.5–4.4.8).
    """

    needs_benchmark: ClassVar[bool]

    def design(self, x: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
        """Regressor array (P, T, k) from the benchmark returns."""
        ones = np.ones(shape + (1,))
        if not self.needs_benchmark:
            return ones
        assert x is not None
        return np.concatenate([ones, x[..., None]], axis=2)

    def fit(self, y: np.ndarray, x: np.ndarray | None, w: np.ndarray) -> Fit:
        wf = w.astype("float64")
        X = self.design(np.where(w, x, 0.0) if x is not None else None, y.shape) * wf[..., None]
        yy = np.where(w, y, 0.0)
        n = wf.sum(axis=1)
        k = X.shape[2]
        xtx = np.einsum("ptk,ptl->pkl", X, X)
        xty = np.einsum("ptk,pt->pk", X, yy)
        ok = n > k
        # pairs without enough rows get an identity system; their results are NaN below
        xtx = np.where(ok[:, None, None], xtx, np.eye(k))
        # invert the small k×k systems through a centred form for accuracy
        inv = np.linalg.inv(xtx)
        theta = np.linalg.solve(xtx, xty[..., None])[..., 0]
        fitted = np.einsum("ptk,pk->pt", X, theta)
        resid = np.where(w, yy - fitted, np.nan)
        ssr = np.nansum(resid**2, axis=1)
        dof = n - self.dof_loss
        with np.errstate(invalid="ignore", divide="ignore"):
            sigma2 = np.where(ok & (dof > 0), ssr / dof, np.nan)
        theta[~ok] = np.nan
        return Fit(theta, sigma2, n, dof, resid, inv)

    def normal(self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
        X = self.design(x_evt, shape)
        return np.einsum("pwk,pk->pw", X, fit.params)

    def leverage(self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
        X = self.design(x_evt, shape)
        assert fit.xtx_inv is not None
        return np.einsum("pwk,pkl,pwl->pw", X, fit.xtx_inv, X)

    def car_leverage(self, fit: Fit, x_evt: np.ndarray | None, gamma: np.ndarray) -> np.ndarray:
        X = self.design(x_evt, gamma.shape)
        X = np.where(gamma[..., None] > 0, X, 0.0)  # NaN-safe selection
        g = np.einsum("pwk,pw->pk", X, gamma)
        assert fit.xtx_inv is not None
        return np.einsum("pk,pkl,pl->p", g, fit.xtx_inv, g)


class ConstantMean(LinearModel):
    """Constant-mean-return model: AR_t = R_t − μ̂, σ² = Σ(R_t − μ̂)² / (M − 1).

    Brown and Warner (1980, 1985); Campbell, Lo and MacKinlay (1997, §4.3).
    Var(CAR) = σ²(L + L²/M) for a window of L available days.
    """

    name = "constant-mean"
    needs_benchmark = False
    param_names = ("mu",)
    dof_loss = 1
    description = "constant-mean return model (estimation-window mean)"


class MarketModel(LinearModel):
    """OLS market model R_t = α + β R_mt + ε_t, σ² = SSR / (M − 2).

    Sharpe (1963); Campbell, Lo and MacKinlay (1997, §4.3–4.4). Var(CAR) =
    σ²[L + L²/M + (Σ_τ(R_mτ − R̄_m))² / S_mm] (Mikkelson and Partch 1988).
    """

    name = "market"
    needs_benchmark = True
    param_names = ("alpha", "beta")
    dof_loss = 2
    description = "OLS market model against the benchmark"
