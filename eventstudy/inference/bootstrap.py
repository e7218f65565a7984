"""Wild (Rademacher sign-flip) bootstrap of the cross-sectional t.

The draws are matrix products with one seeded flip matrix (drawn in blocks of
rows, so memory stays bounded); there is no Python loop over draws or pairs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence

import numpy as np

from .base import TestInput, TestResult, finite_subset, not_applicable
from .grouped import BatchResult, Groups, groupings_together
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

#: Rows of the flip matrix drawn from one generator (see :func:`rademacher`).
FLIP_BLOCK = 4096

#: Largest flip matrix (bytes, float64) kept for the windows of a study (small
#: studies: no conversion of the flip bits per product); above it, the bits are
#: turned into ±1 a slab of rows at a time.
_FLIP_CACHE_BYTES = 16 * 2**20

#: Rows of the flip matrix turned into ±1 at a time (a slab of at most
#: :data:`_SLAB_BYTES` is reused, instead of a float matrix of every pair).
_SLAB_ROWS = 512
_SLAB_BYTES = 4 * 2**20

#: Largest rows × inner × draws of one matrix product: OpenBLAS (numpy's BLAS)
#: computes products up to 2¹⁸ multiply-adds on the calling thread, larger ones
#: on all its threads, whose idle threads then spin (on a busy machine that
#: costs more CPU than the products). Same numbers either way.
_TILE = 1 << 18


def _add_product(acc: np.ndarray, x: np.ndarray, flips: np.ndarray) -> None:
    """``acc += x @ flips`` as products of at most :data:`_TILE` multiply-adds each."""
    m, k = x.shape
    budget = max(1, _TILE // max(flips.shape[1], 1))  # rows × inner of one product
    tm = min(m, 16, budget)
    tk = max(1, budget // tm)
    for r0 in range(0, m, tm):
        rows = acc[r0 : r0 + tm]
        for k0 in range(0, k, tk):
            rows += x[r0 : r0 + tm, k0 : k0 + tk] @ flips[k0 : k0 + tk]


def rademacher(seed: int, n: int, draws: int) -> np.ndarray:
    """The n × B matrix of ±1 sign flips used for a group of n pairs.

    Row j is the flips of the j-th smallest CAR. Rows come in blocks of
    :data:`FLIP_BLOCK`: block k (rows k·FLIP_BLOCK …) is
    ``2 * default_rng([seed, k]).integers(0, 2, size=(FLIP_BLOCK, draws), dtype=np.int8) − 1``,
    so the first n rows of a larger matrix are the same, and any block can be
    drawn on its own.
    """
    out = np.empty((n, draws))
    for start, bits in _bit_blocks(seed, n, draws):
        out[start : start + len(bits)] = _signs(bits)
    return out


def _signs(bits: np.ndarray) -> np.ndarray:
    """Flip bits (uint8 0/1, a fresh array: changed in place) as int8 ±1."""
    out = bits.view(np.int8)
    out *= 2
    out -= 1
    return out


#: Whether numpy draws ``integers(0, 2, dtype=np.int8)`` as the top bit of each
#: byte of the generator's raw 64-bit stream (checked once, see :func:`_raw_bits_ok`).
_RAW_BITS: list[bool] = []


def _raw_bits_ok() -> bool:
    """Whether :func:`_draw_bits` may read the flips off the raw stream (checked once per process).

    ``Generator.integers(0, 2, dtype=np.int8)`` draws each value by Lemire's
    method on one byte of a buffered 32-bit draw (four bytes each, low byte
    first; two 32-bit draws per 64-bit output, low half first), so value i is
    bit 7 of byte i of the little-endian raw 64-bit stream. The check compares
    the two on a sample of odd sizes; when it fails (another numpy, a
    big-endian machine) the flips are drawn through ``integers``.
    """
    if not _RAW_BITS:
        ok = np.little_endian
        for seed, size in (((7, 0), (5, 7)), ((3, 1), (64, 37)), ((1, 2), (3, 999))):
            ref = np.random.default_rng(list(seed)).integers(0, 2, size=size, dtype=np.int8)
            ok = ok and np.array_equal(_fast_bits(np.random.default_rng(list(seed)), size), ref)
        _RAW_BITS.append(bool(ok))
    return _RAW_BITS[0]


def _fast_bits(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Bit 7 of each byte of ``rng``'s raw stream, as a uint8 array of ``size``."""
    count = size[0] * size[1]
    raw = rng.bit_generator.random_raw(-(-count // 8))
    return (raw.view(np.uint8)[:count] >> 7).reshape(size)


def _draw_bits(seed: int, k: int, draws: int) -> np.ndarray:
    """Block k of the flips as uint8 0/1 (FLIP_BLOCK × draws): ``integers(0, 2, dtype=np.int8)``."""
    rng = np.random.default_rng([int(seed), k])
    if _raw_bits_ok():
        return _fast_bits(rng, (FLIP_BLOCK, draws))
    return rng.integers(0, 2, size=(FLIP_BLOCK, draws), dtype=np.int8).view(np.uint8)


def _bit_blocks(seed: int, n: int, draws: int, first: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """Blocks ``(start, bits)`` of the flips (uint8 0/1) covering rows ``first`` … n − 1."""
    for k in range(first // FLIP_BLOCK, -(-n // FLIP_BLOCK)):
        lo = k * FLIP_BLOCK
        yield lo, _draw_bits(seed, k, draws)[: min(FLIP_BLOCK, n - lo)]


def _flip_blocks(seed: int, n: int, draws: int, first: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """Blocks ``(start, rows)`` of :func:`rademacher` covering rows ``first`` … n − 1."""
    for lo, bits in _bit_blocks(seed, n, draws, first):
        yield lo, _signs(bits).astype("float64")


class _Signs:
    """Rows of the flip matrix as ±1 floats, a slab at a time (see :func:`_flip_products`).

    From the memoized float matrix when the study is small; else converted
    from memoized int8 signs (up to :data:`_INT8_CACHE_BYTES`) or unpacked
    from the memoized packed bits (or drawn again block by block) into one
    reused slab of at most :data:`_SLAB_BYTES`.
    """

    def __init__(self, inp: TestInput, n: int, draws: int) -> None:
        self.draws = draws
        rows = max(n, len(inp.car))
        key = ("rademacher", int(inp.seed), draws)
        hit = inp.cache.get(key)
        self.full: np.ndarray | None = None
        if isinstance(hit, np.ndarray) and hit.shape[0] >= n:
            self.full = hit
        elif rows * draws * 8 <= _FLIP_CACHE_BYTES:
            self.full = rademacher(inp.seed, rows, draws)
            inp.cache[key] = self.full
        # a power of two dividing FLIP_BLOCK: a slab never straddles two blocks
        self.step = 1 << int(np.log2(max(8, min(FLIP_BLOCK, _SLAB_BYTES // (8 * draws)))))
        self.small: np.ndarray | None = None
        if self.full is None:
            self.step = min(self.step, _SLAB_ROWS)
            self.slab = np.empty((self.step, draws))
            self.block: tuple[int, np.ndarray] = (-1, np.zeros((0, draws), dtype=np.int8))
            if rows * draws <= _INT8_CACHE_BYTES:
                self.small = _int8_signs(inp, rows, draws)
            else:
                self.again = functools.partial(_packed_blocks, inp, n, draws, as_bits=True)
                self.blocks = self.again()

    def rows(self, lo: int, hi: int) -> np.ndarray:
        """Rows ``lo`` … ``hi − 1`` (within one slab: ``hi − lo`` ≤ ``step``, same block)."""
        if self.full is not None:
            return self.full[lo:hi]
        if self.small is not None:
            out = self.slab[: hi - lo]
            np.copyto(out, self.small[lo:hi])
            return out
        start, signs = self.block
        if not start <= lo < start + len(signs):  # blocks come in order
            if lo < start:  # the next block of rows sweeps the flips again from the first
                self.blocks = self.again()
            for start, bits in self.blocks:
                if lo < start + len(bits):
                    break
            signs = _signs(bits)
            self.block = (start, signs)
        out = self.slab[: hi - lo]
        np.copyto(out, signs[lo - start : hi - start])
        return out


def _flip_products(inp: TestInput, x: np.ndarray, draws: int) -> np.ndarray:
    """``x @ rademacher(seed, n, draws)`` for ``x`` of shape (R, n), in bounded memory.

    The flips are read a slab of rows at a time (:class:`_Signs`); the product
    is the sum of the slabs' products.
    """
    n = x.shape[1]
    signs = _Signs(inp, n, draws)
    out = np.zeros((x.shape[0], draws))
    for lo in range(0, n, signs.step):
        hi = min(lo + signs.step, n, (lo // FLIP_BLOCK + 1) * FLIP_BLOCK)
        _add_product(out, x[:, lo:hi], signs.rows(lo, hi))
    return out


#: Largest flip matrix kept as int8 ±1 (one byte a flip) for the windows of a
#: study: the slabs are then converted to floats with no unpacking of bits.
_INT8_CACHE_BYTES = 32 * 2**20


def _int8_signs(inp: TestInput, rows: int, draws: int) -> np.ndarray:
    """The first ``rows`` rows of :func:`rademacher` as int8, memoized in ``inp.cache``."""
    key = ("rademacher_int8", int(inp.seed), draws)
    hit = inp.cache.get(key)
    if isinstance(hit, np.ndarray) and hit.shape[0] >= rows:
        return hit
    out = np.empty((rows, draws), dtype=np.int8)
    for start, bits in _bit_blocks(inp.seed, rows, draws):
        out[start : start + len(bits)] = _signs(bits)
    inp.cache[key] = out
    return out


#: Largest flip matrix kept packed 8 flips a byte (an eighth of the int8
#: draws); above it, blocks are drawn again for each product.
_PACKED_CACHE_BYTES = 256 * 2**20


def _packed_blocks(
    inp: TestInput, n: int, draws: int, as_bits: bool = False
) -> Iterator[tuple[int, np.ndarray]]:
    """Blocks of :func:`rademacher` rows 0 … n − 1, unpacked from a memo of packed bits.

    The packed matrix (one bit a flip) is drawn once and memoized in
    ``inp.cache`` when it fits :data:`_PACKED_CACHE_BYTES`; else the blocks are
    drawn again (same values either way). With ``as_bits`` the blocks are the
    flip bits (uint8 0/1), else the ±1 floats.
    """
    rows = max(n, len(inp.car))
    key = ("rademacher_bits", int(inp.seed), draws)
    packed = inp.cache.get(key)
    if not isinstance(packed, np.ndarray) or packed.shape[0] < n:
        if rows * -(-draws // 8) > _PACKED_CACHE_BYTES:
            yield from _bit_blocks(inp.seed, n, draws) if as_bits else _flip_blocks(inp.seed, n, draws)
            return
        packed = np.empty((rows, -(-draws // 8)), dtype=np.uint8)
        for start, bits in _bit_blocks(inp.seed, rows, draws):
            packed[start : start + len(bits)] = np.packbits(bits, axis=1)
        inp.cache[key] = packed
    for start in range(0, n, FLIP_BLOCK):
        bits = np.unpackbits(packed[start : min(start + FLIP_BLOCK, n)], axis=1, count=draws)
        yield start, bits if as_bits else _signs(bits).astype("float64")


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
    slab of rows at a time (:class:`_Signs`), and in each slab the rows still
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
    signs = _Signs(inp, int(srt[0]), draws)
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
                _add_product(acc[i0:i1], dense[i0:i1, :c], flips[:c])
        yield order[r0:r1], acc


def _fill_rows(dense: np.ndarray, x: np.ndarray, first: np.ndarray, length: np.ndarray) -> None:
    """Row i of ``dense`` starts with ``x[first[i] : first[i] + length[i]]`` (the rest left as is)."""
    full = int(np.searchsorted(-length, -dense.shape[1], side="right"))  # rows of the whole width
    if full:
        dense[:full] = x[first[:full, None] + np.arange(dense.shape[1])]
    if full < len(length):
        lens = length[full:]
        rows = np.repeat(np.arange(full, len(length)), lens)
        cols = np.arange(len(rows)) - np.repeat(np.cumsum(lens) - lens, lens)
        dense[rows, cols] = x[first[rows] + cols]


def _extreme_draws(sums: np.ndarray, size: np.ndarray, ssq: np.ndarray, t_abs: np.ndarray) -> np.ndarray:
    """Per row: the draws with |t_b| ≥ |t_obs| (1 − rtol), from the resampled sums Σ_j x_j w_bj.

    mean_b = sums / N, var_b = max(Σx² − N mean_b², 0) / (N − 1),
    t_b = |mean_b| / √(var_b / N) (0 where undefined); computed in place in
    ``sums`` and one array of the same shape.
    """
    nn = size[:, None].astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_b = np.divide(sums, nn, out=sums)
        t_b = np.square(mean_b)
        np.multiply(nn, t_b, out=t_b)
        np.subtract(ssq[:, None], t_b, out=t_b)
        np.maximum(t_b, 0.0, out=t_b)
        np.divide(t_b, nn - 1, out=t_b)  # var_b
        np.divide(t_b, nn, out=t_b)
        np.sqrt(t_b, out=t_b)
        np.divide(mean_b, t_b, out=t_b)
        np.abs(t_b, out=t_b)
    np.copyto(t_b, 0.0, where=np.isnan(t_b))
    return np.asarray((t_b >= (t_abs * (1.0 - _RTOL))[:, None]).sum(axis=1))


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
    key = ("wild_bootstrap", tuple(id(i) for i in inputs), groups.uid)
    hit = first.memo.pop(key, None)
    if isinstance(hit, list):
        return hit
    together = groupings_together(first.memo, groups)
    results = _wild_groupings(inputs, together)
    for gr, res in zip(together[1:], results[1:], strict=True):
        first.memo[("wild_bootstrap", key[1], gr.uid)] = res
    return results[0]


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
