"""OLS normal-return models, solved for all pairs at once.

For each pair the normal equations (X'WX)θ = X'Wy are formed with ``einsum``
and solved as one batched ``numpy.linalg.solve``; no Python loop over pairs.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..moments import WindowSums
from .base import Fit, Model

__all__ = ["ConstantMean", "LinearModel", "MarketModel"]


class LinearModel(Model):
    """R_t = x_t'θ + ε_t estimated by OLS on the estimation window.

    σ² = SSR / (M − k) with k = number of regressors (Campbell, Lo and
    MacKinlay 1997, eq. 4.4.5–4.4.8).
    """

    needs_benchmark: ClassVar[bool]
    from_sums: ClassVar[bool] = True
    columnwise_variance: ClassVar[bool] = True  # Σγk and Σγx: zero days add exact zeros

    def design(self, x: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
        """Regressor array (P, T, k) from the benchmark returns."""
        ones = np.ones(shape + (1,))
        if not self.needs_benchmark:
            return ones
        assert x is not None
        return np.concatenate([ones, x[..., None]], axis=2)

    def fit(self, y: np.ndarray, x: np.ndarray | None, w: np.ndarray, span: np.ndarray | None = None) -> Fit:
        """OLS on the rows ``w`` (weighted least squares with ``span``: rows [k, x]/√k, y/√k)."""
        wf = w.astype("float64")
        X = self.design(np.where(w, x, 0.0) if x is not None else None, y.shape) * wf[..., None]
        yy = np.where(w, y, 0.0)
        if span is not None:
            root = np.sqrt(np.where(w, span, 1.0))
            X = X.copy()
            X[..., 0] *= root**2
            X /= root[..., None]
            yy = yy / root
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

    # The designs here are [k] and [k, x] (k the sessions a return spans, 1
    # unless a session is missing): the products below are written out term
    # by term instead of through (P, W, k) design arrays.
    def normal(
        self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int], span: np.ndarray | None = None
    ) -> np.ndarray:
        p = fit.params
        if not self.needs_benchmark:
            out = np.broadcast_to(p[:, :1], shape).copy()
            return out if span is None else out * span
        assert x_evt is not None
        return (p[:, :1] if span is None else p[:, :1] * span) + p[:, 1:2] * x_evt

    def leverage(
        self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int], span: np.ndarray | None = None
    ) -> np.ndarray:
        """h = x'(X'X)⁻¹x for x = [k] or [k, x_τ] (k = 1 without ``span``)."""
        inv = fit.xtx_inv
        assert inv is not None
        if not self.needs_benchmark:
            out = np.broadcast_to(inv[:, 0, :1], shape).copy()
            return out if span is None else out * span**2
        assert x_evt is not None
        if span is None:
            span = np.ones(shape)
        return (
            inv[:, 0, 0][:, None] * span**2
            + 2.0 * inv[:, 0, 1][:, None] * span * x_evt
            + inv[:, 1, 1][:, None] * x_evt**2
        )

    def car_leverage(
        self, fit: Fit, x_evt: np.ndarray | None, gamma: np.ndarray, span: np.ndarray | None = None
    ) -> np.ndarray:
        """g'(X'X)⁻¹g with g = X*'γ = [Σγk, Σγx]."""
        inv = fit.xtx_inv
        assert inv is not None
        g0 = gamma.sum(axis=1) if span is None else (gamma * span).sum(axis=1)
        if not self.needs_benchmark:
            return inv[:, 0, 0] * g0**2
        assert x_evt is not None
        g1 = np.where(gamma > 0, gamma * np.nan_to_num(x_evt), 0.0).sum(axis=1)
        return inv[:, 0, 0] * g0**2 + 2.0 * inv[:, 0, 1] * g0 * g1 + inv[:, 1, 1] * g1**2

    def fit_sums(self, w: WindowSums) -> Fit:
        """The OLS fit from window sums (no pass over the window; see :mod:`eventstudy.moments`).

        Same estimates as :meth:`fit`: for the market model β = S_xy/S_xx,
        α = ȳ − βx̄, SSR = S_yy − βS_xy (centred sums), (X'X)⁻¹ =
        [[1/M + x̄²/S_xx, −x̄/S_xx], [−x̄/S_xx, 1/S_xx]]; for the constant mean
        μ = ȳ, SSR = S_yy, (X'X)⁻¹ = 1/M. ``resid`` is left empty (P×0).
        With returns spanning several sessions (``w.sk``) the fit is the
        weighted one of :mod:`eventstudy.moments`: M becomes Σk in these
        formulas (not in the degrees of freedom).
        """
        n = w.n
        k = 2 if self.needs_benchmark else 1
        ok = n > k
        with np.errstate(invalid="ignore", divide="ignore"):
            nn = np.where(ok, n if w.sk is None else w.sk, np.nan)
            ybar = w.sy / nn
            syy = w.syy - nn * ybar**2
            if self.needs_benchmark:
                xbar = w.sx / nn
                sxx = w.sxx - nn * xbar**2
                sxy = w.sxy - nn * xbar * ybar
                beta = sxy / sxx
                xo = xbar + w.cx
                alpha = ybar + w.cy - beta * xo
                ssr = syy - beta * sxy
                params = np.stack([alpha, beta], axis=1)
                inv = np.empty((len(n), 2, 2))
                inv[:, 0, 0] = 1.0 / nn + xo**2 / sxx
                inv[:, 0, 1] = inv[:, 1, 0] = -xo / sxx
                inv[:, 1, 1] = 1.0 / sxx
            else:
                params = (ybar + w.cy)[:, None]
                ssr = syy
                inv = (1.0 / nn)[:, None, None]
            dof = n - self.dof_loss
            sigma2 = np.where(ok & (dof > 0), np.maximum(ssr, 0.0) / dof, np.nan)
        return Fit(params, sigma2, n, dof, np.empty((len(n), 0)), inv)


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
    description = (
        "market model against the benchmark (OLS; Dimson or Scholes–Williams betas for a "
        "benchmark on another clock, see Benchmark alignment)"
    )
