"""Kolari–Pynnönen r̄ of ragged studies: group sums over the linked pairs' own correlations.

Where many pairs have their own estimation dates (ragged data, or a few
series with gaps beside complete ones), the atoms of
:mod:`~eventstudy.inference.crossgroups` are mostly single pairs and their
inner products cost more than the correlations themselves. The *dense route* reads
each linked pair's pairwise-complete correlation ρ_ij, computed once for the
study (:func:`~eventstudy.inference.linkedcorr.linked_correlations`, or the
P × P matrix of :func:`~eventstudy.inference.crosscorr.study_correlations`
for inputs without event days), and sums ρ_ij c_ij/√(L_i L_j) over the pairs
of every two linked blocks of the window (pairs with the same window days,
:func:`~eventstudy.inference.kpwindows.window_atoms`), by group:

* windows of many small blocks (index data: a few markets per event): every
  term as one array, summed by group with one compare per grouping;
* windows of few large blocks (stocks around a few events): each link's
  block of correlations sliced from the bands; a link whose two blocks each
  lie in one group adds its sum at once, only the links across groups are
  compared pair by pair.

Kolari, J. W. and Pynnönen, S. (2010), Review of Financial Studies 23(11),
3996–4025 (formula sheet §5.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import TestInput
from .crosscorr import DENSE_LIMIT, study_correlations
from .grouped import Groups, digest
from .kpatoms import est_atoms
from .kpwindows import block_rows, window_atoms
from .linkedcorr import LinkedCorrelations, linked_correlations

__all__ = [
    "DENSE_ATOM_SIZE",
    "DENSE_LINK_ATOMS",
    "LINK_ENTRIES",
    "TERMS_ENTRIES",
    "dense_rbar",
    "dense_route",
]

#: Studies whose pairs share their estimation dates this many to a set or more, on
#: average, take the atoms' route: a market's stocks on one calendar. The atoms'
#: route pays per pair of atoms, in Python, the dense route per pair of pairs in
#: numpy, so a study where some series have gaps (each gappy series one atom per
#: event, beside a few large atoms of the complete ones) is far cheaper dense.
#: Measured (7 Dec 2026, KP CPU of a whole battery, atoms against dense): stocks on
#: XNYS, a third with 12 closes missing, 1,320 pairs (2.9 pairs a set) 6.0 s (3.0 s
#: once large atoms kept their group sums) against 0.38 s and 6,000 pairs 46 s (24 s)
#: against 2.7 s; 20,000 pairs with a tenth of the stocks 1 % blank (10.8 a set) 93 s
#: against 3.7 s; complete data 2,000 pairs of
#: 10 or 20 events (100–200 a set) 0.03–0.04 s against 0.24–0.29 s, 400 and 290
#: pairs (20, 29 a set) 0.05/0.03 s against 0.07/0.04 s; 3 % of stocks gappy (29 a
#: set) about even.
DENSE_ATOM_SIZE = 16.0

#: A window with two linked blocks (pairs with the same window days) holding more
#: than this many pairs of atoms takes the dense route, whatever its pairs per set:
#: the atoms' route would correlate those blocks' pairs as one matrix in every
#: window and grouping (a few gappy stocks beside many complete ones around each
#: event). Measured (7 Dec 2026, KP CPU of a whole battery): 500 stocks × 10
#: events with 15 stocks 1 % blank (34 pairs a set, 16 atoms an event), 1.5–2.4 s
#: by atoms (0.77 s once large atoms kept their group sums) against 0.63–0.84 s dense.
DENSE_LINK_ATOMS = 64

#: Windows whose links hold fewer terms than this on average are summed as one
#: array of terms; larger links block by block (:func:`dense_rbar`).
LINK_ENTRIES = 4096

#: Most terms a window sums as one array (about 40 bytes each while it is built);
#: a window with more goes block by block whatever the size of its links.
TERMS_ENTRIES = 2**23


def dense_route(inp: TestInput, mask: np.ndarray | None = None) -> bool:
    """Whether r̄ of ``inp`` is summed over the linked pairs' correlations (else from the atoms).

    The dense route when the pairs' estimation dates are ragged (fewer than
    :data:`DENSE_ATOM_SIZE` pairs per distinct set of dates on average: some
    or all series with gaps), or when two linked blocks of the window of the
    pairs with ``mask`` hold more than :data:`DENSE_LINK_ATOMS` pairs of atoms,
    and the correlations fit: the study's linked correlations within
    :data:`~eventstudy.inference.linkedcorr.LINKED_ENTRIES`, or its P × P
    matrix up to :data:`~eventstudy.inference.crosscorr.DENSE_LIMIT` pairs
    (inputs without event days). The routes give the same r̄ up to
    round-off (tested).
    """
    n = len(inp.car)
    if n >= DENSE_ATOM_SIZE * len(est_atoms(inp).cols) and not _large_links(inp, mask):
        return False
    return n <= DENSE_LIMIT or linked_correlations(inp) is not None


def _large_links(inp: TestInput, mask: np.ndarray | None) -> bool:
    """Whether two linked blocks of the window (pairs with ``mask``) hold more than
    :data:`DENSE_LINK_ATOMS` pairs of atoms."""
    if mask is None or inp.window_day is None:
        return False
    atoms = window_atoms(inp, mask)
    A, B, _ = atoms.links
    sizes = np.array([len(b) for b in atoms.block_atoms], dtype=np.int64)
    return bool(len(A)) and bool((sizes[A] * sizes[B] > DENSE_LINK_ATOMS).any())


@dataclass(frozen=True)
class _Terms:
    """Every term of a window of small links: pairs i, j and ρ_ij c_ij/√(L_i L_j) (defined ones)."""

    i: np.ndarray
    j: np.ndarray
    terms: np.ndarray


@dataclass(frozen=True)
class _Links:
    """The links of a window of large blocks: each link's weight, and the Σ and count of its defined ρ."""

    A: np.ndarray  # the links' blocks
    B: np.ndarray
    blocks: list[np.ndarray]  # each block's pairs
    weight: np.ndarray  # c_AB/√(L_A L_B)
    total: np.ndarray  # Σ of each link's defined terms ρ_ij c_AB/√(L_A L_B)
    count: np.ndarray  # their number


def _linked(inp: TestInput, mask: np.ndarray) -> _Terms | _Links:
    """The terms of every two linked blocks of the window (memoized per mask in ``inp.memo``).

    The blocks (pairs with ``mask`` and the same window days) and their
    overlap c_AB/√(L_A L_B) give the weight; ρ_ij is read from the study's
    linked correlations or its P × P matrix, NaN on the diagonal and where
    undefined (left out). Σ |A||B| terms over the linked blocks.
    """
    key = ("kp_dense_terms", digest(mask))
    hit = inp.memo.get(key)
    if isinstance(hit, (_Terms, _Links)):
        return hit
    store = linked_correlations(inp)
    full = study_correlations(inp) if store is None else None
    atoms = window_atoms(inp, mask)
    blocks = [block_rows(atoms, block) for block in atoms.block_atoms]
    A, B, c = atoms.links
    weight = c / np.sqrt(atoms.length[A] * atoms.length[B])
    lengths = np.array([len(b) for b in blocks], dtype=np.int64)
    sizes = lengths[A] * lengths[B]
    out: _Terms | _Links
    if len(A) == 0 or (sizes.sum() < LINK_ENTRIES * len(A) and sizes.sum() <= TERMS_ENTRIES):
        out = _all_terms(inp, blocks, lengths, A, B, weight, sizes, store, full)
    else:
        out = _link_terms(inp, blocks, A, B, weight, store, full)
    inp.memo[key] = out
    return out


def _all_terms(
    inp: TestInput,
    blocks: list[np.ndarray],
    lengths: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    weight: np.ndarray,
    sizes: np.ndarray,
    store: LinkedCorrelations | None,
    full: np.ndarray | None,
) -> _Terms:
    """Every link's pairs as one array (no loop over links): entry e of link k is (a, b) = divmod(e, |B|)."""
    rows = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    link = np.repeat(np.arange(len(A)), sizes)
    local = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    width = lengths[B][link]
    a, b = np.divmod(local, np.maximum(width, 1))
    i = rows[first[A][link] + a]
    j = rows[first[B][link] + b]
    rho = full[i, j] if full is not None else _store(store).take(inp, i, j)
    terms = rho * weight[link]
    ok = np.isfinite(terms)
    return _Terms(i[ok], j[ok], terms[ok])


def _link_terms(
    inp: TestInput,
    blocks: list[np.ndarray],
    A: np.ndarray,
    B: np.ndarray,
    weight: np.ndarray,
    store: LinkedCorrelations | None,
    full: np.ndarray | None,
) -> _Links:
    """Each link's sum and count of defined terms, without its block of terms.

    From the linked store, by its rows' sums over whole chunks
    (:meth:`~eventstudy.inference.linkedcorr.LinkedCorrelations.link_sum`:
    a window's blocks are whole events less the few pairs without its days),
    else sliced from the P × P matrix.
    """
    total, count = np.zeros(len(A)), np.zeros(len(A))
    for k, (a, b, w) in enumerate(zip(A.tolist(), B.tolist(), weight.tolist(), strict=True)):
        ra, rb = blocks[a], blocks[b]
        if full is not None:
            rho = full[np.ix_(ra, rb)]
            ok = np.isfinite(rho)
            s, c = float(rho[ok].sum()), int(ok.sum())
        else:
            s, c = _store(store).link_sum(inp, ra, rb)
        total[k], count[k] = s * w, c
    return _Links(A, B, blocks, weight, total, count)


def _store(store: LinkedCorrelations | None) -> LinkedCorrelations:
    assert store is not None
    return store


def _same_group_pairs(ga: np.ndarray, gb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (a, b) of every two entries with ga[a] = gb[b], row by row (a, then b, ascending)."""
    order = np.argsort(gb, kind="stable")
    sorted_gb = gb[order]
    lo = np.searchsorted(sorted_gb, ga, "left")
    size = np.searchsorted(sorted_gb, ga, "right") - lo
    a = np.repeat(np.arange(len(ga)), size)
    step = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
    return a, order[np.repeat(lo, size) + step]


def dense_rbar(inp: TestInput, groups: Groups, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group sums Σ_{i≠j ∈ g} ρ_ij c_ij/√(L_i L_j) and the count of their terms (the dense route)."""
    linked = _linked(inp, mask)
    if isinstance(linked, _Terms):
        return _by_pairs(groups, linked.i, linked.j, linked.terms)
    code = np.full(len(linked.blocks), -1, dtype=np.int64)  # each block's one group (−1: several or none)
    for b, rows in enumerate(linked.blocks):
        if len(rows):
            codes = groups.codes[rows]
            if (codes == codes[0]).all():
                code[b] = codes[0]
    ca, cb = code[linked.A], code[linked.B]
    whole = (ca >= 0) & (cb >= 0)
    hit = whole & (ca == cb)
    # (float64 also when no link is whole: bincount of nothing gives integers)
    total = np.bincount(ca[hit], weights=linked.total[hit], minlength=groups.size).astype("float64")
    count = np.bincount(ca[hit], weights=linked.count[hit], minlength=groups.size).astype("float64")
    store = linked_correlations(inp)
    full = study_correlations(inp) if store is None else None
    for k in np.flatnonzero(~whole).tolist():  # links across groups: the pairs of one group in both
        ra, rb = linked.blocks[linked.A[k]], linked.blocks[linked.B[k]]
        ga = groups.codes[ra]
        ia, ib = _same_group_pairs(ga, groups.codes[rb])
        rho = full[ra[ia], rb[ib]] if full is not None else _store(store).take(inp, ra[ia], rb[ib])
        t = rho * linked.weight[k]
        ok = np.isfinite(t)
        g = ga[ia][ok]
        total += np.bincount(g, weights=t[ok], minlength=groups.size)
        count += np.bincount(g, minlength=groups.size)
    return total, count


def _by_pairs(
    groups: Groups, i: np.ndarray, j: np.ndarray, terms: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Σ of the terms whose two pairs are in the same group, and their count, per group."""
    if groups.size == 1:  # one group (all pairs): every term
        return np.array([terms.sum()]), np.array([float(len(terms))])
    ci = groups.codes[i]
    same = ci == groups.codes[j]
    total = np.bincount(ci[same], weights=terms[same], minlength=groups.size).astype("float64")
    count = np.bincount(ci[same], minlength=groups.size).astype("float64")
    return total, count
