"""Value types of the inference layer: :class:`TestInput` and :class:`TestResult`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["TestInput", "TestResult", "TestSpec", "not_applicable"]


@dataclass(frozen=True, eq=False)
class TestInput:
    """The cross-section of pairs for one CAR window ``(τ1, τ2)``.

    Every array has one row per included pair; tests receive it with an index
    array selecting the pairs of one group.

    Attributes
    ----------
    car : ndarray (P,)
        CAR_i(τ1, τ2), NaN when the window has no available day.
    se : ndarray (P,)
        √(γ'V_iγ), the prediction-error-corrected standard error of CAR_i.
    days : ndarray (P,)
        L_i, available days in the window.
    dof : ndarray (P,)
        M_i − k.
    n_est : ndarray (P,)
        M_i.
    ar : ndarray (P, W)
        Abnormal returns of the window's days (NaN outside the window).
    sar : ndarray (P, W)
        Prediction-error-corrected standardized ARs of the window's days.
    est_resid : ndarray (P, T)
        Estimation-window abnormal returns (NaN where unused).
    est_sar : ndarray (P, T)
        Estimation-window residuals divided by σ̂_i.
    est_day : ndarray (P, T) of int64
        Calendar day number of each estimation row (for date-aligned
        cross-correlations); meaningless where ``est_resid`` is NaN.
    seed : int
        Seed for resampling tests.
    """

    car: np.ndarray
    se: np.ndarray
    days: np.ndarray
    dof: np.ndarray
    n_est: np.ndarray
    ar: np.ndarray
    sar: np.ndarray
    est_resid: np.ndarray
    est_sar: np.ndarray
    est_day: np.ndarray
    seed: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def scar(self) -> np.ndarray:
        """SCAR_i = CAR_i / √(γ'V_iγ)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.car / self.se


@dataclass(frozen=True)
class TestResult:
    """Outcome of one test on one group.

    ``statistic`` and ``p_value`` are NaN exactly when the test cannot apply;
    ``note`` then says why.
    """

    statistic: float
    p_value: float
    n: int
    note: str = ""


@dataclass(frozen=True)
class TestSpec:
    """A registered test: its function, the null distribution and a citation."""

    name: str
    func: Callable[[TestInput, np.ndarray], TestResult]
    distribution: str
    citation: str
    description: str


def not_applicable(n: int, why: str) -> TestResult:
    """A result for a test that cannot be computed, with the reason."""
    return TestResult(float("nan"), float("nan"), int(n), why)
