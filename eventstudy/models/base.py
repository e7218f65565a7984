"""Normal-return models: the interface, vectorized over event×market pairs.

Every model works on arrays with one row per pair:

* estimation window: ``y`` (P×T) the asset returns, ``x`` (P×T) the benchmark
  returns (NaN-free where ``w`` is true), ``w`` (P×T, bool) which rows are used;
* event window: ``x_evt`` (P×W) benchmark returns.

A model returns a :class:`Fit` with the parameters, the residual variance
σ² = SSR / (M − k) (``k`` the model's degrees-of-freedom loss), and what is
needed for the prediction-error-corrected variances of Campbell, Lo and
MacKinlay (1997, §4.4): Var(AR*) = σ²(I + X*(X'X)⁻¹X*'), so that a single day
has Var(AR_τ) = σ²(1 + h_τ) with h_τ = x_τ'(X'X)⁻¹x_τ, and a window selector γ
has Var(CAR) = γ'Vγ = σ²(γ'γ + g'(X'X)⁻¹g) with g = X*'γ.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from ..config import StudyConfig
    from ..events import Events
    from ..panel import Panel
    from ..sources.base import Prices

__all__ = ["Fit", "Model"]


@dataclass(frozen=True, eq=False)
class Fit:
    """Estimation results for P pairs (arrays, one row per pair).

    Attributes
    ----------
    params : ndarray (P, k_params)
        Estimated parameters, in the order of ``Model.param_names``.
    sigma2 : ndarray (P,)
        Residual variance σ² = SSR / (M − dof_loss).
    n : ndarray (P,)
        M, the number of estimation observations used.
    dof : ndarray (P,)
        Degrees of freedom M − dof_loss of the t statistics.
    resid : ndarray (P, T)
        Estimation-window residuals (abnormal returns), NaN where unused.
    xtx_inv : ndarray (P, k, k) or None
        (X'X)⁻¹ of the estimation design; ``None`` when nothing is estimated.
    est_var : ndarray (P, T) or None
        Variance of each estimation-window residual when it is not σ² (the
        conditional variance of a GARCH model); the standardized residuals of
        the tests are then ``resid / √est_var``. ``None``: σ² (times the
        sessions a return spans).
    state : ndarray (P, s) or None
        Model-specific per-pair values the event-window methods need beyond
        ``params`` (not written to ``fits.csv``).
    reason : ndarray (P,) of str or None
        Why a pair's fit failed ("" when it did not); the engine excludes
        those pairs with that reason.
    """

    params: np.ndarray
    sigma2: np.ndarray
    n: np.ndarray
    dof: np.ndarray
    resid: np.ndarray
    xtx_inv: np.ndarray | None
    est_var: np.ndarray | None = None
    state: np.ndarray | None = None
    reason: np.ndarray | None = None


class Model(ABC):
    """A normal-return model.

    Subclasses set ``name`` (the registry key used everywhere: CLI, library,
    tables), ``needs_benchmark``, ``param_names`` and ``dof_loss`` and
    implement :meth:`fit`, :meth:`normal`, :meth:`leverage` and
    :meth:`car_leverage`.
    """

    name: ClassVar[str]
    needs_benchmark: ClassVar[bool]
    param_names: ClassVar[tuple[str, ...]]
    dof_loss: ClassVar[int]
    description: ClassVar[str]
    #: fitted from window sums (``window_sums`` and ``fit_sums``) rather than ``fit``
    from_sums: ClassVar[bool] = False
    #: pairs per chunk of work at most (a model fitted pair by pair wants small
    #: chunks so that an executor's workers share them); ``None``: no limit
    chunk_pairs: ClassVar[int | None] = None
    #: the benchmark return of a market that the benchmark closes after is the
    #: one lagged a session (earned before the market's close; see
    #: :mod:`eventstudy.sync`) rather than the same date's
    sync_benchmark: ClassVar[bool] = False
    #: :meth:`car_variance` of a selector that is 0 outside some columns equals its
    #: value on those columns alone, bit for bit (a sum of per-day terms that do not
    #: depend on the day's column), so a one-day window may pass its one column
    columnwise_variance: ClassVar[bool] = False

    @abstractmethod
    def fit(self, y: np.ndarray, x: np.ndarray | None, w: np.ndarray, span: np.ndarray | None = None) -> Fit:
        """Estimate the model on the estimation window of every pair.

        ``span`` (P×T), when given, is the number of sessions each return spans.
        """

    def bind(self, panel: Panel, prices: Prices, events: Events, cfg: StudyConfig) -> tuple[Model, Panel]:
        """The model and the panel the study runs, once the panel is built.

        A model whose regressors are not the panel's (the factor model's
        series) returns the panel with them added; by default both are
        returned unchanged.
        """
        return self, panel

    def alignment(self) -> dict[str, Any] | None:
        """Per market, how the model's regressors are aligned (``None``: the benchmark's, if any)."""
        return None

    def window_sums(self, panel: Panel) -> Any:
        """Prefix sums of the used estimation data (``used``, ``count``, ``window(a, b)``)."""
        return panel.prefix_sums(self.needs_benchmark)

    def fit_sums(self, w: Any) -> Fit:
        """The fit from the window sums of ``window_sums(panel).window(a, b)``."""
        raise NotImplementedError(f"{self.name} is not fitted from window sums")

    def regressors(self, panel: Panel, idx: np.ndarray, base: np.ndarray) -> np.ndarray | None:
        """Benchmark regressors at long-array positions ``idx`` (rows of pairs with day 0 at ``base``)."""
        return panel.B[idx] if self.needs_benchmark else None

    @abstractmethod
    def normal(
        self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int], span: np.ndarray | None = None
    ) -> np.ndarray:
        """Normal (expected) returns in the event window, shape ``shape`` (P×W).

        ``span`` (P×W), when given, is the number of sessions each return
        spans: the normal return of a k-session return is the model's over k
        sessions (formula sheet §6.3).
        """

    @abstractmethod
    def leverage(
        self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int], span: np.ndarray | None = None
    ) -> np.ndarray:
        """h_τ with Var(AR_τ) = σ²(k_τ + h_τ), P×W (k_τ = 1 without ``span``)."""

    def ar_variance(
        self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int], span: np.ndarray | None = None
    ) -> np.ndarray:
        """Var(AR_τ) of each event-window day, P×W: σ²(k_τ + h_τ) (see :meth:`leverage`)."""
        lev = self.leverage(fit, x_evt, shape, span)
        return fit.sigma2[:, None] * ((1.0 if span is None else span) + lev)

    @abstractmethod
    def car_leverage(
        self, fit: Fit, x_evt: np.ndarray | None, gamma: np.ndarray, span: np.ndarray | None = None
    ) -> np.ndarray:
        """g'(X'X)⁻¹g with Var(CAR) = σ²(Σγk + g'(X'X)⁻¹g), for selector γ (P×W)."""

    def car_variance(
        self, fit: Fit, x_evt: np.ndarray | None, gamma: np.ndarray, span: np.ndarray | None = None
    ) -> np.ndarray:
        """Var(CAR) = γ'Vγ for a 0/1 selector ``gamma`` (P×W) of available days.

        V = σ²(diag(k) + X*(X'WX)⁻¹X*'): a return spanning k sessions has
        variance kσ² (Maynes and Rumsey 1993; formula sheet §6.3).
        """
        g = gamma.astype("float64")
        own = g.sum(axis=1) if span is None else (g * span).sum(axis=1)
        return fit.sigma2 * (own + self.car_leverage(fit, x_evt, g, span))
