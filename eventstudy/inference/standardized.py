"""Standardized-residual tests: Patell (1976) and the Kolari–Pynnönen (2010) adjustments.

Every test here standardizes each pair's CAR by its exact prediction-error
corrected standard error, SCAR_i = CAR_i / √(γ'V_iγ) (formula sheet §5.2), and
is therefore invariant to rescaling all returns by a constant.
"""

from __future__ import annotations

import numpy as np

from .base import TestInput, TestResult, finite_subset, normal_p, not_applicable, t_p
from .crosscorr import group_rbar
from .crossgroups import group_rbar_batch
from .grouped import BatchResult, Groups, Reason, normal_p_array, t_p_array
from .groupmemo import mean_t_shared
from .parametric import bmp_statistic

__all__ = [
    "kp_bmp_batch",
    "kp_bmp_t",
    "kp_patell_batch",
    "kp_patell_z",
    "patell_batch",
    "patell_statistic",
    "patell_z",
]

#: 1 − r̄ below this counts as perfect correlation (KP BMP factor 0).
_PERFECT = 1e-9


def patell_statistic(inp: TestInput, idx: np.ndarray) -> tuple[float, np.ndarray, str]:
    """Patell Z on the pairs of ``idx`` and the pairs it used.

    Returns ``(Z, used, why)``; ``Z`` is NaN and ``why`` says why when the test
    cannot apply.
    """
    used = finite_subset(inp.scar, idx)
    dof = inp.dof[used].astype("float64")
    good = dof > 2
    dropped = int((~good).sum())
    used = used[good]
    if len(used) == 0:
        why = "needs at least 1 pair with a SCAR and M − k > 2"
        return float("nan"), used, why
    dof = dof[good]
    z = float(inp.scar[used].sum() / np.sqrt((dof / (dof - 2.0)).sum()))
    why = f"{dropped} pair(s) with M − k ≤ 2 left out" if dropped else ""
    return z, used, why


def patell_z(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Patell (1976) standardized-residual Z, multi-day through the exact SCAR.

    Z = Σ_i SCAR_i / √(Σ_i (M_i − k)/(M_i − k − 2)), two-sided p from N(0, 1).

    Conventions
    -----------
    * SCAR_i = CAR_i / √(γ'V_iγ), the CAR standardized by its exact
      prediction-error corrected variance (Campbell, Lo and MacKinlay 1997
      §4.4; formula sheet §5.2, "exact alternative" of §5.3; DESIGN.md). Under
      the null SCAR_i ~ t(M_i − k), whose variance is (M_i − k)/(M_i − k − 2)
      (Patell 1976, eq. for Z_t; formula sheet §5.3 with k estimated
      parameters). This is not the day-wise Σ_τ SAR_iτ / √L cumulation of
      EST/eventstudy2, which ignores the estimation-error covariance across days.
    * For a single-day window SCAR_i is Patell's SAR_i0.
    * Pairs with M_i − k ≤ 2 (undefined variance) are left out and the note
      says how many.
    """
    z, used, why = patell_statistic(inp, idx)
    if not np.isfinite(z):
        return not_applicable(len(used), why)
    return TestResult(z, normal_p(z), len(used), why)


def kp_bmp_t(inp: TestInput, idx: np.ndarray) -> TestResult:
    """BMP t adjusted for cross-correlation (Kolari and Pynnönen 2010).

    t_adjBMP = t_BMP · √((1 − r̄)/(1 + (N − 1) r̄)) (KP 2010, RFS 23(11),
    p. 4003; formula sheet §5.5), two-sided p from t(N − 1) like the BMP test.

    Conventions
    -----------
    * t_BMP is :func:`~eventstudy.inference.parametric.bmp_t` (SCAR with the
      exact γ'Vγ standardization, Boehmer, Musumeci and Poulsen 1991).
    * r̄ = average off-diagonal correlation of the N pairs' estimation residuals
      aligned on calendar dates, pairwise-complete
      (:mod:`~eventstudy.inference.crosscorr`); r̄ is written in the note.
    * Not applicable when r̄ is undefined (no two pairs share two estimation
      dates), when 1 + (N − 1) r̄ ≤ 0, or when r̄ = 1 up to rounding
      (1 − r̄ < 1e-9): the factor is then 0. This happens for a group of one
      market's events: on common dates their estimation residuals differ by a
      constant (constant-mean model), so every pairwise correlation is 1.
    """
    t, used, why = bmp_statistic(inp, idx)
    n = len(used)
    if not np.isfinite(t):
        return not_applicable(n, why)
    cc = group_rbar(inp, used)
    r = cc.rbar
    if not np.isfinite(r):
        return not_applicable(n, "r̄ undefined: no two pairs share at least 2 estimation dates")
    if 1.0 - r < _PERFECT:
        return not_applicable(
            n,
            f"r̄={r:.4f}: the pairs' estimation residuals are perfectly correlated "
            "(one market's events on common dates), the KP factor is 0",
        )
    denom = 1.0 + (n - 1) * r
    if denom <= _PERFECT:
        return not_applicable(n, f"KP factor undefined for r̄={r:.4f}")
    ta = float(t * np.sqrt((1.0 - r) / denom))
    return TestResult(ta, t_p(ta, n - 1), n, f"r̄={r:.4f}")


def kp_patell_z(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Patell Z adjusted for cross-correlation (Kolari and Pynnönen 2010).

    Z_adj = Z_Patell / √(1 + (N − 1) r̄), two-sided p from N(0, 1).

    Conventions
    -----------
    * This is the factor derived from Var(Σ_i SCAR_i) = N(1 + (N − 1) r̄)
      under equicorrelation (formula sheet §5.5; DESIGN.md), not eventstudy2's
      BMP factor √((1 − r̄)/(1 + (N − 1) r̄)).
    * Z_Patell is :func:`patell_z` (exact SCAR); r̄ as in :func:`kp_bmp_t`, on
      the pairs the Patell Z uses, written in the note.
    * Needs N ≥ 2 (r̄ is a correlation between pairs).
    """
    z, used, why = patell_statistic(inp, idx)
    n = len(used)
    if not np.isfinite(z):
        return not_applicable(n, why)
    if n < 2:
        return not_applicable(n, "needs at least 2 pairs for r̄")
    cc = group_rbar(inp, used)
    r = cc.rbar
    if not np.isfinite(r):
        return not_applicable(n, "r̄ undefined: no two pairs share at least 2 estimation dates")
    denom = 1.0 + (n - 1) * r
    if denom <= _PERFECT:
        return not_applicable(n, f"KP factor undefined for r̄={r:.4f}")
    za = float(z / np.sqrt(denom))
    note = f"r̄={r:.4f}" + (f"; {why}" if why else "")
    return TestResult(za, normal_p(za), n, note)


def _patell_parts(inp: TestInput, groups: Groups) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Group-wise Patell Z: ``(z, n, dropped, mask of the pairs used)``."""
    finite = np.isfinite(inp.scar)
    dof = inp.dof.astype("float64")
    mask = finite & (dof > 2)
    dropped = groups.count(finite & ~(dof > 2))
    n = groups.count(mask)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = groups.total(inp.scar, mask) / np.sqrt(groups.total(dof / (dof - 2.0), mask))
    return z, n, dropped, mask


def _dropped_notes(dropped: np.ndarray) -> list[str]:
    return [f"{d} pair(s) with M − k ≤ 2 left out" if d else "" for d in dropped]


def patell_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`patell_z` for every group of ``groups`` at once."""
    z, n, dropped, _ = _patell_parts(inp, groups)
    reasons = [(n == 0, "needs at least 1 pair with a SCAR and M − k > 2")]
    return BatchResult.build(z, normal_p_array(z), n, _dropped_notes(dropped), reasons)


def _rbar_reasons(r: np.ndarray) -> list[Reason]:
    return [(~np.isfinite(r), "r̄ undefined: no two pairs share at least 2 estimation dates")]


def kp_bmp_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`kp_bmp_t` for every group of ``groups`` at once."""
    mask = np.isfinite(inp.scar)
    t, n, reasons = mean_t_shared(inp, groups, "scar")
    r, _ = group_rbar_batch(inp, groups, mask)
    denom = 1.0 + (n - 1) * r
    with np.errstate(invalid="ignore", divide="ignore"):
        ta = t * np.sqrt((1.0 - r) / denom)
    perfect = [
        f"r̄={v:.4f}: the pairs' estimation residuals are perfectly correlated "
        "(one market's events on common dates), the KP factor is 0"
        for v in r
    ]
    reasons = reasons + [
        *_rbar_reasons(r),
        (1.0 - r < _PERFECT, perfect),
        (~(denom > _PERFECT), [f"KP factor undefined for r̄={v:.4f}" for v in r]),
    ]
    notes = [f"r̄={v:.4f}" for v in r]
    return BatchResult.build(ta, t_p_array(ta, n - 1), n, notes, reasons)


def kp_patell_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`kp_patell_z` for every group of ``groups`` at once."""
    z, n, dropped, mask = _patell_parts(inp, groups)
    r, _ = group_rbar_batch(inp, groups, mask)
    denom = 1.0 + (n - 1) * r
    with np.errstate(invalid="ignore", divide="ignore"):
        za = z / np.sqrt(denom)
    notes = [f"r̄={v:.4f}" + (f"; {w}" if w else "") for v, w in zip(r, _dropped_notes(dropped), strict=True)]
    reasons = [
        (n == 0, "needs at least 1 pair with a SCAR and M − k > 2"),
        (n < 2, "needs at least 2 pairs for r̄"),
        *_rbar_reasons(r),
        (~(denom > _PERFECT), [f"KP factor undefined for r̄={v:.4f}" for v in r]),
    ]
    return BatchResult.build(za, normal_p_array(za), n, notes, reasons)
