"""GRANK's per-day counts of estimation days above day 0, for runs of pairs sharing a group and a weight.

Kolari and Pynnönen's (2011) GRANK needs, per group and estimation day t,
Σ_i a_i·1{GSAR_it > GSAR_i0} (a_i = 1/(T_i + 1); formula sheet §5.8). Pairs
with the same group and the same a_i form a *run*; the counts per run and
day are integers, exact in any order of summation, and the a-weighted group
sums are then one small product (:func:`weight_runs`).

Per pair the days above day 0 are those whose *first ordinal* (1 + the
start of the value's tie run in the row's sorted order,
:meth:`~eventstudy.inference.rowsort.RowSort.first_ordinals`) exceeds
n_i = #(SAR_i ≤ GSAR_i0): the days at sorted positions n_i … M_i − 1. A
threshold of that kind never splits a tie run, so two thresholds n and r of
a pair differ by the days at sorted positions [min(n, r), max(n, r)).

The groupings of one window share GSAR_i0 up to the groups' SCAR spread, so
their thresholds differ little. One window's counts are therefore taken
once, against the first grouping's thresholds, for the *atoms* — the runs
of every announced grouping at once (their common refinement), while they
stay few — and each grouping of the window adds its runs' atoms and the few
days between its thresholds and those (:func:`segment_counts`), instead of a
compare of the whole panel per grouping. The atoms' compare, and that of a
grouping outside them (:func:`above_sums`), go a block of pairs at a time
through a small buffer, never a pairs × days array.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy import sparse

from . import rowblocks
from .base import TestInput
from .grouped import GROUPINGS_KEY, Groups, digest, onehot_columns

__all__ = [
    "DIRECT_CELLS",
    "SCRATCH_KEY",
    "Runs",
    "above_counts",
    "above_sums",
    "segment_counts",
    "weight_runs",
]

#: Memo key of a dict that windows computed one after the other share for their
#: scratch array (:func:`~eventstudy.inference.grank.grank_windows`); without
#: it a window keeps its own in its memo.
SCRATCH_KEY = "grank_scratch"

#: Atoms of a window at most this fraction of its pairs (else the grouping counts on its own).
ATOM_SHARE = 4

#: Pairs × estimation days up to which a grouping's counts are one compare of the whole
#: panel and one product by its runs (:func:`above_sums`): on small studies the shared
#: passes cost more in calls than they save in arithmetic. The same counts either way.
DIRECT_CELLS = 2**18


@dataclass(frozen=True, eq=False)
class Runs:
    """Runs of the pairs with a mask that share a group and a weight.

    ``matrix`` is the 0/1 runs × pairs matrix (float32, columns = the masked
    pairs in order), ``weight`` the G × runs matrix of the runs' weights and
    ``run_of`` the run of each masked pair: ``weight @ (matrix @ X)`` is the
    a-weighted group sum of the rows of a 0/1 matrix X, counted exactly.
    ``lead`` holds each run's first masked pair (position among the masked
    pairs), ``members`` its number of pairs, ``group`` its group and
    ``scale`` its weight (runs are in order of group, then weight); ``by``
    lists the masked pairs (positions) run after run.
    """

    matrix: sparse.csc_matrix
    weight: sparse.csc_matrix
    run_of: np.ndarray
    lead: np.ndarray
    members: np.ndarray
    group: np.ndarray
    scale: np.ndarray
    by: np.ndarray

    @property
    def size(self) -> int:
        """The number of runs."""
        return int(self.matrix.shape[0])


def weight_runs(inp: TestInput, groups: Groups, mask: np.ndarray, a: np.ndarray) -> Runs:
    """:class:`Runs` of the pairs with ``mask`` by group, then weight ``a`` (memoized in ``inp.cache``)."""
    key = ("weight_runs", groups.uid, digest(mask))
    hit = inp.cache.get(key)
    if isinstance(hit, Runs):
        return hit
    rows = np.flatnonzero(mask)
    codes, w = groups.codes[rows], a[rows]
    by = np.lexsort((w, codes))  # runs in order of group, then weight
    new = np.ones(len(rows), dtype=bool)
    new[1:] = (codes[by][1:] != codes[by][:-1]) | (w[by][1:] != w[by][:-1])
    run_of = np.empty(len(rows), dtype=np.int64)
    run_of[by] = np.cumsum(new) - 1
    n_runs = int(new.sum())
    runs = onehot_columns(run_of, (n_runs, len(rows)), dtype=np.float32)
    weight = onehot_columns(codes[by][new], (groups.size, n_runs), w[by][new])
    members = np.bincount(run_of, minlength=n_runs)
    out = Runs(runs, weight, run_of, by[new], members, codes[by][new], w[by][new], by)
    inp.cache[key] = out
    return out


def segment_counts(
    order: np.ndarray,
    rows: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    bins: np.ndarray,
    weights: np.ndarray,
    n_bins: int,
) -> np.ndarray:
    """Weighted counts of the columns held by segments of sorted positions.

    ``out[b, t] = Σ_k weights[k] · #{p ∈ [lo[k], hi[k]) : order[rows[k], p] = t}``
    over the k with ``bins[k] = b`` (an empty segment where ``hi ≤ lo``);
    ``order`` holds per row the column at each sorted position. Returns an
    ``n_bins × order.shape[1]`` float64 array (integer weights give exact
    counts).
    """
    t = order.shape[1]
    length = np.maximum(np.asarray(hi, dtype=np.int64) - lo, 0)
    total = int(length.sum())
    if total == 0 or t == 0:
        return np.zeros((n_bins, t))
    seg = np.repeat(np.arange(len(length)), length)
    ends = np.cumsum(length)
    pos = np.arange(total, dtype=np.int64) - (ends - length)[seg] + np.asarray(lo, dtype=np.int64)[seg]
    day = order.reshape(-1)[np.asarray(rows, dtype=np.int64)[seg] * t + pos]
    flat = np.asarray(bins, dtype=np.int64)[seg] * t + day
    out = np.bincount(flat, weights=np.asarray(weights, dtype="float64")[seg], minlength=n_bins * t)
    return out.reshape(n_bins, t)


@dataclass(frozen=True, eq=False)
class _Base:
    """One window's counts of days above reference thresholds, per atom."""

    atom_of: np.ndarray  # atom of each masked pair
    ref: np.ndarray  # the reference threshold of each masked pair (int64)
    counts: np.ndarray  # atoms × T, days with first ordinal > ref (float64, exact)


def _atoms(
    inp: TestInput, rows: np.ndarray, a: np.ndarray
) -> tuple[frozenset[int], np.ndarray, sparse.csc_matrix]:
    """The groupings whose runs the window's atoms refine, each masked pair's atom, and the
    atoms × pairs 0/1 matrix (float32).

    The announced groupings (:data:`~eventstudy.inference.grouped.GROUPINGS_KEY`,
    kept in ``inp.cache`` for the windows after the first) join from the
    fewest groups up while the atoms stay at most 1/:data:`ATOM_SHARE` of
    the pairs. Memoized in ``inp.cache`` by the groupings and the pairs
    (the weights depend on the estimation arrays only).
    """
    announced = inp.memo.get(GROUPINGS_KEY)
    if isinstance(announced, tuple):
        inp.cache["grank_groupings"] = announced
    else:
        announced = inp.cache.get("grank_groupings", ())
    assert isinstance(announced, tuple)
    key = ("grank_atoms", tuple(g.uid for g in announced), digest(rows), ATOM_SHARE)
    hit = inp.cache.get(key)  # the windows of a study mostly share their pairs
    if isinstance(hit, tuple):
        return hit
    uids, atom_of = _refine(announced, rows, a)
    n_atoms = int(atom_of.max()) + 1 if len(atom_of) else 0
    onehot = onehot_columns(atom_of, (n_atoms, len(rows)), dtype=np.float32)
    out = (uids, atom_of, onehot)
    inp.cache[key] = out
    return out


def _refine(
    announced: tuple[Groups, ...], rows: np.ndarray, a: np.ndarray
) -> tuple[frozenset[int], np.ndarray]:
    """:func:`_atoms` of the pairs ``rows`` (not memoized)."""
    cap = max(len(rows) // ATOM_SHARE, 1)
    _, key = np.unique(a[rows], return_inverse=True)
    key = key.reshape(-1).astype(np.int64)
    uids: set[int] = set()
    for g in sorted(announced, key=lambda g: g.size):
        if len(g.codes) != len(a):
            continue
        uniq, inv = np.unique(key * g.size + g.codes[rows], return_inverse=True)
        if len(uniq) <= cap:
            key, uids = inv.reshape(-1).astype(np.int64), uids | {g.uid}
    return frozenset(uids), key


def _window_atoms(
    inp: TestInput, mask: np.ndarray, a: np.ndarray
) -> tuple[frozenset[int], np.ndarray, sparse.csc_matrix]:
    """:func:`_atoms` of the pairs with ``mask``, kept in ``inp.memo`` for the window's groupings."""
    key = ("grank_atoms", digest(mask))
    found = inp.memo.get(key)
    if not isinstance(found, tuple):
        found = inp.memo[key] = _atoms(inp, np.flatnonzero(mask), a)
    return found


def _above(
    inp: TestInput, first: np.ndarray, rows: np.ndarray, mask: np.ndarray, n: np.ndarray, dtype: type
) -> np.ndarray:
    """``first[rows] > n[:, None]`` as 0/1 of ``dtype``, in a scratch array of the windows (or the window)."""
    whole = first if len(rows) == len(mask) else first[rows]
    shared = inp.memo.get(SCRATCH_KEY)
    holder = shared if isinstance(shared, dict) else inp.memo
    name = f"grank_buf_{np.dtype(dtype).name}"
    buf = holder.get(name)
    if not isinstance(buf, np.ndarray) or buf.shape != whole.shape:
        buf = holder[name] = np.empty(whole.shape, dtype=dtype)
    return np.greater(whole, n.astype(first.dtype)[:, None], out=buf, casting="unsafe")


def _block_counts(
    onehot: sparse.csc_matrix, first: np.ndarray, rows: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """``onehot @ (first[rows] > n[:, None])`` (float64), a block of pairs at a time.

    Each block's compare goes to a small float32 buffer that the next block
    reuses (the pairs × days compare is never whole); the counts are
    integers, exact in float32 within a block and in float64 over blocks.
    """
    t = first.shape[1]
    step = max(1, rowblocks.BLOCK_CELLS // max(t, 1))
    out = np.zeros((onehot.shape[0], t))
    buf = np.empty((min(step, len(rows)), t), dtype=np.float32)
    whole = len(rows) == first.shape[0]
    for lo in range(0, len(rows), step):
        hi = min(lo + step, len(rows))
        part = first[lo:hi] if whole else first[rows[lo:hi]]
        above = np.greater(part, n[lo:hi, None].astype(first.dtype), out=buf[: hi - lo], casting="unsafe")
        out += onehot[:, lo:hi] @ above
    return out


def above_sums(
    inp: TestInput,
    groups: Groups,
    mask: np.ndarray,
    a: np.ndarray,
    n_le: np.ndarray,
    first: np.ndarray,
    order: np.ndarray,
) -> tuple[Runs, np.ndarray]:
    """The :class:`Runs` and ``runs.weight @ counts`` of :func:`above_counts` (G × T), bitwise.

    Per group and day, Σ_i a_i·1{first_it > n_i}, summed run by run in run
    order (each run's count, an integer, times its weight). A grouping
    outside the window's atoms (e.g. one group per market: runs of a pair or
    two) is counted a block of whole groups at a time (:func:`_group_blocks`)
    instead of into a fresh runs × T array.
    """
    rows = np.flatnonzero(mask)
    if len(rows) * first.shape[1] <= DIRECT_CELLS:  # a small study: one compare, two products
        runs = weight_runs(inp, groups, mask, a)
        above = np.greater(first[rows], n_le.astype(np.int64).astype(first.dtype)[:, None])
        counts = np.asarray(runs.matrix @ above.astype(np.float32), dtype=np.float64)  # exact integers
        return runs, np.asarray(runs.weight @ counts)
    uids = _window_atoms(inp, mask, a)[0]
    if groups.uid in uids or len(rows) == 0:
        runs, counts = above_counts(inp, groups, mask, a, n_le, first, order)
        return runs, np.asarray(runs.weight @ counts)
    runs = weight_runs(inp, groups, mask, a)
    return runs, _group_blocks(runs, groups.size, first, rows, n_le.astype(np.int64))


def _group_blocks(
    runs: Runs, n_groups: int, first: np.ndarray, rows: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """``runs.weight @ counts`` (G × T) for the compare ``first[rows] > n[:, None]``, by blocks of groups.

    A block holds whole groups (their runs and pairs are consecutive in run
    order) of about :data:`~eventstudy.inference.rowblocks.BLOCK_CELLS` cells:
    its pairs' compare goes to a small float32 buffer, each run's count
    (an integer, exact) is the sum of its consecutive rows, and the block's
    groups are the product of their weights (a row-compressed matrix,
    entries in run order) with those counts: each group adds its runs in run
    order from zero, as the whole product does.
    """
    t = first.shape[1]
    out = np.zeros((n_groups, t))
    if runs.size == 0 or t == 0:
        return out
    ends = np.cumsum(runs.members)
    first_run = np.searchsorted(runs.group, np.arange(n_groups + 1))  # runs of group g: [g, g + 1)
    first_pair = np.concatenate([[0], ends])[first_run]  # the same in pairs (positions in runs.by)
    step = max(1, rowblocks.BLOCK_CELLS // t)
    starts = np.flatnonzero(np.diff(first_pair[:-1] // step, prepend=-1))  # groups opening a block
    buf = np.empty((0, t), dtype=np.float32)
    for g0, g1 in pairwise([*starts.tolist(), n_groups]):
        r0, r1, p0, p1 = first_run[g0], first_run[g1], first_pair[g0], first_pair[g1]
        if r0 == r1:  # groups without pairs: no runs
            continue
        if buf.shape[0] < p1 - p0:
            buf = np.empty((p1 - p0, t), dtype=np.float32)
        pairs = runs.by[p0:p1]
        above = np.greater(
            first[rows[pairs]], n[pairs, None].astype(first.dtype), out=buf[: p1 - p0], casting="unsafe"
        )
        size = runs.members[r0:r1]
        if (size == 1).all():  # runs of one pair each: the compare is the counts
            counts = above.astype(np.float64)
        else:  # each run's pairs are consecutive: a block-diagonal 0/1 product sums them
            member_of = np.repeat(np.arange(r1 - r0), size)
            onehot = onehot_columns(member_of, (r1 - r0, p1 - p0), dtype=np.float32)
            counts = np.asarray(onehot @ above, dtype=np.float64)
        weight = sparse.csr_matrix(
            (runs.scale[r0:r1], np.arange(r1 - r0), first_run[g0 : g1 + 1] - r0), shape=(g1 - g0, r1 - r0)
        )
        out[g0:g1] = weight @ counts
    return out


def above_counts(
    inp: TestInput,
    groups: Groups,
    mask: np.ndarray,
    a: np.ndarray,
    n_le: np.ndarray,
    first: np.ndarray,
    order: np.ndarray,
) -> tuple[Runs, np.ndarray]:
    """Per run of ``groups`` and estimation day: the pairs whose first ordinal exceeds ``n_le``.

    ``first``/``order``: the first ordinals and the sorted column order of
    every pair's estimation SARs (P × T); ``n_le`` the thresholds of the
    pairs with ``mask`` (in order), ``a`` the pairs' weights. Returns the
    :class:`Runs` and their counts (runs × T, float64, exact). The window's
    atoms are counted once (``inp.memo``); a grouping outside them compares
    its own thresholds with the panel.
    """
    runs = weight_runs(inp, groups, mask, a)
    rows = np.flatnonzero(mask)
    n = n_le.astype(np.int64)
    digest_mask = digest(mask)
    uids, atom_of, onehot = _window_atoms(inp, mask, a)
    base = inp.memo.get(("grank_base", digest_mask))
    if groups.uid not in uids:  # this grouping on its own: its runs' counts (0/1 sums, exact in float32)
        above = _above(inp, first, rows, mask, n, np.float32)
        return runs, np.asarray(runs.matrix @ above, dtype=np.float64)
    if not isinstance(base, _Base):
        base = _Base(atom_of, n, _block_counts(onehot, first, rows, n))
        inp.memo[("grank_base", digest_mask)] = base
    run_of_atom = np.zeros(base.counts.shape[0], dtype=np.int64)
    run_of_atom[base.atom_of] = runs.run_of
    counts = np.zeros((runs.size, base.counts.shape[1]))
    np.add.at(counts, run_of_atom, base.counts)  # sums of integers: exact in any order
    moved = np.flatnonzero(n != base.ref)
    if moved.size:  # the days between this grouping's thresholds and the reference ones
        lo, hi = np.minimum(n, base.ref)[moved], np.maximum(n, base.ref)[moved]
        sign = np.where(n[moved] < base.ref[moved], 1.0, -1.0)
        counts += segment_counts(order, rows[moved], lo, hi, runs.run_of[moved], sign, runs.size)
    return runs, counts
