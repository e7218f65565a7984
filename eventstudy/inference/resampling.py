"""Resampling tests: wild (sign-flip) bootstrap and the estimation-window placebo.

Both are matrix operations: one (pairs × draws) matrix of sign flips, and a
pairs × positions matrix of placebo CARs built from cumulative sums; there is
no Python loop over draws, positions or pairs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .base import TestInput, TestResult, finite_subset, not_applicable
from .grouped import BatchResult, Groups, digest, mean_t_batch
from .parametric import mean_t

__all__ = [
    "placebo",
    "placebo_batch",
    "placebo_caar_groups",
    "placebo_caars",
    "placebo_cars",
    "rademacher",
    "wild_bootstrap",
    "wild_bootstrap_batch",
    "wild_bootstrap_windows",
]

#: Relative tolerance when counting resampled statistics at least as extreme
#: as the observed one (the identity draw reproduces it up to rounding).
_RTOL = 1e-10


#: Rows of the flip matrix drawn from one generator (see :func:`rademacher`).
FLIP_BLOCK = 4096

#: Largest flip matrix (bytes, float64) kept for the windows of a study; above
#: it, blocks of rows are drawn again when needed and memory stays bounded.
_FLIP_CACHE_BYTES = 256 * 2**20


def rademacher(seed: int, n: int, draws: int) -> np.ndarray:
    """The n × B matrix of ±1 sign flips used for a group of n pairs.

    Row j is the flips of the j-th smallest CAR. Rows come in blocks of
    :data:`FLIP_BLOCK`: block k (rows k·FLIP_BLOCK …) is
    ``2 * default_rng([seed, k]).integers(0, 2, size=(FLIP_BLOCK, draws), dtype=np.int8) − 1``,
    so the first n rows of a larger matrix are the same, and any block can be
    drawn on its own.
    """
    out = np.empty((n, draws))
    for start, block in _flip_blocks(seed, n, draws):
        out[start : start + len(block)] = block
    return out


def _flip_blocks(seed: int, n: int, draws: int, first: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """Blocks ``(start, rows)`` of :func:`rademacher` covering rows ``first`` … n − 1."""
    for k in range(first // FLIP_BLOCK, -(-n // FLIP_BLOCK)):
        rng = np.random.default_rng([int(seed), k])
        rows = rng.integers(0, 2, size=(FLIP_BLOCK, draws), dtype=np.int8).astype("float64") * 2.0 - 1.0
        lo = k * FLIP_BLOCK
        yield lo, rows[: min(FLIP_BLOCK, n - lo)]


def _flip_products(inp: TestInput, x: np.ndarray, draws: int) -> np.ndarray:
    """``x @ rademacher(seed, n, draws)`` for ``x`` of shape (R, n), in bounded memory.

    The flip matrix is memoized in ``inp.cache`` when it is small (the windows
    of a study share it), else drawn block by block for each product.
    """
    n = x.shape[1]
    key = ("rademacher", int(inp.seed), draws)
    hit = inp.cache.get(key)
    if isinstance(hit, np.ndarray) and hit.shape[0] >= n:
        return np.asarray(x @ hit[:n])
    if max(n, len(inp.car)) * draws * 8 <= _FLIP_CACHE_BYTES:
        full = rademacher(inp.seed, max(n, len(inp.car)), draws)
        inp.cache[key] = full
        return np.asarray(x @ full[:n])
    out = np.zeros((x.shape[0], draws))
    for start, block in _flip_blocks(inp.seed, n, draws):
        out += x[:, start : start + len(block)] @ block
    return out


def wild_bootstrap(inp: TestInput, idx: np.ndarray) -> TestResult:
    """Wild (Rademacher sign-flip) bootstrap of the cross-sectional t (formula sheet §5.9).

    Each of B = ``inp.draws`` draws multiplies every pair's CAR (equivalently
    all its ARs) by an independent w ∈ {−1, +1} with probability ½ each and
    recomputes t_b = mean / (S/√N) (S with N − 1). The statistic is the
    observed cross-sectional t; the two-sided p-value is
    p = (1 + #{b : |t_b| ≥ |t_obs|}) / (1 + B).

    Conventions
    -----------
    * The flips are the N × B matrix :func:`rademacher` (``inp.seed``), row j
      applied to the j-th smallest CAR of the group, so the result does not
      depend on the order of the pairs nor on which groups or windows were
      tested before.
    * Draws with zero spread give |t_b| = ∞ and count as extreme.
    * Needs N ≥ 2 and some cross-sectional variation.
    """
    used = finite_subset(inp.car, idx)
    n = len(used)
    t_obs, why = mean_t(inp.car[used])
    if not np.isfinite(t_obs):
        return not_applicable(n, why)
    b = int(inp.draws)
    if b < 1:
        return not_applicable(n, f"draws must be at least 1 (got {b})")
    x = np.sort(inp.car[used])
    mean_b = _flip_products(inp, x[None, :], b)[0] / n
    with np.errstate(invalid="ignore", divide="ignore"):
        var_b = np.maximum(np.sum(x * x) - n * mean_b**2, 0.0) / (n - 1)
        t_b = np.abs(mean_b / np.sqrt(var_b / n))
    t_b = np.where(np.isnan(t_b), 0.0, t_b)
    extreme = int(np.sum(t_b >= abs(t_obs) * (1.0 - _RTOL)))
    p = (1.0 + extreme) / (1.0 + b)
    return TestResult(t_obs, float(p), n, f"B={b} Rademacher draws, seed={inp.seed}")


def _running_sums(est_resid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative sums of the available ARs and of their count along each row, with a leading 0."""
    ok = np.isfinite(est_resid)
    n = est_resid.shape[0]
    csum = np.zeros((n, est_resid.shape[1] + 1))
    ccnt = np.zeros((n, est_resid.shape[1] + 1), dtype=np.int32)
    np.cumsum(np.where(ok, est_resid, 0.0), axis=1, out=csum[:, 1:])
    np.cumsum(ok, axis=1, out=ccnt[:, 1:])
    return csum, ccnt


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


def _running(inp: TestInput) -> tuple[np.ndarray, np.ndarray]:
    sums = inp.cache.get("running_sums")
    if not isinstance(sums, tuple):
        sums = _running_sums(inp.est_resid)
        inp.cache["running_sums"] = sums
    return sums


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
    n, t = inp.est_resid.shape
    if n and t and length.min() == length.max() and length[0] <= t:
        span = int(length[0])
        k = t - span + 1
        csum, ccnt = _running(inp)
        ckey = ("running_group_sums", groups.uid, digest(mask))
        cs = inp.cache.get(ckey)
        if not isinstance(cs, np.ndarray):
            cs = np.asarray(groups.matrix(mask) @ csum)
            inp.cache[ckey] = cs
        total = cs[:, span : span + k] - cs[:, :k]
        rows = np.flatnonzero(mask)
        empty_i, empty_k = np.nonzero(ccnt[rows, span : span + k] == ccnt[rows, :k])
        empty = np.bincount(groups.codes[rows[empty_i]] * k + empty_k, minlength=groups.size * k)
        count = groups.count(mask)[:, None] - empty.reshape(groups.size, k)
    else:
        filled, ok = _placebo_filled(inp)
        onehot = groups.matrix(mask)
        total = np.asarray(onehot @ filled)
        count = np.asarray(onehot @ ok)
    with np.errstate(invalid="ignore", divide="ignore"):
        caars = total / np.where(count > 0, count, np.nan)
    inp.cache[key] = caars
    return np.asarray(caars)


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


def wild_bootstrap_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`wild_bootstrap` for every group of ``groups`` at once."""
    return wild_bootstrap_windows([inp], groups)[0]


#: Rows (window × group) of resampled means computed per block (bounds memory).
_ROW_BLOCK = 2048


def wild_bootstrap_windows(inputs: Sequence[TestInput], groups: Groups) -> list[BatchResult]:
    """:func:`wild_bootstrap` for every group of ``groups`` in every window of ``inputs``.

    The resampled means of all windows and groups are dense matrix products
    with the flip matrix, which is read once for all of them: each group's
    sorted CARs form a row (padded to the next power of two of its size, so
    that rows of similar size share one product and the padding is at most
    half), and each product is the rows of one size class times the first
    rows of the flip matrix. Inputs must share their seed, draws and cache
    (the windows of one study); others are computed one at a time.
    """
    if not inputs:
        return []
    first = inputs[0]
    if any(i.seed != first.seed or i.draws != first.draws or i.cache is not first.cache for i in inputs):
        return [wild_bootstrap_windows([i], groups)[0] for i in inputs]
    b = int(first.draws)
    g = groups.size
    parts = []
    for inp in inputs:
        mask = np.isfinite(inp.car)
        t_obs, n, reasons = mean_t_batch(groups, inp.car, mask)
        order, starts = groups.sorted_within(inp.car, mask)
        codes = groups.codes[order]
        parts.append((t_obs, n, reasons, inp.car[order], codes, np.arange(len(order)) - starts[codes]))
    if b < 1:
        why = f"draws must be at least 1 (got {b})"
        return [BatchResult.build(t, t, n, reasons=[*r, (n >= 0, why)]) for t, n, r, *_ in parts]
    # one row per (window, group)
    size = np.concatenate([p[1] for p in parts]).astype(np.int64)
    t_abs = np.abs(np.concatenate([p[0] for p in parts]))
    row = np.concatenate([w * g + p[4] for w, p in enumerate(parts)])
    col = np.concatenate([p[5] for p in parts])
    x = np.concatenate([p[3] for p in parts])
    ssq = np.bincount(row, weights=x * x, minlength=len(size))
    width = np.where(size > 0, 1 << np.ceil(np.log2(np.maximum(size, 1))).astype(np.int64), 0)
    extreme = np.zeros(len(size))
    for wd in np.unique(width[width > 0]):
        rows = np.flatnonzero(width == wd)
        span = int(min(wd, size.max()))
        local = np.full(len(size), -1)
        local[rows] = np.arange(len(rows))
        ent = np.flatnonzero(local[row] >= 0)  # the class's entries, by local row
        ent = ent[np.argsort(local[row[ent]], kind="stable")]
        ent_row = local[row[ent]]
        for lo in range(0, len(rows), _ROW_BLOCK):
            hi = min(lo + _ROW_BLOCK, len(rows))
            a, z = np.searchsorted(ent_row, [lo, hi])
            blk = ent[a:z]
            dense = np.zeros((hi - lo, span))
            dense[ent_row[a:z] - lo, col[blk]] = x[blk]
            r = rows[lo:hi]
            nn = size[r][:, None].astype("float64")
            with np.errstate(invalid="ignore", divide="ignore"):
                mean_b = _flip_products(first, dense, b) / nn
                var_b = np.maximum(ssq[r][:, None] - nn * mean_b**2, 0.0) / (nn - 1)
                t_b = np.abs(mean_b / np.sqrt(var_b / nn))
                t_b = np.where(np.isnan(t_b), 0.0, t_b)
                extreme[r] = (t_b >= (t_abs[r] * (1.0 - _RTOL))[:, None]).sum(axis=1)
    note = f"B={b} Rademacher draws, seed={first.seed}"
    out = []
    for w, (t_obs, n, reasons, *_) in enumerate(parts):
        p = (1.0 + extreme[w * g : (w + 1) * g]) / (1.0 + b)
        out.append(BatchResult.build(t_obs, p, n, [note] * g, reasons))
    return out


def placebo_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`placebo` for every group of ``groups`` at once (one sparse product per window)."""
    mask = np.isfinite(inp.car)
    n = groups.count(mask)
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
