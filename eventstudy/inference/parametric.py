"""Parametric tests on CARs: cross-sectional t, BMP, and Brown–Warner's CDA.

Conventions follow the formula sheet (``formulas.md``) and are stated per test.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .base import TestInput, TestResult, finite_subset, not_applicable, t_p
from .estsums import announced_row_sums, est_zeroed, missing_counts, zeroed_rows
from .grouped import BatchResult, Groups, digest, t_p_array
from .groupmemo import car_count, mean_t_shared

__all__ = [
    "bmp_batch",
    "bmp_statistic",
    "bmp_t",
    "cda_batch",
    "cda_t",
    "csect_batch",
    "csect_statistic",
    "csect_t",
    "mean_t",
]


def mean_t(values: np.ndarray) -> tuple[float, str]:
    """t = mean / (S/√N) of finite ``values`` (S with N − 1), or NaN and why not."""
    n = len(values)
    if n < 2:
        return float("nan"), "needs at least 2 pairs"
    sd = float(np.std(values, ddof=1))
    if not np.isfinite(sd) or sd == 0.0 or not np.max(values) > np.min(values):
        return float("nan"), "no cross-sectional variation"
    return float(np.mean(values) / (sd / np.sqrt(n))), ""


def csect_statistic(inp: TestInput, idx: np.ndarray) -> tuple[float, np.ndarray, str]:
    """Cross-sectional t on the CARs of ``idx``: ``(t, pairs used, why-not)``."""
    used = finite_subset(inp.car, idx)
    t, why = mean_t(inp.car[used])
    return t, used, why


def bmp_statistic(inp: TestInput, idx: np.ndarray) -> tuple[float, np.ndarray, str]:
    """BMP t on the SCARs of ``idx``: ``(t, pairs used, why-not)``."""
    used = finite_subset(inp.scar, idx)
    t, why = mean_t(inp.scar[used])
    return t, used, why


def _result(t: float, n: int, why: str) -> TestResult:
    if not np.isfinite(t):
        return not_applicable(n, why)
    return TestResult(t, t_p(t, n - 1), n)


def csect_t(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Cross-sectional t test on CARs (Brown and Warner 1985; formula sheet §5.9).

    t = CAAR / (S / √N), S² = (N − 1)⁻¹ Σ(CAR_i − CAAR)², CAAR = N⁻¹ Σ CAR_i
    over the N pairs with a CAR; two-sided p from t(N − 1). Robust to
    event-induced variance, not to cross-correlation. Needs N ≥ 2 and some
    cross-sectional variation. A single-day window gives the AAR test.
    """
    t, used, why = csect_statistic(inp, idx)
    return _result(t, len(used), why)


def bmp_t(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Boehmer, Musumeci and Poulsen (1991) standardized cross-sectional test.

    SCAR_i = CAR_i / √(γ'V_iγ) with the exact prediction-error-corrected
    variance (formula sheet §5.2, §5.4; not the day-wise CSAR_i/√L);
    t = mean(SCAR) / (S_SCAR / √N), S_SCAR with N − 1; two-sided p from
    t(N − 1). For a single day this is BMP's daily t on SAR_i0.
    """
    t, used, why = bmp_statistic(inp, idx)
    return _result(t, len(used), why)


def _est_filled(inp: TestInput) -> tuple[np.ndarray, np.ndarray]:
    """Estimation ARs with 0 where missing and the 0/1 availability (memoized in ``inp.cache``)."""
    hit = inp.cache.get("est_filled")
    if isinstance(hit, tuple):
        return hit
    out = (est_zeroed(inp), np.isfinite(inp.est_resid).astype("float64"))
    inp.cache["est_filled"] = out
    return out


def cda_day_sums(inp: TestInput, groups: Groups, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group and estimation day: Σ AR over the pairs with ``mask`` and how many have one (G × T each).

    Memoized in ``inp.cache`` under ``("est_day_sums", groups.uid, digest(mask))``
    (a study run chunk by chunk puts its totals there). The sums are the
    one-hot products of the ARs with 0 where missing, for every announced
    grouping in one pass (:func:`~eventstudy.inference.estsums.announced_row_sums`);
    the counts are the group's pairs less those missing that day, as floats
    (the 0/1 sums they equal). No pairs × days array is built.
    """
    key = ("est_day_sums", groups.uid, digest(mask))
    hit = inp.cache.get(key)
    if isinstance(hit, tuple):
        return hit
    width = inp.est_resid.shape[1]
    sums = announced_row_sums(inp, groups, mask, "est_zeroed_sums", width, zeroed_rows(inp))
    have = groups.count(mask)[:, None] - missing_counts(inp, groups, mask)
    out = (sums, have.astype("float64"))
    inp.cache[key] = out
    return out


def cda_t(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Brown and Warner (1980, 1985) crude dependence adjustment (formula sheet §5.9).

    AAR_t = N_t⁻¹ Σ_i AR_it for each estimation day t (the columns of
    ``est_resid``, aligned by relative day, over the group's pairs that have
    a CAR); S²(AAR) = (L1 − 1)⁻¹ Σ_t (AAR_t − mean AAR)²;
    t = CAAR / √(L · S²(AAR)) with CAAR = N⁻¹ Σ_i CAR_i.

    Conventions
    -----------
    * L1 = number of estimation days on which at least one pair of the group
      has an AR; divisor L1 − 1 (Brown and Warner 1985), not eventstudy2's
      L1 − 2 − df.
    * L = mean over the pairs of their number of available window days L_i
      (equals the window length τ2 − τ1 + 1 in a balanced panel without
      date-only extension).
    * Two-sided p from Student's t with L1 − 1 degrees of freedom (the degrees
      of freedom of S²(AAR); Brown and Warner 1985).
    * The time-series variance captures cross-sectional dependence (hence
      "dependence adjustment"); it ignores event-induced variance.
    """
    used = finite_subset(inp.car, idx)
    n = len(used)
    if n == 0:
        return not_applicable(0, "needs at least 1 pair with a CAR")
    filled, avail = _est_filled(inp)
    cnt = avail[used].sum(axis=0)
    have = cnt > 0
    l1 = int(have.sum())
    if l1 < 3:
        return not_applicable(n, f"needs at least 3 estimation days with an AAR (has {l1})")
    aar = filled[used].sum(axis=0)[have] / cnt[have]
    s2 = float(np.sum((aar - aar.mean()) ** 2) / (l1 - 1))
    if not s2 > 0.0:
        return not_applicable(n, "estimation AARs have no variation")
    big_l = float(np.mean(inp.days[used]))
    caar = float(np.mean(inp.car[used]))
    t = caar / np.sqrt(big_l * s2)
    return TestResult(float(t), t_p(t, l1 - 1), n, f"L1={l1}")


def _t_batch(inp: TestInput, groups: Groups, name: Literal["car", "scar"]) -> BatchResult:
    t, n, reasons = mean_t_shared(inp, groups, name)
    return BatchResult.build(t, t_p_array(t, n - 1), n, reasons=reasons)


def csect_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`csect_t` for every group of ``groups`` at once."""
    return _t_batch(inp, groups, "car")


def bmp_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`bmp_t` for every group of ``groups`` at once."""
    return _t_batch(inp, groups, "scar")


def cda_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`cda_t` for every group of ``groups`` at once."""
    mask = np.isfinite(inp.car)
    n = car_count(inp, groups)
    sums, cnt = cda_day_sums(inp, groups, mask)
    have = cnt > 0
    l1 = have.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        aar = np.where(have, sums / np.where(have, cnt, 1.0), 0.0)
        mean_aar = aar.sum(axis=1) / l1
        s2 = (np.where(have, aar - mean_aar[:, None], 0.0) ** 2).sum(axis=1) / (l1 - 1)
        big_l = groups.total(inp.days.astype("float64"), mask) / n
        caar = groups.total(inp.car, mask) / n
        t = caar / np.sqrt(big_l * s2)
    notes = [f"L1={v}" for v in l1]
    reasons = [
        (n == 0, "needs at least 1 pair with a CAR"),
        (l1 < 3, [f"needs at least 3 estimation days with an AAR (has {v})" for v in l1]),
        (~(s2 > 0.0), "estimation AARs have no variation"),
    ]
    return BatchResult.build(t, t_p_array(t, l1 - 1), n, notes, reasons)
