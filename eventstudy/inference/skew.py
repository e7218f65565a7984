"""Skewness-adjusted t test (Hall 1992; Lyon, Barber and Tsai 1999)."""

from __future__ import annotations

import numpy as np

from .base import TestInput, TestResult, finite_subset, not_applicable, t_p
from .grouped import BatchResult, Groups, t_p_array
from .groupmemo import group_stats

__all__ = ["skew_adj_batch", "skew_adj_t"]


def skew_adj_t(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Skewness-adjusted t on CARs (Hall 1992; formula sheet §5.9).

    t_sa = √N (S + γ̂ S²/3 + γ̂/(6N)), with S = CAAR / s and
    γ̂ = Σ_i (CAR_i − CAAR)³ / (N s³), s² = (N − 1)⁻¹ Σ_i (CAR_i − CAAR)²,
    over the N pairs with a CAR.

    Conventions
    -----------
    * γ̂ as in Lyon, Barber and Tsai (1999, eq. 5): third central moment over
      N, divided by the cube of the N − 1 standard deviation (not the
      N/((N − 1)(N − 2)) adjusted skewness).
    * Two-sided p from Student's t with N − 1 degrees of freedom, as for
      Johnson's (1978) modified t; no bootstrap critical values (LBT's
      bootstrapped variant is not implemented).
    * Needs N ≥ 3 and some cross-sectional variation.
    """
    used = finite_subset(inp.car, idx)
    n = len(used)
    if n < 3:
        return not_applicable(n, "needs at least 3 pairs")
    v = inp.car[used]
    m = float(v.mean())
    s = float(v.std(ddof=1))
    if not s > 0.0 or not np.max(v) > np.min(v):
        return not_applicable(n, "no cross-sectional variation")
    d = v - m
    g = float(np.sum(d * d * d) / (n * s**3))
    S = m / s
    t = float(np.sqrt(n) * (S + g * S * S / 3.0 + g / (6.0 * n)))
    return TestResult(t, t_p(t, n - 1), n, f"γ̂={g:.4f}")


def skew_adj_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`skew_adj_t` for every group of ``groups`` at once."""
    mask = np.isfinite(inp.car)
    n, mean, sd, constant = group_stats(inp, groups, "car")
    codes = groups.codes[mask]
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = inp.car[mask] - mean[codes]  # as grouped.moments
        # the cube as two products (libm's pow costs 60× more; same value to an ulp or two)
        g = np.bincount(codes, weights=dev * dev * dev, minlength=groups.size) / (n * sd**3)
        S = mean / sd
        t = np.sqrt(n) * (S + g * S * S / 3.0 + g / (6.0 * n))
    reasons = [
        (n < 3, "needs at least 3 pairs"),
        (constant | ~(sd > 0.0), "no cross-sectional variation"),
    ]
    return BatchResult.build(t, t_p_array(t, n - 1), n, [f"γ̂={v:.4f}" for v in g], reasons)
