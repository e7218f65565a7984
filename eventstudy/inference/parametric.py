"""Parametric cross-sectional tests on CARs.

Conventions follow the formula sheet (``formulas.md``) and are stated per test.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .base import TestInput, TestResult, not_applicable

__all__ = ["csect_t", "bmp_t"]


def _t_on(values: np.ndarray) -> TestResult:
    n = len(values)
    if n < 2:
        return not_applicable(n, "needs at least 2 pairs")
    sd = float(np.std(values, ddof=1))
    if not np.isfinite(sd) or sd == 0.0:
        return not_applicable(n, "no cross-sectional variation")
    t = float(np.mean(values) / (sd / np.sqrt(n)))
    return TestResult(t, float(2.0 * stats.t.sf(abs(t), n - 1)), n)


def csect_t(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Cross-sectional t test on CARs (formula sheet §5.9).

    t = CAAR / (S / √N), S² = (N − 1)⁻¹ Σ(CAR_i − CAAR)², two-sided p from
    t(N − 1). Robust to event-induced variance, not to cross-correlation.
    """
    v = inp.car[idx]
    return _t_on(v[np.isfinite(v)])


def bmp_t(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Boehmer, Musumeci and Poulsen (1991) standardized cross-sectional test.

    SCAR_i = CAR_i / √(γ'V_iγ) with the exact prediction-error-corrected
    variance (formula sheet §5.2, §5.4); t = mean(SCAR) / (S_SCAR / √N),
    two-sided p from t(N − 1).
    """
    v = inp.scar[idx]
    return _t_on(v[np.isfinite(v)])
