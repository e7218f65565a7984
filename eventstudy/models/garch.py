"""GARCH(1,1) normal-return model, fitted pair by pair with the ``arch`` package.

Mean equation R_t = μ + ε_t (no benchmark) or R_t = μ + β R_mt + ε_t (with a
benchmark: the market mean), errors ε_t = σ_t z_t with σ²_t = ω + α ε²_{t−1} +
β_garch σ²_{t−1} (Bollerslev 1986), Gaussian quasi-likelihood. This is the
GARCH market model of the event-study literature (Corhay and Rad 1996;
Savickas 2003; formula sheet §5.1 “GARCH market model”; Stata's
eventstudy2 ``garch``, R's EventStudy).

Per pair, on the estimation sample (the used estimation-window days in time
order; masked days are left out and the recursion runs over the remaining
days as consecutive observations):

* AR_τ = R_τ − μ̂ − β̂ R_mτ, from the mean equation;
* Var(AR_τ) = σ̂²_{T+h} + d_τ'C d_τ, where σ̂²_{T+h} is the h-step variance
  forecast made at the last estimation observation T (h = sessions from T
  to τ): σ̂²_{T+1} = ω + α ε²_T + β_garch σ²_T (``arch``'s one-step
  forecast) and
  σ̂²_{T+h} = σ̄² + (α + β_garch)^{h−1}(σ̂²_{T+1} − σ̄²), σ̄² = ω/(1 − α − β_garch);
  d_τ = [1] or [1, R_mτ] and C the covariance of the mean parameters, so
  the mean-parameter estimation error **is** included (the analogue of the
  OLS prediction-error term of Campbell, Lo and MacKinlay 1997 §4.4; C is
  ``arch``'s robust Bollerslev–Wooldridge covariance). Estimation error of
  ω, α, β_garch is not;
* SAR_τ = AR_τ / √Var(AR_τ) (Savickas 2003);
* Var(CAR) = Σ_τ σ̂²_{T+h(τ)} + g'Cg with g = Σ_τ d_τ over the window's
  available days (the innovations are serially uncorrelated, so the sum of
  the h-step forecasts is the variance of their sum);
* the estimation-window standardized residuals of the Patell, BMP and rank
  tests are ε̂_t / σ̂_t (``Fit.est_var``), the GARCH-standardized ones.

A return spanning k sessions (a missing price) is one observation of the
fit; in the event window its normal return is kμ + βR_m and its variance
k·σ̂²_{T+h}. t statistics use M − k_mean − 3 degrees of freedom. ``sigma2``
(``sigma`` in ``fits.csv``) is the long-run variance σ̄². Pairs whose fit
fails are excluded with the reason (:func:`~eventstudy.models.garchfit.fit_garch`).

References: Bollerslev, T. (1986), J. Econometrics 31(3), 307–327; Corhay, A.
and Tourani Rad, A. (1996), Quarterly Review of Economics and Finance 36(4),
529–538;
Savickas, R. (2003), J. Financial Research 26(2), 165–178.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import Fit, Model
from .garchfit import fit_garch

__all__ = ["Garch", "GarchMarket"]


#: What placebo studies on the bundled data found for this model's headline (``bench/calibration.py
#: --model garch``, 150 replications, ``bench/results/calibration_garch.md``); the report and the
#: command line's summary repeat it beside a GARCH study's headline.
PLACEBO_NOTE = (
    "on placebo dates the headline test of GARCH studies rejected a true null in 8.7 % (0:0) to "
    "10.7 % (−1:+1) of studies at the 5 % level, against about 5 % for the constant-mean and market "
    "models: read its stars on short windows as indicative"
)


class Garch(Model):
    """GARCH(1,1) errors around a constant mean (see the module docstring).

    Parameters
    ----------
    estimation, window : (int, int)
        The study's estimation and event windows (relative days); they place
        the event-window days after the last estimation observation (the
        forecast horizons).
    """

    name = "garch"
    needs_benchmark = False
    param_names: ClassVar[tuple[str, ...]] = (
        "mu",
        "omega",
        "alpha",
        "beta_garch",
        "persistence",
        "convergence_flag",
    )
    dof_loss = 4
    chunk_pairs = 16
    description = (
        "GARCH(1,1) errors around a constant mean, or the market mean with a benchmark "
        "(fitted per pair with the arch package; variances from the conditional variance forecast)"
    )

    def __init__(
        self, estimation: tuple[int, int] = (-250, -11), window: tuple[int, int] = (-10, 10)
    ) -> None:
        self.estimation = (int(estimation[0]), int(estimation[1]))
        self.window = (int(window[0]), int(window[1]))

    @property
    def k_mean(self) -> int:
        """Parameters of the mean equation."""
        return 2 if self.needs_benchmark else 1

    # ------------------------------------------------------------------ estimation
    def fit(self, y: np.ndarray, x: np.ndarray | None, w: np.ndarray, span: np.ndarray | None = None) -> Fit:
        """Fit every pair (row) in turn; see :func:`~eventstudy.models.garchfit.fit_garch`.

        ``state`` holds per pair σ̂²_{T+1}, the horizon h of the first
        event-window column, and C (k×k, flattened).
        """
        P, T = y.shape
        k = self.k_mean
        params = np.full((P, len(self.param_names)), np.nan)
        sigma2 = np.full(P, np.nan)
        resid = np.full((P, T), np.nan)
        est_var = np.full((P, T), np.nan)
        state = np.full((P, 2 + k * k), np.nan)
        reason = np.full(P, "", dtype=object)
        first = self.window[0] - self.estimation[0]  # column of the first event day, in est. columns
        for p in range(P):
            cols = np.flatnonzero(w[p])
            r = fit_garch(y[p, cols], None if x is None else x[p, cols])
            if r.reason:
                reason[p] = r.reason
                continue
            omega, alpha, beta_g = r.vol
            params[p] = [*r.mean, omega, alpha, beta_g, alpha + beta_g, r.flag]
            sigma2[p] = omega / (1.0 - alpha - beta_g)
            resid[p, cols] = r.resid
            est_var[p, cols] = r.cond_var
            state[p] = [r.next_var, first - cols[-1], *r.mean_cov.ravel()]
        n = w.sum(axis=1).astype("float64")
        return Fit(params, sigma2, n, n - self.dof_loss, resid, None, est_var, state, reason)

    # ------------------------------------------------------------------ event window
    def forecast(self, fit: Fit, width: int) -> np.ndarray:
        """σ̂²_{T+h} of the ``width`` event-window columns, P×W."""
        assert fit.state is not None
        k = self.k_mean
        omega, alpha, beta_g = (fit.params[:, k + j] for j in range(3))
        rho = alpha + beta_g
        long_run = omega / (1.0 - rho)
        h = fit.state[:, 1][:, None] + np.arange(width)[None, :]
        return long_run[:, None] + rho[:, None] ** (h - 1.0) * (fit.state[:, 0] - long_run)[:, None]

    def _cov(self, fit: Fit) -> np.ndarray:
        assert fit.state is not None
        k = self.k_mean
        return fit.state[:, 2:].reshape(-1, k, k)

    def _mean_error(self, fit: Fit, d0: np.ndarray, d1: np.ndarray | None) -> np.ndarray:
        """d'Cd for d = [d0] or [d0, d1] (broadcast over trailing axes)."""
        c = self._cov(fit)
        extra = (slice(None),) + (None,) * (d0.ndim - 1)
        out = c[:, 0, 0][extra] * d0**2
        if d1 is not None:
            out = out + 2.0 * c[:, 0, 1][extra] * d0 * d1 + c[:, 1, 1][extra] * d1**2
        return out

    def normal(
        self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int], span: np.ndarray | None = None
    ) -> np.ndarray:
        """kμ (+ β R_m) per event-window day."""
        mu = fit.params[:, :1] if span is None else fit.params[:, :1] * span
        out = np.broadcast_to(mu, shape).copy()
        if self.needs_benchmark:
            assert x_evt is not None
            out = out + fit.params[:, 1:2] * x_evt
        return out

    def ar_variance(
        self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int], span: np.ndarray | None = None
    ) -> np.ndarray:
        """k·σ̂²_{T+h} + d'Cd per event-window day, d = [k] or [k, R_mτ]."""
        ks = np.ones(shape) if span is None else span
        return ks * self.forecast(fit, shape[1]) + self._mean_error(fit, ks, x_evt)

    def leverage(
        self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int], span: np.ndarray | None = None
    ) -> np.ndarray:
        """h_τ with Var(AR_τ) = σ̄²(k_τ + h_τ), σ̄² the long-run variance."""
        ks = 1.0 if span is None else span
        return self.ar_variance(fit, x_evt, shape, span) / fit.sigma2[:, None] - ks

    def car_variance(
        self, fit: Fit, x_evt: np.ndarray | None, gamma: np.ndarray, span: np.ndarray | None = None
    ) -> np.ndarray:
        """Σ_τ γ_τ k_τ σ̂²_{T+h(τ)} + g'Cg, g = [Σγk, Σγ R_m]."""
        g = gamma.astype("float64")
        gk = g if span is None else g * span
        own = (gk * self.forecast(fit, g.shape[1])).sum(axis=1)
        g1 = None
        if self.needs_benchmark:
            assert x_evt is not None
            g1 = np.where(g > 0, g * np.nan_to_num(x_evt), 0.0).sum(axis=1)
        return own + self._mean_error(fit, gk.sum(axis=1), g1)

    def car_leverage(
        self, fit: Fit, x_evt: np.ndarray | None, gamma: np.ndarray, span: np.ndarray | None = None
    ) -> np.ndarray:
        """h with Var(CAR) = σ̄²(Σγk + h)."""
        g = gamma.astype("float64")
        own = g.sum(axis=1) if span is None else (g * span).sum(axis=1)
        return self.car_variance(fit, x_evt, gamma, span) / fit.sigma2 - own


class GarchMarket(Garch):
    """GARCH(1,1) errors around the market mean μ + β R_m (the study's benchmark).

    For a market that the benchmark closes after, R_m is the benchmark
    return lagged one session (earned before the market's close), as for
    ``market-adjusted`` (:mod:`eventstudy.sync`).
    """

    needs_benchmark = True
    sync_benchmark = True
    param_names = ("mu", "beta", "omega", "alpha", "beta_garch", "persistence", "convergence_flag")
    dof_loss = 5
