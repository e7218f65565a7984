"""Estimation atoms of the Kolari–Pynnönen r̄ and the residuals standardized on common dates.

Pairs with the same available estimation dates form an *atom*
(:func:`est_atoms`); identical rows are found by a hash of each row (one
integer product, modulo 2⁶⁴) and then verified exactly. Within an atom and
on the dates it shares with another, every pair's residuals are centred and
scaled to unit norm (:func:`standardized`), so that a correlation is an inner
product (see :mod:`~eventstudy.inference.crossgroups`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from .base import TestInput
from .crosscorr import MIN_OVERLAP
from .estsums import est_missing

__all__ = [
    "EstAtoms",
    "as_run",
    "as_stride",
    "by_columns",
    "codes_of_rows",
    "est_atoms",
    "first_of",
    "own_means",
    "row_codes",
    "split_codes",
    "standardized",
    "take",
    "window_signatures",
]


#: Relative variance below which a series counts as constant (as in pairwise_correlation).
_TOL = 1e-12

_HASH = np.random.default_rng(20101).integers(1, 2**63, size=4096, dtype=np.uint64) | np.uint64(1)


def first_of(codes: np.ndarray) -> np.ndarray:
    """Index of the first occurrence of each code 0 … max(codes)."""
    first = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    return first


def split_codes(codes: np.ndarray) -> list[np.ndarray]:
    """Positions holding each code 0 … max(codes), in order."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(int(codes.max()) + 2 if len(codes) else 1))
    return [order[bounds[k] : bounds[k + 1]] for k in range(len(bounds) - 1)]


def row_codes(keys: np.ndarray) -> np.ndarray:
    """Codes 0… of identical rows of the int64 matrix ``keys`` (hash, then verified).

    Keys of one or two columns (a single day's window, an atom's estimation
    and window codes) are factorized directly: the same codes, in order of
    first appearance, with no hash.
    """
    n, t = keys.shape
    if n and t <= 2:
        codes, _ = pd.factorize(keys[:, 0])
        if t == 2:
            low, uniq = pd.factorize(keys[:, 1])
            codes, _ = pd.factorize(codes.astype(np.int64) * len(uniq) + low)  # one number per row
        return np.asarray(codes, dtype=np.int64)
    return codes_of_rows(lambda sel: keys[sel], *keys.shape)


#: Rows of a key matrix hashed or compared at a time (no temporaries of the whole matrix).
_KEY_ROWS = 2048


def codes_of_rows(rows: Callable[[Any], np.ndarray], n: int, t: int) -> np.ndarray:
    """:func:`row_codes` of the n × t int64 matrix whose rows ``rows(index)`` returns, a block at a time.

    Codes number the distinct rows in order of first appearance. Each block of
    rows is read once: hashed, given the codes of hashes seen before (new
    hashes the next codes, in order), and compared with the first row of its
    code; on a hash collision the rows are grouped exactly instead.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    mult = np.resize(_HASH, t)
    codes = np.empty(n, dtype=np.int64)
    seen = pd.Index(np.zeros(0, dtype=np.uint64))
    reps = np.empty((0, t), dtype=np.int64)  # first row of each code (capacity grows by doubling)
    n_codes = 0
    for lo in range(0, n, _KEY_ROWS):
        sel = slice(lo, min(lo + _KEY_ROWS, n))
        keys = np.ascontiguousarray(rows(sel), dtype=np.int64)
        # Σ key·mult modulo 2⁶⁴ as one integer product (no temporaries; the order of the
        # terms does not change a sum modulo 2⁶⁴)
        h = keys.view(np.uint64) @ mult
        local, uniq = pd.factorize(h)  # in order of first appearance in the block
        known = seen.get_indexer(uniq) if len(seen) else np.full(len(uniq), -1)
        new = known < 0
        k_new = int(new.sum())
        known[new] = n_codes + np.arange(k_new)
        if k_new:
            if n_codes + k_new > len(reps):
                grown = np.empty((max(2 * len(reps), n_codes + k_new), t), dtype=np.int64)
                grown[:n_codes] = reps[:n_codes]
                reps = grown
            reps[n_codes : n_codes + k_new] = keys[first_of(local)[new]]
            seen = seen.append(pd.Index(np.asarray(uniq)[new]))
            n_codes += k_new
        codes[sel] = known[local]
        if not (keys == reps[codes[sel]]).all():
            # a hash collision: exact grouping instead
            _, inverse = np.unique(rows(slice(None)), axis=0, return_inverse=True)
            return np.asarray(inverse, dtype=np.int64).ravel()
    return codes


@dataclass(frozen=True)
class EstAtoms:
    """Pairs with the same available estimation dates (in the same columns)."""

    codes: np.ndarray  # (P,) atom of each pair
    cols: list[np.ndarray]  # columns of est_resid available in each atom
    dates: list[np.ndarray]  # calendar dates of those columns


def est_atoms(inp: TestInput) -> EstAtoms:
    hit = inp.cache.get("est_atoms")
    if isinstance(hit, EstAtoms):
        return hit

    def keys(sel: Any) -> np.ndarray:  # calendar day of each available residual, −1 elsewhere
        if not isinstance(sel, slice) or sel.step not in (None, 1):
            return np.where(np.isfinite(inp.est_resid[sel]), np.asarray(inp.est_day[sel], dtype=np.int64), -1)
        # a run of rows: the days, and −1 at the missing residuals (found once for the tests)
        start, stop, _ = sel.indices(inp.est_resid.shape[0])
        out = np.array(inp.est_day[start:stop], dtype=np.int64)
        miss_r, miss_c = est_missing(inp)
        a, b = np.searchsorted(miss_r, np.array([start, stop], dtype=miss_r.dtype))
        out[miss_r[a:b] - start, miss_c[a:b]] = -1
        return out

    codes = codes_of_rows(keys, *inp.est_resid.shape)
    first = first_of(codes)
    rep = keys(first)
    cols = [np.flatnonzero(r) for r in np.isfinite(inp.est_resid[first])]
    dates = [r[c] for r, c in zip(rep, cols, strict=True)]
    out = EstAtoms(codes, cols, dates)
    inp.cache["est_atoms"] = out
    return out


def as_run(idx: np.ndarray) -> slice | None:
    """``idx`` as a slice when it is a non-empty run of consecutive increasing indices."""
    if len(idx) and (np.diff(idx) == 1).all():
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return None


def as_stride(idx: np.ndarray) -> slice | None:
    """``idx`` as a slice when its steps are one positive number (a pair of each event, say)."""
    if len(idx) < 2:
        return as_run(idx)
    step = np.diff(idx)
    if step[0] > 0 and (step == step[0]).all():
        return slice(int(idx[0]), int(idx[-1]) + 1, int(step[0]))
    return None


#: At most this many runs of columns are copied run by run (else one fancy index).
_COL_RUNS = 64


def take(a: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``a[np.ix_(rows, cols)]`` (a new array), by slices where ``rows`` or ``cols`` allow it.

    Rows with one step are a strided view; columns in a few runs of
    consecutive indices (the estimation dates with a gap or two) are copied
    run by run, several times faster than a 2-D fancy index.
    """
    r = as_stride(rows)
    if r is None and as_run(cols) is not None:
        return a[rows, as_run(cols)]
    cuts = np.flatnonzero(np.diff(cols) != 1) + 1 if len(cols) else np.zeros(0, dtype=np.int64)
    if r is None or len(cuts) >= _COL_RUNS:
        return a[np.ix_(rows, cols)]
    src = a[r]
    out = np.empty((len(rows), len(cols)), dtype=a.dtype)
    bounds = [0, *cuts.tolist(), len(cols)]
    for lo, hi in pairwise(bounds):
        c0 = int(cols[lo])
        out[:, lo:hi] = src[:, c0 : c0 + hi - lo]
    return out


def own_means(inp: TestInput) -> np.ndarray:
    """Per pair, the mean of its available estimation residuals (memoized).

    The numbers of ``np.nanmean(est_resid, axis=1)`` (NaN as 0 in the row sum,
    divided by the count), without its warning for rows with none.
    """
    hit = inp.cache.get("kp_own_mean")
    if isinstance(hit, np.ndarray):
        return hit
    r = inp.est_resid
    out = np.empty(r.shape[0])
    buf = np.empty((min(_KEY_ROWS, r.shape[0]), r.shape[1]))  # a block of rows at a time
    for lo in range(0, r.shape[0], _KEY_ROWS):
        part = r[lo : lo + _KEY_ROWS]
        filled = buf[: len(part)]
        missing = np.isnan(part)
        np.copyto(filled, part)
        np.copyto(filled, 0.0, where=missing)
        count = part.shape[1] - np.count_nonzero(missing, axis=1)  # the same integers, fast
        with np.errstate(invalid="ignore", divide="ignore"):
            np.true_divide(filled.sum(axis=1), count, out=out[lo : lo + len(part)])
    inp.cache["kp_own_mean"] = out
    return out


def standardized(inp: TestInput, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """z of each row on the columns ``cols`` (unit norm, centred) and whether it is defined."""
    x = take(inp.est_resid, rows, cols)  # a new array: centred in place below
    if x.shape[1] < MIN_OVERLAP:
        return np.zeros_like(x), np.zeros(len(rows), dtype=bool)
    # the pair-by-pair form compares with Σx² of the series centred on all its own dates
    work = np.subtract(x, own_means(inp)[rows, None])
    np.multiply(work, work, out=work)
    scale = work.sum(axis=1)
    q = np.subtract(x, x.mean(axis=1, keepdims=True), out=x)  # centred on the common dates
    v = np.multiply(q, q, out=work).sum(axis=1)
    valid = v > _TOL * scale
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(q, np.sqrt(v)[:, None], out=q)
    q[~valid] = 0.0
    return q, valid


def by_columns(op: np.ufunc, a: np.ndarray, dtype: Any = None) -> np.ndarray:
    """``op.reduce(a, axis=1)`` of a 2-D array, a column at a time (integers: the same numbers).

    Rows of a few columns (a window's days) reduce several times faster
    column by column than row by row.
    """
    out = np.array(a[:, 0], dtype=dtype if dtype is not None else a.dtype)
    for j in range(1, a.shape[1]):
        op(out, a[:, j], out=out)
    return out


def window_signatures(wd: np.ndarray) -> np.ndarray:
    """Each row's window days in ascending order, −1 for the days it lacks first.

    Rows with at most one day (single-day windows) as their one column: the
    day or −1 (the same rows equal, the same days; no row sort).
    """
    if wd.shape[1] > 1 and (by_columns(np.add, wd >= 0, np.int32) <= 1).all():
        last = by_columns(np.maximum, wd)  # the one day, or a negative
        return np.where(last >= 0, last, -1)[:, None]
    return np.sort(np.where(wd >= 0, wd, -1), axis=1)
