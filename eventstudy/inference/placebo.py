"""Estimation-window placebo test of the CAAR.

Placebo CARs come from running sums of each pair's estimation-period ARs;
group CAARs from group sums of those running sums, with no Python loop over
positions, pairs or groups.
"""

from __future__ import annotations

import numpy as np

from .base import TestInput, TestResult, finite_subset, not_applicable
from .estsums import announced_row_sums, est_missing, missing_counts, zeroed_rows
from .grouped import BatchResult, Groups, digest
from .groupmemo import car_count

__all__ = [
    "placebo",
    "placebo_batch",
    "placebo_caar_groups",
    "placebo_caars",
    "placebo_cars",
    "placebo_group_sums",
]

#: Relative tolerance when counting placebo CAARs at least as extreme as the
#: observed one.
_RTOL = 1e-10


def _running_sums(est_resid: np.ndarray, filled: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative sums of the available ARs and of their count along each row, with a leading 0.

    ``filled``, the ARs with 0 where missing (:func:`~eventstudy.inference.estsums.est_zeroed`),
    saves building them again.
    """
    ok = np.isfinite(est_resid)
    ccnt = np.zeros((est_resid.shape[0], est_resid.shape[1] + 1), dtype=np.int32)
    np.cumsum(ok, axis=1, out=ccnt[:, 1:])
    return _running_ar_sums(est_resid, filled, ok), ccnt


def _running_ar_sums(
    est_resid: np.ndarray, filled: np.ndarray | None = None, ok: np.ndarray | None = None
) -> np.ndarray:
    """The first array of :func:`_running_sums` alone (``ok``: ``np.isfinite(est_resid)`` if known)."""
    n = est_resid.shape[0]
    csum = np.zeros((n, est_resid.shape[1] + 1))
    body = csum[:, 1:]  # the ARs with 0 where missing, summed in place (no temporary)
    if filled is None:
        np.copyto(body, est_resid)
        np.copyto(body, 0.0, where=~(np.isfinite(est_resid) if ok is None else ok))
        filled = body
    np.cumsum(filled, axis=1, out=body)
    return csum


def placebo_cars(
    est_resid: np.ndarray, length: np.ndarray, sums: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Placebo CARs of each pair at each position of the window in the estimation period.

    Parameters
    ----------
    est_resid : ndarray (N, T)
        Estimation-window ARs aligned by relative day (NaN where unused).
    length : ndarray (N,) of int ≥ 1
        Window length L_i of each pair.
    sums : (ndarray, ndarray), optional
        The rows' running sums of ARs and of available days (computed when
        not given; pass them to share them between lengths).

    Returns
    -------
    ndarray (N, K), K = T − min L_i + 1 (0 when no window fits)
        CAR_ik = Σ_{t=k}^{k+L_i−1} AR_it for start column k: the sum of the
        available days, NaN when none is available or the window would run
        past the estimation period.
    """
    n, t = est_resid.shape
    length = np.asarray(length, dtype=np.int64)
    if n == 0 or t == 0 or length.min() > t:
        return np.empty((n, 0))
    csum, ccnt = sums if sums is not None else _running_sums(est_resid)
    k = t - int(length.min()) + 1
    if length.max() == length.min():  # one length: every window fits, plain column shifts
        span = int(length[0])
        s = csum[:, span : span + k] - csum[:, :k]
        c = ccnt[:, span : span + k] - ccnt[:, :k]
        return np.where(c > 0, s, np.nan)
    ends = np.arange(k)[None, :] + length[:, None]
    fits = ends <= t
    ends = np.minimum(ends, t)
    s = np.take_along_axis(csum, ends, axis=1) - csum[:, :k]
    c = np.take_along_axis(ccnt, ends, axis=1) - ccnt[:, :k]
    return np.where(fits & (c > 0), s, np.nan)


def placebo_caars(cars: np.ndarray) -> np.ndarray:
    """Position-by-position nan-aware mean over pairs of :func:`placebo_cars` (NaN where none)."""
    have = np.isfinite(cars)
    cnt = have.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(have, cars, 0.0).sum(axis=0) / np.where(cnt > 0, cnt, np.nan)


def _placebo_length(inp: TestInput) -> np.ndarray:
    lengths = inp.window_len if inp.window_len is not None else inp.days
    return np.maximum(np.asarray(lengths, dtype=np.int64), 1)


def _study_placebo_cars(inp: TestInput) -> np.ndarray:
    """:func:`placebo_cars` of every pair of ``inp``.

    Memoized in ``inp.cache`` by the pairs' window lengths, so windows of the
    same lengths (the single days) share them.
    """
    length = _placebo_length(inp)
    key = ("placebo_cars", digest(length))
    hit = inp.cache.get(key)
    if isinstance(hit, np.ndarray):
        return hit
    cars = placebo_cars(inp.est_resid, length, _running(inp))
    inp.cache[key] = cars
    return cars


def _placebo_filled(inp: TestInput) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_study_placebo_cars` with 0 where missing, and the 0/1 availability (memoized)."""
    key = ("placebo_filled", digest(_placebo_length(inp)))
    hit = inp.cache.get(key)
    if isinstance(hit, tuple):
        return hit
    cars = _study_placebo_cars(inp)
    ok = np.isfinite(cars)
    out = (np.where(ok, cars, 0.0), ok.astype("float64"))
    inp.cache[key] = out
    return out


def _est_missing(inp: TestInput) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every missing estimation AR (:func:`~eventstudy.inference.estsums.est_missing`)."""
    return est_missing(inp)


def _running(inp: TestInput) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_running_sums` of ``inp.est_resid`` (memoized; the sums are :func:`_running_ars`')."""
    sums = inp.cache.get("running_sums")
    if not isinstance(sums, tuple):
        csum = _running_ars(inp)
        ccnt = np.zeros(csum.shape, dtype=np.int32)
        np.cumsum(np.isfinite(inp.est_resid), axis=1, out=ccnt[:, 1:])
        sums = (csum, ccnt)
        inp.cache["running_sums"] = sums
    return sums


def _running_ars(inp: TestInput) -> np.ndarray:
    """The running sums of the ARs of :func:`_running_sums` alone, memoized in ``inp.cache``.

    From the CDA test's filled ARs when it ran first; without the running
    counts, which only :func:`_running` (the per-group form) builds.
    """
    sums = inp.cache.get("running_sums")
    if isinstance(sums, tuple):
        return np.asarray(sums[0])
    hit = inp.cache.get("running_ars")
    if isinstance(hit, np.ndarray):
        return hit
    filled = inp.cache.get("est_zeroed")  # the CDA test's, when it ran first
    csum = _running_ar_sums(inp.est_resid, filled if isinstance(filled, np.ndarray) else None)
    inp.cache["running_ars"] = csum
    return csum


def _empty_positions(inp: TestInput, span: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs and start positions whose ``span``-day placebo window has no available day.

    Over all pairs, in row-major order, memoized in ``inp.cache`` by
    ``span``; the groupings and windows of a study pick their pairs from
    them. A window starting at a missing AR is empty when the missing entry
    ``span`` − 1 places on (:func:`_est_missing`, row-major) is in the same
    row, ``span`` − 1 columns on.
    """
    key = ("placebo_empty", span)
    hit = inp.cache.get(key)
    if isinstance(hit, tuple):
        return hit
    rows, cols = _est_missing(inp)
    lo = np.arange(max(len(rows) - span + 1, 0))
    hi = lo + (span - 1)
    run = (rows[hi] == rows[lo]) & (cols[hi] == cols[lo] + (span - 1))
    out = (rows[lo[run]], cols[lo[run]])
    inp.cache[key] = out
    return out


def placebo_caar_groups(inp: TestInput, groups: Groups, mask: np.ndarray) -> np.ndarray:
    """Placebo CAARs of every group (G × positions): the mean of the pairs' placebo CARs.

    When every pair has the same window length L (no date-only extension),
    the group sum of the placebo CARs at position k is the difference of the
    group sums of the running sums at k + L and k (a pair with no available
    day there adds exactly 0), so one product per grouping serves every
    window length; the counts subtract the few pairs with no available day.
    Otherwise the pairs' placebo CARs are summed directly. Memoized in
    ``inp.cache``.
    """
    length = _placebo_length(inp)
    key = ("placebo_groups", groups.uid, digest(mask), digest(length))
    hit = inp.cache.get(key)
    if isinstance(hit, np.ndarray):
        return hit
    total, count = placebo_group_sums(inp, groups, mask)
    with np.errstate(invalid="ignore", divide="ignore"):
        caars = total / np.where(count > 0, count, np.nan)
    inp.cache[key] = caars
    return np.asarray(caars)


def _running_group_sums(inp: TestInput, groups: Groups, mask: np.ndarray) -> np.ndarray:
    """Group sums of the running AR sums (G × (T + 1)), as ``group_products`` of :func:`_running_ars`.

    Memoized in ``inp.cache`` under the key of
    :func:`~eventstudy.grouped.group_products` (``"running_group_sums"``, as a
    1-tuple). Without the running sums at hand, they are built a block of pairs
    at a time (:func:`~eventstudy.inference.estsums.announced_row_sums`; each
    row's cumulative sum is the same) and never held whole.
    """
    key = ("running_group_sums", groups.uid, digest(mask))
    hit = inp.cache.get(key)
    if isinstance(hit, tuple):
        return np.asarray(hit[0])
    t = inp.est_resid.shape[1]
    zeroed, held = zeroed_rows(inp), inp.cache.get("running_ars")
    scratch = [np.empty((0, t))]

    def fill(rows: np.ndarray, out: np.ndarray) -> None:
        if isinstance(held, np.ndarray):  # built already (the per-group form's): its rows
            np.take(held, rows, axis=0, out=out)
            return
        out[:, 0] = 0.0  # a leading 0, then the running sums of the ARs with 0 where missing
        if len(scratch[0]) < len(rows):  # one buffer for the blocks (the first is the largest)
            scratch[0] = np.empty((len(rows), t))
        ars = scratch[0][: len(rows)]
        zeroed(rows, ars)
        np.cumsum(ars, axis=1, out=out[:, 1:])  # from another array: no overlap to buffer

    cs = announced_row_sums(inp, groups, mask, "running_row_sums", t + 1, fill)
    inp.cache[key] = (cs,)
    return cs


def placebo_group_sums(inp: TestInput, groups: Groups, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group and position: the sum of the pairs' placebo CARs and how many pairs have one.

    The sums behind :func:`placebo_caar_groups` (G × positions each); they add
    up over disjoint sets of pairs, so a study can compute them chunk by chunk
    of pairs (:mod:`eventstudy.streamtests`).
    """
    length = _placebo_length(inp)
    n, t = inp.est_resid.shape
    if n and t and length.min() == length.max() and length[0] <= t:
        span = int(length[0])
        k = t - span + 1
        cs = _running_group_sums(inp, groups, mask)
        total = cs[:, span : span + k] - cs[:, :k]
        if span == 1:  # a one-day window is empty where the AR is missing
            empty = missing_counts(inp, groups, mask)
        else:
            empty_i, empty_k = _empty_positions(inp, span)
            keep = mask[empty_i]
            flat = groups.codes[empty_i[keep]] * k + empty_k[keep]
            empty = np.bincount(flat, minlength=groups.size * k).reshape(groups.size, k)
        count = groups.count(mask)[:, None] - empty
    else:
        filled, ok = _placebo_filled(inp)
        onehot = groups.matrix(mask)
        total = np.asarray(onehot @ filled)
        count = np.asarray(onehot @ ok)
    return np.asarray(total), np.asarray(count, dtype="float64")


def placebo(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Estimation-window placebo test of the CAAR (DESIGN.md).

    For each pair, the same window (length L_i) is placed at every position
    inside its estimation window and its placebo CAR computed from the pair's
    estimation-period ARs (no refit); the placebo CAARs average the pairs
    position by position; with B the number of positions that have a placebo
    CAAR, the two-sided p-value is
    p = (1 + #{b : |CAAR_b| ≥ |CAAR_obs|}) / (1 + B).

    Conventions
    -----------
    * The statistic is the observed CAAR = N⁻¹ Σ_i CAR_i over the pairs with a
      CAR (not standardized); the note gives B and the placebo CAARs' standard
      deviation.
    * Positions are start days aligned by relative day (the columns of
      ``est_resid``); L_i = ``inp.window_len`` (nominal length including the
      date-only extension) when given, else the pair's available window days.
    * A placebo CAR sums the available ARs of its days, like the CAR itself
      (masked or missing days are skipped); pairs without any are left out of
      that position's mean (nan-aware).
    * Deterministic: every position is used, so ``seed`` and ``draws`` do not
      apply.
    * Like the CDA test it keeps the cross-correlation of the pairs (all pairs
      move to the same relative position together).
    """
    used = finite_subset(inp.car, idx)
    n = len(used)
    if n == 0:
        return not_applicable(0, "needs at least 1 pair with a CAR")
    caars = placebo_caars(_study_placebo_cars(inp)[used])
    caars = caars[np.isfinite(caars)]
    b = len(caars)
    if b == 0:
        return not_applicable(n, "the window does not fit in the estimation period")
    obs = float(np.mean(inp.car[used]))
    extreme = int(np.sum(np.abs(caars) >= abs(obs) * (1.0 - _RTOL)))
    p = (1.0 + extreme) / (1.0 + b)
    sd = float(np.std(caars, ddof=1)) if b > 1 else float("nan")
    return TestResult(obs, float(p), n, f"B={b} positions; placebo sd={sd:.6g}")


def placebo_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`placebo` for every group of ``groups`` at once (one sparse product per window)."""
    mask = np.isfinite(inp.car)
    n = car_count(inp, groups)
    caars = placebo_caar_groups(inp, groups, mask)
    have = np.isfinite(caars)
    b = have.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        obs = groups.total(inp.car, mask) / n
        a = np.where(have, np.abs(caars), -np.inf)
        extreme = (a >= (np.abs(obs) * (1.0 - _RTOL))[:, None]).sum(axis=1)
        mean_c = np.where(have, caars, 0.0).sum(axis=1) / b
        sd = np.sqrt((np.where(have, caars - mean_c[:, None], 0.0) ** 2).sum(axis=1) / (b - 1))
    sd = np.where(b > 1, sd, np.nan)
    p = (1.0 + extreme) / (1.0 + b)
    notes = [f"B={bb} positions; placebo sd={ss:.6g}" for bb, ss in zip(b, sd, strict=True)]
    reasons = [
        (n == 0, "needs at least 1 pair with a CAR"),
        (b == 0, "the window does not fit in the estimation period"),
    ]
    return BatchResult.build(obs, p, n, notes, reasons)
