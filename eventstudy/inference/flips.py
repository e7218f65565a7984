"""The Rademacher flip matrix of the wild bootstrap: drawn in seeded blocks, kept, multiplied.

The wild bootstrap of the cross-sectional t (Wu 1986; Mammen 1993; formula
sheet §5.9) multiplies every pair's CAR by an independent sign w ∈ {−1, +1}
in each of B draws. Here the signs are one N × B matrix (:func:`rademacher`):
row j holds the flips of the j-th smallest CAR of a group, drawn in blocks of
:data:`FLIP_BLOCK` rows from generators seeded by the study's seed and the
block's number, so that any block can be drawn on its own and a longer
matrix starts with a shorter one. The bits are read off the generator's raw
stream when numpy draws them that way (checked once per process).

The resampled sums are products ``x @ flips`` (:func:`flip_products`), tiled
so that each product stays on the calling thread (:func:`add_product`). The
matrix is kept for the windows of a study in the smallest form that fits a
budget — ±1 floats, int8 signs, bits packed eight a byte — or drawn again,
and read a slab of rows at a time (:class:`Signs`); the numbers are the same
either way.

Wu, C. F. J. (1986), Annals of Statistics 14(4), 1261–1295; Mammen, E. (1993),
Annals of Statistics 21(1), 255–285.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np

from .base import TestInput

__all__ = ["FLIP_BLOCK", "Signs", "add_product", "flip_products", "rademacher"]

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


def add_product(acc: np.ndarray, x: np.ndarray, flips: np.ndarray) -> None:
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


class Signs:
    """Rows of the flip matrix as ±1 floats, a slab at a time (see :func:`flip_products`).

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


def flip_products(inp: TestInput, x: np.ndarray, draws: int) -> np.ndarray:
    """``x @ rademacher(seed, n, draws)`` for ``x`` of shape (R, n), in bounded memory.

    The flips are read a slab of rows at a time (:class:`Signs`); the product
    is the sum of the slabs' products.
    """
    n = x.shape[1]
    signs = Signs(inp, n, draws)
    out = np.zeros((x.shape[0], draws))
    for lo in range(0, n, signs.step):
        hi = min(lo + signs.step, n, (lo // FLIP_BLOCK + 1) * FLIP_BLOCK)
        add_product(out, x[:, lo:hi], signs.rows(lo, hi))
    return out


#: Largest flip matrix kept as int8 ±1 (one byte a flip) for the windows of a
#: study: the slabs are then converted to floats with no unpacking of bits.
_INT8_CACHE_BYTES = 32 * 2**20


#: Bytes of the raw stream drawn at a time for the int8 memo (a multiple of 8).
_RAW_PIECE = 1 << 16


def _int8_signs(inp: TestInput, rows: int, draws: int) -> np.ndarray:
    """The first ``rows`` rows of :func:`rademacher` as int8, memoized in ``inp.cache``."""
    key = ("rademacher_int8", int(inp.seed), draws)
    hit = inp.cache.get(key)
    if isinstance(hit, np.ndarray) and hit.shape[0] >= rows:
        return hit
    out = np.empty((rows, draws), dtype=np.int8)
    if _raw_bits_ok():
        # bit 7 of each raw byte, set → +1, clear → −1: (~byte >> 7) | 1 in signed bytes
        # the raw stream drawn in pieces of _RAW_PIECE bytes (one stream, the same bytes): small
        # buffers the allocator reuses, instead of fresh pages for a whole block each time
        for k in range(-(-rows // FLIP_BLOCK)):
            lo = k * FLIP_BLOCK
            flat = out[lo : min(lo + FLIP_BLOCK, rows)].reshape(-1)
            gen = np.random.default_rng([int(inp.seed), k]).bit_generator
            for at in range(0, flat.size, _RAW_PIECE):
                part = flat[at : at + _RAW_PIECE]
                raw = gen.random_raw(-(-part.size // 8)).view(np.int8)
                np.invert(raw[: part.size], out=part)
                np.right_shift(part, 7, out=part)
                np.bitwise_or(part, 1, out=part)
    else:
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
