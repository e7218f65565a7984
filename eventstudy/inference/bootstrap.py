"""Wild (Rademacher sign-flip) bootstrap of the cross-sectional t (formula sheet §5.9).

Each draw multiplies every pair's CAR by an independent sign and recomputes
the cross-sectional t (Wu 1986; Mammen 1993). The draws are matrix products
with one seeded flip matrix (:mod:`~eventstudy.inference.flips`: drawn in
blocks of rows, so memory stays bounded); there is no Python loop over draws
or pairs. The windows and groupings of a study share one sweep of the flips
(:func:`wild_bootstrap_windows`).

Wu, C. F. J. (1986), Annals of Statistics 14(4), 1261–1295; Mammen, E. (1993),
Annals of Statistics 21(1), 255–285.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .base import TestInput, TestResult, finite_subset, not_applicable
from .flips import FLIP_BLOCK, Signs, add_product, flip_products, rademacher
from .grouped import BatchResult, Groups, windows_together
from .groupmemo import mean_t_shared, sorted_by_group
from .parametric import mean_t

__all__ = [
    "FLIP_BLOCK",
    "rademacher",
    "wild_bootstrap",
    "wild_bootstrap_batch",
    "wild_bootstrap_windows",
]

#: Relative tolerance when counting resampled statistics at least as extreme
#: as the observed one (the identity draw reproduces it up to rounding).
_RTOL = 1e-10


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
    mean_b = flip_products(inp, x[None, :], b)[0] / n
    with np.errstate(invalid="ignore", divide="ignore"):
        var_b = np.maximum(np.sum(x * x) - n * mean_b**2, 0.0) / (n - 1)
        t_b = np.abs(mean_b / np.sqrt(var_b / n))
    t_b = np.where(np.isnan(t_b), 0.0, t_b)
    extreme = int(np.sum(t_b >= abs(t_obs) * (1.0 - _RTOL)))
    p = (1.0 + extreme) / (1.0 + b)
    return TestResult(t_obs, float(p), n, f"B={b} Rademacher draws, seed={inp.seed}")


def wild_bootstrap_batch(inp: TestInput, groups: Groups) -> BatchResult:
    """:func:`wild_bootstrap` for every group of ``groups`` at once."""
    return wild_bootstrap_windows([inp], groups)[0]


#: Rows (window × group) of resampled means computed per block (bounds memory).
_ROW_BLOCK = 2048


def _width(length: np.ndarray) -> np.ndarray:
    """Length rounded up to a size class: a quarter step of its power of two (≤ 25 % padding)."""
    e = np.floor(np.log2(np.maximum(length, 1))).astype(np.int64)
    q = np.left_shift(1, np.maximum(e - 2, 0))
    return -(-length // q) * q


def _row_sums(
    inp: TestInput, size: np.ndarray, x: np.ndarray, draws: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Σ_j x_rj · flips_j of every row r, as ``(rows, sums)`` blocks of :data:`_ROW_BLOCK` rows.

    Row r holds the ``size[r]`` entries of ``x`` after those of the rows
    before it (entry j of the row takes flip row j). Rows are taken by
    decreasing size; for each block of rows the flip matrix is swept once, a
    slab of rows at a time (:class:`Signs`), and in each slab the rows still
    reaching into it are cut into size classes (:func:`_width`), one dense
    product per class, so that the padding is at most a quarter and each slab
    is turned into ±1 once for all the rows of a block. A slab's entries of
    a row are consecutive in ``x``: no index of the entries is kept.
    """
    n_rows = len(size)
    order = np.argsort(-size, kind="stable")
    if n_rows == 0 or size[order[0]] == 0:
        return
    srt = size[order]
    start = (np.cumsum(size) - size)[order]  # each row's first entry, rows by rank
    signs = Signs(inp, int(srt[0]), draws)
    step = signs.step
    for r0 in range(0, n_rows, _ROW_BLOCK):
        r1 = min(r0 + _ROW_BLOCK, n_rows)
        if srt[r0] == 0:
            break
        acc = np.zeros((r1 - r0, draws))
        for k in range(-(-int(srt[r0]) // step)):
            lo = k * step
            live = r0 + int(np.searchsorted(-srt[r0:r1], -lo, side="left"))  # rows with size > lo
            ell = np.minimum(srt[r0:live] - lo, step)
            flips = signs.rows(lo, lo + int(ell[0]))
            dense = np.zeros((live - r0, int(ell[0])))
            _fill_rows(dense, x, start[r0:live] + lo, ell)
            cls = np.minimum(_width(ell), int(ell[0]))
            cuts = np.flatnonzero(np.diff(cls)) + 1
            for i0, i1 in zip(np.r_[0, cuts], np.r_[cuts, len(cls)], strict=True):
                c = int(cls[i0])
                add_product(acc[i0:i1], dense[i0:i1, :c], flips[:c])
        yield order[r0:r1], acc


def _fill_rows(dense: np.ndarray, x: np.ndarray, first: np.ndarray, length: np.ndarray) -> None:
    """Row i of ``dense`` starts with ``x[first[i] : first[i] + length[i]]`` (the rest left as is)."""
    full = int(np.searchsorted(-length, -dense.shape[1], side="right"))  # rows of the whole width
    if full:  # whole rows: one copy of each row's run (windows of x, no index of the entries)
        dense[:full] = sliding_window_view(x, dense.shape[1])[first[:full]]
    if full < len(length):
        lens = length[full:]
        rows = np.repeat(np.arange(full, len(length)), lens)
        cols = np.arange(len(rows)) - np.repeat(np.cumsum(lens) - lens, lens)
        dense[rows, cols] = x[first[rows] + cols]


def _t_abs(sums: np.ndarray, nn: np.ndarray, ssq: np.ndarray) -> np.ndarray:
    """|t_b| of resampled sums Σ_j x_j w_bj (0 where undefined), element-wise (a new array).

    mean_b = sums / N, var_b = max(Σx² − N mean_b², 0) / (N − 1),
    t_b = |mean_b| / √(var_b / N); ``nn`` (N as floats) and ``ssq`` (Σx²)
    broadcast against ``sums``.
    """
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean_b = sums / nn
        t_b = np.square(mean_b)
        np.multiply(nn, t_b, out=t_b)
        np.subtract(ssq, t_b, out=t_b)
        np.maximum(t_b, 0.0, out=t_b)
        np.divide(t_b, nn - 1, out=t_b)  # var_b
        np.divide(t_b, nn, out=t_b)
        np.sqrt(t_b, out=t_b)
        np.divide(mean_b, t_b, out=t_b)
        np.abs(t_b, out=t_b)
    np.copyto(t_b, 0.0, where=np.isnan(t_b))
    return t_b


#: Bits of the largest finite float64 (non-negative floats order as their bits).
_MAX_BITS = int(np.array(np.finfo(np.float64).max).view(np.int64))


def _thresholds(size: np.ndarray, ssq: np.ndarray, bar: np.ndarray) -> np.ndarray:
    """Per row, the least |Σ_j x_j w_bj| whose |t_b| (:func:`_t_abs`) is at least ``bar`` (∞ if none).

    Every step of :func:`_t_abs` is a correctly rounded operation that is
    monotone in |sums| (and odd in the sign of the sums), so the computed
    |t_b| is a non-decreasing function of |sums| and |t_b| ≥ ``bar`` holds
    exactly from one float on: that float, found by bisection on the bits of
    the non-negative floats (which order as the floats do), starting from the
    closed form s² ≥ bar² N Σx² / (N − 1 + bar²). A NaN ``bar`` counts nothing.
    """
    nn = size.astype("float64")

    def counted(a: np.ndarray) -> np.ndarray:
        return np.asarray(_t_abs(a, nn, ssq) >= bar)

    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        guess = np.sqrt(bar * bar * nn * ssq / (nn - 1.0 + bar * bar))
    near = np.isfinite(guess) & (guess > 0.0)
    guess = np.where(near, guess, 1.0)
    lo = guess * (1.0 - 1e-10)
    hi = guess * (1.0 + 1e-10)
    near &= ~counted(lo) & counted(hi)
    lo_bits = np.where(near, lo.view(np.int64), 0)
    hi_bits = np.where(near, hi.view(np.int64), _MAX_BITS)
    at_zero = ~near & counted(np.zeros(len(nn)))
    never = ~near & ~at_zero & ~counted(np.full(len(nn), np.finfo(np.float64).max))
    hi_bits[at_zero] = 0
    lo_bits[at_zero | never] = 0
    hi_bits[never] = 0
    while True:
        gap = hi_bits - lo_bits
        open_ = gap > 1
        if not open_.any():
            break
        mid = lo_bits + gap // 2
        up = counted(mid.view(np.float64))
        hi_bits = np.where(open_ & up, mid, hi_bits)
        lo_bits = np.where(open_ & ~up, mid, lo_bits)
    out = hi_bits.view(np.float64).copy()
    out[never] = np.inf
    return out


def _extreme_draws(sums: np.ndarray, size: np.ndarray, ssq: np.ndarray, t_abs: np.ndarray) -> np.ndarray:
    """Per row: the draws with |t_b| ≥ |t_obs| (1 − rtol), from the resampled sums Σ_j x_j w_bj.

    |t_b| is :func:`_t_abs` of the sums; it reaches the bar exactly where
    |sums| reaches the row's :func:`_thresholds`, so only |sums| is compared
    (``sums`` is overwritten with its absolute value).
    """
    theta = _thresholds(size, ssq, t_abs * (1.0 - _RTOL))
    np.abs(sums, out=sums)
    return np.count_nonzero(sums >= theta[:, None], axis=1)


def wild_bootstrap_windows(inputs: Sequence[TestInput], groups: Groups) -> list[BatchResult]:
    """:func:`wild_bootstrap` for every group of ``groups`` in every window of ``inputs``.

    The resampled means of all windows and groups are dense matrix products
    with the flip matrix, which is swept once for all of them (see
    :func:`_row_sums`). When the runner has announced the groupings it will
    ask for (:data:`~eventstudy.inference.grouped.GROUPINGS_KEY` in the first
    input's memo), the groups of every announced grouping are computed in the
    same sweep and the other groupings' results kept in that memo. Inputs
    must share their seed, draws and cache (the windows of one study); others
    are computed one at a time.
    """
    if not inputs:
        return []
    first = inputs[0]
    if any(i.seed != first.seed or i.draws != first.draws or i.cache is not first.cache for i in inputs):
        return [wild_bootstrap_windows([i], groups)[0] for i in inputs]
    return windows_together(
        "wild_bootstrap", inputs, groups, lambda together: _wild_groupings(inputs, together)
    )


def _wild_groupings(inputs: Sequence[TestInput], groupings: Sequence[Groups]) -> list[list[BatchResult]]:
    """:func:`wild_bootstrap_windows` of every grouping of ``groupings``, in one sweep of the flips.

    The entries (one per pair of each window and grouping) are the groups'
    sorted CARs, written one row (window, grouping, group) after the other
    into one array: 8 bytes an entry, with no index of them.
    """
    first = inputs[0]
    b = int(first.draws)
    heads = [mean_t_shared(inp, groups, "car") for inp in inputs for groups in groupings]
    if b < 1:
        why = f"draws must be at least 1 (got {b})"
        flat = [BatchResult.build(t, t, n, reasons=[*r, (n >= 0, why)]) for t, n, r in heads]
    else:
        # one row per (window, grouping, group)
        size = np.concatenate([h[1] for h in heads]).astype(np.int64)
        t_abs = np.abs(np.concatenate([h[0] for h in heads]))
        offset = np.cumsum([0] + [len(h[1]) for h in heads])
        x = np.empty(int(size.sum()))  # each row's CARs in increasing order, row after row
        ssq = np.empty(len(size))
        at, k = 0, 0
        for inp in inputs:
            mask = np.isfinite(inp.car)
            for groups in groupings:
                order, _ = sorted_by_group(inp, groups, "car", inp.car, mask)
                part = np.take(inp.car, order, out=x[at : at + len(order)])
                # each row's Σx² in the order of its entries, as one bincount over all rows
                ssq[offset[k] : offset[k + 1]] = np.bincount(
                    groups.codes[order], weights=part * part, minlength=groups.size
                )
                at, k = at + len(order), k + 1
        extreme = np.zeros(len(size))
        for r, sums in _row_sums(first, size, x, b):
            extreme[r] = _extreme_draws(sums, size[r], ssq[r], t_abs[r])
        note = f"B={b} Rademacher draws, seed={first.seed}"
        flat = []
        for k, (t_obs, n, reasons) in enumerate(heads):
            p = (1.0 + extreme[offset[k] : offset[k + 1]]) / (1.0 + b)
            flat.append(BatchResult.build(t_obs, p, n, [note] * len(n), reasons))
    k = len(groupings)
    return [[flat[w * k + j] for w in range(len(inputs))] for j in range(k)]
