"""Wild (Rademacher sign-flip) bootstrap of the cross-sectional t.

The draws are matrix products with one seeded flip matrix (drawn in blocks of
rows, so memory stays bounded); there is no Python loop over draws or pairs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .base import TestInput, TestResult, finite_subset, not_applicable
from .grouped import BatchResult, Groups, mean_t_batch, value_order
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
    of a study share it), else kept packed one bit a flip, or, beyond that,
    drawn block by block for each product.
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
    for start, block in _packed_blocks(inp, n, draws):
        out += x[:, start : start + len(block)] @ block
    return out


#: Largest flip matrix kept packed 8 flips a byte (an eighth of the int8
#: draws); above it, blocks are drawn again for each product.
_PACKED_CACHE_BYTES = 256 * 2**20


def _packed_blocks(inp: TestInput, n: int, draws: int) -> Iterator[tuple[int, np.ndarray]]:
    """Blocks of :func:`rademacher` rows 0 … n − 1, unpacked from a memo of packed bits.

    The packed matrix (one bit a flip) is drawn once and memoized in
    ``inp.cache`` when it fits :data:`_PACKED_CACHE_BYTES`; else the blocks are
    drawn again (same values either way).
    """
    rows = max(n, len(inp.car))
    key = ("rademacher_bits", int(inp.seed), draws)
    packed = inp.cache.get(key)
    if not isinstance(packed, np.ndarray) or packed.shape[0] < n:
        if rows * -(-draws // 8) > _PACKED_CACHE_BYTES:
            yield from _flip_blocks(inp.seed, n, draws)
            return
        packed = np.empty((rows, -(-draws // 8)), dtype=np.uint8)
        for start, block in _flip_blocks(inp.seed, rows, draws):
            packed[start : start + len(block)] = np.packbits(block > 0, axis=1)
        inp.cache[key] = packed
    for start in range(0, n, FLIP_BLOCK):
        bits = np.unpackbits(packed[start : min(start + FLIP_BLOCK, n)], axis=1, count=draws)
        yield start, bits.astype("float64") * 2.0 - 1.0


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
        order, starts = groups.sorted_within(inp.car, mask, value_order(inp.memo, "car", inp.car, mask))
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
